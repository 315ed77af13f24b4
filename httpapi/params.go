package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/communicator/communicator/internal/strictjson"
	"github.com/communicator/communicator/telegramauth"
)

var maxUserIDText = strconv.FormatInt(telegramauth.MaxUserID, 10)

// ParseUserID parses a userId path segment or query value: canonical base-10
// (digits only, no sign, spaces, exponent or leading zeros: a JavaScript
// number never prints that way, and one user has one URL), 1 ≤ id ≤ 2^53-1.
// The error is INVALID_ARGUMENT quoting at most a short, sanitized prefix.
func ParseUserID(s string) (int64, *telegramauth.Error) {
	return parseID("userId", s)
}

// ParseID parses a positive id parameter named name the way ParseUserID
// parses userId.
func ParseID(name, s string) (int64, *telegramauth.Error) { return parseID(name, s) }

func parseID(name, s string) (int64, *telegramauth.Error) {
	if s == "" {
		return 0, Invalid(name + " is missing")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, Invalid(name + " must be a positive base-10 integer (digits only, no sign, spaces or exponent), got " + Quote(s))
		}
	}
	if strings.TrimLeft(s, "0") == "" {
		return 0, Invalid(name + " must be positive, got " + Quote(s))
	}
	if s[0] == '0' {
		return 0, Invalid(name + " must not have leading zeros, got " + Quote(s))
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if len(s) > len(maxUserIDText) || err != nil || id > telegramauth.MaxUserID {
		return 0, Invalid(name + " must be at most " + maxUserIDText + ", got " + Quote(s))
	}
	return id, nil
}

// CheckSessionID is nil for a well-formed session id, or INVALID_ARGUMENT
// saying what is wrong with it.
func CheckSessionID(id string) *telegramauth.Error {
	if id == "" {
		return Invalid("sessionId is missing")
	}
	if !telegramauth.ValidSessionID(id) {
		return Invalid("sessionId must be " + telegramauth.SessionIDRule + ", got " + Quote(id))
	}
	return nil
}

// ReadBody reads at most max bytes of the request body. A larger body is 413
// with INVALID_ARGUMENT (status returned beside the error; 0 means the code's).
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, int, *telegramauth.Error) {
	tooLarge := Invalid("request body exceeds the limit of " + strconv.FormatInt(max, 10) + " bytes")
	if r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, 0, Invalid("could not read the request body")
	}
	return body, 0, nil
}

// DecodeObject reads a request body that must be one JSON object whose
// members are each named once; shape describes the expected object for the
// error message. Nothing of the body is quoted back but a repeated member's
// name.
func DecodeObject(body []byte, shape string) (map[string]json.RawMessage, *telegramauth.Error) {
	members, err := strictjson.Object(body)
	if err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) && se.Key != "" {
			return nil, Invalid("request body: " + se.Msg)
		}
		msg := "request body is not valid JSON"
		if errors.As(err, &se) {
			switch {
			case strings.HasPrefix(se.Msg, "empty"):
				msg = "request body is empty"
			case strings.HasPrefix(se.Msg, "not "):
				msg = "request body is " + se.Msg // "not valid JSON", "not a JSON object"
			default:
				msg = "request body has " + se.Msg // "data after the JSON object"
			}
		}
		return nil, Invalid(msg + ": expected " + shape)
	}
	return members, nil
}
