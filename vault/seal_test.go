package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var (
	secretA = []byte("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=")             // base64 of 37 bytes
	secretB = []byte("d3c5a1f0e9b8c7a6958473625140f1e2d3c4b5a6978877665544332211ffeedd") // 32 bytes in hex
)

const testSessionID = "ses_abcdefghijklmnopqrstuvwxyz"

func mustSealer(t testing.TB, cur, prev []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(cur, prev)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSealKnownAnswer opens a row sealed outside Go (Python's hmac and the
// cryptography package's AESGCM, with a fixed nonce) by the documented recipe:
// key = HKDF-SHA256(secret, no salt, sealInfo, 32); key id = HMAC-SHA256(key,
// "key-id")[:8] in hex; AAD = prefix | uint32 len(sessionID) | sessionID |
// uint64 userID; sealed = nonce | ciphertext | tag.
func TestSealKnownAnswer(t *testing.T) {
	// The vector was made with this secret, before secrets had to carry 32
	// bytes of entropy; the recipe is what is checked here.
	s, err := newSealer([]byte("communicator-test-secret-0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.KeyID(), "47a95cf028afc2cd"; got != want {
		t.Fatalf("KeyID = %s, want %s", got, want)
	}
	sealed, _ := hex.DecodeString("000102030405060708090a0bd92622cac5e5a6d8fce7c15929c2fd64e964a257b49e99fb8be1f8")
	pt, stale, err := s.Open(testSessionID, 123456789, "47a95cf028afc2cd", sealed)
	if err != nil || stale || string(pt) != "hello vault" {
		t.Fatalf("Open = %q, %v, %v", pt, stale, err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	s := mustSealer(t, secretA, nil)
	pt := []byte("1AgAOMTQ5LjE1NC4xNjcuNTEBuw...")
	a, kid := s.Seal(testSessionID, 42, pt)
	b, _ := s.Seal(testSessionID, 42, pt)
	if kid != s.KeyID() || len(kid) != 16 {
		t.Fatalf("key id %q", kid)
	}
	if len(a) != 12+len(pt)+16 {
		t.Fatalf("sealed length %d, want nonce+plaintext+tag = %d", len(a), 12+len(pt)+16)
	}
	if bytes.Equal(a[:12], b[:12]) || bytes.Equal(a, b) {
		t.Fatal("two seals share a nonce")
	}
	if bytes.Contains(a, pt[:8]) {
		t.Fatal("plaintext visible in sealed bytes")
	}
	got, stale, err := s.Open(testSessionID, 42, kid, a)
	if err != nil || stale || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q %v %v", got, stale, err)
	}
}

func TestSealBindsRow(t *testing.T) {
	s := mustSealer(t, secretA, nil)
	sealed, kid := s.Seal(testSessionID, 42, []byte("secret session"))
	for _, c := range []struct {
		name string
		sid  string
		uid  int64
	}{
		{"other user", testSessionID, 43},
		{"other session", "ses_abcdefghijklmnopqrstuvwxya", 42},
		{"both", "ses_bbbbbbbbbbbbbbbbbbbbbbbbbb", 7},
	} {
		if _, _, err := s.Open(c.sid, c.uid, kid, sealed); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err %v, want ErrOpen", c.name, err)
		}
	}
	// Every single flipped bit fails.
	for i := range sealed {
		for bit := 0; bit < 8; bit += 3 {
			bad := bytes.Clone(sealed)
			bad[i] ^= 1 << bit
			if _, _, err := s.Open(testSessionID, 42, kid, bad); !errors.Is(err, ErrOpen) {
				t.Fatalf("flipped bit %d of byte %d: err %v", bit, i, err)
			}
		}
	}
	for _, n := range []int{0, 1, 12, 27, 28} {
		if _, _, err := s.Open(testSessionID, 42, kid, sealed[:min(n, len(sealed))]); !errors.Is(err, ErrOpen) {
			t.Errorf("truncated to %d: err %v", n, err)
		}
	}
	if _, _, err := s.Open(testSessionID, 42, "0000000000000000", sealed); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key id: err %v", err)
	}
}

func TestSealRotation(t *testing.T) {
	old := mustSealer(t, secretA, nil)
	sealed, oldKID := old.Seal(testSessionID, 42, []byte("s"))

	rotated := mustSealer(t, secretB, secretA)
	if rotated.KeyID() == oldKID || rotated.PreviousKeyID() != oldKID {
		t.Fatalf("key ids: current %s previous %s old %s", rotated.KeyID(), rotated.PreviousKeyID(), oldKID)
	}
	pt, stale, err := rotated.Open(testSessionID, 42, oldKID, sealed)
	if err != nil || !stale || string(pt) != "s" {
		t.Fatalf("open with previous: %q %v %v", pt, stale, err)
	}
	// The previous key never seals.
	if _, kid := rotated.Seal(testSessionID, 42, []byte("s")); kid != rotated.KeyID() {
		t.Fatal("sealed with the previous key")
	}
	// After the previous secret is dropped, old rows are unknown.
	dropped := mustSealer(t, secretB, nil)
	if _, _, err := dropped.Open(testSessionID, 42, oldKID, sealed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err %v, want ErrUnknownKey", err)
	}
	// A row with a forged key id (current id on an old seal) fails to authenticate.
	if _, _, err := dropped.Open(testSessionID, 42, dropped.KeyID(), sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("err %v, want ErrOpen", err)
	}
	// Same secret twice: no previous key.
	if s := mustSealer(t, secretA, secretA); s.PreviousKeyID() != "" {
		t.Fatal("previous equal to current was kept")
	}
	if s := mustSealer(t, secretA, []byte{}); s.PreviousKeyID() != "" {
		t.Fatal("empty previous was kept")
	}
}

func TestNewSealerRejectsShortSecrets(t *testing.T) {
	short := []byte("short-secret-that-is-31-bytes!!")
	if len(short) != 31 {
		t.Fatal(len(short))
	}
	for _, c := range []struct {
		cur, prev []byte
		want      string
	}{
		{short, nil, "SESSION_SECRET has about 15 bytes of entropy (31 characters), want at least 32"},
		{nil, nil, "SESSION_SECRET is empty"},
		{secretA, short, "SESSION_SECRET_PREVIOUS has about 15 bytes of entropy (31 characters), want at least 32"},
	} {
		_, err := NewSealer(c.cur, c.prev)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want %q", err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), string(secretA[:10])) {
			t.Errorf("error contains the secret: %v", err)
		}
	}
}

func TestSealerPrintsNoKey(t *testing.T) {
	s := mustSealer(t, secretA, secretB)
	out := fmt.Sprintf("%v %+v %#v %s %x %d", s, s, s, s, s, s)
	out += fmt.Sprintf("%+v %#v", *s, struct{ S *Sealer }{s})
	if strings.Contains(out, string(secretA[:12])) || strings.Contains(out, hex.EncodeToString(secretA[:6])) {
		t.Fatalf("formatting shows the secret: %s", out)
	}
	if !strings.Contains(fmt.Sprint(s), s.KeyID()) {
		t.Fatalf("String lacks the key id: %s", s)
	}
}

func TestSecretsNeed32BytesOfEntropy(t *testing.T) {
	for _, tc := range []struct {
		secret string
		ok     bool
	}{
		{strings.Repeat("ab12", 16), false},                                        // 64 hex characters, but 4 distinct
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true}, // 64 hex: 32 bytes
		{"0123456789abcdef0123456789abcdef", false},                                // 32 hex: 16 bytes
		{"q7Jm0x4bWbq2Tz8yHn3f1LkP9vR6sD5aE2uC4iO8pQ0=", true},                     // base64 of 32 bytes
		{"correct horse battery staple 1234", false},                               // a passphrase of 33 characters
		{strings.Repeat("x", 200), false},                                          // long but one character
		{"", false},
	} {
		_, err := NewSealer([]byte(tc.secret), nil)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v (estimate %.1f bytes)", tc.secret, err, tc.ok, EntropyBytes([]byte(tc.secret)))
		}
		if err != nil && tc.secret != "" && strings.Contains(err.Error(), tc.secret[:8]) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	// A weak previous secret is refused too.
	if _, err := NewSealer([]byte("q7Jm0x4bWbq2Tz8yHn3f1LkP9vR6sD5aE2uC4iO8pQ0="), []byte("short")); err == nil || !strings.Contains(err.Error(), "SESSION_SECRET_PREVIOUS") {
		t.Errorf("weak previous secret: %v", err)
	}
}
