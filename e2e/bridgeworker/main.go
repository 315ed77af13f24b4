// Command bridgeworker is a worker that exercises the bridge for the
// end-to-end tests and the benchmarks; it is never deployed. One build runs as
// two workers, bridge-caller and bridge-callee (caller/ and callee/), in one
// workerd: the caller's routes call the callee over the PEER binding, and the
// caller is both producer and consumer of a local queue (queue.go), and has
// a scheduled handler.
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/d1"
	"github.com/communicator/communicator/workers/jsoncodec"
)

type peer struct{ db *sql.DB }

func (p peer) Echo(ctx context.Context, value string) (string, error) { return value, nil }

func (p peer) Slow(ctx context.Context, ms int64) (int64, error) {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	var n int64
	if err := p.db.QueryRowContext(ctx, "SELECT count(*) FROM hits").Scan(&n); err != nil {
		return 0, &peerError{code: "UNAVAILABLE", msg: err.Error()}
	}
	return ms, nil
}

func (p peer) Sleep(ctx context.Context, ms int64) (int64, error) {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms, nil
}

func (p peer) Caller(ctx context.Context) (string, error) {
	var props struct{ ServiceID string }
	if b := workers.Props(ctx); len(b) > 0 && string(b) != "null" {
		var m map[string]string
		json.Unmarshal(b, &m)
		props.ServiceID = m["serviceId"]
	}
	return props.ServiceID, nil
}

func (p peer) Boom(ctx context.Context) (string, error) { panic("boom on purpose") }

func (p peer) Fail(ctx context.Context, code string) (string, error) {
	return "", &peerError{code: code, msg: "failed on purpose"}
}

var fixedExpiry = time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)

func (p peer) Session(ctx context.Context, userID int64) (Session, error) {
	return Session{SessionString: benchSessionString, SessionID: "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa", UserID: userID, ExpiresAt: fixedExpiry}, nil
}

func (p peer) SessionAsync(ctx context.Context, userID int64) (Session, error) {
	return p.Session(ctx, userID)
}

// A GramJS-shaped string of realistic length (369 characters).
var benchSessionString = "1" + strings.Repeat("AgAOMTQ5LjE1NC4xNjcuNTABu5jSn7Iq", 11) + "kF1txy5EAZA4GiGuN7tKJostHZQ="

// echoOverSocket sends msg to a TCP echo server through connect() and
// checks that it comes back, in pieces if the runtime delivers it so.
func echoOverSocket(ctx context.Context, addr, msg string) error {
	c, err := workers.Dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("echo over socket: %w", err)
	}
	if string(got) != msg {
		return fmt.Errorf("echo over socket: got %q, want %q", got, msg)
	}
	return nil
}

