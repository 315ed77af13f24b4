//go:build !js

package vault

import (
	"context"
	"fmt"
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

// IPv6 sources are counted per /64, so a host cannot make a bucket per
// address; and when there are too many buckets, the least recently written
// go first, their counts written out, not lost.
func TestRefusalBuckets(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":                "203.0.113.9",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::99": "2001:db8:1:2::/64",
		"::ffff:203.0.113.9":         "::ffff:203.0.113.9",
		"":                           "",
	} {
		if got := refusalSource(in); got != want {
			t.Errorf("refusalSource(%q) = %q, want %q", in, got, want)
		}
	}

	f := newFixture(t, Options{})
	for i := 0; i < 300; i++ { // one /64, 300 addresses: one row
		f.svc.RecordUnauthenticated(context.Background(), "unknown", fmt.Sprintf("2001:db8:1:2::%x", i))
	}
	for i := 0; i < refuseBuckets+10; i++ { // more IPv4 sources than buckets, twice each
		ip := fmt.Sprintf("198.51.%d.%d", i/250, i%250)
		f.svc.RecordUnauthenticated(context.Background(), "unknown", ip)
		f.svc.RecordUnauthenticated(context.Background(), "unknown", ip)
	}
	f.clock.Advance(time.Minute) // a later refusal writes out what is left
	f.svc.RecordUnauthenticated(context.Background(), "unknown", "192.0.2.1")
	total, rows := 0, 0
	for _, e := range f.logRows() {
		if e.Action == string(telegramauth.ActionAuthenticate) {
			total += e.Attempts
			rows++
		}
	}
	if want := 300 + 2*(refuseBuckets+10) + 1; total != want || rows != 1+refuseBuckets+10+1 {
		t.Errorf("%d attempts in %d rows, want %d in %d", total, rows, want, 1+refuseBuckets+10+1)
	}
	if f.svc.refused.buckets["x"] != nil || len(f.svc.refused.buckets) > refuseBuckets {
		t.Errorf("%d buckets kept", len(f.svc.refused.buckets))
	}
}
