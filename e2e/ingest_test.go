package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/ingest"
)

// ingestSystem is the system with the local Telegram, two message shards and
// the real local queue, and two communicator users whose accounts are
// fixture users 1001 and 1002, in different shards.
type ingestSystem struct {
	*telegramSystem
	users    map[int64]int64 // communicator user -> fixture user
	sessions map[int64]string
}

func startIngestSystem(t *testing.T) *ingestSystem {
	t.Helper()
	// e2e-reader has a key of the ingestor's but no permission.
	sys := &ingestSystem{telegramSystem: startTelegramSystemWith(t, map[string]string{
		"INGESTOR_ACCESS_POLICY": `{"read":["e2e-operator"],"sync":["e2e-operator"],"operate":["e2e-operator"]}`,
	}, map[string]string{"e2e-reader": "reader-key"}), users: map[int64]int64{1: 1001, 2: 1002}, sessions: map[int64]string{}}
	if ingest.ShardOf(1, 2) == ingest.ShardOf(2, 2) {
		t.Fatal("users 1 and 2 share a shard: pick others")
	}
	for user, fixture := range sys.users {
		str := sys.mint(t, fixture)
		sys.sessions[user] = str
		if _, r := sys.importSession(t, user, str); r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
	}
	return sys
}

type syncState struct {
	State, Phase, SyncID, LastError string
	Started                         *bool
	DialogsTotal, DialogsDone       int
	MessagesStored                  int
	FloodWaitUntil                  *string
}

func (s *ingestSystem) v1(t *testing.T, method, path string) (response, json.RawMessage) {
	t.Helper()
	r := do(t, method, s.ingestor+"/v1/users/"+path, nil, s.operator()...)
	var env struct {
		Success bool
		Data    json.RawMessage
	}
	r.json(t, &env)
	return r, env.Data
}

func (s *ingestSystem) sync(t *testing.T, user int64) syncState {
	t.Helper()
	r, data := s.v1(t, "POST", fmt.Sprintf("%d/sync", user))
	var st syncState
	json.Unmarshal(data, &st)
	if r.Status != 202 {
		t.Fatalf("POST sync: %d %s", r.Status, r.Body)
	}
	return st
}

func (s *ingestSystem) state(t *testing.T, user int64) syncState {
	t.Helper()
	r, data := s.v1(t, "GET", fmt.Sprintf("%d/sync", user))
	var st syncState
	json.Unmarshal(data, &st)
	if r.Status != 200 {
		t.Fatalf("GET sync: %d %s", r.Status, r.Body)
	}
	return st
}

