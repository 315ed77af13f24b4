//go:build !js

package ingestorhttp

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/internal/sqlitetest"
)

// source is a Telegram with two dialogs of a few messages.
type source struct{}

var srcDialogs = []ingest.Dialog{
	{Peer: "user:501", Title: "Ada", TopMessageID: 30, TopMessageDate: time.Unix(1800000300, 0), AccessHash: 5},
	{Peer: "channel:77", Title: "News ✓", TopMessageID: 12, TopMessageDate: time.Unix(1800000100, 0), AccessHash: 9, Pinned: true, UnreadCount: 3},
}

func (source) Dialogs(ctx context.Context, cursor string, limit int) ([]ingest.Dialog, int, string, error) {
	return srcDialogs, 2, "", nil
}

func (source) History(ctx context.Context, d ingest.Dialog, offsetID, limit int) ([]ingest.Message, error) {
	var out []ingest.Message
	for id := d.TopMessageID; id >= 1 && len(out) < limit; id-- {
		if offsetID != 0 && id >= offsetID {
			continue
		}
		m := ingest.Message{ID: id, Peer: d.Peer, Date: time.Unix(1800000000+int64(id), 0).UTC(), Text: fmt.Sprintf("%s #%d مرحبا 👋", d.Peer, id)}
		if d.Peer == "user:501" {
			m.Sender = d.Peer
		} else {
			m.Views = 100 + id
		}
		if id == 2 {
			m.Entities = json.RawMessage(`[{"type":"bold","offset":0,"length":4}]`)
			m.Media = json.RawMessage(`{"kind":"photo"}`)
		}
		out = append(out, m)
	}
	return out, nil
}

type jobs struct{ list []ingest.Job }

func (j *jobs) Enqueue(ctx context.Context, js []ingest.Job, delay time.Duration) error {
	j.list = append(j.list, js...)
	return nil
}

