//go:build js && wasm

// These tests run under Node with the bridge's JavaScript half (see
// js/node_exec.mjs): GOOS=js GOARCH=wasm go test -exec "$PWD/js/go_js_wasm_exec" .

package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/bridgetest"
)

func testCtx(t testing.TB) context.Context { return bridgetest.Context(t) }

// selfRPC serves the test program's own RPC methods m0..m3 (called through
// the SELF binding, so through runtime.call as workerd would).
type selfRPC struct{}

func (selfRPC) ServeRPC(ctx context.Context, method int, args []byte, dst []byte) ([]byte, error) {
	switch method {
	case 0: // echo the arguments
		return append(dst, args...), nil
	case 1: // the caller's props
		return append(dst, Props(ctx)...), nil
	case 2: // an error with own properties
		return nil, errors.New("refused")
	case 3:
		panic("handler panic")
	case 4: // sleep, then answer: an asynchronous handler
		time.Sleep(5 * time.Millisecond)
		return append(dst, `"late"`...), nil
	case 5: // the entrypoint the call arrived on
		return strconv.AppendInt(dst, int64(Entrypoint(ctx)), 10), nil
	case 6: // synchronous: the arguments and the props, without I/O
		dst = append(dst, '[')
		dst = append(dst, args...)
		dst = append(dst, ',')
		dst = append(dst, Props(ctx)...)
		return append(dst, ']'), nil
	case 7: // synchronous, but calls PEER: served again asynchronously
		selfRuns7.Add(1)
		got, err := GetBinding("PEER").Call(ctx, "echo", args)
		if err != nil {
			return nil, err
		}
		return append(dst, got...), nil
	case 8: // synchronous, and panics
		panic("synchronous handler panic")
	case 9: // synchronous; swallows the error of its I/O (the answer is still discarded)
		if _, err := ReadStats(ctx); err != nil {
			return append(dst, `"no stats"`...), nil
		}
		return append(dst, `"stats"`...), nil
	}
	return nil, fmt.Errorf("no method %d", method)
}

// selfRuns7 counts the runs of method 7: one synchronous attempt and one
// asynchronous run per call.
var selfRuns7 atomic.Int32

// SyncMethod marks methods 6 to 9 synchronous; the runtime asks for a
// synchronous answer when the SELF binding is called as sN.
func (selfRPC) SyncMethod(method int) bool { return method >= 6 && method <= 9 }

func (selfRPC) AppendError(dst []byte, err error) []byte {
	code := "REFUSED"
	var p *PanicError
	if errors.As(err, &p) {
		code = "INTERNAL"
	}
	return append(dst, `{"name":"SelfError","message":"`+code+`: no","code":"`+code+`"}`...)
}

func TestMain(m *testing.M) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "hello %s %s", r.Method, r.URL.Query().Get("q"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s %d %s", r.Header.Get("Content-Type"), len(b), b[:min(len(b), 16)])
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		chunk := strings.Repeat("x", 1000)
		for i := 0; i < n; i++ {
			io.WriteString(w, chunk)
		}
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "one,")
		w.(http.Flusher).Flush()
		time.Sleep(5 * time.Millisecond)
		io.WriteString(w, "two")
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Half", "written")
		io.WriteString(w, "partial")
		panic("fetch handler panic")
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	go Serve(Handlers{Fetch: mux, RPC: selfRPC{}, Queue: serveTestQueue})
	os.Exit(m.Run())
}

func TestEnv(t *testing.T) {
	if got := Getenv("GREETING"); got != "hello from env" {
		t.Errorf("GREETING = %q", got)
	}
	if got := Getenv("ANSWER"); got != "42" {
		t.Errorf("a number var reads as its text: ANSWER = %q", got)
	}
	if _, ok := LookupEnv("NOPE"); ok {
		t.Error("an unset var is found")
	}
	if !HasBinding("PEER") || !HasBinding("DB") || HasBinding("GREETING") || HasBinding("NOPE") {
		t.Errorf("bindings = %v", Bindings())
	}
}