// waitSync waits until the user's sync syncID is over (idle or needs_login)
// and returns its state; seen collects every state it passed through.
func (s *ingestSystem) waitSync(t *testing.T, user int64, syncID string, within time.Duration, seen map[string]bool) syncState {
	t.Helper()
	deadline := time.Now().Add(within)
	from := len(s.Logs().Lines())
	for {
		st := s.state(t, user)
		if seen != nil {
			seen[st.State] = true
		}
		if st.SyncID == syncID && (st.State == ingest.StateIdle || st.State == ingest.StateNeedsLogin) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync %s of user %d not over after %v: %+v\nworker logs since the sync was asked for, polls left out:\n%s",
				syncID, user, within, st, s.logsSince(from, fmt.Sprintf("/v1/users/%d/sync", user), 80))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logsSince returns at most n worker log lines after the first from, without
// those of requests to path (wrangler's "GET path 200 …" and the worker's
// "path":"path").
func (s *ingestSystem) logsSince(from int, path string, n int) string {
	var out []string
	for _, line := range s.Logs().Lines()[from:] {
		if !strings.Contains(line, path+" ") && !strings.Contains(line, path+`"`) {
			out = append(out, line)
		}
	}
	if len(out) > n {
		out = append([]string{fmt.Sprintf("[… %d lines left out]", len(out)-n)}, out[len(out)-n:]...)
	}
	return strings.Join(out, "\n")
}

// stored reads every stored dialog and message of user through the API.
func (s *ingestSystem) stored(t *testing.T, user int64) (dialogs int, msgs []faketelegram.Message) {
	t.Helper()
	cursor := ""
	for {
		q := "?limit=200"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r, data := s.v1(t, "GET", fmt.Sprintf("%d/dialogs%s", user, q))
		var page struct {
			Dialogs []struct {
				Peer           string
				MessagesStored int
			}
			NextCursor *string
		}
		if json.Unmarshal(data, &page); r.Status != 200 {
			t.Fatalf("dialogs: %d %s", r.Status, r.Body)
		}
		for _, d := range page.Dialogs {
			dialogs++
			before := ""
			for {
				r, data := s.v1(t, "GET", fmt.Sprintf("%d/dialogs/%s/messages?limit=200%s", user, d.Peer, before))
				var mp struct {
					Messages []struct {
						ID             int
						Date, Text     string
						EditDate       *string
						Peer           string
						Sender, Action *string
					}
					NextBefore *int
				}
				if json.Unmarshal(data, &mp); r.Status != 200 {
					t.Fatalf("messages: %d %s", r.Status, r.Body)
				}
				for _, m := range mp.Messages {
					fm := faketelegram.Message{Peer: fakePeer(t, m.Peer), ID: m.ID, Date: unixOf(t, m.Date), Text: m.Text}
					if m.EditDate != nil {
						fm.EditDate = unixOf(t, *m.EditDate)
					}
					msgs = append(msgs, fm)
				}
				if mp.NextBefore == nil {
					break
				}
				before = "&before=" + strconv.Itoa(*mp.NextBefore)
			}
		}
		if page.NextCursor == nil {
			return dialogs, msgs
		}
		cursor = *page.NextCursor
	}
}

func fakePeer(t *testing.T, p string) faketelegram.Peer {
	t.Helper()
	kind, ids, _ := strings.Cut(p, ":")
	id, err := strconv.ParseInt(ids, 10, 64)
	if err != nil {
		t.Fatalf("peer %q", p)
	}
	switch kind {
	case "user":
		return faketelegram.Peer{User: id}
	case "chat":
		return faketelegram.Peer{Chat: id}
	}
	return faketelegram.Peer{Channel: id}
}

func unixOf(t *testing.T, iso string) int {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, iso)
	if err != nil {
		t.Fatalf("time %q", iso)
	}
	return int(tm.Unix())
}

// wantLikeTelegram compares what user stored with what the local Telegram
// serves its fixture user now: dialogs, messages and a checksum over their
// peers, ids, dates, edit dates and texts.
func (s *ingestSystem) wantLikeTelegram(t *testing.T, user int64) {
	t.Helper()
	want, err := s.tg.Digest(s.users[user])
	if err != nil {
		t.Fatal(err)
	}
	dialogs, msgs := s.stored(t, user)
	if got := faketelegram.Checksum(msgs); dialogs != want.Dialogs || len(msgs) != want.Messages || got != want.Checksum {
		t.Fatalf("user %d stored %d dialogs and %d messages (%.12s), Telegram serves %d and %d (%.12s)",
			user, dialogs, len(msgs), got, want.Dialogs, want.Messages, want.Checksum)
	}
}

// rowsInShards counts each user's messages in each shard, read with D1
// directly (one wrangler d1 execute a shard).
func (s *ingestSystem) rowsInShards(t *testing.T) map[int64][2]int {
	t.Helper()
	out := map[int64][2]int{}
	for i := range 2 {
		rows, err := s.D1On(context.Background(), "ingestor", "MESSAGES_"+strconv.Itoa(i), "SELECT user_id, count(*) AS n FROM messages GROUP BY user_id")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			user := int64(r["user_id"].(float64))
			c := out[user]
			c[i] = int(r["n"].(float64))
			out[user] = c
		}
	}
	return out
}

