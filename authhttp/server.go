package authhttp

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

// DefaultBasePath is where the API lives unless HandlerConfig.BasePath says otherwise.
const DefaultBasePath = "/api/telegram-auth"

// DefaultServiceName is what health reports as the service unless
// HandlerConfig.ServiceName says otherwise.
const DefaultServiceName = "auth-telegram"

// MaxBodyBytes is the largest request body accepted (POST /sessions/import).
const MaxBodyBytes = 64 << 10

// maxLoginBodyBytes is the largest body of a login route: a phone, a code
// or a password (at most 256 bytes) and a login id fit many times over.
const maxLoginBodyBytes = 4 << 10

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Service serves the calls. Required.
	Service telegramauth.Service
	// APIKeys are the callers' API keys (httpapi.ParseAPIKeys of
	// SERVICE_API_KEYS). The zero value denies every authenticated route.
	APIKeys httpapi.APIKeys
	// BasePath is where the routes live: "" means DefaultBasePath, "/" the root.
	// It must start with "/" and must not end with "/" (but for "/" itself).
	BasePath string
	// ServiceName and Version are reported by health; ServiceName defaults to
	// DefaultServiceName.
	ServiceName string
	Version     string
	// Health, if set, runs the service's checks (D1 reachable, configuration)
	// for the health route.
	Health func(ctx context.Context) map[string]httpapi.Check
	// Stats, if set, answers GET /stats (the read_stats permission) with
	// the answering isolate's figures; unset, the route answers UNAVAILABLE.
	// Its error is the answer.
	Stats func(ctx context.Context) (any, error)
	// WithCaller, if set, puts an authenticated caller into the context the
	// Service is called with.
	WithCaller func(ctx context.Context, serviceID, clientIP string) context.Context
	// Authorize, if set, decides whether the authenticated caller in ctx may
	// perform action, before the request's parameters and body are
	// validated: a caller without the permission learns FORBIDDEN, whatever
	// it sent, and the refusal is recorded once. userID and sessionID are
	// what the path names, if well-formed (else 0 and ""), for the record
	// only; the body is not read. Its error is the answer.
	Authorize func(ctx context.Context, action telegramauth.Action, userID int64, sessionID string) error
	// OnDenied, if set, is told about every failed authentication (for the
	// access log). serviceID is httpapi.ClaimedServiceID of the request, route
	// the matched route pattern such as "GET /api/telegram-auth/sessions/user/:userId".
	OnDenied func(ctx context.Context, serviceID, clientIP, route string, code telegramauth.Code)
	// SessionReadsOff turns the session hand-out route off (403 FORBIDDEN,
	// reported to OnDenied): once every caller uses the service binding, the
	// HTTP API need not hand out sessions at all. Listing, revoking, importing,
	// the access log and health stay.
	SessionReadsOff bool
}

type routeKind int

const (
	routeHealth routeKind = iota
	routeGetSession
	routeListSessions
	routeRevokeSession
	routeImportSession
	routeAccessLog
	routeStartLogin
	routeCompleteLogin
	routeSubmitPassword
	routeResendCode
	routeCancelLogin
	routeStartQRLogin
	routePollLogin
	routeReportRejected
	routeStats
	routeCount
)

type route struct {
	kind    routeKind
	action  telegramauth.Action // what the access policy must allow ("" for health)
	methods []string            // allowed methods, the first is the route's own
	allow   string              // Allow header for 405
	pattern string              // for OnDenied: "METHOD base/path/:param"
}

type handler struct {
	cfg    HandlerConfig
	base   string // "" for the root
	routes [routeCount]route
}

