package vault

import (
	"context"

	"github.com/communicator/communicator/accesspolicy"
	"github.com/communicator/communicator/telegramauth"
)

// Channels a call can arrive on.
const (
	ChannelServiceBinding = "service-binding"
	ChannelHTTP           = "http"
)

// Caller identifies who is calling. The RPC entrypoints build it from the
// binding (its named entrypoint, or its props on the default entrypoint); the
// HTTP API from an authenticated API key. It never comes from a method
// argument.
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

// DefaultPolicy allows the ingestor the four session actions and to report a
// session Telegram rejected, and nobody anything else: logins and the access
// log need a service named by ACCESS_POLICY.
func DefaultPolicy() accesspolicy.Policy {
	ingestor := []string{telegramauth.IngestorService}
	return accesspolicy.Policy{
		string(telegramauth.ActionGetSession):    ingestor,
		string(telegramauth.ActionListSessions):  ingestor,
		string(telegramauth.ActionRevokeSession): ingestor,
		string(telegramauth.ActionImportSession): ingestor,
		string(telegramauth.ActionReport):        ingestor,
	}
}

// ParsePolicy reads an access policy from JSON (the ACCESS_POLICY setting):
// an object of action to the service ids allowed to perform it, such as
//
//	{"get_session": ["ingestor-service"], "list_sessions": ["ingestor-service", "ops"],
//	 "revoke_session": ["ingestor-service", "ops"], "import_session": ["ingestor-service"],
//	 "read_access_log": ["ops"]}
//
// It replaces the default policy whole: an action it leaves out is allowed to
// nobody. Errors name the unknown action or bad service id.
func ParsePolicy(s string) (accesspolicy.Policy, error) {
	known := make([]string, len(telegramauth.Actions))
	for i, a := range telegramauth.Actions {
		known[i] = string(a)
	}
	return accesspolicy.Parse("ACCESS_POLICY", s, known)
}
