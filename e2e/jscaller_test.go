package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/communicator/communicator/internal/devstack"
)

// The JavaScript bench caller's touch control (docs/bridge.md, "What
// the whole process spends"): whole KiB up to its ring's 8 MiB are touched
// before each call; anything else is refused before any call is made.
func TestJSCallerTouch(t *testing.T) {
	s := start(t, devstack.Options{
		Workers: []devstack.Worker{
			{Name: "bench-jscaller", Dir: filepath.Join(root, "bench", "jspair", "caller")},
			{Name: "bridge-jscallee", Dir: filepath.Join(root, "bench", "jspair", "callee")},
		},
		Processes: []devstack.Process{{Workers: []string{"bench-jscaller", "bridge-jscallee"}}},
	})
	base := s.URL["bench-jscaller"]
	get := func(query string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + "/?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, q := range []string{"n=3&touch=0", "n=3&touch=64", "n=3&touch=8192"} {
		code, body := get(q)
		var r struct{ Calls int }
		if code != 200 || json.Unmarshal([]byte(body), &r) != nil || r.Calls != 3 {
			t.Errorf("%s: %d %s, want 200 and 3 calls", q, code, body)
		}
	}
	for _, bad := range []string{"abc", "-1", "1.5", "8193", "", "0x10", "+5"} {
		code, body := get("n=3&touch=" + url.QueryEscape(bad))
		if code != 400 || !strings.Contains(body, "touch="+bad+": want whole KiB from 0 to 8192") {
			t.Errorf("touch=%q: %d %s, want 400 naming it", bad, code, body)
		}
	}
}
