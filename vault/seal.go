package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MinSecretLen is the shortest SESSION_SECRET accepted, in bytes. The secret is
// used as given (its bytes, not a decoding of them); a 64-character hex string
// from `openssl rand -hex 32` is a good one.
const MinSecretLen = 32

// sealInfo is the HKDF info string. It names the purpose and the version of
// the sealing scheme; a new scheme gets a new info string and so new keys and
// key ids, which rotation already handles.
const sealInfo = "communicator/auth-telegram/session-seal/v1"

// aadPrefix starts the additional data of every seal (see aad).
const aadPrefix = "communicator/auth-telegram/session/v1\x00"

// Errors of Open. Neither says anything about the key or the plaintext.
var (
	// ErrUnknownKey means the row's key id is neither the current nor the previous key's.
	ErrUnknownKey = errors.New("vault: sealed with an unknown key")
	// ErrOpen means authentication failed: the row was tampered with, or moved
	// to another session id or user id.
	ErrOpen = errors.New("vault: sealed data does not authenticate")
)

// Sealer seals session strings with AES-256-GCM under a key derived from
// SESSION_SECRET, and opens rows sealed under that key or under the key of
// SESSION_SECRET_PREVIOUS (which opens, never seals).
//
// Sealed bytes are nonce (12 random bytes, fresh per seal) || ciphertext || tag.
// The additional data binds the session id and the user id, so a sealed value
// copied to another row fails to open.
type Sealer struct {
	current  sealKey
	previous *sealKey
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// NewSealer derives the sealing keys. current seals and opens; previous (nil or
// empty when there is none) only opens. Each secret must be at least
// MinSecretLen bytes. Errors never contain a secret.
func NewSealer(current, previous []byte) (*Sealer, error) {
	if err := checkSecret("SESSION_SECRET", current); err != nil {
		return nil, err
	}
	if len(previous) > 0 {
		if err := checkSecret("SESSION_SECRET_PREVIOUS", previous); err != nil {
			return nil, err
		}
	}
	return newSealer(current, previous)
}

// newSealer is NewSealer without the strength checks.
func newSealer(current, previous []byte) (*Sealer, error) {
	cur, err := deriveKey(current)
	if err != nil {
		return nil, err
	}
	s := &Sealer{current: cur}
	if len(previous) > 0 {
		prev, err := deriveKey(previous)
		if err != nil {
			return nil, err
		}
		if prev.id != cur.id {
			s.previous = &prev
		}
	}
	return s, nil
}

func deriveKey(secret []byte) (sealKey, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return sealKey{}, errors.New("vault: deriving the sealing key failed")
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealKey{}, errors.New("vault: creating the cipher failed")
	}
	// NewGCMWithRandomNonce draws a fresh 12-byte nonce from crypto/rand for
	// every Seal and prepends it to the ciphertext: exactly the row format.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return sealKey{}, errors.New("vault: creating the AEAD failed")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("key-id"))
	return sealKey{id: hex.EncodeToString(mac.Sum(nil)[:8]), aead: aead}, nil
}

// KeyID is the id of the current key: the first 8 bytes of
// HMAC-SHA256(key, "key-id") in hex. It identifies the key without revealing it.
func (s *Sealer) KeyID() string { return s.current.id }

// PreviousKeyID is the id of the previous key, or "" if there is none.
func (s *Sealer) PreviousKeyID() string {
	if s.previous == nil {
		return ""
	}
	return s.previous.id
}

// aad is the additional data of a seal: a fixed prefix, the session id with its
// length, and the user id, so that no two (session, user) pairs share one.
func aad(sessionID string, userID int64) []byte {
	b := make([]byte, 0, len(aadPrefix)+4+len(sessionID)+8)
	b = append(b, aadPrefix...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sessionID)))
	b = append(b, sessionID...)
	return binary.BigEndian.AppendUint64(b, uint64(userID))
}

// Seal seals plaintext for the session and user with the current key and
// returns the sealed bytes and the key id to store beside them.
func (s *Sealer) Seal(sessionID string, userID int64, plaintext []byte) (sealed []byte, keyID string) {
	return s.current.aead.Seal(nil, nil, plaintext, aad(sessionID, userID)), s.current.id
}

// Open opens a row sealed by Seal. stale reports that the previous key opened
// it, so the caller should seal it again with the current key.
func (s *Sealer) Open(sessionID string, userID int64, keyID string, sealed []byte) (plaintext []byte, stale bool, err error) {
	k := &s.current
	switch {
	case keyID == s.current.id:
	case s.previous != nil && keyID == s.previous.id:
		k, stale = s.previous, true
	default:
		return nil, false, ErrUnknownKey
	}
	if len(sealed) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, false, ErrOpen
	}
	pt, err := k.aead.Open(nil, nil, sealed, aad(sessionID, userID))
	if err != nil {
		return nil, false, ErrOpen
	}
	return pt, stale, nil
}

// String describes the sealer by key ids only.
func (s *Sealer) String() string {
	return "vault.Sealer{current: " + strconv.Quote(s.current.id) + ", previous: " + strconv.Quote(s.PreviousKeyID()) + "}"
}

// Format prints String for every verb, so no verb prints key material.
func (s *Sealer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// checkSecret refuses a secret with less than MinSecretLen bytes of entropy,
// by EntropyBytes's estimate. The error names the variable, never the value.
func checkSecret(name string, secret []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("vault: %s is empty", name)
	}
	if e := EntropyBytes(secret); e < MinSecretLen {
		return fmt.Errorf("vault: %s has about %.0f bytes of entropy (%d characters), want at least %d: generate one with `openssl rand -base64 32`",
			name, e, len(secret), MinSecretLen)
	}
	return nil
}

// EntropyBytes estimates the entropy of a secret in bytes, generously for
// what it looks like: hex carries 4 bits a character, base64 6 bits, anything
// else at most log2 of the number of distinct bytes it uses. So "openssl rand
// -hex 32" and "openssl rand -base64 32" pass, and a 32-character password does
// not.
func EntropyBytes(secret []byte) float64 {
	hex, b64 := true, true
	var seen [256]bool
	distinct := 0
	body := secret
	for len(body) > 0 && body[len(body)-1] == '=' {
		body = body[:len(body)-1]
	}
	for i, c := range secret {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		isHex := c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		hex = hex && isHex
		isB64 := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/' || c == '-' || c == '_' || (c == '=' && i >= len(body))
		b64 = b64 && isB64
	}
	var bits float64
	switch {
	case hex:
		bits = 4 * float64(len(secret))
	case b64:
		bits = 6 * float64(len(body))
	default:
		bits = math.Log2(float64(max(distinct, 1))) * float64(len(secret))
	}
	// A secret that repeats a few characters is weak whatever its alphabet.
	if distinct < 10 {
		bits = min(bits, math.Log2(float64(max(distinct, 1)))*float64(len(secret)))
	}
	return bits / 8
}