func main() {
	db := d1.Open("DB")
	client := PeerClient{Binding: workers.GetBinding("PEER")}
	jsPeer := workers.GetBinding("JSPEER")
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, err error) { writeJSON(w, 500, map[string]string{"error": err.Error()}) }
	intParam := func(r *http.Request, name string, def int) int {
		if n, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil {
			return n
		}
		return def
	}

	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })

	// Each request: a D1 write, an RPC call, a Go sleep, a D1 read, and an RPC
	// call whose callee sleeps and queries D1 itself.
	mux.HandleFunc("GET /stress", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := r.URL.Query().Get("id")
		if _, err := db.ExecContext(ctx, "INSERT INTO hits (at, who) VALUES (?, ?)", time.Now().UnixMilli(), id); err != nil {
			fail(w, err)
			return
		}
		echo, err := client.Echo(ctx, id)
		if err != nil || echo != id {
			fail(w, fmt.Errorf("echo %q: %v", echo, err))
			return
		}
		time.Sleep(time.Duration(intParam(r, "ms", 20)) * time.Millisecond)
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM hits WHERE who = ?", id).Scan(&n); err != nil || n != 1 {
			fail(w, fmt.Errorf("count %d: %v", n, err))
			return
		}
		if _, err := client.Slow(ctx, 10); err != nil {
			fail(w, err)
			return
		}
		if addr := r.URL.Query().Get("echo"); addr != "" {
			if err := echoOverSocket(ctx, addr, id); err != nil {
				fail(w, err)
				return
			}
		}
		writeJSON(w, 200, map[string]string{"id": id})
	})

	// A socket left open by its handler: the runtime closes it when the
	// request ends.
	mux.HandleFunc("GET /socket/leave-open", func(w http.ResponseWriter, r *http.Request) {
		c, err := workers.Dial(r.Context(), "tcp", r.URL.Query().Get("addr"))
		if err != nil {
			fail(w, err)
			return
		}
		if _, err := c.Write([]byte("left open\n")); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, map[string]string{"remote": c.RemoteAddr().String()})
	})

	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("fetch panic on purpose") })
	mux.HandleFunc("GET /exit", func(w http.ResponseWriter, r *http.Request) {
		go func() { time.Sleep(time.Millisecond); os.Exit(3) }()
		time.Sleep(time.Second)
	})
	mux.HandleFunc("GET /goroutine-panic", func(w http.ResponseWriter, r *http.Request) {
		go func() { panic("unrecovered panic in a goroutine") }()
		time.Sleep(time.Second)
	})

	mux.HandleFunc("GET /rpc/{what}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var v any
		var err error
		switch r.PathValue("what") {
		case "caller":
			v, err = client.Caller(ctx)
		case "boom":
			v, err = client.Boom(ctx)
		case "fail":
			v, err = client.Fail(ctx, r.URL.Query().Get("code"))
		case "echo":
			v, err = client.Echo(ctx, r.URL.Query().Get("v"))
		case "nobinding": // refused by the runtime before any call is made
			_, err = workers.GetBinding("NO_SUCH_BINDING").Call(ctx, "echo", []byte(`["x"]`))
		case "slow": // the callee sleeps ms; the caller gives up after timeout ms
			c, cancel := context.WithTimeout(ctx, time.Duration(intParam(r, "timeout", 10_000))*time.Millisecond)
			v, err = client.Slow(c, int64(intParam(r, "ms", 0)))
			cancel()
		// What another worker could send a Go worker's callJSON, which the
		// generated client never does: arguments that are not JSON, or not an
		// array, and a method the worker does not have.
		case "badjson", "notarray", "nomethod":
			call := map[string]struct{ method, args string }{
				"badjson":  {"echo", `["unterminated`},
				"notarray": {"echo", `{"value":"x"}`},
				"nomethod": {"nope", "[]"},
			}[r.PathValue("what")]
			_, err = workers.GetBinding("PEER").Call(ctx, call.method, []byte(call.args))
			err = rpcClientError(err)
		}
		out := map[string]any{"value": v}
		if err != nil {
			out["error"] = err.Error()
			if pe, ok := err.(*peerError); ok {
				out["code"] = pe.code
			}
		}
		writeJSON(w, 200, out)
	})

	// Values of every type through real D1 and back.
	mux.HandleFunc("GET /d1/types", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		type row struct {
			I int64
			F float64
			T string
			B []byte
		}
		want := []row{
			{1<<31 + 1, 1.5, "héllo, мир, 🌍", []byte{0, 1, 2, 255, 0}},
			{1<<53 - 1, -0.25, "", []byte{}},
			{-(1<<53 - 1), math.MaxFloat64, strings.Repeat("x", 10000), []byte(strings.Repeat("\x00\xff", 5000))},
		}
		report := map[string]any{}
		var problems []string
		base := time.Now().UnixNano() % 1_000_000_000
		for i, v := range want {
			if _, err := db.ExecContext(ctx, "INSERT INTO kinds (id, i, f, t, b, n) VALUES (?, ?, ?, ?, ?, ?)", base+int64(i), v.I, v.F, v.T, v.B, nil); err != nil {
				fail(w, err)
				return
			}
			var got row
			var n sql.NullInt64
			if err := db.QueryRowContext(ctx, "SELECT i, f, t, b, n FROM kinds WHERE id = ?", base+int64(i)).Scan(&got.I, &got.F, &got.T, &got.B, &n); err != nil {
				fail(w, err)
				return
			}
			if got.I != v.I || got.F != v.F || got.T != v.T || string(got.B) != string(v.B) || n.Valid {
				problems = append(problems, fmt.Sprintf("row %d: got %d %v %d-byte text %d-byte blob null=%v", i, got.I, got.F, len(got.T), len(got.B), !n.Valid))
			}
		}
		_, err := db.ExecContext(ctx, "INSERT INTO kinds (id, i) VALUES (?, ?)", base+10, int64(1<<53))
		report["beyond2^53"] = fmt.Sprint(err)
		report["problems"] = problems
		writeJSON(w, 200, report)
	})

	// A batch is atomic: a failing statement leaves nothing behind.
	mux.HandleFunc("GET /d1/batch", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		tag := strconv.FormatInt(time.Now().UnixNano(), 36)
		count := func(who string) int64 {
			var n int64
			db.QueryRowContext(ctx, "SELECT count(*) FROM hits WHERE who = ?", who).Scan(&n)
			return n
		}
		tx, _ := db.BeginTx(ctx, nil)
		tx.ExecContext(ctx, "INSERT INTO hits (at, who) VALUES (1, ?)", "bad"+tag)
		tx.ExecContext(ctx, "INSERT INTO hits (at, who) VALUES (2, ?)", "bad"+tag)
		tx.ExecContext(ctx, "INSERT INTO no_such_table VALUES (1)")
		failed := tx.Commit()
		tx, _ = db.BeginTx(ctx, nil)
		tx.ExecContext(ctx, "INSERT INTO hits (at, who) VALUES (1, ?)", "good"+tag)
		tx.ExecContext(ctx, "INSERT INTO hits (at, who) VALUES (2, ?)", "good"+tag)
		ok := tx.Commit()
		writeJSON(w, 200, map[string]any{"failedCommit": fmt.Sprint(failed), "failedRows": count("bad" + tag), "okCommit": fmt.Sprint(ok), "okRows": count("good" + tag)})
	})

	stats := func(ctx context.Context) map[string]any {
		runtime.GC()
		runtime.GC()
		s, err := workers.ReadStats(ctx)
		out := map[string]any{"goroutines": s.Goroutines, "heapAlloc": s.HeapAlloc, "pendingCalls": s.PendingCalls, "js": json.RawMessage(s.JS),
			"memory": s.Memory()}
		if err != nil {
			out["error"] = err.Error()
		}
		return out
	}
	// The cost of D1 itself: n single queries, or n four-statement batches
	// shaped like auth-telegram's hand-out.
	mux.HandleFunc("GET /bench/d1/{kind}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		n := intParam(r, "n", 100)
		start := time.Now()
		for i := 0; i < n; i++ {
			var err error
			switch r.PathValue("kind") {
			case "query": // a primary-key lookup, which finds no row
				var c int64
				err = db.QueryRowContext(ctx, "SELECT count(*) FROM hits WHERE id = ?", -1).Scan(&c)
			case "batch":
				_, err = d1.Batch(ctx, db, []d1.Statement{
					{Query: "SELECT id, at, who FROM hits WHERE id = (SELECT max(id) FROM hits)"},
					{Query: "UPDATE hits SET at = ? WHERE id = (SELECT max(id) FROM hits)", Args: []any{int64(i)}},
					{Query: "INSERT INTO hits (at, who) SELECT ?, 'bench' WHERE 1", Args: []any{int64(i)}},
					{Query: "SELECT last_insert_rowid() AS id"},
				})
			}
			if err != nil {
				fail(w, err)
				return
			}
		}
		writeJSON(w, 200, map[string]any{"calls": n, "ms": time.Since(start).Milliseconds()})
	})

	// CPU-bound Go work, to compare the speed of wasm in workerd with Node.
	mux.HandleFunc("GET /cpu", func(w http.ResponseWriter, r *http.Request) {
		n := intParam(r, "n", 20)
		buf := make([]byte, 1<<20)
		start := time.Now()
		var sum [32]byte
		for i := 0; i < n; i++ {
			sum = sha256.Sum256(buf)
			buf[0] = sum[0]
		}
		writeJSON(w, 200, map[string]any{"n": n, "ms": float64(time.Since(start).Microseconds()) / 1000})
	})

	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, stats(r.Context())) })

	// The callee's counters, through the PEER binding's fetch.
	mux.HandleFunc("GET /peer/stats", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", "http://callee/stats", nil)
		resp, err := client.Binding.Transport().RoundTrip(req)
		if err != nil {
			fail(w, err)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})

	// n bridged RPC calls, with the counters before and after.
	mux.HandleFunc("GET /leak", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		n := intParam(r, "n", 1000)
		before := stats(ctx)
		for i := 0; i < n; i++ {
			if _, err := client.Session(ctx, 7); err != nil {
				fail(w, err)
				return
			}
		}
		writeJSON(w, 200, map[string]any{"calls": n, "before": before, "after": stats(ctx)})
	})

	// Sequential bridged RPC calls for ms milliseconds: no I/O for that long.
	mux.HandleFunc("GET /chain", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		d := time.Duration(intParam(r, "ms", 1000)) * time.Millisecond
		n := 0
		for start := time.Now(); time.Since(start) < d; n++ {
			if _, err := client.Session(ctx, 7); err != nil {
				fail(w, err)
				return
			}
		}
		writeJSON(w, 200, map[string]any{"calls": n})
	})

	// Benchmarks: n getSessionByUserId calls to auth-telegram through each
	// transport the ingestor can use.
	mux.HandleFunc("GET /bench/auth/{transport}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		n := intParam(r, "n", 100)
		user := int64(intParam(r, "user", 1))
		var svc telegramauth.Service
		var err error
		switch r.PathValue("transport") {
		case "rpc":
			svc = authrpc.ServiceClient{Binding: workers.GetBinding("TELEGRAM_AUTH")}
		case "fetch": // the HTTP API, but through the binding's fetch
			svc, err = authhttp.NewClient(authhttp.ClientConfig{Endpoint: "https://auth-telegram/api/telegram-auth",
				APIKey: workers.Getenv("AUTH_API_KEY"), ServiceID: "ingestor-service", Transport: workers.GetBinding("TELEGRAM_AUTH").Transport()})
		case "http": // the old way: over the network
			svc, err = authhttp.NewClient(authhttp.ClientConfig{Endpoint: workers.Getenv("AUTH_ENDPOINT"),
				APIKey: workers.Getenv("AUTH_API_KEY"), ServiceID: "ingestor-service", Transport: workers.Network})
		default:
			err = fmt.Errorf("unknown transport")
		}
		if err != nil {
			fail(w, err)
			return
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := svc.GetSessionByUserID(ctx, user); err != nil {
				fail(w, err)
				return
			}
		}
		writeJSON(w, 200, map[string]any{"calls": n, "ms": time.Since(start).Milliseconds()})
	})

	// The session-shaped method over HTTP (the callee's side): the same
	// answer as the RPC method, encoded by the same generated codec.
	mux.HandleFunc("GET /bench/session", func(w http.ResponseWriter, r *http.Request) {
		s, err := peer{}.Session(r.Context(), int64(intParam(r, "user", 0)))
		if err != nil {
			fail(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(appendSessionJSON(nil, &s))
	})

	// n sequential calls of the session-shaped method: over RPC to the Go
	// callee (go) or the plain JavaScript one (js); over HTTP to the Go callee,
	// through the binding's fetch (fetch) or the loopback network at
	// PEER_ENDPOINT (http); or the callee sleeps ms (io).
	peerHTTP := func(ctx context.Context, rt http.RoundTripper, base string) (Session, error) {
		var s Session
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/bench/session?user=7", nil)
		if err != nil {
			return s, err
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return s, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET /bench/session: %d %s", resp.StatusCode, b)
		}
		if err == nil {
			err = decodeSessionJSON(jsoncodec.NewDecoder(b), &s)
		}
		return s, err
	}
	mux.HandleFunc("GET /bench/{target}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		n := intParam(r, "n", 1000)
		start := time.Now()
		for i := 0; i < n; i++ {
			var err error
			switch r.PathValue("target") {
			case "go":
				_, err = client.Session(ctx, 7)
			case "goasync": // the same method, answered on the asynchronous path
				_, err = client.SessionAsync(ctx, 7)
			case "js":
				js := PeerClientOf[workers.Binding]{Binding: jsPeer}
				_, err = js.Session(ctx, 7)
			case "fetch":
				_, err = peerHTTP(ctx, workers.GetBinding("PEER").Transport(), "https://bridge-callee")
			case "http":
				_, err = peerHTTP(ctx, workers.Network, workers.Getenv("PEER_ENDPOINT"))
			case "io":
				_, err = client.Sleep(ctx, int64(intParam(r, "ms", 50)))
			default:
				err = fmt.Errorf("unknown target %q", r.PathValue("target"))
			}
			if err != nil {
				fail(w, err)
				return
			}
		}
		writeJSON(w, 200, map[string]any{"calls": n, "ms": time.Since(start).Milliseconds()})
	})

	// How many hits rows name who: what the scheduled handler left, for one.
	mux.HandleFunc("GET /hits", func(w http.ResponseWriter, r *http.Request) {
		var n int64
		if err := db.QueryRowContext(r.Context(), "SELECT count(*) FROM hits WHERE who = ?", r.URL.Query().Get("who")).Scan(&n); err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, 200, map[string]any{"count": n})
	})

	queueRoutes(mux, db, writeJSON, fail)
	gateRoutes(mux, writeJSON)

	workers.Serve(workers.Handlers{Fetch: mux, RPC: NewPeerHandler(peer{db: db}), Queue: consumeQueue(db, client), Scheduled: scheduled(db, client)})
}

// scheduled is the scheduled handler: an RPC call and a D1 write, like a
// request's I/O; the row (who = "cron <cron>") says it ran (GET /hits).
func scheduled(db *sql.DB, client PeerClient) func(ctx context.Context, cron string, at time.Time) error {
	return func(ctx context.Context, cron string, at time.Time) error {
		if _, err := client.Echo(ctx, cron); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, "INSERT INTO hits (at, who) VALUES (?, ?)", at.UnixMilli(), "cron "+cron)
		return err
	}
}
