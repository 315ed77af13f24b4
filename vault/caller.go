package vault

import (
	"context"
	"slices"
)

// Channels a call can arrive on.
const (
	ChannelServiceBinding = "service-binding"
	ChannelHTTP           = "http"
)

// Caller identifies who is calling. The RPC entrypoint builds it from the
// binding's props (ctx.props.serviceId); the HTTP API from an authenticated API
// key. It never comes from a method argument.
type Caller struct {
	ServiceID string // e.g. "ingestor-service"
	Channel   string // ChannelServiceBinding or ChannelHTTP
	ClientIP  string // HTTP only; "" over a binding
}

type callerKey struct{}

// WithCaller returns ctx carrying the caller of the call.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller carried by ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Action names an operation in the policy and in the access log.
type Action string

// The actions of the Service. Other actions (such as the login flow's) may be
// added; the access log accepts any action name.
const (
	ActionGetSession    Action = "get_session"
	ActionListSessions  Action = "list_sessions"
	ActionRevokeSession Action = "revoke_session"
	ActionImportSession Action = "import_session"
	// ActionReadAccessLog guards (*Service).AccessLog. The default policy allows
	// nobody: an operator service must be named explicitly.
	ActionReadAccessLog Action = "read_access_log"
	// ActionAuthenticate is a refused authentication (RecordDenied).
	ActionAuthenticate Action = "authenticate"
)

// Policy lists, per action, the service ids allowed to perform it. An action
// that is missing, or has an empty list, is allowed to nobody.
type Policy map[Action][]string

// IngestorService is the service id of the ingestor (its binding's props.serviceId).
const IngestorService = "ingestor-service"

// DefaultPolicy allows the ingestor the four session actions and nobody
// anything else.
func DefaultPolicy() Policy {
	return Policy{
		ActionGetSession:    {IngestorService},
		ActionListSessions:  {IngestorService},
		ActionRevokeSession: {IngestorService},
		ActionImportSession: {IngestorService},
	}
}

// Allows reports whether serviceID may perform action. The empty id is never allowed.
func (p Policy) Allows(action Action, serviceID string) bool {
	return serviceID != "" && slices.Contains(p[action], serviceID)
}
