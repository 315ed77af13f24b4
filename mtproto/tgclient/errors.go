package tgclient

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gotd/td/tgerr"
)

// Kind says what a failed unit of work means for its caller.
type Kind int

const (
	// KindUnavailable: Telegram could not be reached, the connection dropped,
	// or it did not answer in time. Retry later.
	KindUnavailable Kind = iota + 1
	// KindFloodWait: Telegram asks to wait RetryAfter before the next call.
	KindFloodWait
	// KindSessionRejected: Telegram no longer accepts the session's auth key
	// (AUTH_KEY_UNREGISTERED and the like: logged out, terminated, banned).
	// Retrying with the same session cannot work.
	KindSessionRejected
	// KindRefused: Telegram refused the call itself (a bad request).
	KindRefused
)

func (k Kind) String() string {
	switch k {
	case KindUnavailable:
		return "unavailable"
	case KindFloodWait:
		return "flood wait"
	case KindSessionRejected:
		return "session rejected"
	case KindRefused:
		return "refused"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is a failed unit of work. Its text names Telegram's error type when
// there is one and never contains a session or key.
type Error struct {
	Kind Kind
	// Type is Telegram's error type ("FLOOD_WAIT", "AUTH_KEY_UNREGISTERED"),
	// empty when Telegram did not answer.
	Type string
	// Arg is the argument of Telegram's error, where it has one: the data
	// center of X_MIGRATE_X.
	Arg int
	// RetryAfter is how long Telegram asks to wait (KindFloodWait).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	switch e.Kind {
	case KindFloodWait:
		return "Telegram asks to wait " + e.RetryAfter.String() + " before the next call (FLOOD_WAIT)"
	case KindSessionRejected:
		return "Telegram rejected the session (" + e.Type + ")"
	case KindUnavailable:
		return "Telegram is unavailable: " + e.Err.Error()
	}
	return "Telegram refused the call: " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same call may succeed later.
func (e *Error) Retryable() bool { return e.Kind == KindUnavailable || e.Kind == KindFloodWait }

// sessionRejected are the error types with which Telegram refuses an auth key
// or the account behind it.
var sessionRejected = []string{
	"AUTH_KEY_UNREGISTERED", "AUTH_KEY_INVALID", "AUTH_KEY_PERM_EMPTY",
	"SESSION_REVOKED", "SESSION_EXPIRED", "USER_DEACTIVATED", "USER_DEACTIVATED_BAN",
}

// classify turns what gotd returned into an *Error.
func classify(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if d, ok := tgerr.AsFloodWait(err); ok {
		return &Error{Kind: KindFloodWait, Type: "FLOOD_WAIT", RetryAfter: d, Err: err}
	}
	if rpc, ok := tgerr.As(err); ok {
		switch {
		case rpc.Code == 303 || strings.HasSuffix(rpc.Type, "_MIGRATE"):
			return &Error{Kind: KindRefused, Type: rpc.Type, Arg: rpc.Argument, Err: err}
		case rpc.IsOneOf(sessionRejected...) || rpc.Code == 401:
			return &Error{Kind: KindSessionRejected, Type: rpc.Type, Err: err}
		case rpc.Code >= 500 || rpc.Code == -503:
			return &Error{Kind: KindUnavailable, Type: rpc.Type, Err: err}
		}
		return &Error{Kind: KindRefused, Type: rpc.Type, Err: err}
	}
	// Anything else is a failed exchange with the server: a network error,
	// a deadline, or a dropped connection surfacing as an engine or io error.
	return &Error{Kind: KindUnavailable, Err: err}
}
