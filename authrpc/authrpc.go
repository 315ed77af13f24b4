// Package authrpc is auth-telegram's RPC surface (telegramauth.Service) over
// Workers RPC: the generated JSON codecs, the dispatcher the entry module's
// classes call (NewServiceHandler), the client of a service binding
// (ServiceClient), and the hooks below that turn errors into the contract's
// TelegramAuthError and back. authhttp is the same surface over HTTP.
package authrpc

//go:generate go run ../workers/rpcgen -contract ../telegramauth -type Service -entrypoints Entrypoints -go rpc_gen.go -js ../services/auth-telegram/entry/worker.mjs -dts ../services/auth-telegram/entry/auth-telegram.d.ts -js-class TelegramAuthWorker -service auth-telegram -error-name TelegramAuthError -error-type ErrorProps

import (
	"errors"
	"strings"

	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/jsoncodec"
)

// internalMessage is all a caller learns of an error that is not a
// *telegramauth.Error.
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
		return telegramauth.NewError(telegramauth.CodeInvalidArgument, param+": "+msg)
	}
	return telegramauth.NewError(telegramauth.CodeInvalidArgument, method+": "+msg)
}

// rpcAppendError appends the Error JavaScript receives for err:
// {"name":"TelegramAuthError","message":"CODE: message","code":"CODE","sessionId":"...","reason":"...","retryAfter":N}.
// An error that is not (or does not wrap) a *telegramauth.Error with a valid
// code, including a *workers.PanicError, is INTERNAL with a generic message:
// its text may hold anything.
func rpcAppendError(dst []byte, err error) []byte {
	props := telegramauth.ErrorProps{Code: telegramauth.CodeInternal}
	message := string(telegramauth.CodeInternal) + ": " + internalMessage
	var e *telegramauth.Error
	if errors.As(err, &e) && e.Code.Valid() {
		props = telegramauth.ErrorProps{Code: e.Code, SessionID: e.SessionID, Reason: e.Reason, RetryAfter: e.RetryAfter}
		message = e.Error()
	}
	dst = append(dst, `{"name":"`+telegramauth.ErrorName+`","message":`...)
	dst = jsoncodec.AppendString(dst, message)
	// The props' object continues this one: its '{' becomes a ','.
	start := len(dst)
	dst = appendErrorPropsJSON(dst, &props)
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
//     UNAVAILABLE, which is transient, with the cause.
func rpcClientError(err error) error {
	var re *workers.RemoteError
	if errors.As(err, &re) {
		if re.Name == telegramauth.ErrorName && len(re.Props) > 0 {
			var props telegramauth.ErrorProps
			d := jsoncodec.NewDecoder(re.Props)
			if decodeErrorPropsJSON(d, &props) == nil && props.Code.Valid() {
				msg := strings.TrimPrefix(re.Message, string(props.Code))
				if msg != re.Message {
					msg = strings.TrimPrefix(msg, ":")
					msg = strings.TrimPrefix(msg, " ")
				}
				return &telegramauth.Error{Code: props.Code, Message: msg, SessionID: props.SessionID, Reason: props.Reason, RetryAfter: props.RetryAfter}
			}
		}
		// Without own properties (an old compatibility date, or wrangler's
		// dev registry between two local processes) the message still starts
		// with the code, sometimes after the error's name folded into it:
		// "TelegramAuthError: SESSION_REVOKED: ...".
		if code, msg, ok := telegramauth.ParseMessage(strings.TrimPrefix(re.Message, telegramauth.ErrorName+": ")); ok {
			return telegramauth.NewError(code, msg)
		}
	}
	var je *jsoncodec.Error
	if errors.As(err, &je) {
		return telegramauth.NewError(telegramauth.CodeInternal, "malformed result from auth-telegram: "+je.Msg)
	}
	return telegramauth.WithCause(telegramauth.NewError(telegramauth.CodeUnavailable, "auth-telegram is unreachable"), err)
}