// NewHandler returns auth-telegram's HTTP API. It panics if cfg.Service is nil
// or cfg.BasePath is malformed: both are programming errors, not configuration
// read at run time.
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.Service == nil {
		panic("authhttp: HandlerConfig.Service is nil")
	}
	base := cfg.BasePath
	switch {
	case base == "":
		base = DefaultBasePath
	case base == "/":
		base = ""
	case base[0] != '/' || strings.HasSuffix(base, "/"):
		panic("authhttp: HandlerConfig.BasePath must start with \"/\" and not end with \"/\"")
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	h := &handler{cfg: cfg, base: base}
	mk := func(kind routeKind, action telegramauth.Action, path string, methods ...string) route {
		return route{kind: kind, action: action, methods: methods, allow: strings.Join(methods, ", "), pattern: methods[0] + " " + base + path}
	}
	h.routes = [...]route{
		routeHealth:        mk(routeHealth, "", "/health", http.MethodGet, http.MethodHead),
		routeGetSession:    mk(routeGetSession, telegramauth.ActionGetSession, "/sessions/user/:userId", http.MethodGet),
		routeListSessions:  mk(routeListSessions, telegramauth.ActionListSessions, "/sessions/list/:userId", http.MethodGet),
		routeRevokeSession: mk(routeRevokeSession, telegramauth.ActionRevokeSession, "/sessions/:sessionId", http.MethodDelete),
		routeImportSession: mk(routeImportSession, telegramauth.ActionImportSession, "/sessions/import", http.MethodPost),
		routeAccessLog:     mk(routeAccessLog, telegramauth.ActionReadAccessLog, "/access-log", http.MethodGet),

		routeStartLogin:     mk(routeStartLogin, telegramauth.ActionStartLogin, "/login/start", http.MethodPost),
		routeCompleteLogin:  mk(routeCompleteLogin, telegramauth.ActionCompleteLogin, "/login/code", http.MethodPost),
		routeSubmitPassword: mk(routeSubmitPassword, telegramauth.ActionSubmitPassword, "/login/password", http.MethodPost),
		routeResendCode:     mk(routeResendCode, telegramauth.ActionResendCode, "/login/resend", http.MethodPost),
		routeCancelLogin:    mk(routeCancelLogin, telegramauth.ActionCancelLogin, "/login/cancel", http.MethodPost),
		routeStartQRLogin:   mk(routeStartQRLogin, telegramauth.ActionStartQRLogin, "/login/qr", http.MethodPost),
		routePollLogin:      mk(routePollLogin, telegramauth.ActionPollLogin, "/login/poll", http.MethodPost),
		routeReportRejected: mk(routeReportRejected, telegramauth.ActionReportRejected, "/sessions/:sessionId/rejected", http.MethodPost),
		routeStats:          mk(routeStats, telegramauth.ActionReadStats, "/stats", http.MethodGet),
	}
	return httpapi.RefuseEncodedSlashes(h)
}

