package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"time"

	"github.com/communicator/communicator/workers"
)

// queueBody is the body of the messages the queue test sends.
type queueBody struct {
	Run       string `json:"run"`
	N         int    `json:"n"`
	Text      string `json:"text"`
	RetryOnce bool   `json:"retryOnce,omitempty"`
	ExitOnce  bool   `json:"exitOnce,omitempty"`
}

// queueRoutes are the queue test's routes: GET /queue/send?run=R sends three
// messages to the worker's own queue (one with Send, two with SendBatch, the
// second of those delayed 1 s; message 1 asks to be retried once), GET
// /queue/send-one?run=R one message, GET /queue/send-exit?run=R one message that stops the Go instance on its first
// delivery, and GET /queue/seen?run=R lists the deliveries of run R that
// consumeQueue recorded.
func queueRoutes(mux *http.ServeMux, db *sql.DB, writeJSON func(http.ResponseWriter, int, any), fail func(http.ResponseWriter, error)) {
	q := workers.Queue{Binding: "QUEUE"}
	mux.HandleFunc("GET /queue/send", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		run := r.URL.Query().Get("run")
		body := func(n int, retryOnce bool) []byte {
			b, _ := json.Marshal(queueBody{Run: run, N: n, Text: "héllo 🌍", RetryOnce: retryOnce})
			return b
		}
		if err := q.Send(ctx, body(1, true), 0); err != nil {
			fail(w, err)
			return
		}
		if err := q.SendBatch(ctx, []workers.QueueSend{{Body: body(2, false)}, {Body: body(3, false), Delay: time.Second}}); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, map[string]any{"sent": []string{string(body(1, true)), string(body(2, false)), string(body(3, false))}})
	})
	// One message, delivered once: a batch of its own (the soak's).
	mux.HandleFunc("GET /queue/send-one", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(queueBody{Run: r.URL.Query().Get("run"), N: 1, Text: "one"})
		if err := q.Send(r.Context(), b, 0); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, map[string]any{"sent": []string{string(b)}})
	})
	mux.HandleFunc("GET /queue/send-exit", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(queueBody{Run: r.URL.Query().Get("run"), N: 9, ExitOnce: true})
		if err := q.Send(r.Context(), b, 0); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, map[string]any{"sent": []string{string(b)}})
	})
	mux.HandleFunc("GET /queue/seen", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), "SELECT queue, msg_id, n, body, attempts, sent_at, received_at, rpc FROM deliveries WHERE run = ? ORDER BY id", r.URL.Query().Get("run"))
		if err != nil {
			fail(w, err)
			return
		}
		defer rows.Close()
		type delivery struct {
			Queue, MsgID       string
			N                  int
			Body               string
			Attempts           int
			SentAt, ReceivedAt int64 // ms: the message's timestamp, and when the handler got it
			RPC                string
		}
		out := []delivery{}
		for rows.Next() {
			var d delivery
			if err := rows.Scan(&d.Queue, &d.MsgID, &d.N, &d.Body, &d.Attempts, &d.SentAt, &d.ReceivedAt, &d.RPC); err != nil {
				fail(w, err)
				return
			}
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, out)
	})
}

// consumeQueue is the queue handler: it records each delivery in D1, with the
// answer of an RPC call made for the batch (the batch's context does I/O like
// a request's), retries once, after 1 s, each message that asks for it, and
// stops the Go instance (os.Exit) on the first delivery of one that asks for
// that.
func consumeQueue(db *sql.DB, client PeerClient) func(ctx context.Context, queue string, msgs []workers.QueueMessage) []workers.QueueResult {
	return func(ctx context.Context, queue string, msgs []workers.QueueMessage) []workers.QueueResult {
		received := time.Now().UnixMilli()
		rpc, err := client.Echo(ctx, "echoed for a queue batch")
		if err != nil {
			rpc = "error: " + err.Error()
		}
		results := make([]workers.QueueResult, len(msgs))
		for i, m := range msgs {
			var b queueBody
			if err := json.Unmarshal(m.Body, &b); err != nil {
				continue // not the test's: acknowledged
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO deliveries (run, queue, msg_id, n, body, attempts, sent_at, received_at, rpc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				b.Run, queue, m.ID, b.N, string(m.Body), m.Attempts, m.Timestamp.UnixMilli(), received, rpc); err != nil {
				results[i] = workers.QueueResult{Retry: true}
				continue
			}
			if b.ExitOnce && m.Attempts == 1 {
				go func() { time.Sleep(time.Millisecond); os.Exit(3) }()
				time.Sleep(time.Second)
			}
			if b.RetryOnce && m.Attempts == 1 {
				results[i] = workers.QueueResult{Retry: true, Delay: time.Second}
			}
		}
		return results
	}
}