func withIngest(t *testing.T, s *testServer) (*ingest.Service, *jobs, *sql.DB) {
	t.Helper()
	db := sqlitetest.Open(t, "../services/ingestor/migrations")
	shards := []*sql.DB{sqlitetest.Open(t, "../services/ingestor/migrations-messages")}
	q := &jobs{}
	svc, err := ingest.New(db, shards, ingest.Config{Shards: 1}, func(ctx context.Context, userID int64, fn func(context.Context, ingest.Source) error) error {
		return fn(ctx, source{})
	}, q, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Ingest = svc
	// ops may read, sync and operate; reader may only read.
	s.Callers.Policy["sync"] = []string{"ops"}
	return svc, q, db
}

func TestIngestionRoutes(t *testing.T) {
	s, _ := newTestServer(t)
	svc, q, db := withIngest(t, s)
	h := s.routes()

	code, env, body := call(t, h, "GET", "/v1/users/42/sync")
	if code != 404 || !strings.Contains(body, "POST /v1/users/42/sync starts it") {
		t.Fatalf("status of an unknown account: %d %s", code, body)
	}
	if code, _, body := call(t, h, "POST", "/v1/users/42/sync", reader...); code != 403 {
		t.Fatalf("a reader starting a sync: %d %s", code, body)
	}
	code, env, body = call(t, h, "POST", "/v1/users/42/sync")
	data := env["data"].(map[string]any)
	if code != 202 || data["state"] != "queued" || data["started"] != true || !strings.HasPrefix(data["syncId"].(string), "syn_") {
		t.Fatalf("start: %d %s", code, body)
	}
	if _, env, _ := call(t, h, "POST", "/v1/users/42/sync"); env["data"].(map[string]any)["started"] != false {
		t.Errorf("a second start while queued started another sync: %v", env)
	}
	for len(q.list) > 0 {
		job := q.list[0]
		q.list = q.list[1:]
		svc.RunSlice(context.Background(), job, 1)
	}
	code, env, body = call(t, h, "GET", "/v1/users/42/sync", reader...)
	data = env["data"].(map[string]any)
	if code != 200 || data["state"] != "idle" || data["phase"] != "done" || data["messagesStored"] != float64(42) ||
		data["dialogsDone"] != float64(2) || data["lastSuccessAt"] == nil {
		t.Fatalf("status after the sync: %d %s", code, body)
	}

	code, env, body = call(t, h, "GET", "/v1/users/42/dialogs?limit=1", reader...)
	data = env["data"].(map[string]any)
	dialogs := data["dialogs"].([]any)
	if code != 200 || len(dialogs) != 1 || dialogs[0].(map[string]any)["peer"] != "user:501" || data["nextCursor"] == nil {
		t.Fatalf("dialogs: %d %s", code, body)
	}
	code, env, body = call(t, h, "GET", "/v1/users/42/dialogs?limit=1&cursor="+data["nextCursor"].(string), reader...)
	data = env["data"].(map[string]any)
	if d := data["dialogs"].([]any); code != 200 || len(d) != 1 || d[0].(map[string]any)["title"] != "News ✓" ||
		d[0].(map[string]any)["pinned"] != true || d[0].(map[string]any)["unreadCount"] != float64(3) || data["nextCursor"] != nil {
		t.Fatalf("the second page of dialogs: %d %s", code, body)
	}

	code, env, body = call(t, h, "GET", "/v1/users/42/dialogs/channel:77/messages?limit=10&before=4", reader...)
	msgs := env["data"].(map[string]any)["messages"].([]any)
	if code != 200 || len(msgs) != 3 || env["data"].(map[string]any)["nextBefore"] != nil {
		t.Fatalf("messages: %d %s", code, body)
	}
	m := msgs[1].(map[string]any)
	if m["id"] != float64(2) || m["text"] != "channel:77 #2 مرحبا 👋" || m["sender"] != nil || m["views"] != float64(102) ||
		m["media"].(map[string]any)["kind"] != "photo" || m["entities"].([]any)[0].(map[string]any)["type"] != "bold" ||
		m["date"] != "2027-01-15T08:00:02.000Z" || m["editDate"] != nil {
		t.Errorf("a message: %v", m)
	}

	// Pause, then delete everything.
	if code, env, _ := call(t, h, "DELETE", "/v1/users/42/sync"); code != 200 || env["data"].(map[string]any)["state"] != "paused" {
		t.Errorf("pause: %d %v", code, env)
	}
	if code, _, body := call(t, h, "DELETE", "/v1/users/42"); code != 200 || !strings.Contains(body, `"deleted":true`) {
		t.Fatalf("delete: %d %s", code, body)
	}
	var n int
	db.QueryRow("SELECT count(*) FROM accounts").Scan(&n)
	if code, _, _ := call(t, h, "GET", "/v1/users/42/dialogs", reader...); code != 404 || n != 0 {
		t.Errorf("after delete: %d, %d accounts", code, n)
	}
}

// Every bad parameter is INVALID_ARGUMENT naming it, and nothing is written.
func TestIngestionBadInput(t *testing.T) {
	s, _ := newTestServer(t)
	_, q, db := withIngest(t, s)
	h := s.routes()
	call(t, h, "POST", "/v1/users/42/sync")
	q.list = nil
	before := snapshot(t, db)
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/v1/users/0/sync", "userId"},
		{"POST", "/v1/users/abc/sync", "userId"},
		{"POST", "/v1/users/9007199254740992/sync", "userId"},
		{"POST", "/v1/users/43/sync?force=1", `unknown parameter "force"`},
		{"GET", "/v1/users/42/sync?x=1", `unknown parameter "x"`},
		{"GET", "/v1/users/-1/sync", "userId"},
		{"DELETE", "/v1/users/01/sync", "leading zeros"},
		{"GET", "/v1/users/42/dialogs?limit=0", "limit must be"},
		{"GET", "/v1/users/42/dialogs?limit=201", "limit must be"},
		{"GET", "/v1/users/42/dialogs?limit=ten", "limit must be"},
		{"GET", "/v1/users/42/dialogs?limit=1&limit=2", "limit is given more than once"},
		{"GET", "/v1/users/42/dialogs?cursor=bogus", "cursor is not one this API gave out"},
		{"GET", "/v1/users/42/dialogs?offset=3", `unknown parameter "offset"`},
		{"GET", "/v1/users/42/dialogs/user:0/messages", "peer must be"},
		{"GET", "/v1/users/42/dialogs/group:5/messages", "peer must be"},
		{"GET", "/v1/users/42/dialogs/user:5x/messages", "peer must be"},
		{"GET", "/v1/users/42/dialogs/user:501/messages?before=0", "before must be"},
		{"GET", "/v1/users/42/dialogs/user:501/messages?before=2147483648", "before must be"},
		{"GET", "/v1/users/42/dialogs/user:501/messages?cursor=x", `unknown parameter "cursor"`},
		{"GET", "/v1/users/42/dialogs/user:501/messages?limit=-5", "limit must be"},
		{"DELETE", "/v1/users/42?now=1", `unknown parameter "now"`},
		{"GET", "/v1/users/42/dialogs%2Fuser:501/messages", "encoded slash"},
	} {
		code, env, body := call(t, h, c.method, c.path)
		e, _ := env["error"].(map[string]any)
		if code != 400 || e["code"] != "INVALID_ARGUMENT" || !strings.Contains(e["message"].(string), c.want) {
			t.Errorf("%s %s: %d %s, want 400 naming %q", c.method, c.path, code, body, c.want)
		}
	}
	if after := snapshot(t, db); after != before || len(q.list) != 0 {
		t.Errorf("bad input changed the accounts or queued a job:\n%s\n%s", before, after)
	}
	// An unknown dialog of a known account, and an unknown account.
	if code, _, body := call(t, h, "GET", "/v1/users/42/dialogs/user:9/messages"); code != 404 || !strings.Contains(body, "no stored dialog user:9") {
		t.Errorf("an unknown dialog: %d %s", code, body)
	}
	if code, _, _ := call(t, h, "DELETE", "/v1/users/4242"); code != 404 {
		t.Errorf("deleting an unknown account: %d", code)
	}
	// Without ingestion configured: 503 naming it, after the caller is checked.
	s.Ingest, s.IngestErr = nil, &ingest.ConfigError{Problems: []string{"INGEST_SHARDS must be a whole number from 1 to 100"}}
	h = s.routes()
	if code, _, body := call(t, h, "GET", "/v1/users/42/sync"); code != 503 || !strings.Contains(body, "INGEST_SHARDS") {
		t.Errorf("not configured: %d %s", code, body)
	}
	if code, _, _ := call(t, h, "GET", "/v1/users/42/sync", "X-Anonymous", "1"); code != 401 {
		t.Errorf("not configured, no credentials: %d", code)
	}
	if code, _, body := call(t, h, "GET", "/health", "X-Anonymous", "1"); code != 503 || !strings.Contains(body, `"ingest_config":{"status":"fail","detail":"INGEST_SHARDS unusable`) {
		t.Errorf("health: %d %s", code, body)
	}
}

func snapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	var s string
	if err := db.QueryRow("SELECT coalesce(group_concat(user_id || ':' || state || ':' || sync_id, ','), '') FROM accounts").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
