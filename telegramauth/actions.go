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
	// ActionLogin guards every login method; the default policy allows
	// nobody (an operator's or an app's backend service must be named).
	ActionLogin Action = "login"
	// ActionReport guards ReportSessionRejected (ingestor-service by default).
	ActionReport Action = "report"
	// ActionReadStats guards the HTTP API's stats (the answering isolate's
	// memory); the default policy allows nobody.
	ActionReadStats Action = "read_stats"
)

// The access-log actions of the login steps, all under the login permission.
const (
	ActionStartLogin     Action = "start_login"
	ActionCompleteLogin  Action = "complete_login"
	ActionSubmitPassword Action = "submit_password"
	ActionResendCode     Action = "resend_code"
	ActionCancelLogin    Action = "cancel_login"
	ActionStartQRLogin   Action = "start_qr_login"
	ActionPollLogin      Action = "poll_login"
	ActionReportRejected Action = "report_rejected"
)

// Actions are the actions an access policy can grant.
var Actions = []Action{ActionGetSession, ActionListSessions, ActionRevokeSession, ActionImportSession, ActionReadAccessLog, ActionLogin, ActionReport, ActionReadStats}

// Permission is the action of the access policy that allows action: the
// login permission for every login step, report for report_rejected, the
// action itself otherwise.
func Permission(action Action) Action {
	switch action {
	case ActionStartLogin, ActionCompleteLogin, ActionSubmitPassword, ActionResendCode,
		ActionCancelLogin, ActionStartQRLogin, ActionPollLogin:
		return ActionLogin
	case ActionReportRejected:
		return ActionReport
	}
	return action
}