func TestCallReturnsJSON(t *testing.T) {
	ctx := testCtx(t)
	peer := GetBinding("PEER")
	got, err := peer.Call(ctx, "echo", []byte(`[1,"two",{"three":[3]},null,"é\u2028"]`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "[1,\"two\",{\"three\":[3]},null,\"é\u2028\"]" { // JSON.stringify leaves U+2028 raw
		t.Errorf("echo = %s", got)
	}
	got, err = peer.Call(ctx, "undef", []byte(`[]`))
	if err != nil || string(got) != "null" {
		t.Errorf("undefined = %s, %v", got, err)
	}
	got, err = peer.Call(ctx, "slow", []byte(`[15]`))
	if err != nil || string(got) != "15" {
		t.Errorf("slow = %s, %v", got, err)
	}
}

func TestCallErrorsKeepNameMessageAndOwnProperties(t *testing.T) {
	ctx := testCtx(t)
	peer := GetBinding("PEER")
	_, err := peer.Call(ctx, "fail", []byte(`["SESSION_NOT_FOUND",{"sessionId":"ses_1"}]`))
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("err = %T %v", err, err)
	}
	if re.Name != "PeerError" || re.Message != "SESSION_NOT_FOUND: failed on purpose" {
		t.Errorf("got %q %q", re.Name, re.Message)
	}
	var props map[string]any
	if err := json.Unmarshal(re.Props, &props); err != nil || props["code"] != "SESSION_NOT_FOUND" {
		t.Errorf("props = %s (%v)", re.Props, err)
	}
	for _, tc := range []struct{ method, name, msg string }{
		{"throwSync", "TypeError", "thrown synchronously"},
		{"throwString", "Error", "just a string"},
		{"noSuchMethod", "TypeError", ""},
	} {
		_, err := peer.Call(ctx, tc.method, []byte(`[]`))
		if !errors.As(err, &re) || re.Name != tc.name || (tc.msg != "" && re.Message != tc.msg) {
			t.Errorf("%s: err = %#v", tc.method, err)
		}
	}
	if _, err := GetBinding("MISSING").Call(ctx, "x", []byte(`[]`)); err == nil || !strings.Contains(err.Error(), "no binding named MISSING") {
		t.Errorf("missing binding: %v", err)
	}
	if _, err := peer.Call(ctx, "echo", []byte(`[not json`)); err == nil {
		t.Error("malformed arguments were accepted")
	}
}

func TestNoRequestInContext(t *testing.T) {
	_, err := GetBinding("PEER").Call(context.Background(), "echo", []byte(`[]`))
	if !errors.Is(err, bridge.ErrNoRequest) {
		t.Errorf("err = %v", err)
	}
	ctx := bridge.WithRequest(context.Background(), &bridge.Request{ID: 999999})
	_, err = GetBinding("PEER").Call(ctx, "echo", []byte(`[]`))
	if !errors.Is(err, bridge.ErrRequestGone) {
		t.Errorf("finished request: err = %v", err)
	}
}

func TestCancelledCallReturnsAndLateReplyIsDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(testCtx(t), 10*time.Millisecond)
	defer cancel()
	_, err := GetBinding("PEER").Call(ctx, "slow", []byte(`[200]`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	time.Sleep(250 * time.Millisecond) // the late reply arrives and is dropped
	if n := bridge.PendingCalls(); n != 0 {
		t.Errorf("pending calls = %d", n)
	}
}

func TestTimersRunWhileWaitingForJavaScript(t *testing.T) {
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(30 * time.Millisecond)
		}()
	}
	ctx := testCtx(t)
	if _, err := GetBinding("PEER").Call(ctx, "slow", []byte(`[60]`)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case <-time.After(10 * time.Millisecond):
	case <-ctx.Done():
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("finished after %v, before the sleeps could", d)
	}
}

