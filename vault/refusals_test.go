//go:build !js

package vault

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// A flood of bad credentials costs one access-log row per source and minute
// and a few writes, while hand-outs go on and are logged one row each.
func TestRefusalsAreCounted(t *testing.T) {
	f := newFixture(t, Options{})
	_, str := testSession(31)
	f.importSession(ingestor, 31, str)
	writes := 0
	f.db.Exec("CREATE TABLE writes (n)")
	f.db.Exec("CREATE TRIGGER count_writes AFTER INSERT ON access_log WHEN NEW.action = 'authenticate' BEGIN INSERT INTO writes VALUES (1); END")
	f.db.Exec("CREATE TRIGGER count_updates AFTER UPDATE OF attempts ON access_log BEGIN INSERT INTO writes VALUES (1); END")

	sources := []struct{ claimed, ip string }{{"ingestor-service", "203.0.113.9"}, {"invalid", "198.51.100.7"}}
	const perSource = 500 // over about 3 minutes, both sources at once
	minutes := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i <= perSource; i++ {
		f.clock.Advance(350 * time.Millisecond)
		if i == perSource { // a refusal in a later minute writes out what earlier ones counted
			f.clock.Advance(2 * time.Minute)
		}
		minutes[f.clock.Now().Format("15:04")] = true
		for _, s := range sources {
			wg.Add(1)
			go func() { defer wg.Done(); f.svc.RecordUnauthenticated(context.Background(), s.claimed, s.ip) }()
		}
		wg.Wait()
		if i%100 == 50 { // a hand-out in the middle of the flood
			if _, err := f.svc.GetSessionByUserID(ingestor, 31); err != nil {
				t.Fatalf("hand-out during the flood: %v", err)
			}
		}
	}

	rows := f.logRows()
	perMinute := map[string]int{}
	attempts := map[string]int{}
	handOuts := 0
	for _, e := range rows {
		switch e.Action {
		case string(telegramauth.ActionAuthenticate):
			if e.Success || e.ErrorCode != telegramauth.CodeUnauthenticated || e.Channel != ChannelHTTP || e.At.Second() != 0 {
				t.Errorf("a counted row: %+v", e)
			}
			perMinute[e.Caller+" "+e.ClientIP+" "+e.At.Format("15:04")]++
			attempts[e.Caller+" "+e.ClientIP] += e.Attempts
		case string(telegramauth.ActionGetSession):
			handOuts++
			if e.Attempts != 1 {
				t.Errorf("a hand-out row stands for %d attempts", e.Attempts)
			}
		}
	}
	for k, n := range perMinute {
		if n != 1 {
			t.Errorf("%s: %d rows in one minute", k, n)
		}
	}
	if len(perMinute) != 2*len(minutes) {
		t.Errorf("buckets %v, want 2 x %d minutes", perMinute, len(minutes))
	}
	for _, s := range sources {
		if got := attempts[s.claimed+" "+s.ip]; got != perSource+1 {
			t.Errorf("%s: %d attempts counted, want %d", s.ip, got, perSource+1)
		}
	}
	if handOuts != 5 {
		t.Errorf("%d hand-outs logged, want 5", handOuts)
	}
	f.db.QueryRow("SELECT count(*) FROM writes").Scan(&writes)
	// Per source and minute: the first refusal, one every 30 s, the rollover.
	if writes > 2*len(minutes)*4 {
		t.Errorf("%d writes for %d refusals", writes, 2*(perSource+1))
	}
	t.Logf("%d refusals: %d rows, %d writes", 2*(perSource+1), len(perMinute), writes)
}

// Authorize refuses before the arguments are validated, and the refusal's
// row names the user or session the call was about when the call named a
// well-formed one; an allowed caller costs no row.
func TestAuthorizeRecordsTheTarget(t *testing.T) {
	f := newFixture(t, Options{})
	stranger := WithCaller(context.Background(), Caller{ServiceID: "stranger-service", Channel: ChannelServiceBinding})
	sessionID := "ses_" + strings.Repeat("a", 26)
	for _, c := range []struct {
		action telegramauth.Action
		target Target
		want   AccessLogEntry
	}{
		{telegramauth.ActionGetSession, Target{UserID: 42}, AccessLogEntry{UserID: 42}},
		{telegramauth.ActionRevokeSession, Target{SessionID: sessionID}, AccessLogEntry{SessionID: sessionID}},
		{telegramauth.ActionListSessions, Target{UserID: -1, SessionID: "ses_x"}, AccessLogEntry{}},
		{telegramauth.ActionImportSession, Target{UserID: telegramauth.MaxUserID + 1}, AccessLogEntry{}},
		{telegramauth.ActionReadAccessLog, Target{}, AccessLogEntry{}},
	} {
		n := f.logCount()
		f.wantErr(f.svc.Authorize(stranger, c.action, c.target), telegramauth.CodeForbidden)
		want := c.want
		want.Caller, want.Action, want.ErrorCode, want.Channel = "stranger-service", string(c.action), telegramauth.CodeForbidden, ChannelServiceBinding
		checkLog(t, f.lastLog(n), want)
	}
	n := f.logCount()
	if err := f.svc.Authorize(ingestor, telegramauth.ActionGetSession, Target{UserID: 42}); err != nil {
		t.Fatalf("an allowed caller: %v", err)
	}
	if f.logCount() != n {
		t.Error("an allowed caller's Authorize wrote a row")
	}
}
