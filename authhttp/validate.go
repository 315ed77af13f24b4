package authhttp

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/telegramauth"
)

// maxQuoted is how many bytes of a bad input an error message quotes.
const maxQuoted = 24

// quoteInput quotes at most maxQuoted bytes of s for an error message.
func quoteInput(s string) string { return errtext.Quote(s, maxQuoted) }

func invalid(msg string) *telegramauth.Error {
	return telegramauth.NewError(telegramauth.CodeInvalidArgument, msg)
}

var maxUserIDText = strconv.FormatInt(telegramauth.MaxUserID, 10)

// parseUserIDSegment parses the userId path segment: canonical base-10, no
// sign, spaces or leading zeros, 1 ≤ id ≤ 2^53-1.
func parseUserIDSegment(s string) (int64, *telegramauth.Error) {
	if s == "" {
		return 0, invalid("userId is missing from the path")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, invalid("userId must be a positive base-10 integer (digits only, no sign, spaces or exponent), got " + quoteInput(s))
		}
	}
	if strings.TrimLeft(s, "0") == "" {
		return 0, invalid("userId must be positive, got " + quoteInput(s))
	}
	if s[0] == '0' {
		return 0, invalid("userId must not have leading zeros, got " + quoteInput(s))
	}
	if len(s) > len(maxUserIDText) {
		return 0, invalid("userId must be at most " + maxUserIDText + ", got " + quoteInput(s))
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || !telegramauth.ValidUserID(id) {
		return 0, invalid("userId must be at most " + maxUserIDText + ", got " + quoteInput(s))
	}
	return id, nil
}

// Session ids, as the vault generates them: "ses_" and 26 characters of
// lower-case base32 (RFC 4648 alphabet, no padding).
const (
	sessionIDPrefix  = "ses_"
	sessionIDBodyLen = 26
)

// ValidSessionID reports whether id has the form of a session id: "ses_"
// followed by 26 characters of lower-case base32 (a-z, 2-7).
func ValidSessionID(id string) bool {
	body, ok := strings.CutPrefix(id, sessionIDPrefix)
	if !ok || len(body) != sessionIDBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// CheckSessionID is nil for a well-formed session id ("ses_" and 26
// characters a-z, 2-7), or INVALID_ARGUMENT saying what is wrong with it.
func CheckSessionID(id string) error {
	if e := checkSessionID(id); e != nil {
		return e
	}
	return nil
}

func checkSessionID(id string) *telegramauth.Error {
	if id == "" {
		return invalid("sessionId is missing from the path")
	}
	if !ValidSessionID(id) {
		return invalid(`sessionId must be "ses_" followed by 26 lower-case base32 characters (a-z, 2-7), got ` + quoteInput(id))
	}
	return nil
}

// checkUserIDNumber checks the raw JSON of userId in a request body: a JSON
// number written as an integer, 1 ≤ id ≤ 2^53-1. Nothing of the value is
// quoted back.
func checkUserIDNumber(raw json.RawMessage) (int64, *telegramauth.Error) {
	if len(raw) == 0 {
		return 0, invalid("userId is required")
	}
	switch c := raw[0]; {
	case c == '"':
		return 0, invalid("userId must be a JSON number, not a string")
	case c != '-' && (c < '0' || c > '9'):
		return 0, invalid("userId must be a JSON number")
	}
	s := string(raw)
	if strings.ContainsAny(s, ".eE") {
		return 0, invalid("userId must be an integer (no fraction or exponent)")
	}
	if s[0] == '-' || strings.TrimLeft(s, "0") == "" {
		return 0, invalid("userId must be positive")
	}
	if len(s) > len(maxUserIDText) {
		return 0, invalid("userId must be at most " + maxUserIDText)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalid("userId must be a JSON number")
	}
	if !telegramauth.ValidUserID(id) {
		return 0, invalid("userId must be at most " + maxUserIDText)
	}
	return id, nil
}

const importShape = `expected a JSON object {"userId": <number>, "sessionString": <string>}`

// parseImportBody parses the body of POST /sessions/import. Unknown fields are
// ignored; member names match exactly (encoding/json's case-insensitive struct
// matching is avoided on purpose). Nothing of the body is quoted back.
func parseImportBody(body []byte) (int64, string, *telegramauth.Error) {
	trimmed := strings.TrimLeft(string(body), " \t\r\n")
	if trimmed == "" {
		return 0, "", invalid("request body is empty: " + importShape)
	}
	if trimmed[0] != '{' {
		return 0, "", invalid("request body must be a JSON object: " + importShape)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return 0, "", invalid("request body is not valid JSON: " + importShape)
	}
	userID, e := checkUserIDNumber(members["userId"])
	if e != nil {
		return 0, "", e
	}
	raw, ok := members["sessionString"]
	if !ok {
		return 0, "", invalid("sessionString is required")
	}
	if len(raw) == 0 || raw[0] != '"' {
		return 0, "", invalid("sessionString must be a JSON string")
	}
	var sessionString string
	if err := json.Unmarshal(raw, &sessionString); err != nil {
		return 0, "", invalid("sessionString must be a JSON string")
	}
	if sessionString == "" {
		return 0, "", invalid("sessionString is empty")
	}
	return userID, sessionString, nil
}

// ParseUserID parses a userId path segment as the HTTP API does: base-10
// digits only, 1 to 2^53-1. The error is INVALID_ARGUMENT with a message that
// quotes at most a short, sanitized prefix of the input.
func ParseUserID(segment string) (int64, error) {
	id, err := parseUserIDSegment(segment)
	if err != nil {
		return 0, err
	}
	return id, nil
}

// parseAccessLogQuery reads ?userId=&sessionId=&beforeId=&limit=, each optional.
func parseAccessLogQuery(v url.Values) (telegramauth.AccessLogQuery, *telegramauth.Error) {
	var q telegramauth.AccessLogQuery
	if s := v.Get("userId"); s != "" {
		id, e := parseUserIDSegment(s)
		if e != nil {
			return q, e
		}
		q.UserID = id
	}
	if s := v.Get("sessionId"); s != "" {
		if e := checkSessionID(s); e != nil {
			return q, e
		}
		q.SessionID = s
	}
	if s := v.Get("beforeId"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n > telegramauth.MaxUserID {
			return q, invalid("beforeId must be a positive integer, got " + quoteInput(s))
		}
		q.BeforeID = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, invalid("limit must be an integer from 1 to 1000, got " + quoteInput(s))
		}
		q.Limit = n
	}
	return q, nil
}
