package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
)

// pair is a fake auth-telegram and ingestor whose ingestor checks
// credentials as the worker does: every route but /health takes an API key
// of keys, and session-status the "read" permission.
type pair struct {
	auth, ingestor *httptest.Server
	mu             sync.Mutex
	callers        []string // X-Service-ID of each ingestor request, "" without
}

func newPair(t *testing.T, keys string, readers ...string) *pair {
	apiKeys, err := httpapi.ParseAPIKeys("INGESTOR_API_KEYS", keys)
	if err != nil {
		t.Fatal(err)
	}
	data := func(w http.ResponseWriter, v any) {
		json.NewEncoder(w).Encode(map[string]any{"success": true, "data": v})
	}
	p := &pair{}
	p.auth = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data(w, map[string]any{"status": "ok", "service": "auth-telegram", "checks": map[string]any{"d1": map[string]string{"status": "ok"}}})
	}))
	p.ingestor = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.callers = append(p.callers, r.Header.Get(httpapi.HeaderServiceID))
		p.mu.Unlock()
		if r.URL.Path == "/health" {
			data(w, map[string]any{"status": "ok", "service": "ingestor", "transport": "binding",
				"checks": map[string]any{"auth_telegram": map[string]string{"status": "ok", "detail": "answers over binding"}}})
			return
		}
		id, _, aerr := httpapi.Authenticate(r, apiKeys)
		if aerr != nil {
			httpapi.WriteError(w, http.StatusUnauthorized, aerr)
			return
		}
		if !slices.Contains(readers, id) {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"success":false,"error":{"code":"FORBIDDEN","message":"not allowed to read"}}`))
			return
		}
		data(w, map[string]any{"userId": 999000001, "usable": false, "reason": "SESSION_NOT_FOUND", "transport": "binding", "source": "binding"})
	}))
	t.Cleanup(p.auth.Close)
	t.Cleanup(p.ingestor.Close)
	return p
}

func (p *pair) check(key, service string) ([]Result, []string) {
	results := Check(context.Background(), http.DefaultClient, Targets{Auth: p.auth.URL, Ingestor: p.ingestor.URL,
		ProbeUser: "999000001", IngestorKey: key, IngestorServiceID: service})
	p.mu.Lock()
	defer p.mu.Unlock()
	callers := p.callers
	p.callers = nil
	return results, callers
}

func failed(results []Result) map[string]string {
	f := map[string]string{}
	for _, r := range results {
		if !r.OK {
			f[r.Name] = r.Detail
		}
	}
	return f
}

// The ingestor's credentials go with every request to it, and an ingestor
// that checks them (as the worker does) lets the checks pass.
func TestCheckSendsCredentials(t *testing.T) {
	p := newPair(t, `{"ops":"`+httpapi.HashAPIKey("ops-key")+`"}`, "ops")
	results, callers := p.check("ops-key", "ops")
	if f := failed(results); len(f) != 0 || len(results) != 4 {
		t.Errorf("results %+v", results)
	}
	if !slices.Equal(callers, []string{"ops", "ops"}) {
		t.Errorf("the ingestor's requests came from %q", callers)
	}
}

// A refusal is one failure, "ingestor credentials", that says what was sent
// and what to change: a wrong or missing key (401) points at INGESTOR_API_KEY,
// a service without "read" (403) at INGESTOR_ACCESS_POLICY.
func TestCheckReportsRefusedCredentials(t *testing.T) {
	p := newPair(t, `{"ops":"`+httpapi.HashAPIKey("ops-key")+`","writer":"`+httpapi.HashAPIKey("writer-key")+`"}`, "ops")
	for _, c := range []struct{ key, service, want string }{
		{"wrong-key", "ops", `answered 401 UNAUTHENTICATED: invalid API key for this X-Service-ID: the ingestor refused the credentials (service "ops" with a key); give INGESTOR_API_KEY`},
		{"", "ops", `answered 401 UNAUTHENTICATED: missing Authorization header`},
		{"writer-key", "writer", `answered 403 FORBIDDEN: not allowed to read: the ingestor knows service "writer", but its INGESTOR_ACCESS_POLICY does not grant it "read"`},
	} {
		results, _ := p.check(c.key, c.service)
		f := failed(results)
		if len(f) != 1 || !strings.Contains(f["ingestor credentials"], c.want) {
			t.Errorf("%s with %q: failed %q", c.service, c.key, f)
		}
	}
}

// The key: the one given; for make dev's operator at a local URL, make dev's;
// otherwise none, saying what to give.
func TestIngestorKey(t *testing.T) {
	root := t.TempDir()
	sec, err := devstack.LoadDevSecrets(devstack.DevSecretsPath(root))
	if err != nil {
		t.Fatal(err)
	}
	found := func() (string, error) { return root, nil }
	for _, c := range []struct {
		given, service, url string
		findRoot            func() (string, error)
		key, from           string
	}{
		{"k1", "ops", "https://ingestor.example.com", found, "k1", "key from INGESTOR_API_KEY"},
		{"", "operator", "http://127.0.0.1:8788", found, sec.OperatorKey, "make dev's key from " + devstack.DevSecretsPath(root)},
		{"", "operator", "http://localhost:8787", found, sec.OperatorKey, "make dev's key from"},
		{"", "operator", "https://ingestor.example.com", found, "", "no key: give INGESTOR_API_KEY"},
		{"", "ops", "http://127.0.0.1:8787", found, "", "no key: give INGESTOR_API_KEY"},
		{"", "operator", "http://127.0.0.1:8787", func() (string, error) { return t.TempDir(), nil }, "", "no key: give INGESTOR_API_KEY (make dev's "},
		{"", "operator", "http://127.0.0.1:8787", func() (string, error) { return "", errors.New("no root") }, "", "no key: give INGESTOR_API_KEY (no root)"},
	} {
		key, from := ingestorKey(c.given, c.service, c.url, c.findRoot)
		if key != c.key || !strings.HasPrefix(from, c.from) {
			t.Errorf("ingestorKey(%q, %q, %q) = %q, %q", c.given, c.service, c.url, key, from)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, ".wrangler", "dev", "secrets.json")); !strings.Contains(string(b), sec.OperatorKey) {
		t.Error("the secrets file is not where make dev writes it")
	}
}
