//go:build js && wasm

package workers

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// queueHandler is what the test program's queue handler does; tests set it
// with setQueueHandler.
var (
	queueMu      sync.Mutex
	queueHandler func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult
)

func serveTestQueue(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult {
	queueMu.Lock()
	h := queueHandler
	queueMu.Unlock()
	return h(ctx, queue, msgs)
}

func setQueueHandler(t *testing.T, h func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult) {
	queueMu.Lock()
	queueHandler = h
	queueMu.Unlock()
	t.Cleanup(func() {
		queueMu.Lock()
		queueHandler = nil
		queueMu.Unlock()
	})
}

// batchSpec is the batch node_exec.mjs builds for SELF.queue(spec).
type batchSpec struct {
	Queue    string        `json:"queue"`
	Messages []specMessage `json:"messages"`
}

type specMessage struct {
	ID        string          `json:"id"`
	Body      json.RawMessage `json:"body,omitempty"`
	Attempts  int             `json:"attempts"`
	Timestamp int64           `json:"timestamp"` // ms
	BigInt    bool            `json:"bigint,omitempty"`
}

// deliver has the runtime's queue handler (this program, through
// runtime.queue as workerd calls it) handle a fake batch, and returns the
// calls it made on the batch: by message id, and "batch".
func deliver(t *testing.T, spec batchSpec) map[string][]string {
	t.Helper()
	args, err := json.Marshal([]any{spec})
	if err != nil {
		t.Fatal(err)
	}
	got, err := GetBinding("SELF").Call(testCtx(t), "queue", args)
	if err != nil {
		t.Fatal(err)
	}
	var calls map[string][]string
	if err := json.Unmarshal(got, &calls); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	return calls
}

func TestQueueHandlerSeesTheBatchAndResultsBecomeAckAndRetry(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123e6, time.UTC)
	var seen []QueueMessage
	var seenQueue, echoed string
	var echoErr error
	setQueueHandler(t, func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult {
		seenQueue, seen = queue, msgs
		// ctx is the batch's request: I/O and timers work as in a fetch handler.
		time.Sleep(5 * time.Millisecond)
		var b []byte
		b, echoErr = GetBinding("PEER").Call(ctx, "echo", []byte(`["from the queue handler"]`))
		echoed = string(b)
		// Three results for four messages: the fourth is retried.
		return []QueueResult{{}, {Retry: true, Delay: 1500 * time.Millisecond}, {Retry: true}}
	})
	calls := deliver(t, batchSpec{Queue: "jobs", Messages: []specMessage{
		{ID: "m1", Body: json.RawMessage(`{ "n": 1, "s": "é\u2028" }`), Attempts: 1, Timestamp: at.UnixMilli()},
		{ID: "m2", Body: json.RawMessage(`"text"`), Attempts: 3, Timestamp: at.Add(time.Second).UnixMilli()},
		{ID: "m3", BigInt: true, Attempts: 1, Timestamp: at.UnixMilli()},
		{ID: "m4", Body: json.RawMessage(`[1,2.5,null]`), Attempts: 2, Timestamp: at.UnixMilli()},
	}})
	want := map[string][]string{"batch": {}, "m1": {"ack"}, "m2": {`retry {"delaySeconds":2}`}, "m3": {"retry"}, "m4": {"retry"}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls on the batch = %q, want %q", calls, want)
	}
	if seenQueue != "jobs" || len(seen) != 4 {
		t.Fatalf("handler saw queue %q, %d messages", seenQueue, len(seen))
	}
	wantMsgs := []QueueMessage{
		{ID: "m1", Body: []byte(`{"n":1,"s":"é` + "\u2028" + `"}`), Attempts: 1, Timestamp: at},
		{ID: "m2", Body: []byte(`"text"`), Attempts: 3, Timestamp: at.Add(time.Second)},
		{ID: "m3", Body: nil, Attempts: 1, Timestamp: at},
		{ID: "m4", Body: []byte(`[1,2.5,null]`), Attempts: 2, Timestamp: at},
	}
	for i, m := range seen {
		w := wantMsgs[i]
		if m.ID != w.ID || string(m.Body) != string(w.Body) || (m.Body == nil) != (w.Body == nil) || m.Attempts != w.Attempts || !m.Timestamp.Equal(w.Timestamp) {
			t.Errorf("message %d = %+v (body %q), want %+v (body %q)", i, m, m.Body, w, w.Body)
		}
	}
	if echoErr != nil || echoed != `["from the queue handler"]` {
		t.Errorf("RPC call from the queue handler: %s, %v", echoed, echoErr)
	}
}

