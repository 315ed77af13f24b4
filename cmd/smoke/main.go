// Command smoke checks that a running pair of workers is healthy and that the
// ingestor reaches auth-telegram (`make smoke URL=...`). It works against
// `make dev` and against a deployment:
//
//	go run ./cmd/smoke -url http://127.0.0.1:8787
//	    the local layout of make dev: the ingestor at URL, auth-telegram
//	    behind the local router at URL/auth-telegram
//	go run ./cmd/smoke -auth-url https://auth-telegram-production.<sub>.workers.dev \
//	                   -ingestor-url https://ingestor-production.<sub>.workers.dev
//	    a deployment: two hostnames
//
// It checks, in order:
//
//  1. auth-telegram's GET /api/telegram-auth/health answers 200 as
//     auth-telegram with every check ok (D1, configuration, sealing);
//  2. the ingestor's GET /health answers 200 as the ingestor with every check
//     ok, including auth_telegram (auth-telegram's health over the transport
//     in use);
//  3. the ingestor's GET /telegram/session-status/<probe user> is answered
//     with a well-formed status: that is a real, authorized session read from
//     auth-telegram (RPC over the TELEGRAM_AUTH binding, or HTTP with the API
//     key), which health alone does not prove. The probe user (default
//  999000001. should have no session; a "not found" is the expected answer
//     and leaves one refused read in auth-telegram's access log;
//  4. with -expect-transport, that the ingestor uses that transport (binding
//     or http): how a rollback to http is confirmed.
//
// Every request to the ingestor carries its credentials: INGESTOR_API_KEY
// (-ingestor-api-key) as INGESTOR_SERVICE_ID (-ingestor-service-id, default
// "operator"), a service with the "read" permission. Against a local URL
// without a key, smoke takes make dev's operator key from
// .wrangler/dev/secrets.json. An ingestor that refuses them (401, 403) fails
// the check "ingestor credentials", saying what to fix.
//
// It prints one line per check and exits 1 naming every check that failed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
)

// Targets are the two workers' base URLs and what to expect.
type Targets struct {
	Auth, Ingestor  string
	ProbeUser       string
	ExpectTransport string // "", binding or http
	// IngestorKey is sent to the ingestor as IngestorServiceID's API key
	// (no Authorization header when empty).
	IngestorKey, IngestorServiceID string
}

// Result is the outcome of one check.
type Result struct {
	Name   string
	OK     bool
	Detail string
}

func main() {
	url := flag.String("url", os.Getenv("URL"), "the local layout of make dev: ingestor at URL, auth-telegram at URL/auth-telegram")
	auth := flag.String("auth-url", os.Getenv("AUTH_URL"), "auth-telegram's base URL (a deployment)")
	ingestor := flag.String("ingestor-url", os.Getenv("INGESTOR_URL"), "the ingestor's base URL (a deployment)")
	probe := flag.String("probe-user", "999000001", "a user id without a session, for the session-status probe")
	expect := flag.String("expect-transport", os.Getenv("EXPECT_TRANSPORT"), "binding or http: fail unless the ingestor uses it")
	key := flag.String("ingestor-api-key", os.Getenv("INGESTOR_API_KEY"), "the ingestor's API key of -ingestor-service-id (default at a local URL: make dev's operator key)")
	service := flag.String("ingestor-service-id", envOr("INGESTOR_SERVICE_ID", devstack.DevOperator), "the service id the ingestor knows the key as")
	timeout := flag.Duration("timeout", 30*time.Second, "for each request")
	flag.Parse()

	t, err := targets(*url, *auth, *ingestor)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(2)
	}
	t.ProbeUser, t.ExpectTransport = *probe, *expect
	if t.ExpectTransport != "" && t.ExpectTransport != "binding" && t.ExpectTransport != "http" {
		fmt.Fprintln(os.Stderr, "smoke: -expect-transport is binding or http")
		os.Exit(2)
	}
	var from string
	t.IngestorServiceID = *service
	t.IngestorKey, from = ingestorKey(*key, t.IngestorServiceID, t.Ingestor, devstack.FindRoot)
	fmt.Printf("smoke: auth-telegram %s, ingestor %s (as service %q, %s)\n", t.Auth, t.Ingestor, t.IngestorServiceID, from)
	results := Check(context.Background(), &http.Client{Timeout: *timeout}, t)
	var failed []string
	for _, r := range results {
		mark := "ok  "
		if !r.OK {
			mark = "FAIL"
			failed = append(failed, r.Name)
		}
		fmt.Printf("%s %s: %s\n", mark, r.Name, r.Detail)
	}
	if len(failed) > 0 {
		fmt.Printf("smoke: FAILED: %s\n", strings.Join(failed, "; "))
		os.Exit(1)
	}
	fmt.Println("smoke: the pair is healthy and the ingestor reaches auth-telegram")
}

