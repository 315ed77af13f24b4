package authhttp

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

var invalid = httpapi.Invalid

var maxUserIDText = strconv.FormatInt(telegramauth.MaxUserID, 10)

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

const importShape = `a JSON object {"userId": <number>, "sessionString": <string>}`

// parseImportBody parses the body of POST /sessions/import. Unknown members
// are ignored; member names match exactly (encoding/json's case-insensitive
// struct matching is avoided on purpose) and each may appear once. Nothing
// of the body is quoted back.
func parseImportBody(body []byte) (int64, string, *telegramauth.Error) {
	members, e := httpapi.DecodeObject(body, importShape)
	if e != nil {
		return 0, "", e
	}
	userID, e := checkUserIDNumber(members["userId"])
	if e != nil {
		return 0, "", e
	}
	raw, ok := members["sessionString"]
	if !ok {
		return 0, "", invalid("sessionString is required")
	}
	var sessionString string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &sessionString) != nil {
		return 0, "", invalid("sessionString must be a JSON string")
	}
	if sessionString == "" {
		return 0, "", invalid("sessionString is empty")
	}
	return userID, sessionString, nil
}

// parseAccessLogQuery reads ?userId=&sessionId=&beforeId=&limit=, each optional.
func parseAccessLogQuery(v url.Values) (telegramauth.AccessLogQuery, *telegramauth.Error) {
	var q telegramauth.AccessLogQuery
	if s := v.Get("userId"); s != "" {
		id, e := httpapi.ParseUserID(s)
		if e != nil {
			return q, e
		}
		q.UserID = id
	}
	if s := v.Get("sessionId"); s != "" {
		if e := httpapi.CheckSessionID(s); e != nil {
			return q, e
		}
		q.SessionID = s
	}
	if s := v.Get("beforeId"); s != "" {
		n, e := httpapi.ParseID("beforeId", s)
		if e != nil {
			return q, e
		}
		q.BeforeID = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, invalid("limit must be an integer from 1 to 1000, got " + httpapi.Quote(s))
		}
		q.Limit = n
	}
	return q, nil
}

// loginBody is the body of a login route: the members the route names,
// each required. Member names match exactly, each may appear once, unknown
// members are ignored, and nothing of the body is quoted back.
type loginBody struct {
	UserID   int64
	Phone    string
	LoginID  string
	Code     string
	Password string
	Reason   string
}

// parseLoginBody parses body with the members of shape: "userId" (a
// number), and any of "phone", "loginId", "code", "password", "reason"
// (strings).
func parseLoginBody(body []byte, shape string, names ...string) (loginBody, *telegramauth.Error) {
	var b loginBody
	members, e := httpapi.DecodeObject(body, shape)
	if e != nil {
		return b, e
	}
	for _, name := range names {
		if name == "userId" {
			if b.UserID, e = checkUserIDNumber(members["userId"]); e != nil {
				return b, e
			}
			continue
		}
		raw, ok := members[name]
		if !ok {
			return b, invalid(name + " is required")
		}
		var v string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
			return b, invalid(name + " must be a JSON string")
		}
		switch name {
		case "phone":
			b.Phone = v
		case "loginId":
			if !telegramauth.ValidLoginID(v) {
				return b, invalid("loginId is not a login id: want " + telegramauth.LoginIDRule)
			}
			b.LoginID = v
		case "code":
			b.Code = v
		case "password":
			b.Password = v
		case "reason":
			b.Reason = v
		}
	}
	return b, nil
}
