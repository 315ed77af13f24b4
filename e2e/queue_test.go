package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// delivery is a message as the bridge worker's queue handler recorded it.
type delivery struct {
	Queue, MsgID       string
	N                  int
	Body               string
	Attempts           int
	SentAt, ReceivedAt int64 // ms: the message's timestamp; when the handler ran
	RPC                string
}

// testQueue: a fetch handler sends three messages with workers.Queue (Send,
// and SendBatch with one delayed 1 s) to a real local queue; the Go queue
// handler receives them, doing D1 and RPC in the batch's context; message 1 is
// retried once with a 1 s delay and arrives again with Attempts 2; and the
// isolate still serves after.
func testQueue(t *testing.T, url string) {
	before := stats(t, url)
	run := fmt.Sprintf("run%d", time.Now().UnixNano())
	var sent struct{ Sent []string }
	if r := get(t, url+"/queue/send?run="+run); r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &sent)
	}
	if len(sent.Sent) != 3 {
		t.Fatalf("sent %q", sent.Sent)
	}

	var seen []delivery
	deadline := time.Now().Add(15 * time.Second)
	for {
		seen = nil
		get(t, url+"/queue/seen?run="+run).json(t, &seen)
		if len(seen) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	byN := map[int][]delivery{}
	for _, d := range seen {
		byN[d.N] = append(byN[d.N], d)
	}
	if len(seen) != 4 || len(byN[1]) != 2 || len(byN[2]) != 1 || len(byN[3]) != 1 {
		t.Fatalf("deliveries: %+v\nwant message 1 twice, 2 and 3 once", seen)
	}
	for n, ds := range byN {
		for _, d := range ds {
			if d.Queue != "bridge-queue" || d.Body != sent.Sent[n-1] || d.RPC != "echoed for a queue batch" {
				t.Errorf("message %d: %+v; sent %s", n, d, sent.Sent[n-1])
			}
		}
	}
	first, again := byN[1][0], byN[1][1]
	if first.Attempts != 1 || again.Attempts != 2 || again.MsgID != first.MsgID || again.SentAt != first.SentAt {
		t.Errorf("the retried message: first %+v, again %+v", first, again)
	}
	if gap := again.ReceivedAt - first.ReceivedAt; gap < 1000 {
		t.Errorf("retried with delaySeconds 1, it came back after %d ms", gap)
	}
	if d := byN[2][0]; d.Attempts != 1 || d.MsgID == first.MsgID {
		t.Errorf("message 2: %+v", d)
	}
	if d := byN[3][0]; d.Attempts != 1 || d.ReceivedAt-d.SentAt < 1000 {
		t.Errorf("message 3, sent with a 1 s delay, arrived after %d ms: %+v", d.ReceivedAt-d.SentAt, d)
	}
	if !strings.Contains(first.Body, "héllo 🌍") {
		t.Errorf("body %q", first.Body)
	}

	// The isolate still serves, with the same instance, and nothing waits.
	if r := get(t, url+"/health"); r.Status != 200 {
		t.Fatalf("after the queue: %d %s", r.Status, r.Body)
	}
	var after bridgeStats
	for i := 0; i < 20; i++ {
		if after = stats(t, url); after.PendingCalls == 0 && after.JS.LiveRequests == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after.JS.Instances != before.JS.Instances || after.PendingCalls != 0 || after.JS.LiveRequests != 1 || after.JS.InflightOps != 0 {
		t.Errorf("after the queue: %+v (before %+v)", after, before)
	}
}

// testQueueInstanceStops: a queue handler whose Go instance stops (os.Exit)
// has its batch retried (batch.retryAll()), and a new instance gets the
// message again, with Attempts 2.
func testQueueInstanceStops(t *testing.T, url string) {
	before := stats(t, url).JS.Instances
	run := fmt.Sprintf("exit%d", time.Now().UnixNano())
	if r := get(t, url+"/queue/send-exit?run="+run); r.Status != 200 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var seen []delivery
	for deadline := time.Now().Add(15 * time.Second); len(seen) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// A request in flight when the instance stops fails with it.
		if r := get(t, url+"/queue/seen?run="+run); r.Status == 200 {
			seen = nil
			r.json(t, &seen)
		}
	}
	if len(seen) != 2 || seen[0].Attempts != 1 || seen[1].Attempts != 2 || seen[0].MsgID != seen[1].MsgID {
		t.Fatalf("deliveries: %+v\nwant the message twice, attempts 1 then 2", seen)
	}
	if r := get(t, url+"/health"); r.Status != 200 {
		t.Fatalf("after the exit: %d %s", r.Status, r.Body)
	}
	if after := stats(t, url).JS.Instances; after != before+1 {
		t.Errorf("instances %d -> %d, want one new instance", before, after)
	}
}
