package telegramauth

import "strings"

// The rules for the ids that cross the contract. Every service checks ids
// with these functions; none keeps a copy of the rules.

// MaxUserID is the largest user id accepted: ids cross JavaScript as numbers,
// which are exact up to 2^53-1.
const MaxUserID = 1<<53 - 1

// ValidUserID reports whether id is a user id: 1 to 2^53-1.
func ValidUserID(id int64) bool { return id > 0 && id <= MaxUserID }

// MaxServiceIDLen is the longest service id.
const MaxServiceIDLen = 64

// ServiceIDRule says what a service id is, for error messages.
const ServiceIDRule = "1-64 characters of A-Z a-z 0-9 . _ -"

// ValidServiceID reports whether id is a service id: 1-64 characters of
// A-Z a-z 0-9 . _ - (such as "ingestor-service" or "Ingestor_1").
func ValidServiceID(id string) bool {
	if len(id) == 0 || len(id) > MaxServiceIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Session ids are "ses_" and 26 characters of lower-case base32 (RFC 4648
// alphabet, no padding): 128 random bits.
const (
	SessionIDPrefix  = "ses_"
	sessionIDBodyLen = 26
	// SessionIDRule says what a session id is, for error messages.
	SessionIDRule = `"ses_" followed by 26 lower-case base32 characters (a-z, 2-7)`
)

// ValidSessionID reports whether id has the form of a session id.
func ValidSessionID(id string) bool {
	body, ok := strings.CutPrefix(id, SessionIDPrefix)
	return ok && validBase32ID(body)
}

// validBase32ID reports whether body is 26 characters of lower-case base32
// (a-z, 2-7): the 128 random bits of a session or login id.
func validBase32ID(body string) bool {
	if len(body) != sessionIDBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
