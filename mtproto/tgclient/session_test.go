package tgclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/rand"
	"strings"
	"testing"

	"github.com/gotd/td/session"

	"github.com/communicator/communicator/mtproto/sessionstring"
)

func testSession(seed int64, addr string) sessionstring.Session {
	r := rand.New(rand.NewSource(seed))
	s := sessionstring.Session{DC: 2, Addr: addr, Port: 443}
	r.Read(s.AuthKey[:])
	return s
}

func TestSessionDataRoundTrip(t *testing.T) {
	for _, addr := range []string{"149.154.167.51", "2001:67c:4e8:f002::a", "venus.web.telegram.org"} {
		s := testSession(1, addr)
		d := SessionData(s)
		if d.DC != 2 || !bytes.Equal(d.AuthKey, s.AuthKey[:]) {
			t.Fatalf("%s: data %+v", addr, d)
		}
		id := s.AuthKeyID()
		if !bytes.Equal(d.AuthKeyID, id[:]) {
			t.Fatalf("%s: auth key id differs", addr)
		}
		back, err := FromSessionData(d)
		if err != nil || back != s {
			t.Fatalf("%s: round trip = %v, %v", addr, back, err)
		}
	}
}

// gotd's own Telethon loader must read a session the same way we do.
func TestSessionDataMatchesGotdTelethonLoader(t *testing.T) {
	s := testSession(2, "149.154.167.51")
	str, err := sessionstring.EncodeTelethon(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := session.TelethonSession(str)
	if err != nil {
		t.Fatal(err)
	}
	ours := SessionData(s)
	if d.DC != ours.DC || d.Addr != ours.Addr || !bytes.Equal(d.AuthKey, ours.AuthKey) || !bytes.Equal(d.AuthKeyID, ours.AuthKeyID) {
		t.Fatalf("gotd read %+v, we make %+v", d, ours)
	}
	back, err := FromSessionData(d)
	if err != nil || back != s {
		t.Fatalf("from gotd's data = %v, %v", back, err)
	}
}

func TestParseSessionJSON(t *testing.T) {
	s := testSession(3, "127.0.0.1")
	st := new(session.StorageMemory)
	if err := (&session.Loader{Storage: st}).Save(context.Background(), SessionData(s)); err != nil {
		t.Fatal(err)
	}
	b, err := st.LoadSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSessionJSON(b)
	if err != nil || got != s {
		t.Fatalf("ParseSessionJSON = %v, %v", got, err)
	}
}

func TestFromSessionDataBadInput(t *testing.T) {
	s := testSession(4, "127.0.0.1")
	good := func() *session.Data { return SessionData(s) }
	keyB64 := base64.StdEncoding.EncodeToString(s.AuthKey[:])
	for _, tc := range []struct {
		name string
		d    func() *session.Data
		want string
	}{
		{"nil", func() *session.Data { return nil }, "no data"},
		{"short key", func() *session.Data { d := good(); d.AuthKey = d.AuthKey[:100]; return d }, "auth key is 100 bytes, want 256"},
		{"wrong key id", func() *session.Data { d := good(); d.AuthKeyID = []byte{1, 2, 3, 4, 5, 6, 7, 8}; return d }, "auth key id does not match"},
		{"no port", func() *session.Data { d := good(); d.Addr = "127.0.0.1"; return d }, `address must be "host:port"`},
		{"bad port", func() *session.Data { d := good(); d.Addr = "127.0.0.1:http"; return d }, "port is not a number"},
		{"port range", func() *session.Data { d := good(); d.Addr = "127.0.0.1:70000"; return d }, "port 70000 out of range"},
		{"dc range", func() *session.Data { d := good(); d.DC = 0; return d }, "dc id 0 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromSessionData(tc.d())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), keyB64[:16]) {
				t.Fatal("error contains the key")
			}
		})
	}
	for _, in := range []string{`nope`, `{"Version":2,"Data":{}}`, `{"Version":1}`} {
		if _, err := ParseSessionJSON([]byte(in)); err == nil {
			t.Errorf("ParseSessionJSON(%s) accepted", in)
		}
	}
}