// TestIngestion syncs fixture accounts through the real local queue into two
// shards, and checks what is stored against what the local Telegram serves.
func TestIngestion(t *testing.T) {
	sys := startIngestSystem(t)
	history := func() int { return sys.tg.Calls("messages.getHistory") }

	t.Run("FirstSync", func(t *testing.T) {
		a, b := sys.sync(t, 1), sys.sync(t, 2)
		sys.waitSync(t, 1, a.SyncID, time.Minute, nil)
		st := sys.waitSync(t, 2, b.SyncID, time.Minute, nil)
		if st.Phase != ingest.PhaseDone || st.DialogsDone != st.DialogsTotal || st.MessagesStored == 0 {
			t.Errorf("user 2 after its sync: %+v", st)
		}
		sys.wantLikeTelegram(t, 1)
		sys.wantLikeTelegram(t, 2)
		byUser := sys.rowsInShards(t)
		for user := int64(1); user <= 2; user++ {
			rows := byUser[user]
			if mine := ingest.ShardOf(user, 2); rows[mine] == 0 || rows[1-mine] != 0 {
				t.Errorf("user %d's rows by shard: %v, want all in shard %d", user, rows, mine)
			}
		}
	})

	t.Run("NothingNewFewCalls", func(t *testing.T) {
		h, d := history(), sys.tg.Calls("messages.getDialogs")
		st := sys.sync(t, 1)
		sys.waitSync(t, 1, st.SyncID, time.Minute, nil)
		if dh, dd := history()-h, sys.tg.Calls("messages.getDialogs")-d; dh != 0 || dd > 2 {
			t.Errorf("a sync with nothing new made %d getHistory and %d getDialogs calls", dh, dd)
		}
		sys.wantLikeTelegram(t, 1)
	})

	t.Run("NewEditedAndRepostedMessages", func(t *testing.T) {
		maya, ben := faketelegram.Peer{User: 1002}, int64(1001)
		if _, err := sys.tg.PostMessage(ben, maya, faketelegram.Post{From: 1002, Text: "New, after the first sync — مرحبا 👋"}); err != nil {
			t.Fatal(err)
		}
		top, err := sys.tg.PostMessage(ben, maya, faketelegram.Post{From: 1001, Text: "a typo hree"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.tg.EditMessage(ben, maya, top.ID, faketelegram.Edit{Text: "a typo, fixed"}); err != nil {
			t.Fatal(err)
		}
		st := sys.sync(t, 1)
		sys.waitSync(t, 1, st.SyncID, time.Minute, nil)
		sys.wantLikeTelegram(t, 1)
		// Deleted, then posted again: the new post appears (a deletion itself
		// is not seen by history reads, see docs/operations.md).
		if err := sys.tg.DeleteMessages(ben, maya, top.ID); err != nil {
			t.Fatal(err)
		}
		again, err := sys.tg.PostMessage(ben, maya, faketelegram.Post{From: 1001, Text: "a typo, fixed"})
		if err != nil {
			t.Fatal(err)
		}
		st = sys.sync(t, 1)
		sys.waitSync(t, 1, st.SyncID, time.Minute, nil)
		r, data := sys.v1(t, "GET", "1/dialogs/user:1002/messages?limit=3")
		if r.Status != 200 || !bytes.Contains(data, []byte(`"id":`+strconv.Itoa(again.ID)+`,`)) {
			t.Errorf("the re-post %d is not stored: %s", again.ID, data)
		}
	})

	t.Run("FloodWaitMidHistoryResumes", func(t *testing.T) {
		sys.deleteUser(t, 1)
		if err := sys.tg.AddFault(faketelegram.Fault{Kind: faketelegram.FaultFloodWait, Method: "messages.getHistory", Seconds: 2, After: 5, Times: 1}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		st := sys.sync(t, 1)
		start := time.Now()
		sys.waitSync(t, 1, st.SyncID, time.Minute, seen)
		if !seen[ingest.StateFloodWait] || time.Since(start) < 2*time.Second {
			t.Errorf("the flood wait was not waited for (states seen %v, %v)", seen, time.Since(start))
		}
		sys.wantLikeTelegram(t, 1)
	})

	t.Run("DroppedConnectionMidHistoryResumes", func(t *testing.T) {
		sys.deleteUser(t, 1)
		if err := sys.tg.AddFault(faketelegram.Fault{Kind: faketelegram.FaultDrop, Method: "messages.getHistory", After: 9, Times: 1}); err != nil {
			t.Fatal(err)
		}
		st := sys.sync(t, 1)
		sys.waitSync(t, 1, st.SyncID, time.Minute, nil)
		sys.wantLikeTelegram(t, 1)
		if !sys.Logs().WaitFor("the slice is retried", 5*time.Second) {
			t.Error("the dropped connection did not retry the slice")
		}
	})

	t.Run("ConcurrentRequestsRunOneSync", func(t *testing.T) {
		var wg sync.WaitGroup
		states := make([]syncState, 6)
		for i := range states {
			wg.Add(1)
			go func() { defer wg.Done(); states[i] = sys.sync(t, 2) }()
		}
		wg.Wait()
		started, ids := 0, map[string]bool{}
		for _, st := range states {
			if st.Started != nil && *st.Started {
				started++
			}
			ids[st.SyncID] = true
		}
		if started != 1 || len(ids) != 1 {
			t.Errorf("%d of 6 concurrent requests started a sync; sync ids %v", started, ids)
		}
		for id := range ids {
			sys.waitSync(t, 2, id, time.Minute, nil)
		}
		sys.wantLikeTelegram(t, 2)
	})

	t.Run("RevokedSessionNeedsLogin", func(t *testing.T) {
		if err := sys.tg.RevokeSession(sys.sessions[2]); err != nil {
			t.Fatal(err)
		}
		st := sys.sync(t, 2)
		st = sys.waitSync(t, 2, st.SyncID, time.Minute, nil)
		if st.State != ingest.StateNeedsLogin || st.LastError == "" {
			t.Errorf("after Telegram revoked the session: %+v", st)
		}
	})

	t.Run("DeleteRemovesEveryRow", func(t *testing.T) {
		_, before := sys.stored(t, 2)
		sys.deleteUser(t, 1)
		byUser := sys.rowsInShards(t)
		if rows := byUser[1]; rows != [2]int{} {
			t.Errorf("user 1's rows after delete: %v", rows)
		}
		if r, _ := sys.v1(t, "GET", "1/sync"); r.Status != 404 {
			t.Errorf("status after delete: %d %s", r.Status, r.Body)
		}
		if rows := byUser[2]; rows[0]+rows[1] != len(before) {
			t.Errorf("user 2's rows: %v, %d stored before", rows, len(before))
		}
	})

	t.Run("EveryRouteNeedsACaller", func(t *testing.T) { testRoutesNeedACaller(t, sys) })
}

func (s *ingestSystem) deleteUser(t *testing.T, user int64) {
	t.Helper()
	if r, _ := s.v1(t, "DELETE", strconv.FormatInt(user, 10)); r.Status != 200 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
}

// testRoutesNeedACaller: every ingestor route but /health answers 401
// without credentials and 403 without the permission, before anything
// happens: no call reaches auth-telegram (no access-log row), no connection
// reaches Telegram, no account is registered.
func testRoutesNeedACaller(t *testing.T, sys *ingestSystem) {
	logRows := func() int {
		return len(sys.d1(t, "auth-telegram", "SELECT id FROM access_log WHERE action != 'import_session'"))
	}
	rows, conns := logRows(), sys.tg.Connections()
	routes := []struct{ method, path string }{
		{"GET", "/telegram/session-status/7"},
		{"GET", "/telegram/me/7"},
		{"GET", "/telegram/client-stats"},
		{"DELETE", "/telegram/sessions/ses_abcdefghijklmnopqrstuvwxyz"},
		{"POST", "/v1/users/7/sync"},
		{"GET", "/v1/users/7/sync"},
		{"DELETE", "/v1/users/7/sync"},
		{"GET", "/v1/users/7/dialogs"},
		{"GET", "/v1/users/7/dialogs/user:1002/messages"},
		{"DELETE", "/v1/users/7"},
	}
	for _, rt := range routes {
		for _, c := range []struct {
			name    string
			headers []string
			status  int
			code    string
		}{
			{"no credentials", nil, 401, "UNAUTHENTICATED"},
			{"a wrong key", []string{"Authorization", "ApiKey nope", "X-Service-ID", "e2e-operator"}, 401, "UNAUTHENTICATED"},
			{"auth-telegram's key", []string{"Authorization", "ApiKey " + sys.apiKey, "X-Service-ID", "ingestor-service"}, 401, "UNAUTHENTICATED"},
			{"no permission", []string{"Authorization", "ApiKey reader-key", "X-Service-ID", "e2e-reader"}, 403, "FORBIDDEN"},
		} {
			r := do(t, rt.method, sys.ingestor+rt.path, nil, c.headers...)
			var env envelope
			if r.json(t, &env); r.Status != c.status || env.Error == nil || env.Error.Code != c.code {
				t.Errorf("%s %s, %s: %d %s", rt.method, rt.path, c.name, r.Status, r.Body)
			}
		}
	}
	if n := logRows(); n != rows {
		t.Errorf("refused calls reached auth-telegram: %d access-log rows, want %d", n, rows)
	}
	if n := sys.tg.Connections(); n != conns {
		t.Errorf("refused calls opened %d connections to Telegram", n-conns)
	}
	if r, _ := sys.v1(t, "GET", "7/sync"); r.Status != 404 {
		t.Errorf("a refused POST registered the account: %d %s", r.Status, r.Body)
	}
}
