//go:build !js

package ingestorhttp

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/telegramauth"
)

// withTelegram points s at a local Telegram over package net, and gives user
// 7 a session minted there.
func withTelegram(t *testing.T, s *testServer, auth *fakeAuth) *faketelegram.Server {
	t.Helper()
	fake, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	minted, err := fake.MintSession(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	auth.sessions[7] = telegramauth.Session{SessionString: minted, SessionID: sid, UserID: 7, ExpiresAt: time.Now().Add(24 * time.Hour)}
	ep := fake.Endpoint()
	ep.Timeout = 2 * time.Second
	s.Telegram = tgclient.New(tgclient.App{ID: 17349, Hash: "344583e45741c457fe1862106095a5eb"}, ep, (&net.Dialer{}).DialContext)
	return fake
}

func TestMe(t *testing.T) {
	s, auth := newTestServer(t)
	fake := withTelegram(t, s, auth)
	h := s.routes()
	code, env, body := call(t, h, "GET", "/telegram/me/7")
	data, _ := env["data"].(map[string]any)
	tgAccount, _ := data["telegram"].(map[string]any)
	if code != 200 || data["sessionId"] != sid || tgAccount["firstName"] != "Maya" || tgAccount["id"] != float64(1001) {
		t.Fatalf("me: %d %s", code, body)
	}
	if strings.Contains(body, auth.sessions[7].SessionString) {
		t.Fatal("the answer contains the session")
	}

	fake.FloodWait("users.getUsers", 30, 1)
	code, env, body = call(t, h, "GET", "/telegram/me/7")
	if e, _ := env["error"].(map[string]any); code != 429 || e["code"] != CodeFloodWait || e["retryAfter"] != float64(30) || e["retryable"] != true ||
		e["message"] != "Telegram asks to wait before the next call" {
		t.Fatalf("flood wait: %d %s", code, body)
	}

	if err := fake.RevokeSession(auth.sessions[7].SessionString); err != nil {
		t.Fatal(err)
	}
	code, env, body = call(t, h, "GET", "/telegram/me/7")
	if e, _ := env["error"].(map[string]any); code != 410 || e["code"] != CodeSessionRejected || e["retryable"] != false || e["sessionId"] != sid ||
		!strings.HasPrefix(e["message"].(string), "Telegram no longer accepts this session (") {
		t.Fatalf("revoked: %d %s", code, body)
	}
	if n := s.client.Stats().Invalidations; n != 1 {
		t.Fatalf("invalidations = %d, want 1", n)
	}
	if len(auth.rejected) != 1 || auth.rejected[0] != sid+" AUTH_KEY_UNREGISTERED" {
		t.Fatalf("reported to auth-telegram: %q", auth.rejected)
	}
}

// A session string auth-telegram should never hand out: the answer says
// what is malformed, never the string.
func TestMeBadSession(t *testing.T) {
	s, auth := newTestServer(t)
	withTelegram(t, s, auth)
	const garbage = "1AAAAnotasessionSECRETSECRET"
	auth.sessions[7] = telegramauth.Session{SessionString: garbage, SessionID: sid, UserID: 7, ExpiresAt: time.Now().Add(24 * time.Hour)}
	code, env, body := call(t, s.routes(), "GET", "/telegram/me/7")
	e, _ := env["error"].(map[string]any)
	if code != 502 || e["code"] != CodeBadSession || !strings.Contains(body, "cannot read") || strings.Contains(body, "SECRET") {
		t.Fatalf("%d %s", code, body)
	}
}

func TestMeNotConfigured(t *testing.T) {
	s, _ := newTestServer(t)
	s.TelegramErr = &tgclient.ConfigError{Problems: []string{"TELEGRAM_DC_ID must be a data center id from 1 to 255"}}
	code, env, body := call(t, s.routes(), "GET", "/telegram/me/7")
	if e, _ := env["error"].(map[string]any); code != 503 || e["code"] != "UNAVAILABLE" || !strings.Contains(body, "TELEGRAM_DC_ID") {
		t.Fatalf("%d %s", code, body)
	}
	code, env, body = call(t, s.routes(), "GET", "/telegram/me/abc")
	if code != 503 {
		t.Fatalf("bad id while not configured: %d %s", code, body)
	}
}
