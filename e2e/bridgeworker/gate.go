package main

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// gates are channels that requests wait on until another request opens them:
// each waiter's goroutine is woken by the opener's, so the waiter's response
// is written while the opener's context runs Go. The runtime must still build
// it in the waiter's own context (TestBridge's RequestsWokenByAnotherRequest).
type gates struct {
	mu      sync.Mutex
	open    map[string]chan struct{}
	waiting map[string]int
}

func newGates() *gates {
	return &gates{open: map[string]chan struct{}{}, waiting: map[string]int{}}
}

// wait blocks until key is opened or done is closed; it reports whether the
// gate was opened.
func (g *gates) wait(key string, done <-chan struct{}) bool {
	g.mu.Lock()
	ch := g.open[key]
	if ch == nil {
		ch = make(chan struct{})
		g.open[key] = ch
	}
	g.waiting[key]++
	g.mu.Unlock()
	select {
	case <-ch: // openWhen has forgotten key
		return true
	case <-done:
		g.mu.Lock()
		if g.open[key] == ch {
			g.waiting[key]--
		}
		g.mu.Unlock()
		return false
	}
}

// openWhen opens key once n requests wait on it, or after timeout; it returns
// how many were waiting.
func (g *gates) openWhen(key string, n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		g.mu.Lock()
		w := g.waiting[key]
		if w >= n || time.Now().After(deadline) {
			if ch := g.open[key]; ch != nil {
				close(ch)
			}
			delete(g.open, key)
			delete(g.waiting, key)
			g.mu.Unlock()
			return w
		}
		g.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

func gateRoutes(mux *http.ServeMux, writeJSON func(http.ResponseWriter, int, any)) {
	g := newGates()
	mux.HandleFunc("GET /gate/wait", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		if !g.wait(key, r.Context().Done()) {
			writeJSON(w, 504, map[string]string{"error": "gate " + key + " was not opened"})
			return
		}
		writeJSON(w, 200, map[string]string{"opened": key})
	})
	mux.HandleFunc("GET /gate/open", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n := 1
		if v, err := strconv.Atoi(q.Get("n")); err == nil && v > 0 {
			n = v
		}
		writeJSON(w, 200, map[string]int{"woken": g.openWhen(q.Get("key"), n, 5*time.Second)})
	})
}
