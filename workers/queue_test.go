package workers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/workers/internal/wire"
)

// These run natively and under Node: refusals happen before anything is
// sent, so a context without a request is enough (a message that passes fails
// later, with ErrNotWorker or ErrNoRequest).

func TestQueueRefusesBeforeSending(t *testing.T) {
	ctx := context.Background()
	q := Queue{Binding: "Q"}
	str := func(n int) []byte { return []byte(`"` + strings.Repeat("x", n-2) + `"`) } // n bytes of JSON
	refused := []struct {
		name  string
		body  []byte
		delay time.Duration
		want  string
	}{
		{"empty", nil, 0, "the body is not JSON: jsoncodec: offset 0: expected a value"},
		{"not JSON", []byte(`{"a":}`), 0, "the body is not JSON: jsoncodec: offset 5"},
		{"two values", []byte(`1 2`), 0, "the body is not one JSON value"},
		{"not UTF-8", []byte("\"\xff\""), 0, "the body is not UTF-8"},
		{"too big", str(MaxQueueMessageBytes + 1), 0, "the body is 128001 bytes of JSON; Cloudflare's limit is 128000"},
		{"negative delay", []byte(`1`), -time.Second, "delay -1s is out of range"},
		{"delay too long", []byte(`1`), MaxQueueDelay + time.Nanosecond, "delay 24h0m0.000000001s is out of range: at most 24h0m0s"},
	}
	for _, tc := range refused {
		err := q.Send(ctx, tc.body, tc.delay)
		if !errors.Is(err, ErrInvalidQueueMessage) || !strings.HasPrefix(err.Error(), "workers: queue Q: "+tc.want) {
			t.Errorf("Send %s: %v, want %q", tc.name, err, tc.want)
		}
		err = q.SendBatch(ctx, []QueueSend{{Body: []byte(`1`)}, {Body: tc.body, Delay: tc.delay}})
		if !errors.Is(err, ErrInvalidQueueMessage) || !strings.HasPrefix(err.Error(), "workers: queue Q: message 1: "+tc.want) {
			t.Errorf("SendBatch %s: %v, want %q", tc.name, err, tc.want)
		}
	}

	passes := []struct {
		name  string
		body  []byte
		delay time.Duration
	}{
		{"at the limit", str(MaxQueueMessageBytes), 0},
		{"over the limit only by whitespace", append(append([]byte("  \n"), str(MaxQueueMessageBytes)...), " \t"...), 0},
		{"null", []byte(`null`), MaxQueueDelay},
	}
	for _, tc := range passes {
		if err := q.Send(ctx, tc.body, tc.delay); err == nil || errors.Is(err, ErrInvalidQueueMessage) {
			t.Errorf("Send %s was refused: %v", tc.name, err)
		}
	}

	many := make([]QueueSend, MaxQueueBatchMessages+1)
	for i := range many {
		many[i].Body = []byte(`{}`)
	}
	if err := q.SendBatch(ctx, many); !errors.Is(err, ErrInvalidQueueMessage) || err.Error() != "workers: queue Q: 101 messages in one batch; Cloudflare's limit is 100" {
		t.Errorf("101 messages: %v", err)
	}
	if err := q.SendBatch(ctx, many[:MaxQueueBatchMessages]); errors.Is(err, ErrInvalidQueueMessage) || err == nil {
		t.Errorf("100 messages were refused: %v", err)
	}
	big := []QueueSend{{Body: str(100_000)}, {Body: str(100_000)}, {Body: str(56_001)}}
	if err := q.SendBatch(ctx, big); !errors.Is(err, ErrInvalidQueueMessage) || err.Error() != "workers: queue Q: the bodies of the batch are 256001 bytes of JSON together; Cloudflare's limit is 256000" {
		t.Errorf("256001 bytes: %v", err)
	}
	big[2].Body = str(56_000)
	if err := q.SendBatch(ctx, big); errors.Is(err, ErrInvalidQueueMessage) || err == nil {
		t.Errorf("256000 bytes were refused: %v", err)
	}
	if err := q.SendBatch(ctx, nil); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
}

