package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
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

// ParsePolicy reads an access policy from JSON (the ACCESS_POLICY setting):
// an object of action to the service ids allowed to perform it, such as
//
//	{"get_session": ["ingestor-service"], "list_sessions": ["ingestor-service", "ops"],
//	 "revoke_session": ["ingestor-service", "ops"], "import_session": ["ingestor-service"],
//	 "read_access_log": ["ops"]}
//
// It replaces the default policy whole: an action it leaves out is allowed to
// nobody. Errors name the unknown action or bad service id.
func ParsePolicy(s string) (Policy, error) {
	var raw map[string][]string
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, errors.New("ACCESS_POLICY is not a JSON object of action to a list of service ids")
	}
	known := map[Action]bool{ActionGetSession: true, ActionListSessions: true, ActionRevokeSession: true, ActionImportSession: true, ActionReadAccessLog: true}
	p := Policy{}
	actions := make([]string, 0, len(raw))
	for a := range raw {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for _, a := range actions {
		if !known[Action(a)] {
			return nil, fmt.Errorf("ACCESS_POLICY: unknown action %q (known: get_session, list_sessions, revoke_session, import_session, read_access_log)", clip(a, 40))
		}
		for _, id := range raw[a] {
			if !validServiceID(id) {
				return nil, fmt.Errorf("ACCESS_POLICY: %s: %q is not a service id (1-64 characters of A-Z a-z 0-9 . _ -)", a, clip(id, 40))
			}
		}
		p[Action(a)] = raw[a]
	}
	return p, nil
}

func validServiceID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
