// Package v8inspect reads the V8 heap of a worker's isolate, and samples its
// CPU, through workerd's inspector (the Chrome DevTools protocol over a
// WebSocket): make soak's JavaScript heap figures (workerd does not expose
// the heap to the worker itself) and bench/cmd/profile. It needs the
// inspector wrangler dev enables; deployed Workers have none.
package v8inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"nhooyr.io/websocket"

	"github.com/communicator/communicator/internal/proctcp"
)

// Heap is what V8 reports for one isolate (Runtime.getHeapUsage).
type Heap struct {
	Used  uint64 `json:"usedSize"`  // bytes of the JavaScript heap in use, garbage included
	Total uint64 `json:"totalSize"` // bytes V8 has reserved for it
}

// Find returns the address of the inspector of workerd process pid: the
// loopback port it listens on that answers the DevTools target list. (Asking
// workerd's other ports makes it log a refused RPC connection; harmless.)
func Find(pid int) (string, error) {
	ports, err := proctcp.ListeningPorts(pid)
	if err != nil {
		return "", err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, p := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		resp, err := client.Get("http://" + addr + "/json/list")
		if err != nil {
			continue
		}
		var targets []struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&targets)
		resp.Body.Close()
		if err == nil && len(targets) > 0 {
			return addr, nil
		}
	}
	return "", fmt.Errorf("workerd %d: no inspector among its listening ports %v (wrangler dev enables one)", pid, ports)
}

// HeapUsage asks the inspector at addr for the heap of worker's isolate (the
// name in wrangler.toml). With collect, it first asks V8 for a full garbage
// collection, so Used is what the isolate retains. An idle isolate left that
// unanswered here until the worker served a request, so kick (if not nil) is
// called every 500 ms while an answer is awaited, to send it one.
func HeapUsage(ctx context.Context, addr, worker string, collect bool, kick func()) (Heap, error) {
	var h Heap
	err := retry(ctx, func() error {
		s, err := Dial(ctx, addr, worker)
		if err != nil {
			return err
		}
		defer s.Close()
		s.Kick = kick
		if collect {
			if err := s.Call(ctx, "HeapProfiler.collectGarbage", nil, nil); err != nil {
				return err
			}
		}
		return s.Call(ctx, "Runtime.getHeapUsage", nil, &h)
	})
	return h, err
}

// retry runs f again when workerd closed the session under it: workerd keeps
// one inspector session per isolate, and wrangler's dev proxy holds one, so
// each side's connection closes the other's.
func retry(ctx context.Context, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt == 5 || ctx.Err() != nil || websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			return err
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}

// Session is a DevTools protocol session with one isolate.
type Session struct {
	worker string
	c      *websocket.Conn
	nextID int
	// Kick, if set, is called every 500 ms while a call waits for its answer.
	Kick func()
}

// Dial opens a session with worker's isolate through the inspector at addr.
func Dial(ctx context.Context, addr, worker string) (*Session, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/core:user:"+worker, nil)
	if err != nil {
		return nil, fmt.Errorf("inspector of %s: %w", worker, err)
	}
	c.SetReadLimit(256 << 20) // a CPU profile is one message
	return &Session{worker: worker, c: c}, nil
}

// Close ends the session.
func (s *Session) Close() { s.c.Close(websocket.StatusNormalClosure, "") }

// Call sends method with params (nil for none) and decodes its result into
// into (nil to drop it); events that arrive meanwhile are dropped.
func (s *Session) Call(ctx context.Context, method string, params, into any) error {
	s.nextID++
	id := s.nextID
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	b, _ := json.Marshal(msg)
	if err := s.c.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("inspector of %s: %s: %w", s.worker, method, err)
	}
	type reply struct {
		ID     int
		Result json.RawMessage
		Error  *struct{ Message string }
	}
	got := make(chan reply, 1)
	failed := make(chan error, 1)
	go func() {
		for {
			_, b, err := s.c.Read(ctx)
			if err != nil {
				failed <- err
				return
			}
			var r reply
			if json.Unmarshal(b, &r) == nil && r.ID == id {
				got <- r
				return
			}
		}
	}()
	slow := time.NewTicker(500 * time.Millisecond)
	defer slow.Stop()
	for {
		select {
		case r := <-got:
			if r.Error != nil {
				return fmt.Errorf("inspector of %s: %s: %s", s.worker, method, r.Error.Message)
			}
			if into != nil {
				return json.Unmarshal(r.Result, into)
			}
			return nil
		case err := <-failed:
			return fmt.Errorf("inspector of %s: %s: %w", s.worker, method, err)
		case <-slow.C:
			if s.Kick != nil {
				s.Kick()
			}
		}
	}
}

// FunctionTime is one function's self time in a CPU profile: the samples
// taken while it was on top of the stack.
type FunctionTime struct {
	Name string // "(program)", "(garbage collector)" and "(idle)" are V8's
	URL  string
	Line int // 0-based, as V8 reports it
	Self time.Duration
}

// Profile samples the CPU of worker's isolate every interval while during
// runs, and returns its functions by self time (most first) and the time
// sampled in all. during runs once: a session closed under the profile
// before it ran is opened again, one closed after fails the profile.
func Profile(ctx context.Context, addr, worker string, interval time.Duration, during func()) ([]FunctionTime, time.Duration, error) {
	var out []FunctionTime
	var total time.Duration
	ran := false
	err := retry(ctx, func() error {
		if ran {
			return fmt.Errorf("inspector of %s: the session closed while the profile ran (another DevTools client took the isolate): profile again", worker)
		}
		s, err := Dial(ctx, addr, worker)
		if err != nil {
			return err
		}
		defer s.Close()
		for _, c := range []struct {
			method string
			params any
		}{{"Profiler.enable", nil}, {"Profiler.setSamplingInterval", map[string]any{"interval": interval.Microseconds()}}, {"Profiler.start", nil}} {
			if err := s.Call(ctx, c.method, c.params, nil); err != nil {
				return err
			}
		}
		ran = true
		during()
		var r struct {
			Profile struct {
				Nodes []struct {
					ID        int
					CallFrame struct {
						FunctionName, URL string
						LineNumber        int
					}
				}
				Samples    []int
				TimeDeltas []int64
			}
		}
		if err := s.Call(ctx, "Profiler.stop", nil, &r); err != nil {
			return err
		}
		type key struct {
			name, url string
			line      int
		}
		byNode := map[int]key{}
		for _, n := range r.Profile.Nodes {
			name := n.CallFrame.FunctionName
			if name == "" {
				name = "(anonymous)"
			}
			byNode[n.ID] = key{name, n.CallFrame.URL, n.CallFrame.LineNumber}
		}
		self := map[key]time.Duration{}
		total = 0
		for i, id := range r.Profile.Samples {
			if i < len(r.Profile.TimeDeltas) {
				d := time.Duration(r.Profile.TimeDeltas[i]) * time.Microsecond
				self[byNode[id]] += d
				total += d
			}
		}
		out = out[:0]
		for k, d := range self {
			out = append(out, FunctionTime{Name: k.name, URL: k.url, Line: k.line, Self: d})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Self > out[j].Self })
		return nil
	})
	return out, total, err
}
