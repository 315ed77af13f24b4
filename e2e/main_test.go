// Package e2e holds the end-to-end tests: they start the real workers in
// workerd (wrangler dev, local D1, free ports) through internal/devstack and
// drive them over HTTP. `go test ./e2e/` builds what it needs with make first;
// -short skips them.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/internal/devstack"
)

var root string

var verbose = flag.Bool("e2e.logs", false, "print the workers' logs while testing")

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	var err error
	if root, err = devstack.FindRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Build the workers (make skips nothing: go build is incremental).
	cmd := exec.Command("make", "-s", "deps", "build", "build-testworkers")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: make build failed:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// start starts a stack for the test and stops it when the test ends, even on
// failure.
func start(t *testing.T, opts devstack.Options) *devstack.Stack {
	t.Helper()
	opts.Root = root
	if *verbose {
		opts.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := devstack.Start(ctx, opts)
	t.Cleanup(func() {
		if t.Failed() && !*verbose {
			t.Logf("worker logs (last 60 lines):\n%s", s.Logs().Tail(60))
		}
		s.Stop()
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("status %d, body %q: %v", r.Status, r.Body, err)
	}
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

func do(t *testing.T, method, url string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func get(t *testing.T, url string, headers ...string) response {
	t.Helper()
	return do(t, "GET", url, nil, headers...)
}

func path(parts ...string) string { return filepath.Join(append([]string{root}, parts...)...) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// callResult is what e2e/jscaller answers: what a JavaScript caller of an RPC
// method sees.
type callResult struct {
	OK    bool
	Value json.RawMessage
	Error *struct {
		Name, Message, Code, SessionID, Reason string
		RetryAfter                             int
		IsError                                bool
	}
}

// callJS has the JavaScript worker at jscaller call env[binding][method](...args).
func callJS(t *testing.T, jscaller, binding, method string, args ...any) callResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"binding": binding, "method": method, "args": args})
	var out callResult
	do(t, "POST", jscaller, bytes.NewReader(body)).json(t, &out)
	return out
}

// assertNoSecretInLogs fails the test if any line holds one of the secrets
// (session strings, keys, API keys) or, for a long one, a 30-byte piece of it.
func assertNoSecretInLogs(t *testing.T, lines, secrets []string) {
	t.Helper()
	for _, line := range lines {
		for _, secret := range secrets {
			if strings.Contains(line, secret) || (len(secret) > 40 && strings.Contains(line, secret[10:40])) {
				t.Errorf("a secret appears in the workers' logs: %.120s…", line)
				return
			}
		}
	}
}
