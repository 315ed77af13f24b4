package faketelegram

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// Every refused control request names the field and leaves the server as
// it was: no fault installed, no session bound, no message changed.
func TestControlRefusesBadInput(t *testing.T) {
	s, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, err := s.Digest(1001)
	if err != nil {
		t.Fatal(err)
	}
	// A token waiting to be scanned, and one expired.
	waiting, expired := strings.Repeat("w", 32), strings.Repeat("x", 32)
	s.tokens[waiting] = &loginToken{expires: time.Now().Add(loginTokenTTL)}
	s.tokens[expired] = &loginToken{expires: time.Now().Add(-time.Second)}
	b64 := base64.RawURLEncoding.EncodeToString
	h := s.ControlHandler()
	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/faults", `{"kind":"explode","method":"x"}`, "kind"},
		{"POST", "/faults", `{"kind":"drop"}`, "method"},
		{"POST", "/faults", `{"kind":"floodWait","method":"users.getUsers"}`, "seconds"},
		{"POST", "/faults", `{"kind":"slow","method":"*","delayMs":-5}`, "delayMs"},
		{"POST", "/faults", `{"kind":"slow","method":"*","delayMs":"x"}`, "delayMs"},
		{"POST", "/faults", `not json`, ""},
		{"POST", "/faults", `{"kind":"drop","method":"*","extra":1}`, ""},
		{"POST", "/faults", `{"kind":"drop","method":"*","after":-1}`, "after"},
		{"POST", "/faults", `{"kind":"drop","method":"*","after":"x"}`, "after"},
		{"POST", "/mint", `{"userId":999}`, "userId"},
		{"POST", "/revoke", `{"session":"not a session"}`, "session"},
		{"GET", "/calls", ``, "method"},
		{"POST", "/messages", `{"userId":1001,"peer":{"user":1002},"text":"x"}`, "from"},
		{"POST", "/messages", `{"userId":1001,"peer":{"user":1002,"chat":5001},"from":1001,"text":"x"}`, "peer"},
		{"POST", "/messages", `{"userId":1001,"peer":{"chat":5007},"from":1001,"text":"x"}`, "peer"},
		{"POST", "/messages", `{"userId":1001,"peer":{"users":1002},"from":1001,"text":"x"}`, ""},
		{"POST", "/messages", `{"userId":1001,"peer":{"user":1002},"from":1001,"text":"x","replyTo":-1}`, "replyTo"},
		{"POST", "/messages", `{"userId":1001,"peer":{"user":1002},"from":1001,"text":"x","entities":[{"type":"bold","offset":0,"length":9}]}`, "entities"},
		{"POST", "/messages/edit", `{"userId":1001,"peer":{"user":1002},"id":999999,"text":"x"}`, "id"},
		{"POST", "/messages/delete", `{"userId":1001,"peer":{"user":1002},"ids":[]}`, "ids"},
		{"POST", "/messages/delete", `{"userId":1001,"peer":{"user":1002},"ids":"1"}`, "ids"},
		{"GET", "/dialogs?userId=abc", ``, "userId"},
		{"GET", "/digest?userId=999", ``, "userId"},
		{"POST", "/mint", `{"userId":1001,"dc":3}`, "dc"},
		{"GET", "/codes", ``, "phone"},
		{"GET", "/codes?phone=", ``, "phone"},
		{"GET", "/codes?phone=1555o101002", ``, "phone"},
		{"GET", "/codes?phone=%2B%20-", ``, "phone"},
		{"GET", "/codes?phone=1555010100212345", ``, "phone"},
		{"POST", "/qr/scan", `{"token":"` + b64([]byte(waiting)) + `","userId":999}`, "userId"},
		{"POST", "/qr/scan", `{"token":"` + b64([]byte(waiting)) + `","userId":1099}`, "userId"},
		{"POST", "/qr/scan", `{"token":"` + b64([]byte(waiting)) + `","userId":"1003"}`, "userId"},
		{"POST", "/qr/scan", `{"token":"not base64!","userId":1003}`, "token"},
		{"POST", "/qr/scan", `{"token":"","userId":1003}`, "token"},
		{"POST", "/qr/scan", `{"token":"` + b64([]byte(expired)) + `","userId":1003}`, "token"},
		{"POST", "/qr/scan", `{"userId":1003}`, "token"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		var out struct{ Error, Field string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 400 || out.Field != tc.field || out.Error == "" {
			t.Errorf("%s %s %s: %d %s, want 400 naming %q", tc.method, tc.path, tc.body, rec.Code, rec.Body, tc.field)
		}
	}
	s.mu.Lock()
	faults, bound, sent, scanned := len(s.faults), len(s.bound), len(s.sent), s.tokens[waiting].user+s.tokens[expired].user
	s.mu.Unlock()
	if faults != 0 || bound != 0 || sent != 0 || scanned != 0 {
		t.Fatalf("after refused requests: %d faults, %d bound keys, %d codes sent, tokens scanned by %d; want none", faults, bound, sent, scanned)
	}
	if after, _ := s.Digest(1001); after != before {
		t.Fatalf("after refused requests: %+v, was %+v", after, before)
	}
}

func TestHasDHGenOK(t *testing.T) {
	msg := func(keyID byte, body uint32) []byte {
		b := make([]byte, 4+20+4+16)
		b[4] = keyID // auth_key_id's first byte
		binary.LittleEndian.PutUint32(b[24:], body)
		return b
	}
	if !hasDHGenOK(msg(0, 0x3bcbf734)) {
		t.Error("an unencrypted dh_gen_ok was missed")
	}
	if hasDHGenOK(msg(1, 0x3bcbf734)) {
		t.Error("an encrypted message was taken for dh_gen_ok")
	}
	if hasDHGenOK(msg(0, 0x46dc1fb9)) || hasDHGenOK([]byte{0x34, 0xf7, 0xcb, 0x3b}) {
		t.Error("something else was taken for dh_gen_ok")
	}
}

// GET /codes and POST /qr/scan against what a client did.
func TestControlCodesAndQR(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.ControlHandler()
	call := func(method, path, body string, wantStatus int) map[string]any {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != wantStatus {
			t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, rec.Code, rec.Body, wantStatus)
		}
		return out
	}
	if out := call("GET", "/codes?phone=15550101002", "", 404); out["error"] != "no code was sent to this phone" || out["field"] != "phone" {
		t.Errorf("no code: %v", out)
	}
	if out := call("POST", "/qr/scan", `{"token":"`+base64.RawURLEncoding.EncodeToString(make([]byte, 32))+`","userId":1003}`, 404); out["field"] != "token" || !strings.HasPrefix(out["error"].(string), "AUTH_TOKEN_INVALID") {
		t.Errorf("unknown token: %v", out)
	}
	start := time.Now().Truncate(time.Second)
	client := telegram.NewClient(telegram.TestAppID, telegram.TestAppHash, s.ClientOptions(nil))
	err = client.Run(ctx, func(ctx context.Context) error {
		api := client.API()
		if _, err := api.AuthSendCode(ctx, &tg.AuthSendCodeRequest{PhoneNumber: "15550101002", APIID: 1, APIHash: "x"}); err != nil {
			return err
		}
		out := call("GET", "/codes?phone="+url.QueryEscape("+1 555 010 1002"), "", 200)
		at, err := time.Parse(time.RFC3339, out["sentAt"].(string))
		if len(out) != 5 || out["phone"] != "15550101002" || out["code"] != "01002" || out["type"] != "app" || out["sends"] != float64(1) || err != nil || at.Before(start) {
			t.Errorf("GET /codes: %v", out)
		}
		res, err := api.AuthExportLoginToken(ctx, &tg.AuthExportLoginTokenRequest{APIID: 1, APIHash: "x"})
		if err != nil {
			return err
		}
		token := res.(*tg.AuthLoginToken).Token
		// As tg://login?token= shows it (gotd pads it; unpadded works too).
		body := `{"token":"` + base64.URLEncoding.EncodeToString(token) + `","userId":1001}`
		if out := call("POST", "/qr/scan", body, 200); len(out) != 2 || out["ok"] != true || out["userId"] != float64(1001) {
			t.Errorf("POST /qr/scan: %v", out)
		}
		if out := call("POST", "/qr/scan", body, 400); out["field"] != "token" || !strings.HasPrefix(out["error"].(string), "AUTH_TOKEN_ALREADY_ACCEPTED") {
			t.Errorf("scanned twice: %v", out)
		}
		if res, err := api.AuthExportLoginToken(ctx, &tg.AuthExportLoginTokenRequest{APIID: 1, APIHash: "x"}); err != nil {
			return err
		} else if _, ok := res.(*tg.AuthLoginTokenSuccess); !ok {
			t.Errorf("export after the scan: %T", res)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	n := len(s.bound)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("%d keys logged in, want 1", n)
	}
	// An expired token.
	s.mu.Lock()
	s.tokens["expired"] = &loginToken{expires: time.Now().Add(-time.Second)}
	s.mu.Unlock()
	if out := call("POST", "/qr/scan", `{"token":"`+base64.RawURLEncoding.EncodeToString([]byte("expired"))+`","userId":1003}`, 400); out["field"] != "token" || !strings.HasPrefix(out["error"].(string), "AUTH_TOKEN_EXPIRED") {
		t.Errorf("expired token: %v", out)
	}
}
