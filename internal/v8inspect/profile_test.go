package v8inspect

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"nhooyr.io/websocket"
)

// fakeInspector answers the DevTools calls Profile makes. Its sessions close
// (normally, as workerd closes one when another client takes the isolate)
// at the call named by closeAt, once per entry, in order.
func fakeInspector(t *testing.T, closeAt ...string) string {
	var session atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		closing := ""
		if n := int(session.Add(1)); n <= len(closeAt) {
			closing = closeAt[n-1]
		}
		ctx := r.Context()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				ID     int
				Method string
			}
			json.Unmarshal(b, &m)
			if m.Method == closing {
				c.Close(websocket.StatusNormalClosure, "another client")
				return
			}
			result := `{}`
			if m.Method == "Profiler.stop" {
				result = `{"profile":{"nodes":[{"id":1,"callFrame":{"functionName":"work","url":"w.js","lineNumber":3}}],"samples":[1,1],"timeDeltas":[100,50]}}`
			}
			c.Write(ctx, websocket.MessageText, []byte(`{"id":`+strconv.Itoa(m.ID)+`,"result":`+result+`}`))
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestProfileOpensAgainBeforeItRuns(t *testing.T) {
	addr := fakeInspector(t, "Profiler.start")
	runs := 0
	fns, total, err := Profile(context.Background(), addr, "w", time.Millisecond, func() { runs++ })
	if err != nil || runs != 1 {
		t.Fatalf("Profile: %v, during ran %d times", err, runs)
	}
	if len(fns) != 1 || fns[0].Name != "work" || fns[0].Self != 150*time.Microsecond || total != 150*time.Microsecond {
		t.Errorf("Profile = %+v, %v", fns, total)
	}
}

func TestProfileFailsWhenTheSessionClosesWhileItRuns(t *testing.T) {
	addr := fakeInspector(t, "Profiler.stop")
	runs := 0
	_, _, err := Profile(context.Background(), addr, "w", time.Millisecond, func() { runs++ })
	if runs != 1 {
		t.Errorf("during ran %d times, want once", runs)
	}
	if err == nil || !strings.Contains(err.Error(), "closed while the profile ran") {
		t.Errorf("Profile: %v, want the session's closing named", err)
	}
}
