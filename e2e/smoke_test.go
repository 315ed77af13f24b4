package e2e

import (
	"fmt"
	"maps"
	"os/exec"
	"strings"
	"testing"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
)

// smokeService is the service make smoke calls the ingestor as: it may read,
// as a deployment's smoke check needs, and nothing more.
const smokeService = "e2e-smoke"

// startSmokeSystem starts the pair with an ingestor that knows smokeService
// (INGESTOR_API_KEYS, INGESTOR_ACCESS_POLICY), and returns the make variables
// that give make smoke its credentials.
func startSmokeSystem(t *testing.T, ingestorVars map[string]string) (*system, []string) {
	t.Helper()
	key := "e2e-smoke-" + devstack.RandomHex(16)
	vars := map[string]string{
		"INGESTOR_API_KEYS":      fmt.Sprintf(`{%q:%q}`, smokeService, httpapi.HashAPIKey(key)),
		"INGESTOR_ACCESS_POLICY": fmt.Sprintf(`{"read":[%q]}`, smokeService),
	}
	maps.Copy(vars, ingestorVars)
	sys := startSystem(t, systemOptions{noJSCaller: true, ingestorVars: vars})
	sys.secrets = append(sys.secrets, key)
	return sys, []string{"INGESTOR_API_KEY=" + key, "INGESTOR_SERVICE_ID=" + smokeService}
}

// smoke runs `make smoke` (cmd/smoke) with the ingestor's credentials and
// the given variables, and returns its output and whether it passed.
func smoke(t *testing.T, creds []string, vars ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("make", append(append([]string{"-s", "smoke"}, creds...), vars...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("make smoke: %v", err)
	}
	for _, c := range creds {
		if key, ok := strings.CutPrefix(c, "INGESTOR_API_KEY="); ok && strings.Contains(string(out), key) {
			t.Errorf("make smoke printed the ingestor's API key")
		}
	}
	return string(out), err == nil
}

// TestSmoke runs the deployment smoke check (make smoke) against the pair as
// make dev runs it, and shows that it fails, naming what failed, when the
// pair is not healthy or the ingestor cannot get a session answer.
func TestSmoke(t *testing.T) {
	sys, creds := startSmokeSystem(t, nil)
	out, ok := smoke(t, creds, "URL="+sys.ingestor)
	if !ok || !contains(out, `(as service "e2e-smoke", key from INGESTOR_API_KEY)`) ||
		!contains(out, "ok   ingestor gets a session answer from auth-telegram: user 999000001: SESSION_NOT_FOUND, answered over binding") ||
		!contains(out, "ok   auth-telegram health") || !contains(out, "ok   ingestor reaches auth-telegram (health)") {
		t.Fatalf("smoke against a healthy pair:\n%s", out)
	}
	// The two-hostname form, as for a deployment, with the transport confirmed.
	if out, ok := smoke(t, creds, "AUTH_URL="+sys.auth, "INGESTOR_URL="+sys.ingestor, "EXPECT_TRANSPORT=binding"); !ok || !contains(out, "ok   transport is binding") {
		t.Errorf("smoke with AUTH_URL and INGESTOR_URL:\n%s", out)
	}
	if out, ok := smoke(t, creds, "URL="+sys.ingestor, "EXPECT_TRANSPORT=http"); ok || !contains(out, `FAIL transport is http: the ingestor uses "binding"`) {
		t.Errorf("smoke expecting http against the binding:\n%s", out)
	}
	// The URLs swapped: each answers, but not as the worker smoke expects.
	if out, ok := smoke(t, creds, "AUTH_URL="+sys.ingestor, "INGESTOR_URL="+sys.auth); ok || !contains(out, "FAIL auth-telegram health") || !contains(out, "FAIL ingestor health") {
		t.Errorf("smoke with the URLs swapped:\n%s", out)
	}
	// Nothing listening.
	dead := fmt.Sprintf("http://127.0.0.1:%d", devstack.FreePort())
	if out, ok := smoke(t, creds, "URL="+dead); ok || !contains(out, "FAIL auth-telegram health") || !contains(out, "connection refused") ||
		!strings.Contains(out, "smoke: FAILED: auth-telegram health; ingestor health; ingestor gets a session answer from auth-telegram") {
		t.Errorf("smoke against nothing:\n%s", out)
	}
}

// TestSmokeBrokenLink: over HTTP with a wrong API key, both workers are
// healthy (health needs no key) but the ingestor cannot read a session:
// smoke fails on the session read, which health alone would not show.
func TestSmokeBrokenLink(t *testing.T) {
	sys, creds := startSmokeSystem(t, map[string]string{
		"TELEGRAM_AUTH_TRANSPORT":       "http",
		"TELEGRAM_AUTH_SERVICE_API_KEY": "e2e-wrong-key-" + devstack.RandomHex(8),
	})
	out, ok := smoke(t, creds, "URL="+sys.ingestor, "EXPECT_TRANSPORT=http")
	if ok || !contains(out, "ok   auth-telegram health") || !contains(out, "ok   ingestor health") ||
		!contains(out, "FAIL ingestor gets a session answer from auth-telegram: GET /telegram/session-status/999000001 answered 502 UNAUTHENTICATED") ||
		!contains(out, "ok   transport is http") {
		t.Errorf("smoke with a wrong API key:\n%s", out)
	}
}
