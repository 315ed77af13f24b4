package v8inspect

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Find picks, among a process's listening ports, the one that answers the
// DevTools target list.
func TestFindPicksThePortThatListsTargets(t *testing.T) {
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	inspector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/json/list" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`[{"id":"core:user:ingestor"}]`))
	}))
	defer inspector.Close()
	addr, err := Find(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(inspector.URL, "http://"); addr != want {
		t.Errorf("Find = %s, want %s (the other server is %s)", addr, want, other.URL)
	}
}

func TestFindNamesTheProcessWithoutAnInspector(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	_, err := Find(cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "no inspector") {
		t.Fatalf("Find of a process without one: %v", err)
	}
	if _, err := Find(-1); err == nil {
		t.Fatal("Find of no process: no error")
	}
}
