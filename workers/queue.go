package workers

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// QueueMessage is one message of a batch delivered to the worker's queue() handler.
type QueueMessage struct {
	ID string
	// Body is the JSON of the message body (JSON.stringify of msg.body); nil
	// when the body has no JSON form (a BigInt, a cycle: a message another
	// producer sent with contentType "v8").
	Body      []byte
	Attempts  int // 1 on first delivery
	Timestamp time.Time
}

// QueueResult is what to do with one message: Retry false acks it; Retry true
// retries it after Delay (rounded up to whole seconds, 0 = the queue's
// default: the consumer's retry_delay). A Delay beyond MaxQueueDelay waits
// MaxQueueDelay.
type QueueResult struct {
	Retry bool
	Delay time.Duration
}

// MaxQueueDelay is Cloudflare's limit on a delay, when sending or retrying
// (https://developers.cloudflare.com/queues/platform/limits/, which once said
// 12 hours; wrangler's local queues also accept 24).
const MaxQueueDelay = 24 * time.Hour

// delaySeconds is d in whole seconds, rounded up, within [0, MaxQueueDelay].
func delaySeconds(d time.Duration) uint32 {
	switch {
	case d <= 0:
		return 0
	case d >= MaxQueueDelay:
		return uint32(MaxQueueDelay / time.Second)
	}
	return uint32((d + time.Second - 1) / time.Second)
}

var errNoQueueHandler = errors.New("workers: a queue batch arrived but the worker has no queue handler (Handlers.Queue)")

// serveQueue runs the queue handler for a batch and posts what to do with each
// message: u8 ok, error text, u32 n, then n × (u8 retry, u32 delaySeconds).
// Not ok makes JavaScript retry the whole batch.
func serveQueue(id uint32, payload []byte) {
	ctx := bridge.WithRequest(context.Background(), &bridge.Request{ID: id})
	out, err := queueResults(ctx, payload)
	if err != nil {
		var w wire.Writer
		w.U8(0)
		w.String(err.Error())
		out = w.Buf
	}
	_ = bridge.PostTo(id, bridge.OpDone, out)
}

func queueResults(ctx context.Context, payload []byte) (out []byte, err error) {
	queue, msgs, err := decodeQueueBatch(payload)
	if err != nil {
		return nil, err
	}
	h := handlers.Queue
	if h == nil {
		return nil, errNoQueueHandler
	}
	defer func() {
		if v := recover(); v != nil {
			perr := &PanicError{Value: v, Stack: debug.Stack()}
			logPanic(perr)
			out, err = nil, perr
		}
	}()
	return appendQueueResults(nil, len(msgs), h(ctx, queue, msgs)), nil
}

// decodeQueueBatch reads what runtime.queue encodes: the queue's name, u32 n,
// then n × (id, f64 timestamp in ms, u32 attempts, u8 has body, body).
func decodeQueueBatch(payload []byte) (string, []QueueMessage, error) {
	r := wire.NewReader(payload)
	queue := r.String()
	n := int(r.U32())
	if n > r.Len() { // each message takes several bytes: a bad count
		return "", nil, errors.New("workers: malformed queue batch from JavaScript")
	}
	msgs := make([]QueueMessage, n)
	for i := range msgs {
		m := &msgs[i]
		m.ID = r.String()
		m.Timestamp = time.UnixMilli(int64(r.F64())).UTC()
		m.Attempts = int(r.U32())
		if r.U8() == 1 {
			m.Body = r.Bytes()
		}
	}
	if r.Err() != nil || r.Len() != 0 {
		return "", nil, errors.New("workers: malformed queue batch from JavaScript")
	}
	return queue, msgs, nil
}

// appendQueueResults appends a successful answer for n messages: results in
// order, a retry with the queue's delay for each message without one.
func appendQueueResults(dst []byte, n int, results []QueueResult) []byte {
	w := wire.Writer{Buf: dst}
	w.U8(1)
	w.String("")
	w.U32(uint32(n))
	for i := 0; i < n; i++ {
		r := QueueResult{Retry: true}
		if i < len(results) {
			r = results[i]
		}
		if r.Retry {
			w.U8(1)
			w.U32(delaySeconds(r.Delay))
		} else {
			w.U8(0)
			w.U32(0)
		}
	}
	return w.Buf
}