// match finds the route of the raw (still escaped) path and its parameter,
// unescaped. Matching the raw path segment by segment means an escaped
// character never makes a new segment (RefuseEncodedSlashes refuses %2F
// before this).
func (h *handler) match(rawPath string) (*route, string, bool) {
	if rawPath == "/health" {
		return &h.routes[routeHealth], "", true
	}
	rest, ok := strings.CutPrefix(rawPath, h.base)
	if !ok || !strings.HasPrefix(rest, "/") {
		return nil, "", false
	}
	seg := strings.Split(rest[1:], "/")
	param := func(i int) string {
		p, err := url.PathUnescape(seg[i])
		if err != nil {
			return seg[i]
		}
		return p
	}
	switch {
	case len(seg) == 1 && seg[0] == "health":
		return &h.routes[routeHealth], "", true
	case len(seg) == 1 && seg[0] == "access-log":
		return &h.routes[routeAccessLog], "", true
	case len(seg) == 1 && seg[0] == "stats":
		return &h.routes[routeStats], "", true
	case len(seg) == 2 && seg[0] == "sessions" && seg[1] == "import":
		return &h.routes[routeImportSession], "", true
	case len(seg) == 2 && seg[0] == "sessions":
		return &h.routes[routeRevokeSession], param(1), true
	case len(seg) == 3 && seg[0] == "sessions" && seg[1] == "user":
		return &h.routes[routeGetSession], param(2), true
	case len(seg) == 3 && seg[0] == "sessions" && seg[1] == "list":
		return &h.routes[routeListSessions], param(2), true
	case len(seg) == 3 && seg[0] == "sessions" && seg[2] == "rejected":
		return &h.routes[routeReportRejected], param(1), true
	case len(seg) == 2 && seg[0] == "login":
		if k, ok := loginRoutes[seg[1]]; ok {
			return &h.routes[k], "", true
		}
	}
	return nil, "", false
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, param, ok := h.match(r.URL.EscapedPath())
	if !ok {
		httpapi.NotFound(w, r)
		return
	}
	allowed := false
	for _, m := range rt.methods {
		if r.Method == m {
			allowed = true
			break
		}
	}
	if !allowed {
		w.Header().Set("Allow", rt.allow)
		httpapi.WriteError(w, http.StatusMethodNotAllowed, httpapi.Invalid("method "+httpapi.Quote(r.Method)+" is not allowed here; allowed: "+rt.allow))
		return
	}
	if rt.kind == routeHealth {
		h.serveHealth(w, r)
		return
	}
	// Who is calling, then whether they may, then what they sent.
	ctx, serviceID, ok := h.authenticate(w, r, rt)
	if !ok {
		return
	}
	if rt.kind == routeGetSession && h.cfg.SessionReadsOff {
		if h.cfg.OnDenied != nil {
			h.cfg.OnDenied(ctx, serviceID, httpapi.ClientIP(r), rt.pattern, telegramauth.CodeForbidden)
		}
		httpapi.WriteError(w, 0, telegramauth.NewError(telegramauth.CodeForbidden, "session hand-outs over HTTP are turned off here: use the TELEGRAM_AUTH service binding"))
		return
	}
	if h.cfg.Authorize != nil {
		userID, sessionID := pathTarget(rt.kind, param)
		if err := h.cfg.Authorize(ctx, rt.action, userID, sessionID); err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
	}
	svc := h.cfg.Service
	switch rt.kind {
	case routeGetSession:
		userID, e := httpapi.ParseUserID(param)
		if e != nil {
			httpapi.WriteError(w, 0, e)
			return
		}
		s, err := svc.GetSessionByUserID(ctx, userID)
		if err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
		httpapi.WriteData(w, http.StatusOK, toWireSession(s))
	case routeListSessions:
		userID, e := httpapi.ParseUserID(param)
		if e != nil {
			httpapi.WriteError(w, 0, e)
			return
		}
		list, err := svc.ListSessions(ctx, userID)
		if err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
		out := make([]wireInfo, len(list))
		for i, s := range list {
			out[i] = toWireInfo(s)
		}
		httpapi.WriteData(w, http.StatusOK, out)
	case routeRevokeSession:
		if e := httpapi.CheckSessionID(param); e != nil {
			httpapi.WriteError(w, 0, e)
			return
		}
		rev, err := svc.RevokeSession(ctx, param)
		if err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
		httpapi.WriteData(w, http.StatusOK, wireRevocation{SessionID: rev.SessionID, RevokedAt: jsTime(rev.RevokedAt)})
	case routeImportSession:
		body, status, e := httpapi.ReadBody(w, r, MaxBodyBytes)
		if e != nil {
			httpapi.WriteError(w, status, e)
			return
		}
		userID, sessionString, e := parseImportBody(body)
		if e != nil {
			httpapi.WriteError(w, 0, e)
			return
		}
		info, err := svc.ImportSession(ctx, userID, sessionString)
		if err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
		httpapi.WriteData(w, http.StatusCreated, toWireInfo(info))
	case routeAccessLog:
		q, e := parseAccessLogQuery(r.URL.Query())
		if e != nil {
			httpapi.WriteError(w, 0, e)
			return
		}
		entries, err := svc.AccessLog(ctx, q)
		if err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
		out := make([]wireLogEntry, len(entries))
		for i, e := range entries {
			out[i] = toWireLogEntry(e)
		}
		httpapi.WriteData(w, http.StatusOK, out)
	case routeStats:
		if h.cfg.Stats == nil {
			httpapi.WriteError(w, 0, telegramauth.NewError(telegramauth.CodeUnavailable, "stats are not served here"))
			return
		}
		stats, err := h.cfg.Stats(ctx)
		if err != nil {
			httpapi.WriteError(w, 0, err)
			return
		}
		httpapi.WriteData(w, http.StatusOK, stats)
	default:
		h.serveLogin(ctx, w, r, rt.kind, param)
	}
}

// loginRoutes are the login routes by their last segment.
var loginRoutes = map[string]routeKind{
	"start": routeStartLogin, "code": routeCompleteLogin, "password": routeSubmitPassword,
	"resend": routeResendCode, "cancel": routeCancelLogin, "qr": routeStartQRLogin, "poll": routePollLogin,
}

// Shapes of the login routes' bodies, for error messages.
const (
	startLoginShape = `a JSON object {"userId": <number>, "phone": <string>}`
	codeShape       = `a JSON object {"loginId": <string>, "code": <string>}`
	passwordShape   = `a JSON object {"loginId": <string>, "password": <string>}`
	loginIDShape    = `a JSON object {"loginId": <string>}`
	userIDShape     = `a JSON object {"userId": <number>}`
	reasonShape     = `a JSON object {"reason": <string>}`
)