func TestQueueRetryDelays(t *testing.T) {
	setQueueHandler(t, func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult {
		return []QueueResult{
			{Retry: true, Delay: time.Nanosecond},  // rounded up
			{Retry: true, Delay: 48 * time.Hour},   // beyond the limit: the limit
			{Retry: true, Delay: -5 * time.Second}, // the queue's delay
			{Retry: false, Delay: time.Hour},       // an ack has no delay
			{Retry: true},                          // results beyond the batch are ignored
		}
	})
	var spec batchSpec
	for _, id := range []string{"a", "b", "c", "d"} {
		spec.Messages = append(spec.Messages, specMessage{ID: id, Body: json.RawMessage(`0`), Attempts: 1})
	}
	calls := deliver(t, spec)
	want := map[string][]string{"batch": {}, "a": {`retry {"delaySeconds":1}`}, "b": {`retry {"delaySeconds":86400}`}, "c": {"retry"}, "d": {"ack"}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls on the batch = %q, want %q", calls, want)
	}
}

func TestQueueHandlerPanicRetriesTheBatch(t *testing.T) {
	setQueueHandler(t, func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult {
		panic("queue handler panic")
	})
	spec := batchSpec{Queue: "jobs", Messages: []specMessage{{ID: "p1", Body: json.RawMessage(`1`), Attempts: 1}, {ID: "p2", Body: json.RawMessage(`2`), Attempts: 1}}}
	want := map[string][]string{"batch": {"retryAll"}, "p1": {}, "p2": {}}
	if calls := deliver(t, spec); !reflect.DeepEqual(calls, want) {
		t.Errorf("after a panic: calls = %q, want %q", calls, want)
	}
	// The instance keeps serving, queue batches included.
	setQueueHandler(t, func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult {
		return []QueueResult{{}, {}}
	})
	want = map[string][]string{"batch": {}, "p1": {"ack"}, "p2": {"ack"}}
	if calls := deliver(t, spec); !reflect.DeepEqual(calls, want) {
		t.Errorf("after the panic: calls = %q, want %q", calls, want)
	}
}

func TestQueueWithoutHandlerRetriesTheBatch(t *testing.T) {
	saved := handlers.Queue
	handlers.Queue = nil
	defer func() { handlers.Queue = saved }()
	spec := batchSpec{Queue: "jobs", Messages: []specMessage{{ID: "x", Body: json.RawMessage(`{}`), Attempts: 1}}}
	want := map[string][]string{"batch": {"retryAll"}, "x": {}}
	if calls := deliver(t, spec); !reflect.DeepEqual(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}

func TestQueueEmptyBatch(t *testing.T) {
	setQueueHandler(t, func(ctx context.Context, queue string, msgs []QueueMessage) []QueueResult {
		if len(msgs) != 0 {
			t.Errorf("%d messages", len(msgs))
		}
		return nil
	})
	if calls := deliver(t, batchSpec{Queue: "jobs", Messages: []specMessage{}}); !reflect.DeepEqual(calls, map[string][]string{"batch": {}}) {
		t.Errorf("calls = %q", calls)
	}
}

// queueSent returns what the fake QUEUE binding received since the last call.
func queueSent(t *testing.T) string {
	t.Helper()
	got, err := GetBinding("PEER").Call(testCtx(t), "queueSent", []byte(`[]`))
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

func TestQueueSendCallsTheBinding(t *testing.T) {
	ctx := testCtx(t)
	q := Queue{Binding: "QUEUE"}
	queueSent(t)
	if err := q.Send(ctx, []byte(" { \"a\" : [1, 2] ,\n \"s\": \"x \\\" y\" } "), 0); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, []byte(`"hi"`), 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := q.SendBatch(ctx, []QueueSend{{Body: []byte(`1`)}, {Body: []byte(`{"k": null}`), Delay: 3 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	want := `[{"method":"send","body":{"a":[1,2],"s":"x \" y"},"options":{"contentType":"json"}},` +
		`{"method":"send","body":"hi","options":{"contentType":"json","delaySeconds":2}},` +
		`{"method":"sendBatch","messages":[{"body":1,"contentType":"json"},{"body":{"k":null},"contentType":"json","delaySeconds":3}]}]`
	if got := queueSent(t); got != want {
		t.Errorf("the binding got\n%s\nwant\n%s", got, want)
	}

	// Refused messages send nothing, even when only one of a batch is wrong.
	if err := q.SendBatch(ctx, []QueueSend{{Body: []byte(`1`)}, {Body: []byte(`{`)}}); !errors.Is(err, ErrInvalidQueueMessage) || !strings.Contains(err.Error(), "message 1:") {
		t.Errorf("bad batch: %v", err)
	}
	if err := q.SendBatch(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
	if got := queueSent(t); got != "[]" {
		t.Errorf("sent despite refusals: %s", got)
	}

	// A failure of the binding comes back as the JavaScript error.
	err := Queue{Binding: "NOPE"}.Send(ctx, []byte(`1`), 0)
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "workers: queue NOPE: send: ") || !strings.Contains(re.Message, "no binding named NOPE") {
		t.Errorf("missing binding: %v", err)
	}
}