func TestDelaySeconds(t *testing.T) {
	for d, want := range map[time.Duration]uint32{
		-time.Hour: 0, 0: 0, time.Nanosecond: 1, time.Second: 1, time.Second + 1: 2, 1500 * time.Millisecond: 2,
		MaxQueueDelay - time.Millisecond: 86400, MaxQueueDelay: 86400, 100 * time.Hour: 86400,
	} {
		if got := delaySeconds(d); got != want {
			t.Errorf("delaySeconds(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestAppendCompactJSON(t *testing.T) {
	for in, want := range map[string]string{
		` { "a" : [ 1 , 2 ] } `:         `{"a":[1,2]}`,
		`"in a string: \" { } "`:        `"in a string: \" { } "`,
		"[\"\\\\\" , \"\\\\ \\\"\" ]\n": `["\\","\\ \""]`,
		"\t\r\n true":                   `true`,
		`"é 🌍"`:                         `"é 🌍"`,
	} {
		if got := string(appendCompactJSON([]byte("x"), []byte(in))); got != "x"+want {
			t.Errorf("appendCompactJSON(%q) = %q, want %q", in, got, "x"+want)
		}
	}
}

// queueBatchPayload encodes a batch as runtime.queue does.
func queueBatchPayload(queue string, msgs []QueueMessage) []byte {
	var w wire.Writer
	w.String(queue)
	w.U32(uint32(len(msgs)))
	for _, m := range msgs {
		w.String(m.ID)
		w.F64(float64(m.Timestamp.UnixMilli()))
		w.U32(uint32(m.Attempts))
		if m.Body == nil {
			w.U8(0)
		} else {
			w.U8(1)
			w.Bytes(m.Body)
		}
	}
	return w.Buf
}

func TestDecodeQueueBatch(t *testing.T) {
	at := time.UnixMilli(1_777_000_000_123).UTC()
	in := []QueueMessage{{ID: "a", Body: []byte(`{"x":1}`), Attempts: 1, Timestamp: at}, {ID: "b", Attempts: 7, Timestamp: at}, {ID: "c", Body: []byte{}, Attempts: 2, Timestamp: at}}
	p := queueBatchPayload("jobs", in)
	queue, msgs, err := decodeQueueBatch(p)
	if err != nil || queue != "jobs" || len(msgs) != 3 {
		t.Fatalf("decode = %q, %d messages, %v", queue, len(msgs), err)
	}
	for i, m := range msgs {
		w := in[i]
		if m.ID != w.ID || string(m.Body) != string(w.Body) || (m.Body == nil) != (w.Body == nil) || m.Attempts != w.Attempts || !m.Timestamp.Equal(w.Timestamp) || m.Timestamp.Location() != time.UTC {
			t.Errorf("message %d = %+v, want %+v", i, m, w)
		}
	}
	for _, bad := range [][]byte{nil, p[:len(p)-1], append(p[:len(p):len(p)], 0), queueBatchPayload("q", nil)[:5]} {
		if _, _, err := decodeQueueBatch(bad); err == nil {
			t.Errorf("decoded a malformed batch of %d bytes", len(bad))
		}
	}
	var w wire.Writer
	w.String("q")
	w.U32(1 << 30) // more messages than bytes
	if _, _, err := decodeQueueBatch(w.Buf); err == nil {
		t.Error("decoded a batch of 2^30 messages")
	}
}

func TestAppendQueueResults(t *testing.T) {
	out := appendQueueResults(nil, 4, []QueueResult{{Retry: false, Delay: time.Hour}, {Retry: true, Delay: 2500 * time.Millisecond}})
	r := wire.NewReader(out)
	if ok, msg := r.U8(), r.String(); ok != 1 || msg != "" {
		t.Fatalf("header = %d %q", ok, msg)
	}
	var got []string
	for n := r.U32(); n > 0; n-- {
		got = append(got, strconv.Itoa(int(r.U8()))+"/"+strconv.Itoa(int(r.U32())))
	}
	if want := "0/0 1/3 1/0 1/0"; strings.Join(got, " ") != want || r.Err() != nil || r.Len() != 0 {
		t.Errorf("results = %q (%v), want %q", got, r.Err(), want)
	}
}
