package workers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/workers/internal/wire"
)

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
