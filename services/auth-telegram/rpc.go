package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/jsoncodec"
)

// methodActions is the access-policy action of each RPC method: the caller
// is checked before the arguments are decoded. A test checks that every
// method of telegramauth.Service has one.
var methodActions = map[string]telegramauth.Action{
	"getSessionByUserId": telegramauth.ActionGetSession,
	"listSessions":       telegramauth.ActionListSessions,
	"revokeSession":      telegramauth.ActionRevokeSession,
	"importSession":      telegramauth.ActionImportSession,
	"accessLog":          telegramauth.ActionReadAccessLog,

	"startLogin":            telegramauth.ActionStartLogin,
	"completeLogin":         telegramauth.ActionCompleteLogin,
	"submitPassword":        telegramauth.ActionSubmitPassword,
	"resendCode":            telegramauth.ActionResendCode,
	"cancelLogin":           telegramauth.ActionCancelLogin,
	"startQrLogin":          telegramauth.ActionStartQRLogin,
	"pollLogin":             telegramauth.ActionPollLogin,
	"reportSessionRejected": telegramauth.ActionReportRejected,
}

// rpcCaller identifies the caller of an RPC call from its binding, never
// from an argument:
//   - on a named entrypoint (telegramauth.Entrypoints), the service it
//     fixes: deployment tools can set a binding's entrypoint;
//   - on the default entrypoint, the binding's props.serviceId (only
//     wrangler deploys props); without props there is no caller, and the
//     vault refuses the call.
//
// conflict is the service id the props claim when it disagrees with the
// named entrypoint: such a binding is misconfigured or lying, and refused.
func rpcCaller(ctx context.Context) (c vault.Caller, entrypoint, conflict string) {
	c = vault.Caller{Channel: vault.ChannelServiceBinding}
	claimed := propsServiceID(workers.Props(ctx))
	n := workers.Entrypoint(ctx)
	if n == 0 {
		c.ServiceID = claimed
		return c, "default", ""
	}
	if n > len(telegramauth.Entrypoints) {
		return c, "unknown", "" // an entry module newer than this program: no caller
	}
	ep := telegramauth.Entrypoints[n-1]
	c.ServiceID = ep.ServiceID
	if claimed != "" && claimed != ep.ServiceID {
		return c, ep.Name, claimed
	}
	return c, ep.Name, ""
}

// propsServiceID is the serviceId of a binding's props (JSON), or "".
func propsServiceID(props []byte) string {
	if len(props) == 0 {
		return ""
	}
	d := jsoncodec.NewDecoder(props)
	if d.IsNull() {
		return ""
	}
	id := ""
	_ = d.Object(func(key []byte) error {
		if string(key) == "serviceId" {
			if s, err := d.String(); err == nil {
				id = s
			}
			return nil
		}
		return d.Skip()
	})
	return id
}

// rpcTarget is the user or session the first argument of a call names, read
// only for the access-log row of a refusal: the arguments are validated
// after the caller, and anything this cannot read names nothing.
func rpcTarget(action telegramauth.Action, args []byte) vault.Target {
	var t vault.Target
	d := jsoncodec.NewDecoder(args)
	_ = d.Array(func() error {
		switch action {
		case telegramauth.ActionGetSession, telegramauth.ActionListSessions, telegramauth.ActionImportSession,
			telegramauth.ActionStartLogin, telegramauth.ActionStartQRLogin:
			t.UserID, _ = d.Int64()
		case telegramauth.ActionRevokeSession, telegramauth.ActionReportRejected:
			t.SessionID, _ = d.String()
		}
		return errFirstOnly
	})
	return t
}

var errFirstOnly = errors.New("only the first argument is read")

// rpcHandler identifies the caller, checks it before the arguments (a
// caller without the permission is refused and logged whatever it sent),
// and logs one line per call.
type rpcHandler struct {
	next  workers.RPCHandler
	vault *vault.Service // nil while the configuration is unusable
	log   *slog.Logger
}

