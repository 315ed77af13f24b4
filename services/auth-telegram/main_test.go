//go:build !js

package main

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/communicator/communicator/internal/sqlitetest"
	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
)

// Secrets as `openssl rand -base64 32` prints them.
const (
	secretA = "QX+OLaMfWS4WOcMxcHk7DfCa/FMB89myI2FYkb8i4F4="
	secretB = "R1X2yM5Fr2cpYq2hYeueSUsHsUFzwDQtlwnzkQAGM28="
	secretC = "nvlTGL3VFkE8Gh7GBg/VFp5T1d9m7AaSAo7UbVFRCNc="
)

var ingestor = vault.WithCaller(context.Background(), vault.Caller{ServiceID: telegramauth.IngestorService, Channel: vault.ChannelServiceBinding})

// vaultWith configures auth-telegram from vars, over db.
func vaultWith(t *testing.T, db *sql.DB, vars map[string]string) (*vault.Service, *config) {
	t.Helper()
	cfg := parseConfig(env(vars))
	if !cfg.ok() {
		t.Fatal(cfg.Problems)
	}
	v, err := vault.New(db, cfg.Sealer, vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v, cfg
}

func importSessions(t *testing.T, v *vault.Service, users ...int64) {
	t.Helper()
	for _, u := range users {
		s := sessionstring.Session{DC: 2, Addr: "149.154.167.51", Port: 443}
		rand.Read(s.AuthKey[:])
		if _, err := v.ImportSession(ingestor, u, sessionstring.Encode(s)); err != nil {
			t.Fatal(err)
		}
	}
}

// The sealing check fails while any session is under a key no configured
// secret opens, says how many and what to do, and names no secret or key.
func TestSealingCheck(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t, "migrations")
	a, cfgA := vaultWith(t, db, map[string]string{"SESSION_SECRET": secretA})
	importSessions(t, a, 1, 2)

	v, cfg := vaultWith(t, db, map[string]string{"SESSION_SECRET": secretA})
	if c := sealingCheck(ctx, v, cfg); c.Status != "ok" || c.Detail != "every session is sealed under the current key" {
		t.Errorf("all current: %+v", c)
	}

	v, cfg = vaultWith(t, db, map[string]string{"SESSION_SECRET": secretB, "SESSION_SECRET_PREVIOUS": secretA})
	if c := sealingCheck(ctx, v, cfg); c.Status != "ok" || !strings.HasPrefix(c.Detail, "2 sessions are not sealed under the current key yet") {
		t.Errorf("during a rotation: %+v", c)
	}

	// A rotation from B to C while rows are still under A: they open under
	// neither, and hand-outs of them fail.
	v, cfg = vaultWith(t, db, map[string]string{"SESSION_SECRET": secretC, "SESSION_SECRET_PREVIOUS": secretB})
	c := sealingCheck(ctx, v, cfg)
	if c.Status == "ok" || !strings.HasPrefix(c.Detail, "2 active sessions are sealed under a key that neither SESSION_SECRET nor SESSION_SECRET_PREVIOUS opens") ||
		!strings.Contains(c.Detail, "revoke") {
		t.Errorf("unreadable rows: %+v", c)
	}
	// Some waiting, some unreadable: both are said.
	b, cfgB := vaultWith(t, db, map[string]string{"SESSION_SECRET": secretB})
	importSessions(t, b, 3)
	c = sealingCheck(ctx, v, cfg)
	if c.Status == "ok" || !strings.HasPrefix(c.Detail, "2 active sessions are sealed under a key") || !strings.Contains(c.Detail, "1 session is not sealed under the current key yet") {
		t.Errorf("unreadable and waiting: %+v", c)
	}
	for _, s := range []string{secretA, secretB, secretC, cfgA.Sealer.KeyID(), cfgB.Sealer.KeyID(), cfg.Sealer.KeyID()} {
		if strings.Contains(c.Detail, s) {
			t.Errorf("the detail names a secret or a key id: %s", c.Detail)
		}
	}

	// Without a previous secret, the rows under A and B are unreadable.
	v, cfg = vaultWith(t, db, map[string]string{"SESSION_SECRET": secretC})
	if c := sealingCheck(ctx, v, cfg); c.Status == "ok" || !strings.HasPrefix(c.Detail, "3 active sessions are sealed under a key") {
		t.Errorf("no previous secret: %+v", c)
	}
	// Revoked, they are never handed out: health passes and says so.
	for u := int64(1); u <= 3; u++ {
		list, err := v.ListSessions(ingestor, u)
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		if _, err := v.RevokeSession(ingestor, list[0].SessionID); err != nil {
			t.Fatal(err)
		}
	}
	if c := sealingCheck(ctx, v, cfg); c.Status != "ok" || c.Detail != "3 revoked or expired sessions are under a key no configured secret opens (never handed out)" {
		t.Errorf("revoked: %+v", c)
	}
}

// Rows under the legacy key id of the current secret (sealed before key ids
// had an HKDF output of their own) wait for a reseal; no previous secret is
// needed for them.
func TestSealingCheckLegacyKeyIDs(t *testing.T) {
	db := sqlitetest.Open(t, "migrations")
	v, cfg := vaultWith(t, db, map[string]string{"SESSION_SECRET": secretA})
	importSessions(t, v, 1, 2)
	key, err := hkdf.Key(sha256.New, []byte(secretA), nil, "communicator/auth-telegram/session-seal/v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("key-id"))
	sqlitetest.Exec(t, db, "UPDATE sessions SET key_id = '"+hex.EncodeToString(mac.Sum(nil)[:8])+"'")
	c := sealingCheck(context.Background(), v, cfg)
	if c.Status != "ok" || c.Detail != "2 sessions are under the legacy id of the current key (resealed on read and by the daily job)" {
		t.Errorf("legacy key ids: %+v", c)
	}
}
