// Package httpapi is the HTTP plumbing both services' APIs share, so that
// they answer alike: the response envelope and its error codes, API keys and
// the authentication of a caller, parsing of path parameters and JSON bodies,
// the client's address, the health report, and a guard against encoded
// slashes. Each service's routes live in its own package (authhttp for
// auth-telegram, ingestorhttp for the ingestor).
//
// Every body is the envelope {"success": bool, "data"?: ..., "error"?:
// {"code", "message", ...}} with Content-Type application/json; charset=utf-8,
// Cache-Control: no-store and X-Content-Type-Options: nosniff. The status
// follows the code (telegramauth.Code.HTTPStatus) unless a writer says
// otherwise.
package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/telegramauth"
)

// Envelope is every response body.
type Envelope struct {
	Success bool       `json:"success"`
	Data    any        `json:"data,omitempty"`
	Error   *ErrorBody `json:"error,omitempty"`
}

// ErrorBody is envelope.error. Code is a contract code, or a code of the
// service's own (such as the ingestor's TELEGRAM_FLOOD_WAIT). Retryable and
// RetryAfter (seconds) are set where the service knows them.
type ErrorBody struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	SessionID  string `json:"sessionId,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Retryable  *bool  `json:"retryable,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty"`
}

// WriteData writes the success envelope {"success": true, "data": data}.
func WriteData(w http.ResponseWriter, status int, data any) {
	WriteJSON(w, status, Envelope{Success: true, Data: data})
}

// WriteError writes the error envelope for err: the code, message,
// sessionId, reason and retryAfter (also as Retry-After) of a
// *telegramauth.Error. Status 0 means the status of err's code.
// An error that is not a *telegramauth.Error with a contract code becomes a
// generic 500 INTERNAL: its text may hold anything and is not shown.
func WriteError(w http.ResponseWriter, status int, err error) {
	var e *telegramauth.Error
	if !errors.As(err, &e) || !e.Code.Valid() {
		e = telegramauth.NewError(telegramauth.CodeInternal, "internal error")
	}
	if status == 0 {
		status = e.Code.HTTPStatus()
	}
	WriteErrorBody(w, status, ErrorBody{Code: string(e.Code), Message: e.Message, SessionID: e.SessionID, Reason: e.Reason, RetryAfter: e.RetryAfter})
}

// WriteErrorBody writes the error envelope with body as error, and, when
// body.RetryAfter is set, the Retry-After header.
func WriteErrorBody(w http.ResponseWriter, status int, body ErrorBody) {
	if body.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(body.RetryAfter))
	}
	WriteJSON(w, status, Envelope{Error: &body})
}

// Invalid is INVALID_ARGUMENT with msg.
func Invalid(msg string) *telegramauth.Error {
	return telegramauth.NewError(telegramauth.CodeInvalidArgument, msg)
}

// internalBody is written when an envelope cannot be encoded.
const internalBody = `{"success":false,"error":{"code":"INTERNAL","message":"internal error"}}`

// WriteJSON writes v as the JSON body with the API's headers (no caching,
// no sniffing). If v cannot be encoded the answer is a 500 INTERNAL envelope.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body, status = []byte(internalBody), http.StatusInternalServerError
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// NotFound answers a path no route serves: 404 with INVALID_ARGUMENT (the
// contract has no NOT_FOUND code, and SESSION_NOT_FOUND would tell a caller
// with a misconfigured URL that a user has no session).
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, Invalid("no such route: "+r.Method+" "+Quote(r.URL.EscapedPath())))
}

// maxQuoted is how many bytes of a bad input an error message quotes.
const maxQuoted = 24

// Quote quotes at most a short, sanitized prefix of s for an error message.
func Quote(s string) string { return errtext.Quote(s, maxQuoted) }

// ISOTime formats t as JavaScript's Date.prototype.toISOString does: UTC,
// milliseconds, "Z".
func ISOTime(t time.Time) string { return t.UTC().Format(isoLayout) }

const isoLayout = "2006-01-02T15:04:05.000Z"
