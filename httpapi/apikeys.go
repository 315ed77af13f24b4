package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/telegramauth"
)

// APIKeys holds, per service id, the SHA-256 hashes of the API keys that
// service may present. The zero value holds none and denies every caller.
type APIKeys struct {
	byService map[string][][sha256.Size]byte
}

// dummyHash is what a key presented with an unknown service id is compared
// against, so that an unknown id takes the same path as a known one.
var dummyHash = [][sha256.Size]byte{sha256.Sum256([]byte("httpapi: no such service id"))}

// HashAPIKey returns the lower-case hex SHA-256 of key: the form
// SERVICE_API_KEYS stores.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ParseAPIKeys parses the variable named variable (SERVICE_API_KEYS,
// INGESTOR_API_KEYS): a JSON object from service id to the hex SHA-256 of that
// service's API key, or to an array of such hashes (to rotate a key, list the
// old and the new hash, then drop the old one):
//
//	{"ingestor-service": "<sha256 hex>", "admin": ["<sha256 hex>", "<sha256 hex>"]}
//
// Errors name the variable, the service id and what is wrong, never the JSON
// or a value.
func ParseAPIKeys(variable, s string) (APIKeys, error) {
	if strings.TrimSpace(s) == "" {
		return APIKeys{}, errors.New(variable + " is empty: expected a JSON object of service id to SHA-256 hex of its API key")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	syntaxErr := func() error {
		return fmt.Errorf(variable+" is not valid JSON (near byte %d): expected a JSON object of service id to SHA-256 hex of its API key", dec.InputOffset())
	}
	tok, err := dec.Token()
	if err != nil {
		return APIKeys{}, syntaxErr()
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return APIKeys{}, errors.New(variable + " is not a JSON object: expected a JSON object of service id to SHA-256 hex of its API key")
	}
	keys := APIKeys{byService: map[string][][sha256.Size]byte{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return APIKeys{}, syntaxErr()
		}
		id, _ := tok.(string)
		if !telegramauth.ValidServiceID(id) {
			return APIKeys{}, fmt.Errorf(variable+": service id %s is not valid (%s)", errtext.Quote(id, maxQuoted), telegramauth.ServiceIDRule)
		}
		if _, dup := keys.byService[id]; dup {
			return APIKeys{}, fmt.Errorf(variable+": service id %q appears twice", id)
		}
		hashes, err := parseHashes(dec, variable, id)
		if err != nil {
			return APIKeys{}, err
		}
		keys.byService[id] = hashes
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return APIKeys{}, syntaxErr()
	}
	if _, err := dec.Token(); err != io.EOF {
		return APIKeys{}, errors.New(variable + " has data after the JSON object")
	}
	if len(keys.byService) == 0 {
		return APIKeys{}, errors.New(variable + " has no service ids")
	}
	return keys, nil
}

// parseHashes reads the value of one entry: a hash or an array of hashes.
func parseHashes(dec *json.Decoder, variable, id string) ([][sha256.Size]byte, error) {
	badValue := fmt.Errorf(variable+"[%q] must be a SHA-256 hex string or an array of them", id)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf(variable+" is not valid JSON (near byte %d)", dec.InputOffset())
	}
	if s, ok := tok.(string); ok {
		h, err := parseHash(variable, id, s)
		if err != nil {
			return nil, err
		}
		return [][sha256.Size]byte{h}, nil
	}
	if tok != json.Delim('[') {
		return nil, badValue
	}
	var hashes [][sha256.Size]byte
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf(variable+" is not valid JSON (near byte %d)", dec.InputOffset())
		}
		s, ok := tok.(string)
		if !ok {
			return nil, badValue
		}
		h, err := parseHash(variable, id, s)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, fmt.Errorf(variable+" is not valid JSON (near byte %d)", dec.InputOffset())
	}
	if len(hashes) == 0 {
		return nil, fmt.Errorf(variable+"[%q] is an empty array", id)
	}
	return hashes, nil
}

func parseHash(variable, id, s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	if len(s) != hex.EncodedLen(sha256.Size) {
		return h, fmt.Errorf(variable+"[%q] is not a SHA-256 hex digest: want %d hex digits, got %d characters (store the hash of the key, not the key)",
			id, hex.EncodedLen(sha256.Size), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf(variable+"[%q] is not a SHA-256 hex digest: it has a character that is not a hex digit", id)
	}
	return h, nil
}

// Known reports whether serviceID has a key. Only for labelling refusals:
// Verify is the check.
func (k APIKeys) Known(serviceID string) bool {
	_, ok := k.byService[serviceID]
	return ok
}

// Len returns how many service ids have keys.
func (k APIKeys) Len() int { return len(k.byService) }

// ServiceIDs returns the service ids that have keys, sorted.
func (k APIKeys) ServiceIDs() []string {
	ids := make([]string, 0, len(k.byService))
	for id := range k.byService {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Verify reports whether key is an API key of serviceID. The SHA-256 of key is
// compared in constant time with every hash of serviceID; an unknown serviceID
// is compared with a dummy hash on the same path, so the time taken does not
// tell which ids exist.
func (k APIKeys) Verify(serviceID, key string) bool {
	sum := sha256.Sum256([]byte(key))
	hashes, found := k.byService[serviceID]
	if !found {
		hashes = dummyHash
	}
	match := 0
	for i := range hashes {
		match |= subtle.ConstantTimeCompare(sum[:], hashes[i][:])
	}
	return match == 1 && found
}
