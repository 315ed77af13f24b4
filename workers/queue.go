package workers

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
	"github.com/communicator/communicator/workers/jsoncodec"
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

// Cloudflare's limits on queue messages
// (https://developers.cloudflare.com/queues/platform/limits/, which once said
// 12 hours for a delay; wrangler's local queues also accept 24). A KB is 1000
// bytes there, and a message's size is the size of its serialized body, here
// its JSON; Cloudflare counts up to about 100 bytes of metadata too, so a body
// just under the limit may still be refused by the send itself.
const (
	MaxQueueMessageBytes  = 128_000        // one message's body
	MaxQueueBatchMessages = 100            // messages of one SendBatch
	MaxQueueBatchBytes    = 256_000        // the bodies of one SendBatch together
	MaxQueueDelay         = 24 * time.Hour // a delay, when sending or retrying
)

// ErrInvalidQueueMessage is wrapped by the errors of Send and SendBatch that
// refuse messages before anything is sent: a body that is not JSON, a message
// or batch over Cloudflare's limits, a delay out of range.
var ErrInvalidQueueMessage = errors.New("invalid queue message")

// Queue is a queue producer binding of the worker (a [[queues.producers]]
// entry of wrangler.toml), named as on env.
type Queue struct{ Binding string }

// QueueSend is one message of a SendBatch: Body is JSON, Delay as for Send.
type QueueSend struct {
	Body  []byte
	Delay time.Duration
}

// Send sends one message whose body is the JSON value body, delivered after
// delay (rounded up to whole seconds; 0 is the queue's delivery_delay, none by
// default). It calls the binding's send(body, {contentType: "json",
// delaySeconds}) in ctx's request, with body parsed by JavaScript: numbers
// become JavaScript numbers (integers beyond 2^53 lose precision), and the
// consumer gets the body as JSON.stringify writes it.
//
// A body that is not JSON (or not UTF-8), over MaxQueueMessageBytes once its
// insignificant whitespace is removed, or a delay out of [0, MaxQueueDelay] is
// refused before anything is sent, with an error wrapping
// ErrInvalidQueueMessage. Failures of the send itself (a *RemoteError) are
// returned wrapped.
func (q Queue) Send(ctx context.Context, body []byte, delay time.Duration) error {
	args := append(make([]byte, 0, len(body)+48), '[')
	args, _, err := q.appendMessage(args, -1, body, delay, false)
	if err != nil {
		return err
	}
	args = append(args, ']')
	if _, err := GetBinding(q.Binding).Call(ctx, "send", args); err != nil {
		return fmt.Errorf("workers: queue %s: send: %w", q.Binding, err)
	}
	return nil
}

// SendBatch sends msgs in one sendBatch([{body, contentType: "json",
// delaySeconds}, ...]) call: each body and delay as for Send, at most
// MaxQueueBatchMessages messages and MaxQueueBatchBytes of bodies together.
// Nothing is sent unless every message passes; an empty batch sends nothing
// and returns nil (sendBatch itself refuses one).
func (q Queue) SendBatch(ctx context.Context, msgs []QueueSend) error {
	if len(msgs) == 0 {
		return nil
	}
	if len(msgs) > MaxQueueBatchMessages {
		return &queueError{binding: q.Binding, index: -1, msg: strconv.Itoa(len(msgs)) +
			" messages in one batch; Cloudflare's limit is " + strconv.Itoa(MaxQueueBatchMessages)}
	}
	size := 0
	for _, m := range msgs {
		size += len(m.Body) + 64
	}
	args := append(make([]byte, 0, size+2), '[', '[')
	total := 0
	for i, m := range msgs {
		if i > 0 {
			args = append(args, ',')
		}
		var n int
		var err error
		if args, n, err = q.appendMessage(args, i, m.Body, m.Delay, true); err != nil {
			return err
		}
		total += n
	}
	if total > MaxQueueBatchBytes {
		return &queueError{binding: q.Binding, index: -1, msg: "the bodies of the batch are " + strconv.Itoa(total) +
			" bytes of JSON together; Cloudflare's limit is " + strconv.Itoa(MaxQueueBatchBytes)}
	}
	args = append(args, ']', ']')
	if _, err := GetBinding(q.Binding).Call(ctx, "sendBatch", args); err != nil {
		return fmt.Errorf("workers: queue %s: sendBatch: %w", q.Binding, err)
	}
	return nil
}

// appendMessage checks one message and appends its arguments to dst: the body
// and the options object for send, or one {body, contentType, delaySeconds}
// element for sendBatch (inBatch). It returns the size of the body as sent.
func (q Queue) appendMessage(dst []byte, index int, body []byte, delay time.Duration, inBatch bool) ([]byte, int, error) {
	refuse := func(msg string) ([]byte, int, error) {
		return dst, 0, &queueError{binding: q.Binding, index: index, msg: msg}
	}
	if !utf8.Valid(body) {
		return refuse("the body is not UTF-8")
	}
	d := jsoncodec.NewDecoder(body)
	if err := d.Skip(); err != nil {
		return refuse("the body is not JSON: " + err.Error())
	}
	if err := d.End(); err != nil {
		return refuse("the body is not one JSON value: " + err.Error())
	}
	if delay < 0 || delay > MaxQueueDelay {
		return refuse("delay " + delay.String() + " is out of range: at most " + MaxQueueDelay.String())
	}
	if inBatch {
		dst = append(dst, `{"body":`...)
	}
	start := len(dst)
	dst = appendCompactJSON(dst, body)
	n := len(dst) - start
	if n > MaxQueueMessageBytes {
		return refuse("the body is " + strconv.Itoa(n) + " bytes of JSON; Cloudflare's limit is " + strconv.Itoa(MaxQueueMessageBytes))
	}
	if inBatch {
		dst = append(dst, `,"contentType":"json"`...)
	} else {
		dst = append(dst, `,{"contentType":"json"`...)
	}
	if s := delaySeconds(delay); s > 0 {
		dst = append(dst, `,"delaySeconds":`...)
		dst = strconv.AppendUint(dst, uint64(s), 10)
	}
	return append(dst, '}'), n, nil
}

// queueError is a message refused before sending.
type queueError struct {
	binding string
	index   int // the message's index in a batch; -1 for Send or the whole batch
	msg     string
}

func (e *queueError) Error() string {
	s := "workers: queue " + e.binding + ": "
	if e.index >= 0 {
		s += "message " + strconv.Itoa(e.index) + ": "
	}
	return s + e.msg
}

func (e *queueError) Is(target error) bool { return target == ErrInvalidQueueMessage }

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

// appendCompactJSON appends the valid JSON src without the whitespace between
// its tokens: what JavaScript's JSON.stringify would write, but for escapes and
// the spelling of numbers.
func appendCompactJSON(dst, src []byte) []byte {
	inString, escaped := false, false
	for _, c := range src {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		} else {
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			case '"':
				inString = true
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// ---- the consumer ---------------------------------------------------------

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
