package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MinSecretLen is the fewest bytes of key material SESSION_SECRET must
// decode to. The secret is base64 or hex, as `openssl rand -base64 32` and
// `openssl rand -hex 32` print (see checkSecret); its text, not its decoding,
// is the key derivation's input.
const MinSecretLen = 32

// sealInfo is the HKDF info string. It names the purpose and the version of
// the sealing scheme; a new scheme gets a new info string and so new keys and
// key ids, which rotation already handles.
const sealInfo = "communicator/auth-telegram/session-seal/v1"

// keyIDInfo is the HKDF info string of the key id: an output of its own,
// independent of the sealing key (the legacy id was an HMAC under that key).
const keyIDInfo = "communicator/auth-telegram/session-key-id/v1"

// aadPrefix starts the additional data of every seal of a session (see aad);
// loginAADPrefix of a login's state, so that neither opens as the other.
const (
	aadPrefix      = "communicator/auth-telegram/session/v1\x00"
	loginAADPrefix = "communicator/auth-telegram/login/v1\x00"
)

// phoneTagInfo is the HKDF info string of the key that tags phones (see PhoneTag).
const phoneTagInfo = "communicator/auth-telegram/phone-tag/v1"

// Errors of Open. Neither says anything about the key or the plaintext.
var (
	// ErrUnknownKey means the row's key id is none of the current or the
	// previous key's (their ids and legacy ids).
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
	warnings []string
}

// sealKey is a derived key. Rows name it by id; rows sealed before the id
// had an HKDF output of its own name it by legacyID, HMAC-SHA256(key,
// "key-id")[:8] in hex.
type sealKey struct {
	id, legacyID string
	aead         cipher.AEAD
	phoneTag     []byte // HMAC key of PhoneTag
}

// NewSealer derives the sealing keys. current seals and opens; previous (nil or
// empty when there is none) only opens. current must pass checkSecret. previous
// is refused only if it is blank: a weak one is accepted, so that a weak secret
// can be rotated away from, and Warnings says what is wrong with it. Errors
// and warnings never contain a secret or a figure about it.
func NewSealer(current, previous []byte) (*Sealer, error) {
	if err := checkSecret("SESSION_SECRET", current); err != nil {
		return nil, err
	}
	var weakPrevious string
	if len(previous) > 0 {
		switch weakPrevious = secretWeakness(previous); weakPrevious {
		case "":
		case secretEmpty:
			return nil, errors.New("vault: SESSION_SECRET_PREVIOUS is empty: set it to the secret that sealed the older sessions, or remove it")
		}
	}
	s, err := newSealer(current, previous)
	if err != nil {
		return nil, err
	}
	if weakPrevious != "" && s.previous != nil {
		s.warnings = append(s.warnings, "vault: SESSION_SECRET_PREVIOUS "+weakPrevious+
			"; it is accepted because it only opens sessions: finish the rotation away from it and remove it")
	}
	return s, nil
}

// Warnings describes what is usable but should be fixed in the secrets NewSealer
// was given (a weak SESSION_SECRET_PREVIOUS), for the caller to log. Never a
// secret.
func (s *Sealer) Warnings() []string { return s.warnings }

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
	id, err := hkdf.Key(sha256.New, secret, nil, keyIDInfo, 8)
	if err != nil {
		return sealKey{}, errors.New("vault: deriving the key id failed")
	}
	tagKey, err := hkdf.Key(sha256.New, secret, nil, phoneTagInfo, 32)
	if err != nil {
		return sealKey{}, errors.New("vault: deriving the phone tag key failed")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("key-id"))
	return sealKey{id: hex.EncodeToString(id), legacyID: hex.EncodeToString(mac.Sum(nil)[:8]), aead: aead, phoneTag: tagKey}, nil
}

// KeyID is the id of the current key: HKDF-SHA256 of the secret with
// keyIDInfo, 8 bytes, in hex. It identifies the key without revealing it.
func (s *Sealer) KeyID() string { return s.current.id }

// PreviousKeyID is the id of the previous key, or "" if there is none.
func (s *Sealer) PreviousKeyID() string {
	if s.previous == nil {
		return ""
	}
	return s.previous.id
}