func TestRPCThroughTheRuntime(t *testing.T) {
	ctx := testCtx(t)
	self := GetBinding("SELF")
	got, err := self.Call(ctx, "m0", []byte(`[42,"x"]`))
	if err != nil || string(got) != `[42,"x"]` {
		t.Errorf("m0 = %s, %v", got, err)
	}
	got, err = self.Call(ctx, "m1", []byte(`[]`))
	if err != nil || string(got) != `{"serviceId":"node-test"}` {
		t.Errorf("props = %s, %v", got, err)
	}
	for method, want := range map[string]string{"m5": "0", "m5@1": "1", "m5@3": "3"} {
		if got, err := self.Call(ctx, method, []byte(`[]`)); err != nil || string(got) != want {
			t.Errorf("%s: entrypoint %s, %v; want %s", method, got, err, want)
		}
	}
	if Entrypoint(ctx) != 0 {
		t.Errorf("Entrypoint outside an RPC call = %d", Entrypoint(ctx))
	}
	got, err = self.Call(ctx, "m4", []byte(`[]`))
	if err != nil || string(got) != `"late"` {
		t.Errorf("async handler = %s, %v", got, err)
	}
	var re *RemoteError
	if _, err := self.Call(ctx, "m2", []byte(`[]`)); !errors.As(err, &re) || re.Name != "SelfError" || re.Message != "REFUSED: no" || !strings.Contains(string(re.Props), `"code":"REFUSED"`) {
		t.Errorf("error = %#v", err)
	}
	// A panic is answered as an internal error and the instance keeps serving.
	if _, err := self.Call(ctx, "m3", []byte(`[]`)); !errors.As(err, &re) || !strings.Contains(string(re.Props), `"code":"INTERNAL"`) {
		t.Errorf("panic = %#v", err)
	}
	if got, err := self.Call(ctx, "m0", []byte(`[1]`)); err != nil || string(got) != "[1]" {
		t.Errorf("after panic: %s, %v", got, err)
	}
}

// TestSyncRPC calls methods as the entry module calls methods marked
// //rpc:sync: answered inside the export when they need no I/O, served
// asynchronously when they do, and a panic answered INTERNAL either way.
func TestSyncRPC(t *testing.T) {
	ctx := testCtx(t)
	self := GetBinding("SELF")
	s0 := peerStats(t)
	got, err := self.Call(ctx, "s6", []byte(`[42,"x"]`))
	if err != nil || string(got) != `[[42,"x"],{"serviceId":"node-test"}]` {
		t.Errorf("s6 = %s, %v", got, err)
	}
	if got, err := self.Call(ctx, "s5@2", []byte(`[]`)); err != nil || string(got) != "2" {
		t.Errorf("s5@2 (not synchronous in Go) = %s, %v", got, err)
	}
	s1 := peerStats(t)
	if s1.SyncAnswers != s0.SyncAnswers+1 || s1.SyncFallbacks != s0.SyncFallbacks+1 {
		t.Errorf("sync answers %d -> %d, fallbacks %d -> %d; want +1, +1", s0.SyncAnswers, s1.SyncAnswers, s0.SyncFallbacks, s1.SyncFallbacks)
	}

	// I/O sends the call to the asynchronous path, where it is done.
	runs := selfRuns7.Load()
	got, err = self.Call(ctx, "s7", []byte(`["via peer"]`))
	if err != nil || string(got) != `["via peer"]` {
		t.Errorf("s7 = %s, %v", got, err)
	}
	if n := selfRuns7.Load() - runs; n != 2 {
		t.Errorf("s7 ran %d times; want 2 (the attempt and the asynchronous run)", n)
	}
	// A handler that swallows the error of its I/O is served again all the same.
	if got, err := self.Call(ctx, "s9", []byte(`[]`)); err != nil || string(got) != `"stats"` {
		t.Errorf("s9 = %s, %v", got, err)
	}
	s2 := peerStats(t)
	if s2.SyncAnswers != s1.SyncAnswers || s2.SyncFallbacks != s1.SyncFallbacks+2 {
		t.Errorf("sync answers %d -> %d, fallbacks %d -> %d; want +0, +2", s1.SyncAnswers, s2.SyncAnswers, s1.SyncFallbacks, s2.SyncFallbacks)
	}

	// A panic is answered INTERNAL, and the instance keeps serving.
	var re *RemoteError
	for _, m := range []string{"s8", "s3"} {
		if _, err := self.Call(ctx, m, []byte(`[]`)); !errors.As(err, &re) || !strings.Contains(string(re.Props), `"code":"INTERNAL"`) {
			t.Errorf("%s: panic = %#v", m, err)
		}
	}
	if got, err := self.Call(ctx, "s6", []byte(`[1]`)); err != nil || string(got) != `[[1],{"serviceId":"node-test"}]` {
		t.Errorf("after panic: %s, %v", got, err)
	}
	s3 := peerStats(t)
	if s3.Instances != s0.Instances || s3.LiveRequests != s0.LiveRequests || s3.InflightOps != s0.InflightOps {
		t.Errorf("after the calls: %+v; before %+v", s3, s0)
	}
	if n := bridge.PendingCalls(); n != 0 {
		t.Errorf("pending calls = %d", n)
	}
}