// serveLogin serves the login routes and the report of a rejected session:
// POST with a JSON body, so that codes and passwords never travel in a URL.
func (h *handler) serveLogin(ctx context.Context, w http.ResponseWriter, r *http.Request, kind routeKind, param string) {
	if kind == routeReportRejected {
		if e := httpapi.CheckSessionID(param); e != nil {
			httpapi.WriteError(w, 0, e)
			return
		}
	}
	body, status, e := httpapi.ReadBody(w, r, maxLoginBodyBytes)
	if e != nil {
		httpapi.WriteError(w, status, e)
		return
	}
	var b loginBody
	switch kind {
	case routeStartLogin:
		b, e = parseLoginBody(body, startLoginShape, "userId", "phone")
	case routeCompleteLogin:
		b, e = parseLoginBody(body, codeShape, "loginId", "code")
	case routeSubmitPassword:
		b, e = parseLoginBody(body, passwordShape, "loginId", "password")
	case routeResendCode, routeCancelLogin, routePollLogin:
		b, e = parseLoginBody(body, loginIDShape, "loginId")
	case routeStartQRLogin:
		b, e = parseLoginBody(body, userIDShape, "userId")
	case routeReportRejected:
		b, e = parseLoginBody(body, reasonShape, "reason")
	}
	if e != nil {
		httpapi.WriteError(w, 0, e)
		return
	}
	svc := h.cfg.Service
	var data any
	var err error
	status = http.StatusOK
	switch kind {
	case routeStartLogin:
		var s telegramauth.LoginStart
		s, err = svc.StartLogin(ctx, b.UserID, b.Phone)
		data, status = toWireLoginStart(s), http.StatusCreated
	case routeCompleteLogin:
		var res telegramauth.LoginResult
		res, err = svc.CompleteLogin(ctx, b.LoginID, b.Code)
		data = toWireLoginResult(res)
	case routeSubmitPassword:
		var res telegramauth.LoginResult
		res, err = svc.SubmitPassword(ctx, b.LoginID, b.Password)
		data = toWireLoginResult(res)
	case routeResendCode:
		var s telegramauth.LoginStart
		s, err = svc.ResendCode(ctx, b.LoginID)
		data = toWireLoginStart(s)
	case routeCancelLogin:
		err = svc.CancelLogin(ctx, b.LoginID)
		data = wireCancelled{LoginID: b.LoginID, Cancelled: true}
	case routeStartQRLogin:
		var q telegramauth.QRLogin
		q, err = svc.StartQRLogin(ctx, b.UserID)
		data, status = wireQRLogin{LoginID: q.LoginID, URL: q.URL, ExpiresAt: jsTime(q.ExpiresAt)}, http.StatusCreated
	case routePollLogin:
		var res telegramauth.LoginResult
		res, err = svc.PollLogin(ctx, b.LoginID)
		data = toWireLoginResult(res)
	case routeReportRejected:
		var info telegramauth.SessionInfo
		info, err = svc.ReportSessionRejected(ctx, param, b.Reason)
		data = toWireInfo(info)
	}
	if err != nil {
		httpapi.WriteError(w, 0, err)
		return
	}
	httpapi.WriteData(w, status, data)
}

// pathTarget is the user or session a route's path parameter names, if it
// is well-formed: what Authorize records of a refused request.
func pathTarget(kind routeKind, param string) (userID int64, sessionID string) {
	switch kind {
	case routeGetSession, routeListSessions:
		if id, e := httpapi.ParseUserID(param); e == nil {
			return id, ""
		}
	case routeRevokeSession, routeReportRejected:
		if httpapi.CheckSessionID(param) == nil {
			return 0, param
		}
	}
	return 0, ""
}

// authenticate checks the caller's API key and service id. On failure it
// answers 401 and reports the failure to OnDenied.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request, rt *route) (context.Context, string, bool) {
	ctx := r.Context()
	ip := httpapi.ClientIP(r)
	serviceID, claimed, err := httpapi.Authenticate(r, h.cfg.APIKeys)
	if err != nil {
		if h.cfg.OnDenied != nil {
			h.cfg.OnDenied(ctx, claimed, ip, rt.pattern, err.Code)
		}
		w.Header().Set("WWW-Authenticate", httpapi.AuthScheme)
		httpapi.WriteError(w, 0, err)
		return nil, "", false
	}
	if h.cfg.WithCaller != nil {
		ctx = h.cfg.WithCaller(ctx, serviceID, ip)
	}
	return ctx, serviceID, true
}

func (h *handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	rep := httpapi.Health{Service: h.cfg.ServiceName, Version: h.cfg.Version, Checks: map[string]httpapi.Check{}}
	if h.cfg.Health != nil {
		rep.Checks = h.cfg.Health(r.Context())
	}
	httpapi.WriteHealth(w, rep)
}