// keyFor returns the key a row under keyID opens with, or nil, and whether
// the row is stale: under any id but the current key's, so that it should be
// sealed again under the current key id.
func (s *Sealer) keyFor(keyID string) (k *sealKey, stale bool) {
	switch {
	case keyID == s.current.id:
		return &s.current, false
	case keyID == s.current.legacyID:
		return &s.current, true
	case s.previous != nil && (keyID == s.previous.id || keyID == s.previous.legacyID):
		return s.previous, true
	}
	return nil, false
}

// staleKeyIDs are the ids under which rows open but are stale (see keyFor).
func (s *Sealer) staleKeyIDs() []string {
	ids := []string{s.current.legacyID}
	if s.previous != nil {
		ids = append(ids, s.previous.id, s.previous.legacyID)
	}
	return ids
}

// opens reports whether a row under keyID is one the sealer can open.
func (s *Sealer) opens(keyID string) bool {
	k, _ := s.keyFor(keyID)
	return k != nil
}

// aad is the additional data of a seal: a fixed prefix, the session id with its
// length, and the user id, so that no two (session, user) pairs share one.
func aad(sessionID string, userID int64) []byte { return aadWith(aadPrefix, sessionID, userID) }

func aadWith(prefix, sessionID string, userID int64) []byte {
	b := make([]byte, 0, len(prefix)+4+len(sessionID)+8)
	b = append(b, prefix...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sessionID)))
	b = append(b, sessionID...)
	return binary.BigEndian.AppendUint64(b, uint64(userID))
}

// Seal seals plaintext for the session and user with the current key and
// returns the sealed bytes and the key id to store beside them.
func (s *Sealer) Seal(sessionID string, userID int64, plaintext []byte) (sealed []byte, keyID string) {
	return s.current.aead.Seal(nil, nil, plaintext, aad(sessionID, userID)), s.current.id
}