// TestCallJSON: SELF's entry answers callJSONVersion as a Go worker's
// generated entry does, so calls to it carry their JSON as bytes both ways
// (callJSON), with the same answers, errors, identity and synchronous path as
// any call; PEER is a plain JavaScript service, called as before. What a
// caller may send callJSON is checked, and refused naming what was wrong.
func TestCallJSON(t *testing.T) {
	ctx := testCtx(t)
	self, peer := GetBinding("SELF"), GetBinding("PEER")
	s0 := peerStats(t)
	for _, c := range []struct{ method, args, want string }{
		{"m0", `[42,"x",{"k":[true,null]}]`, `[42,"x",{"k":[true,null]}]`},
		{"m0", ` [ "é\u2028" ] `, ` [ "é\u2028" ] `}, // the caller's bytes, as they are
		{"m1", `[]`, `{"serviceId":"node-test"}`},
		{"m5@3", `[]`, "3"},
		{"m4", `[]`, `"late"`},
		{"s6", `[1]`, `[[1],{"serviceId":"node-test"}]`},
	} {
		if got, err := self.Call(ctx, c.method, []byte(c.args)); err != nil || string(got) != c.want {
			t.Errorf("%s(%s) = %s, %v; want %s", c.method, c.args, got, err, c.want)
		}
	}
	var re *RemoteError
	if _, err := self.Call(ctx, "m2", []byte(`[]`)); !errors.As(err, &re) || re.Name != "SelfError" || !strings.Contains(string(re.Props), `"code":"REFUSED"`) {
		t.Errorf("error = %#v", err)
	}
	if got, err := peer.Call(ctx, "echo", []byte(`[1]`)); err != nil || string(got) != "[1]" {
		t.Errorf("PEER echo = %s, %v", got, err)
	}
	s1 := peerStats(t)
	// Only SELF's 7 calls: the probe of PEER (at its first call, in an earlier
	// test) found a plain JavaScript service, and peerStats calls PEER too.
	if n := s1.JSONCalls - s0.JSONCalls; n != 7 {
		t.Errorf("%d calls made with callJSON, want 7", n)
	}
	if n := s1.JSONServed - s0.JSONServed; n != 7 {
		t.Errorf("%d calls answered through callJSON, want 7", n)
	}
	if s1.SyncAnswers != s0.SyncAnswers+1 {
		t.Errorf("sync answers %d -> %d; want +1 (s6)", s0.SyncAnswers, s1.SyncAnswers)
	}

	for _, c := range []struct{ args, want string }{
		{`["m0", [91, 93]]`, "the arguments of m0 must be a Uint8Array holding their JSON array, not object"},
		{`["m0", "[1]"]`, "the arguments of m0 must be a Uint8Array holding their JSON array, not string"},
		{`["m0", null]`, "the arguments of m0 must be a Uint8Array holding their JSON array, not null"},
		{`["nope", "[]", true]`, `no RPC method named "nope"`},
		{`[7, "[]", true]`, "no RPC method named a number"},
	} {
		_, err := peer.Call(ctx, "callSelfJSON", []byte(c.args))
		if !errors.As(err, &re) || re.Name != "TestError" || !strings.Contains(re.Message, "INVALID_ARGUMENT: callJSON: "+c.want) ||
			!strings.Contains(string(re.Props), `"code":"INVALID_ARGUMENT"`) {
			t.Errorf("callJSON(%s): %v; want INVALID_ARGUMENT %q", c.args, err, c.want)
		}
	}
	if s2 := peerStats(t); s2.JSONServed != s1.JSONServed || s2.LiveRequests != s0.LiveRequests || s2.InflightOps != s0.InflightOps {
		t.Errorf("after the refused calls: %+v; before %+v", s2, s1)
	}
}

