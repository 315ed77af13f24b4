package vault

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var (
	secretA = []byte("PsmBOwd8xBd1028EPXxITK5NjC2xWvlYwOSJJi63Egs=")                     // openssl rand -base64 32
	secretB = []byte("f9ef4ae1bcd03e1c5fd517de66c632acc49b1c7a4ade9023b8e04e29ef7a768a") // openssl rand -hex 32
	secretC = []byte("dSacOyCToDZCINXjOKsY2M6TB0GK1K44VhJQ6eUu06w=")                     // openssl rand -base64 32
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
// key = HKDF-SHA256(secret, no salt, sealInfo, 32); AAD = prefix | uint32
// len(sessionID) | sessionID | uint64 userID; sealed = nonce | ciphertext |
// tag. The row has the legacy key id, HMAC-SHA256(key, "key-id")[:8] in hex;
// the key id is now HKDF-SHA256(secret, no salt, keyIDInfo, 8) in hex (also
// computed with Python's hmac).
func TestSealKnownAnswer(t *testing.T) {
	// The vector was made with this secret, which the secret rules now
	// refuse; the recipe is what is checked here.
	secret := []byte("communicator-test-secret-0123456789abcdef")
	s, err := newSealer(secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.KeyID(), "18fff24aab7ea558"; got != want {
		t.Fatalf("KeyID = %s, want %s", got, want)
	}
	if got, want := legacyKeyID(t, secret), "47a95cf028afc2cd"; got != want {
		t.Fatalf("legacy key id = %s, want %s", got, want)
	}
	sealed, _ := hex.DecodeString("000102030405060708090a0bd92622cac5e5a6d8fce7c15929c2fd64e964a257b49e99fb8be1f8")
	pt, stale, err := s.Open(testSessionID, 123456789, "47a95cf028afc2cd", sealed)
	if err != nil || !stale || string(pt) != "hello vault" {
		t.Fatalf("Open = %q, %v, %v; want the plaintext, stale (a legacy key id)", pt, stale, err)
	}
}

// legacyKeyID is the key id rows were given before the key id had an HKDF
// output of its own: HMAC-SHA256(key, "key-id")[:8] in hex, under the
// sealing key itself.
func legacyKeyID(t testing.TB, secret []byte) string {
	t.Helper()
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("key-id"))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

// Rows under the legacy key id of the current or the previous key open, and
// are stale: the caller seals them again under the current key id.
func TestLegacyKeyIDsOpen(t *testing.T) {
	s := mustSealer(t, secretB, secretA)
	legacyA, legacyB := legacyKeyID(t, secretA), legacyKeyID(t, secretB)
	if legacyA == s.PreviousKeyID() || legacyB == s.KeyID() {
		t.Fatal("the key id is still the legacy one")
	}
	sealedB, _ := s.Seal(testSessionID, 42, []byte("under B"))
	sealedA, idA := mustSealer(t, secretA, nil).Seal(testSessionID, 42, []byte("under A"))
	for _, c := range []struct {
		keyID  string
		sealed []byte
		want   string
		stale  bool
	}{
		{s.KeyID(), sealedB, "under B", false},
		{legacyB, sealedB, "under B", true},
		{idA, sealedA, "under A", true},
		{legacyA, sealedA, "under A", true},
	} {
		pt, stale, err := s.Open(testSessionID, 42, c.keyID, c.sealed)
		if err != nil || stale != c.stale || string(pt) != c.want {
			t.Errorf("key id %s: %q, stale %v, %v; want %q, stale %v", c.keyID, pt, stale, err, c.want, c.stale)
		}
	}
	// A legacy id names its own key only.
	if _, _, err := s.Open(testSessionID, 42, legacyB, sealedA); !errors.Is(err, ErrOpen) {
		t.Errorf("A's row under B's legacy id: %v", err)
	}
	if _, _, err := mustSealer(t, secretB, nil).Open(testSessionID, 42, legacyA, sealedA); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a legacy id of a secret not configured: %v", err)
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

// TestRandomSecretsPass: what `openssl rand -base64 32` and `openssl rand
// -hex 32` print, in every accepted spelling, passes (the rules refuse a
// random value with a probability below 1e-10).
func TestRandomSecretsPass(t *testing.T) {
	for i := 0; i < 3000; i++ {
		b := make([]byte, 32+i%40)
		rand.Read(b)
		for _, secret := range []string{
			base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
			base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
			hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			base64.StdEncoding.EncodeToString(b) + "\n", " " + hex.EncodeToString(b) + "\r\n",
		} {
			if err := checkSecret("SESSION_SECRET", []byte(secret)); err != nil {
				t.Fatalf("a random secret is refused: %v", err)
			}
		}
	}
}

// TestWeakSecretsAreRefused: each rule refuses what it is for, and the error
// names the variable and the rule and says how to make a good secret, without
// the value, its length or any other figure about it.
func TestWeakSecretsAreRefused(t *testing.T) {
	random := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
	half := random(16)
	eight := make([]byte, 48) // 48 bytes of only 8 values
	for i, r := range random(48) {
		eight[i] = r % 8 * 31
	}
	sequential := make([]byte, 32)
	for i := range sequential {
		sequential[i] = byte(i)
	}
	for _, c := range []struct {
		secret string
		rule   string
	}{
		{"", "is empty"},
		{"   \n", "is empty"},
		{strings.Repeat("0123456789", 7), "repeats itself"},                                                            // hex, 35 bytes
		{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr", "repeats itself"},                                             // base64, 33 bytes
		{strings.Repeat("x", 200), "repeats itself"},                                                                   // base64, 150 bytes
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", "has a long ascending or descending run"}, // the base64 alphabet
		{"fedcba9876543210" + hex.EncodeToString(random(24)), "has a long ascending or descending run"},
		{hex.EncodeToString(sequential), "has a long ascending or descending run"},                // bytes 0, 1, 2, ...
		{base64.StdEncoding.EncodeToString(append(bytes.Clone(half), half...)), "repeats itself"}, // 16 bytes twice
		{base64.StdEncoding.EncodeToString(eight), "has too few distinct byte values"},
		{"correct horse battery staple 1234", "is neither base64 nor hex"},
		{"password-password-password-password", "decodes to fewer than 32 bytes"},                     // URL-safe base64, by accident
		{"-_" + base64.RawStdEncoding.EncodeToString(random(40)) + "+/", "is neither base64 nor hex"}, // two alphabets
		{"abc=" + base64.StdEncoding.EncodeToString(random(32)), "is neither base64 nor hex"},
		{hex.EncodeToString(random(32))[1:], "is neither base64 nor hex"}, // an odd number of hex digits
		{hex.EncodeToString(random(16)), "decodes to fewer than 32 bytes"},
		{base64.StdEncoding.EncodeToString(random(31)), "decodes to fewer than 32 bytes"},
		{base64.RawURLEncoding.EncodeToString(random(31)), "decodes to fewer than 32 bytes"},
	} {
		_, err := NewSealer([]byte(c.secret), nil)
		if err == nil {
			t.Errorf("%q is accepted", c.secret)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "SESSION_SECRET "+c.rule) || !strings.Contains(msg, "openssl rand -base64 32") {
			t.Errorf("%q: %q, want the variable, %q and how to make one", c.secret, msg, c.rule)
		}
		for i := 0; i+6 <= len(strings.TrimSpace(c.secret)); i++ {
			if part := strings.TrimSpace(c.secret)[i : i+6]; strings.Contains(msg, part) {
				t.Errorf("%q: the error holds part of the secret (%q): %s", c.secret, part, msg)
				break
			}
		}
		// The only figures allowed are those of the rule ("32 bytes") and
		// of the command; no length or entropy estimate.
		if rest := strings.NewReplacer("base64", "", "32", "").Replace(msg); strings.ContainsAny(rest, "0123456789") {
			t.Errorf("%q: the error has a figure: %s", c.secret, msg)
		}
	}
}

// The HKDF input is the secret's text as given, not its decoding, so rows
// sealed before the rules keep opening.
func TestSecretTextIsTheKeyMaterial(t *testing.T) {
	checked := mustSealer(t, secretB, nil)
	unchecked, _ := newSealer(secretB, nil)
	decoded, _ := hex.DecodeString(string(secretB))
	fromDecoded, _ := newSealer(decoded, nil)
	padded, _ := NewSealer(append(bytes.Clone(secretB), '\n'), nil)
	if checked.KeyID() != unchecked.KeyID() || checked.KeyID() == fromDecoded.KeyID() || padded.KeyID() == checked.KeyID() {
		t.Fatalf("key ids: checked %s, unchecked %s, from the decoded bytes %s, with a newline %s",
			checked.KeyID(), unchecked.KeyID(), fromDecoded.KeyID(), padded.KeyID())
	}
}

// SESSION_SECRET_PREVIOUS only opens: a weak one is accepted with a warning
// (so that a weak secret can be rotated away from); empty means none.
func TestWeakPreviousSecretWarns(t *testing.T) {
	weak := []byte("communicator-test-secret-0123456789abcdef")
	old, _ := newSealer(weak, nil)
	sealed, kid := old.Seal(testSessionID, 42, []byte("s"))

	s, err := NewSealer(secretA, weak)
	if err != nil {
		t.Fatal(err)
	}
	if pt, stale, err := s.Open(testSessionID, 42, kid, sealed); err != nil || !stale || string(pt) != "s" {
		t.Fatalf("a row under the weak previous secret: %q %v %v", pt, stale, err)
	}
	w := s.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "SESSION_SECRET_PREVIOUS ") || !strings.Contains(w[0], "only opens") || strings.Contains(w[0], string(weak[:12])) {
		t.Fatalf("warnings %q", w)
	}
	if _, err := NewSealer(weak, secretA); err == nil || !strings.Contains(err.Error(), "SESSION_SECRET ") {
		t.Fatalf("a weak current secret: %v", err)
	}
	if _, err := NewSealer(secretA, []byte(" \n")); err == nil || !strings.Contains(err.Error(), "SESSION_SECRET_PREVIOUS is empty") {
		t.Fatalf("a blank previous secret: %v", err)
	}
	for _, prev := range [][]byte{nil, {}, secretB} {
		if s := mustSealer(t, secretA, prev); len(s.Warnings()) != 0 {
			t.Errorf("previous %q: warnings %q", prev, s.Warnings())
		}
	}
}
