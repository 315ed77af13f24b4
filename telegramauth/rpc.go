package telegramauth

import (
	"errors"
	"strings"

	"github.com/communicator/communicator/internal/jsoncodec"
	"github.com/communicator/communicator/workers"
)

// The hooks of rpc_gen.go (see workers/rpcgen): how the RPC plumbing turns
// errors into the contract's TelegramAuthError and back.

// rpcErrorProps are the own properties of the Error that auth-telegram's RPC
// methods throw, besides name (always TelegramAuthError) and message ("CODE:
// message"). rpcgen declares it in TypeScript and generates its JSON codec.
type rpcErrorProps struct {
	// Code is the error's code.
	Code Code `json:"code"`
	// SessionID is the session the failure concerns, where known.
	SessionID string `json:"sessionId,omitempty"`
}

// internalMessage is all a caller learns of an error that is not an *Error.
const internalMessage = "internal error"

// rpcArgumentError is the error for arguments of method that do not decode:
// INVALID_ARGUMENT naming the parameter and the problem, never the value.
func rpcArgumentError(method, param string, err error) error {
	msg := "malformed arguments"
	var je *jsoncodec.Error
	if errors.As(err, &je) {
		msg = je.Msg
	}
	if param != "" {
		return &Error{Code: CodeInvalidArgument, Message: param + ": " + msg}
	}
	return &Error{Code: CodeInvalidArgument, Message: method + ": " + msg}
}

// rpcAppendError appends the Error JavaScript receives for err:
// {"name":"TelegramAuthError","message":"CODE: message","code":"CODE","sessionId":"..."}.
// An error that is not (or does not wrap) an *Error with a valid code,
// including a *workers.PanicError, is INTERNAL with a generic message: its text
// may hold anything.
func rpcAppendError(dst []byte, err error) []byte {
	props := rpcErrorProps{Code: CodeInternal}
	message := string(CodeInternal) + ": " + internalMessage
	var e *Error
	if errors.As(err, &e) && e.Code.Valid() {
		props = rpcErrorProps{Code: e.Code, SessionID: e.SessionID}
		message = e.Error()
	}
	dst = append(dst, `{"name":"`+ErrorName+`","message":`...)
	dst = jsoncodec.AppendString(dst, message)
	// The props' object continues this one: its '{' becomes a ','.
	start := len(dst)
	dst = props.AppendJSON(dst)
	dst[start] = ','
	return dst
}

// rpcClientError maps what a client call failed with to the contract's errors:
//   - a TelegramAuthError with a code property (compatibility dates from
//     2026-04-21 on keep own properties): that code, message and sessionId;
//   - an error whose message starts with a code ("SESSION_NOT_FOUND: ...",
//     what callers on older dates see): that code;
//   - a result that does not decode: INTERNAL (the two sides disagree on the
//     contract; retrying will not help);
//   - anything else (the binding or the network failed, or the callee died):
//     UNAVAILABLE, which is transient, with the cause wrapped.
func rpcClientError(err error) error {
	var re *workers.RemoteError
	if errors.As(err, &re) {
		if re.Name == ErrorName && len(re.Props) > 0 {
			var props rpcErrorProps
			d := jsoncodec.NewDecoder(re.Props)
			if props.DecodeJSON(d) == nil && props.Code.Valid() {
				msg := strings.TrimPrefix(re.Message, string(props.Code))
				if msg != re.Message {
					msg = strings.TrimPrefix(msg, ":")
					msg = strings.TrimPrefix(msg, " ")
				}
				return &Error{Code: props.Code, Message: msg, SessionID: props.SessionID}
			}
		}
		// Without own properties (an old compatibility date, or wrangler's
		// dev registry between two local processes) the message still starts
		// with the code, sometimes after the error's name folded into it:
		// "TelegramAuthError: SESSION_REVOKED: ...".
		if code, msg, ok := ParseMessage(strings.TrimPrefix(re.Message, ErrorName+": ")); ok {
			return &Error{Code: code, Message: msg}
		}
	}
	var je *jsoncodec.Error
	if errors.As(err, &je) {
		return &Error{Code: CodeInternal, Message: "malformed result from auth-telegram: " + je.Msg}
	}
	return &transportError{err: &Error{Code: CodeUnavailable, Message: "auth-telegram is unreachable"}, cause: err}
}

// transportError is UNAVAILABLE with its cause: errors.As finds the *Error,
// errors.Is and errors.As find the cause (context.DeadlineExceeded, a
// *workers.RemoteError, ...).
type transportError struct {
	err   *Error
	cause error
}

func (e *transportError) Error() string   { return e.err.Error() + ": " + e.cause.Error() }
func (e *transportError) Unwrap() []error { return []error{e.err, e.cause} }