// targets derives both base URLs: either from url (the local layout) or from
// the two deployed hostnames.
func targets(url, auth, ingestor string) (Targets, error) {
	url, auth, ingestor = strings.TrimSuffix(url, "/"), strings.TrimSuffix(auth, "/"), strings.TrimSuffix(ingestor, "/")
	switch {
	case url != "" && (auth != "" || ingestor != ""):
		return Targets{}, fmt.Errorf("give either URL (make dev's layout) or AUTH_URL and INGESTOR_URL (a deployment), not both")
	case url != "":
		return Targets{Auth: url + "/auth-telegram", Ingestor: url}, nil
	case auth != "" && ingestor != "":
		return Targets{Auth: auth, Ingestor: ingestor}, nil
	}
	return Targets{}, fmt.Errorf("give URL=http://127.0.0.1:8787 (make dev) or AUTH_URL=... INGESTOR_URL=... (a deployment)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// ingestorKey returns the key to send to the ingestor as serviceID, and where
// it came from: the one given, or, for make dev's operator at a local URL,
// make dev's (from the repository root that findRoot returns).
func ingestorKey(given, serviceID, ingestorURL string, findRoot func() (string, error)) (key, from string) {
	if given != "" {
		return given, "key from INGESTOR_API_KEY"
	}
	if !isLocal(ingestorURL) || serviceID != devstack.DevOperator {
		return "", "no key: give INGESTOR_API_KEY"
	}
	root, err := findRoot()
	if err != nil {
		return "", "no key: give INGESTOR_API_KEY (" + err.Error() + ")"
	}
	path := devstack.DevSecretsPath(root)
	sec, err := devstack.ReadDevSecrets(path)
	if err != nil {
		return "", fmt.Sprintf("no key: give INGESTOR_API_KEY (make dev's %s: %v)", path, err)
	}
	return sec.OperatorKey, "make dev's key from " + path
}

// isLocal reports whether u points at this machine, where make dev runs.
func isLocal(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	if p.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(p.Hostname())
	return ip != nil && ip.IsLoopback()
}

type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type health struct {
	Status    string `json:"status"`
	Service   string `json:"service"`
	Transport string `json:"transport"`
	Checks    map[string]struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// Check runs every check and returns their results.
func Check(ctx context.Context, client *http.Client, t Targets) []Result {
	var out []Result
	add := func(name string, ok bool, format string, args ...any) bool {
		out = append(out, Result{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
		return ok
	}
	var creds http.Header // every request to the ingestor carries them
	if t.IngestorKey != "" {
		creds = http.Header{}
		httpapi.SetAPIKey(creds, t.IngestorServiceID, t.IngestorKey)
	}
	// refused reports a 401 or 403 of the ingestor, and whether it was one.
	refused := func(path string, status int, env envelope) bool {
		if status != http.StatusUnauthorized && status != http.StatusForbidden {
			return false
		}
		add("ingestor credentials", false, "%s", credentialsProblem(t, path, status, env))
		return true
	}

	// 1. auth-telegram
	healthCheck(ctx, client, t.Auth+"/api/telegram-auth/health", "auth-telegram", add)

	// 2. the ingestor, and auth-telegram seen from it
	var transport string
	func() bool {
		name := "ingestor health"
		status, env, err := get(ctx, client, t.Ingestor+"/health", creds)
		if refused("/health", status, env) {
			return false
		}
		if err != nil {
			return add(name, false, "%v", err)
		}
		var h health
		if json.Unmarshal(env.Data, &h) != nil || h.Service != "ingestor" {
			return add(name, false, "GET %s/health answered %d without the ingestor's health report (is INGESTOR_URL the ingestor?)", t.Ingestor, status)
		}
		transport = h.Transport
		if at, ok := h.Checks["auth_telegram"]; ok && at.Status != "ok" {
			add("ingestor reaches auth-telegram (health)", false, "over %s: %s", h.Transport, at.Detail)
		} else if ok {
			add("ingestor reaches auth-telegram (health)", true, "%s", at.Detail)
		}
		if status != http.StatusOK || h.Status != "ok" {
			return add(name, false, "%d %s: failing checks: %s", status, h.Status, failing(h))
		}
		return add(name, true, "%s, transport %s", h.Status, h.Transport)
	}()

	// 3. an authorized session read through the ingestor's client
	name := "ingestor gets a session answer from auth-telegram"
	path := "/telegram/session-status/" + t.ProbeUser
	status, env, err := get(ctx, client, t.Ingestor+path, creds)
	var st struct {
		UserID    int64  `json:"userId"`
		Usable    bool   `json:"usable"`
		Reason    string `json:"reason"`
		Transport string `json:"transport"`
	}
	switch {
	case refused(path, status, env): // reported as "ingestor credentials"
	case err != nil:
		add(name, false, "%v", err)
	case status != http.StatusOK || !env.Success || json.Unmarshal(env.Data, &st) != nil || st.Transport == "" || (!st.Usable && st.Reason == ""):
		msg := ""
		if env.Error != nil {
			msg = env.Error.Code + ": " + env.Error.Message
		}
		add(name, false, "GET /telegram/session-status/%s answered %d %s", t.ProbeUser, status, msg)
	case st.Usable:
		add(name, true, "user %s has a usable session (over %s)", t.ProbeUser, st.Transport)
		transport = st.Transport
	default:
		add(name, true, "user %s: %s, answered over %s", t.ProbeUser, st.Reason, st.Transport)
		transport = st.Transport
	}

	// 4. the transport, when asked
	if t.ExpectTransport != "" {
		add("transport is "+t.ExpectTransport, transport == t.ExpectTransport, "the ingestor uses %q", transport)
	}
	return out
}

// credentialsProblem says why the ingestor refused smoke's credentials on
// path, and what to change.
func credentialsProblem(t Targets, path string, status int, env envelope) string {
	answer := fmt.Sprint(status)
	if env.Error != nil {
		answer += " " + env.Error.Code + ": " + env.Error.Message
	}
	if status == http.StatusForbidden {
		return fmt.Sprintf("GET %s answered %s: the ingestor knows service %q, but its INGESTOR_ACCESS_POLICY does not grant it \"read\"; grant it, or give INGESTOR_SERVICE_ID and INGESTOR_API_KEY of a service that has it",
			path, answer, t.IngestorServiceID)
	}
	sent := fmt.Sprintf("service %q with no key", t.IngestorServiceID)
	if t.IngestorKey != "" {
		sent = fmt.Sprintf("service %q with a key", t.IngestorServiceID)
	}
	return fmt.Sprintf("GET %s answered %s: the ingestor refused the credentials (%s); give INGESTOR_API_KEY and INGESTOR_SERVICE_ID of a service in its INGESTOR_API_KEYS",
		path, answer, sent)
}

func healthCheck(ctx context.Context, client *http.Client, url, service string, add func(string, bool, string, ...any) bool) bool {
	name := service + " health"
	status, env, err := get(ctx, client, url, nil)
	if err != nil {
		return add(name, false, "%v", err)
	}
	var h health
	if json.Unmarshal(env.Data, &h) != nil || h.Service != service {
		return add(name, false, "GET %s answered %d without %s's health report (is the URL %s's?)", url, status, service, service)
	}
	if status != http.StatusOK || h.Status != "ok" {
		return add(name, false, "%d %s: failing checks: %s", status, h.Status, failing(h))
	}
	return add(name, true, "%s", h.Status)
}

func failing(h health) string {
	var f []string
	for name, c := range h.Checks {
		if c.Status != "ok" {
			f = append(f, name+" ("+c.Detail+")")
		}
	}
	return strings.Join(f, ", ")
}

// get sends a GET with header and decodes the envelope. The status is
// returned with an error too, when there was an answer.
func get(ctx context.Context, client *http.Client, url string, header http.Header) (int, envelope, error) {
	var env envelope
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, env, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, env, err // names the method and URL
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, env, fmt.Errorf("GET %s: %v", url, err)
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return resp.StatusCode, env, fmt.Errorf("GET %s answered %d with no JSON envelope: %.80q", url, resp.StatusCode, b)
	}
	return resp.StatusCode, env, nil
}
