package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/jsoncodec"
)

// callerFromProps is the RPC caller: the serviceId of the binding's props
// (ctx.props), which only whoever deploys the caller can set. A binding
// without props has no caller, and the vault refuses it (FORBIDDEN).
func callerFromProps(ctx context.Context) vault.Caller {
	c := vault.Caller{Channel: vault.ChannelServiceBinding}
	props := workers.Props(ctx)
	if len(props) == 0 {
		return c
	}
	d := jsoncodec.NewDecoder(props)
	if d.IsNull() {
		return c
	}
	_ = d.Object(func(key []byte) error {
		if string(key) == "serviceId" {
			if s, err := d.String(); err == nil {
				c.ServiceID = s
			}
			return nil
		}
		return d.Skip()
	})
	return c
}

// rpcHandler puts the caller from props into the context and logs one line
// per call.
type rpcHandler struct {
	next workers.RPCHandler
	log  *slog.Logger
}

func (h rpcHandler) ServeRPC(ctx context.Context, method int, args []byte, dst []byte) ([]byte, error) {
	start := time.Now()
	caller := callerFromProps(ctx)
	out, err := h.next.ServeRPC(vault.WithCaller(ctx, caller), method, args, dst)
	name := authrpc.ServiceMethod(method)
	level, outcome := slog.LevelInfo, "ok"
	if err != nil {
		outcome = string(telegramauth.CodeOf(err))
		if outcome == string(telegramauth.CodeInternal) || outcome == string(telegramauth.CodeUnavailable) {
			level = slog.LevelError
		}
	}
	h.log.LogAttrs(ctx, level, "rpc",
		slog.String("method", name),
		slog.String("caller", caller.ServiceID),
		slog.String("outcome", outcome),
		slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
	)
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