// TestCallJSONAskedAgain: while the question whether a binding's worker
// takes callJSON is unanswered, calls to it are made as to any worker; once it
// has stood for the runtime's askAgainMs (200 ms under Node), the next call
// asks again, and calls go through callJSON from then on.
func TestCallJSONAskedAgain(t *testing.T) {
	ctx := testCtx(t)
	slow := GetBinding("SLOWASK")
	asking, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := slow.Call(asking, "m0", []byte(`[1]`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the call that asked, never answered: %v; want the context's deadline", err)
	}
	s0 := peerStats(t)
	if got, err := slow.Call(ctx, "m0", []byte(`[2]`)); err != nil || string(got) != "[2]" {
		t.Errorf("while asking: %s, %v", got, err)
	}
	if s1 := peerStats(t); s1.JSONCalls != s0.JSONCalls {
		t.Errorf("while asking, %d calls were made with callJSON; want 0", s1.JSONCalls-s0.JSONCalls)
	}
	time.Sleep(250 * time.Millisecond)
	for i := range 2 {
		if got, err := slow.Call(ctx, "m0", []byte(`[3]`)); err != nil || string(got) != "[3]" {
			t.Errorf("call %d after asking again: %s, %v", i, got, err)
		}
	}
	if s2 := peerStats(t); s2.JSONCalls != s0.JSONCalls+2 {
		t.Errorf("after asking again, %d calls were made with callJSON; want 2", s2.JSONCalls-s0.JSONCalls)
	}
}

// TestCallJSONPeersThatDoNotFit: a worker that answers callJSON with
// something other than bytes fails the call with a TypeError naming it, and
// leaves nothing in flight; one that answers another version of callJSON is
// called as any worker.
func TestCallJSONPeersThatDoNotFit(t *testing.T) {
	ctx := testCtx(t)
	s0 := peerStats(t)
	var re *RemoteError
	_, err := GetBinding("BADJSON").Call(ctx, "m0", []byte(`[1]`))
	if !errors.As(err, &re) || re.Name != "TypeError" || re.Message != "callJSON answered string, not the bytes of JSON" {
		t.Errorf("a string for bytes: %v", err)
	}
	if got, err := GetBinding("NEWERGO").Call(ctx, "m0", []byte(`[2]`)); err != nil || string(got) != "[2]" {
		t.Errorf("another version: %s, %v", got, err)
	}
	s1 := peerStats(t)
	if s1.JSONCalls != s0.JSONCalls+1 || s1.JSONServed != s0.JSONServed {
		t.Errorf("callJSON calls %d -> %d (want +1, BADJSON's), served %d -> %d (want +0)", s0.JSONCalls, s1.JSONCalls, s0.JSONServed, s1.JSONServed)
	}
	if s1.InflightOps != s0.InflightOps || s1.LiveRequests != s0.LiveRequests {
		t.Errorf("after the calls: %+v; before %+v", s1, s0)
	}
}

func TestFetchThroughTheRuntime(t *testing.T) {
	ctx := testCtx(t)
	c := GetBinding("SELF").Transport()
	get := func(url string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := c.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("https://self.test/hello?q=é")
	if resp.StatusCode != 201 || body != "hello GET é" || resp.Header.Get("X-Test") != "yes" {
		t.Errorf("hello: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("set-cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	big := strings.Repeat("0123456789", 50_000) // 500 KB request body, read in chunks
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://self.test/echo", strings.NewReader(big))
	req.Header.Set("Content-Type", "text/plain")
	r2, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	if string(b2) != "text/plain 500000 0123456789012345" {
		t.Errorf("echo: %q", b2)
	}
	if resp, body := get("https://self.test/big?n=300"); resp.StatusCode != 200 || len(body) != 300_000 {
		t.Errorf("streamed body: %d %d", resp.StatusCode, len(body))
	}
	if _, body := get("https://self.test/flush"); body != "one,two" {
		t.Errorf("flushed body: %q", body)
	}
	if resp, body := get("https://self.test/panic"); resp.StatusCode != 500 || body != "internal error\n" || resp.Header.Get("X-Half") != "" {
		t.Errorf("panic: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, body := get("https://self.test/nocontent"); resp.StatusCode != 204 || body != "" {
		t.Errorf("204: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("https://self.test/nowhere"); resp.StatusCode != 404 {
		t.Errorf("404: %d", resp.StatusCode)
	}
}

type jsStats struct {
	Instances, LiveRequests, InflightOps, GoTimers, JSValues int
	SyncAnswers, SyncFallbacks                               int
	JSONCalls, JSONServed                                    int
}

// peerAsked: the runtime has asked whether PEER is a Go worker (it is not),
// so that the stats call itself is made alike every time (the call that asks
// runs the method a step later, with itself counted in flight).
var peerAsked sync.Once

func peerStats(t *testing.T) jsStats {
	peerAsked.Do(func() { GetBinding("PEER").Call(testCtx(t), "stats", []byte(`[]`)) })
	got, err := GetBinding("PEER").Call(testCtx(t), "stats", []byte(`[]`))
	if err != nil {
		t.Fatal(err)
	}
	var s jsStats
	if err := json.Unmarshal(got, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestManyCallsLeakNothing makes 100,000 bridged calls (Go -> JS -> Go -> JS ->
// Go, through the runtime's RPC path) and checks that the Go heap, goroutines,
// pending calls and the JavaScript side's live callbacks and values stay flat.
func TestManyCallsLeakNothing(t *testing.T) {
	ctx := testCtx(t)
	self := GetBinding("SELF")
	call := func(n int) {
		for i := 0; i < n; i++ {
			got, err := self.Call(ctx, "m0", []byte(`[1,"session"]`))
			if err != nil || len(got) != 13 {
				t.Fatalf("call %d: %s, %v", i, got, err)
			}
			if i%4 == 0 { // and answered inside the export
				got, err := self.Call(ctx, "s6", []byte(`[1,"session"]`))
				if err != nil || len(got) != 41 {
					t.Fatalf("synchronous call %d: %s, %v", i, got, err)
				}
			}
		}
	}
	call(2000) // warm up pools
	h0, g0, s0 := heap(), runtime.NumGoroutine(), peerStats(t)
	call(100_000)
	h1, g1, s1 := heap(), runtime.NumGoroutine(), peerStats(t)
	t.Logf("heap %d -> %d bytes, goroutines %d -> %d, js %+v -> %+v", h0, h1, g0, g1, s0, s1)
	if h1 > h0+256<<10 {
		t.Errorf("Go heap grew by %d bytes over 100,000 calls", h1-h0)
	}
	if g1 > g0 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if n := bridge.PendingCalls(); n != 0 {
		t.Errorf("pending calls = %d", n)
	}
	if s1.InflightOps != s0.InflightOps || s1.LiveRequests != s0.LiveRequests || s1.JSValues > s0.JSValues+8 {
		t.Errorf("JavaScript side grew: %+v -> %+v", s0, s1)
	}
}

// BenchmarkCallJavaScript is one Go->JS RPC call through the bridge: the
// caller's share of a Go worker's RPC call.
func BenchmarkCallJavaScript(b *testing.B) {
	ctx := testCtx(b)
	peer := GetBinding("PEER")
	args := []byte(`["1AgAOMTQ5LjE1NC4xNjcuNTABu5jSn7IqkF1txy5EAZA4GiGuN7tKJostHZQJA1cT",7]`)
	for b.Loop() {
		if _, err := peer.Call(ctx, "echo", args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeRPC is one JS->Go->JS->Go round trip through the runtime's
// RPC path (Go calls SELF, which the runtime serves in Go).
func BenchmarkServeRPC(b *testing.B) {
	ctx := testCtx(b)
	self := GetBinding("SELF")
	for b.Loop() {
		if _, err := self.Call(ctx, "m0", []byte(`[7]`)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestConsoleWritesLines(t *testing.T) {
	n, err := Console.Write([]byte("console line one\nconsole line two\n"))
	if n != 34 || err != nil {
		t.Errorf("Write = %d, %v", n, err)
	}
	if n, _ := ConsoleErrors.Write([]byte("an error line without newline")); n != 29 {
		t.Errorf("Write = %d", n)
	}
}

// TestCallsDuringGarbageCollection makes calls, in both directions, while
// another goroutine keeps the garbage collector busy: JavaScript calls into
// Go (starting events, completing calls) land during collections, and the
// exports they call must neither allocate nor block.
func TestCallsDuringGarbageCollection(t *testing.T) {
	ctx := testCtx(t)
	self := GetBinding("SELF")
	stop := make(chan struct{})
	var churned sync.WaitGroup
	churned.Add(1)
	go func() {
		defer churned.Done()
		var keep [][]byte
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			keep = append(keep, make([]byte, 64<<10))
			if len(keep) > 64 {
				keep = keep[:0]
			}
			if i%4 == 0 {
				runtime.GC()
			}
			// Yield to JavaScript: on js/wasm a goroutine that never blocks
			// keeps JavaScript (and so every call) from running.
			time.Sleep(100 * time.Microsecond)
		}
	}()
	arg := []byte(`["` + strings.Repeat("x", 8<<10) + `"]`)
	for i := 0; i < 3000; i++ {
		got, err := self.Call(ctx, "m0", arg)
		if err != nil || len(got) != len(arg) {
			close(stop)
			t.Fatalf("call %d: %d bytes, %v", i, len(got), err)
		}
		// Answered inside the export, which allocates: a collection may be
		// under way, and the export's goroutine be parked meanwhile.
		got, err = self.Call(ctx, "s6", arg)
		if err != nil || len(got) != len(arg)+len(`[,{"serviceId":"node-test"}]`) {
			close(stop)
			t.Fatalf("synchronous call %d: %d bytes, %v", i, len(got), err)
		}
	}
	close(stop)
	churned.Wait()
}

// BenchmarkServeRPCSync is BenchmarkServeRPC for a method answered inside the
// export (marked //rpc:sync).
func BenchmarkServeRPCSync(b *testing.B) {
	ctx := testCtx(b)
	self := GetBinding("SELF")
	for b.Loop() {
		if _, err := self.Call(ctx, "s6", []byte(`[7]`)); err != nil {
			b.Fatal(err)
		}
	}
}
