package telegramauth

import (
	"errors"
	"strings"
)

// Code is an error code of the contract. It crosses RPC as the own property
// `code` of an Error named TelegramAuthError, and HTTP as error.code of the
// response envelope.
type Code string

// The codes of the contract.
const (
	CodeInvalidArgument Code = "INVALID_ARGUMENT"
	CodeSessionNotFound Code = "SESSION_NOT_FOUND"
	CodeSessionExpired  Code = "SESSION_EXPIRED"
	CodeSessionRevoked  Code = "SESSION_REVOKED"
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeUnavailable     Code = "UNAVAILABLE"
	CodeInternal        Code = "INTERNAL"

	// The login's codes. Telegram's own refusals carry Telegram's error type
	// as Error.Reason.
	CodeSessionRejected     Code = "SESSION_REJECTED"      // Telegram refused the session (ReportSessionRejected)
	CodePhoneNumberInvalid  Code = "PHONE_NUMBER_INVALID"  // not a phone, or Telegram refuses it (banned, unoccupied)
	CodePhoneCodeInvalid    Code = "PHONE_CODE_INVALID"    // a wrong code; Error.Message says the attempts left
	CodePhoneCodeExpired    Code = "PHONE_CODE_EXPIRED"    // the code expired or was cancelled: ResendCode or StartLogin
	CodePasswordHashInvalid Code = "PASSWORD_HASH_INVALID" // a wrong 2FA password; attempts left in the message
	CodeFloodWait           Code = "FLOOD_WAIT"            // Telegram asks to wait Error.RetryAfter seconds
	CodeLoginExpired        Code = "LOGIN_EXPIRED"         // the login ran out of time or attempts: start again
	CodeLoginNotFound       Code = "LOGIN_NOT_FOUND"       // no live login of this caller has this id
	CodeLoginBusy           Code = "LOGIN_BUSY"            // another step of the login is in progress
	CodeLoginRefused        Code = "LOGIN_REFUSED"         // Telegram refused the login otherwise (Error.Reason)
)

// Codes lists every code of the contract.
var Codes = []Code{
	CodeInvalidArgument, CodeSessionNotFound, CodeSessionExpired, CodeSessionRevoked,
	CodeUnauthenticated, CodeForbidden, CodeUnavailable, CodeInternal,
	CodeSessionRejected, CodePhoneNumberInvalid, CodePhoneCodeInvalid, CodePhoneCodeExpired,
	CodePasswordHashInvalid, CodeFloodWait, CodeLoginExpired, CodeLoginNotFound, CodeLoginBusy, CodeLoginRefused,
}

// ErrorName is the JavaScript `name` of every error auth-telegram throws over RPC.
const ErrorName = "TelegramAuthError"

// ErrorProps are the own properties of the Error that auth-telegram's RPC
// methods throw, besides name (always TelegramAuthError) and message ("CODE:
// message").
type ErrorProps struct {
	// Code is the error's code.
	Code Code `json:"code"`
	// SessionID is the session the failure concerns, where known.
	SessionID string `json:"sessionId,omitempty"`
	// Reason is Telegram's error type when Telegram refused ("PHONE_CODE_INVALID").
	Reason string `json:"reason,omitempty"`
	// RetryAfter is how many seconds to wait before trying again (FLOOD_WAIT).
	RetryAfter int `json:"retryAfter,omitempty"`
}

// HTTPStatus is the HTTP status that carries the code.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeInvalidArgument, CodePhoneNumberInvalid, CodePhoneCodeInvalid, CodePasswordHashInvalid:
		return 400
	case CodeUnauthenticated:
		return 401
	case CodeForbidden:
		return 403
	case CodeSessionNotFound, CodeLoginNotFound:
		return 404
	case CodeSessionExpired, CodeSessionRevoked, CodeSessionRejected, CodePhoneCodeExpired, CodeLoginExpired:
		return 410
	case CodeLoginBusy:
		return 409
	case CodeLoginRefused:
		return 422
	case CodeFloodWait:
		return 429
	case CodeUnavailable:
		return 503
	default:
		return 500
	}
}

// Valid reports whether c is one of the contract's codes.
func (c Code) Valid() bool {
	for _, k := range Codes {
		if c == k {
			return true
		}
	}
	return false
}

// Transient reports whether a call that failed with c may succeed if retried
// at once. FLOOD_WAIT may too, but only after its RetryAfter.
func (c Code) Transient() bool { return c == CodeUnavailable }

// Error is the error of the contract. Message never contains a secret.
type Error struct {
	Code       Code
	Message    string // without the code prefix
	SessionID  string // set where the failure concerns a known session
	Reason     string // Telegram's error type, where Telegram refused
	RetryAfter int    // seconds to wait (FLOOD_WAIT)
}

// NewError returns an *Error with code and message.
func NewError(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Error returns "CODE: message", the form JavaScript callers see as err.message.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// Is makes errors.Is(err, &Error{Code: c}) match any error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.SessionID == "" && t.Reason == "" && t.RetryAfter == 0
}

// CodeOf returns the code of err: its own if it is (or wraps) an *Error,
// INTERNAL otherwise, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ParseMessage recovers the code from an error message of the form "CODE: message"
// (what a caller on an old compatibility date receives instead of own properties).
func ParseMessage(message string) (Code, string, bool) {
	code, rest, found := strings.Cut(message, ":")
	c := Code(code)
	if !c.Valid() {
		return "", message, false
	}
	if !found {
		return c, "", true
	}
	return c, strings.TrimPrefix(rest, " "), true
}

// CausedError is a contract error with what caused it, such as UNAVAILABLE
// caused by a network failure: errors.As finds the *Error, and errors.Is and
// errors.As find the cause (context.DeadlineExceeded, a transport's error).
// Only the contract error's message reaches a caller; the cause is for logs.
type CausedError struct {
	Err   *Error
	Cause error
}

// WithCause returns e caused by cause.
func WithCause(e *Error, cause error) error { return &CausedError{Err: e, Cause: cause} }

func (e *CausedError) Error() string   { return e.Err.Error() + ": " + e.Cause.Error() }
func (e *CausedError) Unwrap() []error { return []error{e.Err, e.Cause} }
