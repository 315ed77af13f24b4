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
)

// Codes lists every code of the contract.
var Codes = []Code{
	CodeInvalidArgument, CodeSessionNotFound, CodeSessionExpired, CodeSessionRevoked,
	CodeUnauthenticated, CodeForbidden, CodeUnavailable, CodeInternal,
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
}

// HTTPStatus is the HTTP status that carries the code.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeInvalidArgument:
		return 400
	case CodeUnauthenticated:
		return 401
	case CodeForbidden:
		return 403
	case CodeSessionNotFound:
		return 404
	case CodeSessionExpired, CodeSessionRevoked:
		return 410
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

// Transient reports whether a call that failed with c may succeed if retried.
func (c Code) Transient() bool { return c == CodeUnavailable }

// Error is the error of the contract. Message never contains a secret.
type Error struct {
	Code      Code
	Message   string // without the code prefix
	SessionID string // set where the failure concerns a known session
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
	return ok && t.Code == e.Code && t.Message == "" && t.SessionID == ""
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