// Open opens a row sealed by Seal. stale reports that the row is not under
// the current key id (it is under the previous key, or under a legacy key id),
// so the caller should seal it again with Seal.
func (s *Sealer) Open(sessionID string, userID int64, keyID string, sealed []byte) (plaintext []byte, stale bool, err error) {
	k, stale := s.keyFor(keyID)
	if k == nil {
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

// SealLogin seals a login's state for the login and user with the current
// key, under additional data of its own (a login's state never opens as a
// session, nor a session as a login's state).
func (s *Sealer) SealLogin(loginID string, userID int64, plaintext []byte) (sealed []byte, keyID string) {
	return s.current.aead.Seal(nil, nil, plaintext, aadWith(loginAADPrefix, loginID, userID)), s.current.id
}

// OpenLogin opens a login's state sealed by SealLogin, under the current or
// the previous key.
func (s *Sealer) OpenLogin(loginID string, userID int64, keyID string, sealed []byte) ([]byte, error) {
	k, _ := s.keyFor(keyID)
	if k == nil {
		return nil, ErrUnknownKey
	}
	if len(sealed) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := k.aead.Open(nil, nil, sealed, aadWith(loginAADPrefix, loginID, userID))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// PhoneTag is a keyed hash of a phone number (HMAC-SHA256 under a key of its
// own derived from SESSION_SECRET, 16 bytes in hex): it finds the live login
// of a phone without storing the phone.
func (s *Sealer) PhoneTag(phone string) string {
	mac := hmac.New(sha256.New, s.current.phoneTag)
	mac.Write([]byte(phone))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// String describes the sealer by key ids only.
func (s *Sealer) String() string {
	return "vault.Sealer{current: " + strconv.Quote(s.current.id) + ", previous: " + strconv.Quote(s.PreviousKeyID()) + "}"
}

// Format prints String for every verb, so no verb prints key material.
func (s *Sealer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// secretEmpty is the weakness of a secret that is empty or only white space.
const secretEmpty = "is empty"

// checkSecret refuses a secret that secretWeakness finds weak. The error names
// the variable and the rule it fails and says how to make a good secret; it
// never holds the value, its length or any estimate about it, because it can
// reach the health endpoint.
func checkSecret(name string, secret []byte) error {
	if w := secretWeakness(secret); w != "" {
		return errors.New("vault: " + name + " " + w + "; generate one with `openssl rand -base64 32`")
	}
	return nil
}

// secretWeakness names the first rule secret fails, or returns "". White
// space around the value is ignored (a pasted value often ends in a newline).
//
// The value must be hex, or base64 in the standard or the URL alphabet, padded
// or not, and decode to at least MinSecretLen bytes. The other rules refuse
// values a person made up. Together they refuse a random value of up to 1,000
// characters with a probability below 2e-10, and what `openssl rand -hex 32`
// or `-base64 32` prints below 1e-11, because a random hex digit equals a
// given one with probability 1/16, a base64 character 1/64, a byte 1/256:
//   - the text equals itself shifted by some distance, over at least 16
//     characters: at most 1,000 distances, 16 matches each: 1,000 * 16^-16;
//   - the decoded bytes do, over at least 8 bytes (such as 16 bytes twice,
//     which base64 does not show in its text): 1,000 * 256^-8;
//   - the text has a run of 12 characters each one more, or each one less,
//     than the one before, by value in its alphabet ("0123456789ab",
//     "ABCDEFGHIJKL"): 2 * 1,000 * 16^-11 < 2e-10 (7.3e-12 for 64 hex digits);
//   - the decoded bytes have such a run of 8 (bytes 0, 1, 2, ...):
//     2 * 1,000 * 256^-7 < 3e-14;
//   - at most half as many distinct byte values as bytes, counting up to 128
//     bytes: 32 random bytes have about 30, and at most 16 with probability
//     2.2e-15, the largest over every length (computed exactly).
func secretWeakness(secret []byte) string {
	text := bytes.TrimSpace(secret)
	if len(text) == 0 {
		return secretEmpty
	}
	symbols, key, ok := decodeSecret(text)
	switch {
	case !ok:
		return "is neither base64 nor hex (as `openssl rand -base64 32` or `openssl rand -hex 32` print)"
	case len(key) < MinSecretLen:
		return "decodes to fewer than 32 bytes"
	case repeats(symbols, 16) || repeats(key, 8):
		return "repeats itself"
	case hasRun(symbols, 12) || hasRun(key, 8):
		return "has a long ascending or descending run"
	case distinct(key)*2 <= min(len(key), 128):
		return "has too few distinct byte values"
	}
	return ""
}

// The alphabets of a secret.
const (
	hexDigits = "0123456789abcdef"
	base64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// decodeSecret decodes text as hex if it has only hex digits (of either
// case), else as base64. symbols are the values of its characters in their
// alphabet (0-15 or 0-63, padding left out), key the bytes they encode. ok is
// false for anything else: an odd number of hex digits, characters of both
// base64 alphabets or of neither, misplaced or excess padding.
func decodeSecret(text []byte) (symbols, key []byte, ok bool) {
	if symbols, ok = symbolValues(bytes.ToLower(text), hexDigits); ok {
		key, err := hex.DecodeString(string(text))
		return symbols, key, err == nil
	}
	body := bytes.TrimRight(text, "=")
	if pad := len(text) - len(body); pad > 2 || pad > 0 && len(text)%4 != 0 {
		return nil, nil, false
	}
	enc, alphabet := base64.RawStdEncoding, base64Std
	if bytes.ContainsAny(body, "-_") {
		enc, alphabet = base64.RawURLEncoding, base64URL
	}
	if symbols, ok = symbolValues(body, alphabet); !ok {
		return nil, nil, false
	}
	key, err := enc.DecodeString(string(body))
	return symbols, key, err == nil
}

// symbolValues returns the index in alphabet of every byte of text, or false
// if one is not in it.
func symbolValues(text []byte, alphabet string) ([]byte, bool) {
	v := make([]byte, len(text))
	for i, c := range text {
		j := strings.IndexByte(alphabet, c)
		if j < 0 {
			return nil, false
		}
		v[i] = byte(j)
	}
	return v, true
}

// repeats reports whether v equals itself shifted by some period p, over at
// least minOverlap values (v[i] == v[i+p] for every i < len(v)-p).
func repeats(v []byte, minOverlap int) bool {
	for p := 1; len(v)-p >= minOverlap; p++ {
		if bytes.Equal(v[:len(v)-p], v[p:]) {
			return true
		}
	}
	return false
}

// hasRun reports whether v has n consecutive values each one more than the
// one before, or each one less.
func hasRun(v []byte, n int) bool {
	up, down := 1, 1
	for i := 1; i < len(v); i++ {
		switch int(v[i]) - int(v[i-1]) {
		case 1:
			up, down = up+1, 1
		case -1:
			up, down = 1, down+1
		default:
			up, down = 1, 1
		}
		if up >= n || down >= n {
			return true
		}
	}
	return false
}

// distinct counts the distinct values in b.
func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}