func (h rpcHandler) ServeRPC(ctx context.Context, method int, args []byte, dst []byte) (out []byte, err error) {
	start := time.Now()
	caller, entrypoint, conflict := rpcCaller(ctx)
	ctx = vault.WithCaller(ctx, caller)
	name := authrpc.ServiceMethod(method)
	action, known := methodActions[name]
	switch {
	case h.vault == nil || !known:
		out, err = h.next.ServeRPC(ctx, method, args, dst)
	case conflict != "":
		err = telegramauth.NewError(telegramauth.CodeForbidden, "the binding's props.serviceId names another service than its entrypoint "+entrypoint+" ("+caller.ServiceID+")")
		h.vault.RecordDenied(ctx, caller, action, rpcTarget(action, args), telegramauth.CodeForbidden)
	default:
		if err = h.vault.Authorize(ctx, action, rpcTarget(action, args)); err == nil {
			out, err = h.next.ServeRPC(ctx, method, args, dst)
		}
	}
	level, outcome := slog.LevelInfo, "ok"
	if err != nil {
		outcome = string(telegramauth.CodeOf(err))
		if outcome == string(telegramauth.CodeInternal) || outcome == string(telegramauth.CodeUnavailable) {
			level = slog.LevelError
		}
	}
	attrs := []slog.Attr{
		slog.String("method", name),
		slog.String("caller", caller.ServiceID),
		slog.String("entrypoint", entrypoint),
		slog.String("outcome", outcome),
		slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
	}
	if conflict != "" {
		attrs = append(attrs, slog.String("props_service_id", errtext.Quote(conflict, 64)))
	}
	h.log.LogAttrs(ctx, level, "rpc", attrs...)
	return out, err
}

func (h rpcHandler) AppendError(dst []byte, err error) []byte { return h.next.AppendError(dst, err) }

// unconfigured answers every call while the configuration is unusable.
type unconfigured struct{ msg string }

func (u unconfigured) err() error { return telegramauth.NewError(telegramauth.CodeUnavailable, u.msg) }

func (u unconfigured) GetSessionByUserID(context.Context, int64) (telegramauth.Session, error) {
	return telegramauth.Session{}, u.err()
}
func (u unconfigured) ListSessions(context.Context, int64) ([]telegramauth.SessionInfo, error) {
	return nil, u.err()
}
func (u unconfigured) RevokeSession(context.Context, string) (telegramauth.Revocation, error) {
	return telegramauth.Revocation{}, u.err()
}
func (u unconfigured) ImportSession(context.Context, int64, string) (telegramauth.SessionInfo, error) {
	return telegramauth.SessionInfo{}, u.err()
}
func (u unconfigured) AccessLog(context.Context, telegramauth.AccessLogQuery) ([]telegramauth.AccessLogEntry, error) {
	return nil, u.err()
}
func (u unconfigured) StartLogin(context.Context, int64, string) (telegramauth.LoginStart, error) {
	return telegramauth.LoginStart{}, u.err()
}
func (u unconfigured) CompleteLogin(context.Context, string, string) (telegramauth.LoginResult, error) {
	return telegramauth.LoginResult{}, u.err()
}
func (u unconfigured) SubmitPassword(context.Context, string, string) (telegramauth.LoginResult, error) {
	return telegramauth.LoginResult{}, u.err()
}
func (u unconfigured) ResendCode(context.Context, string) (telegramauth.LoginStart, error) {
	return telegramauth.LoginStart{}, u.err()
}
func (u unconfigured) CancelLogin(context.Context, string) error { return u.err() }
func (u unconfigured) StartQRLogin(context.Context, int64) (telegramauth.QRLogin, error) {
	return telegramauth.QRLogin{}, u.err()
}
func (u unconfigured) PollLogin(context.Context, string) (telegramauth.LoginResult, error) {
	return telegramauth.LoginResult{}, u.err()
}
func (u unconfigured) ReportSessionRejected(context.Context, string, string) (telegramauth.SessionInfo, error) {
	return telegramauth.SessionInfo{}, u.err()
}
