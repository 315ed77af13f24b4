package faketelegram

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
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
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		var out struct{ Error, Field string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 400 || out.Field != tc.field || out.Error == "" {
			t.Errorf("%s %s %s: %d %s, want 400 naming %q", tc.method, tc.path, tc.body, rec.Code, rec.Body, tc.field)
		}
	}
	s.mu.Lock()
	faults, bound := len(s.faults), len(s.bound)
	s.mu.Unlock()
	if faults != 0 || bound != 0 {
		t.Fatalf("after refused requests: %d faults, %d bound keys; want none", faults, bound)
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
