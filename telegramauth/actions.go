package telegramauth

// Action names an operation of auth-telegram in its access policy and in its
// access log (AccessLogEntry.Action).
type Action string

// The actions. A caller may perform an action if auth-telegram's access policy
// lists it for that action.
const (
	ActionGetSession    Action = "get_session"
	ActionListSessions  Action = "list_sessions"
	ActionRevokeSession Action = "revoke_session"
	ActionImportSession Action = "import_session"
	// ActionReadAccessLog guards AccessLog. The default policy allows nobody:
	// an operator service must be named explicitly.
	ActionReadAccessLog Action = "read_access_log"
	// ActionAuthenticate is not a permission: it names refused HTTP
	// authentications in the access log.
	ActionAuthenticate Action = "authenticate"
)

// Actions are the actions an access policy can grant.
var Actions = []Action{ActionGetSession, ActionListSessions, ActionRevokeSession, ActionImportSession, ActionReadAccessLog}
