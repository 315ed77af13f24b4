package authhttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/communicator/communicator/telegramauth"
)

// DefaultBasePath is where the API lives unless HandlerConfig.BasePath says otherwise.
const DefaultBasePath = "/api/telegram-auth"

// DefaultServiceName is what health reports as the service unless
// HandlerConfig.ServiceName says otherwise.
const DefaultServiceName = "auth-telegram"

// MaxBodyBytes is the largest request body accepted (POST /sessions/import).
const MaxBodyBytes = 64 << 10

// Header names of the API.
const (
	HeaderAuthorization = "Authorization"
	HeaderServiceID     = "X-Service-ID"
	HeaderConnectingIP  = "CF-Connecting-IP"
	authScheme          = "ApiKey"
	maxAPIKeyLen        = 1024
)

// HealthReport is what the service adds to the health response. Nothing in it
// may be secret: health needs no authentication.
type HealthReport struct {
	// Checks by name, such as "db" or "secrets".
	Checks map[string]HealthCheck
}

// HealthCheck is the outcome of one health check.
type HealthCheck struct {
	OK bool
	// Detail is a short, non-secret explanation ("reachable", "SESSION_SECRET
	// is not set"); optional.
	Detail string
}

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Service serves the calls. Required.
	Service telegramauth.Service
	// APIKeys are the callers' API keys (ParseAPIKeys of SERVICE_API_KEYS).
	// The zero value denies every authenticated route.
	APIKeys APIKeys
	// BasePath is where the routes live: "" means DefaultBasePath, "/" the root.
	// It must start with "/" and must not end with "/" (but for "/" itself).
	BasePath string
	// ServiceName and Version are reported by health; ServiceName defaults to
	// DefaultServiceName.
	ServiceName string
	Version     string
	// Health, if set, runs the service's checks (D1 reachable, secrets
	// configured) for the health route.
	Health func(ctx context.Context) HealthReport
	// WithCaller, if set, puts an authenticated caller into the context the
	// Service is called with.
	WithCaller func(ctx context.Context, serviceID, clientIP string) context.Context
	// OnDenied, if set, is told about every failed authentication (for the
	// access log). serviceID is the claimed id (sanitized, "" if missing),
	// route the matched route pattern such as "GET /api/telegram-auth/sessions/user/:userId".
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
)

type route struct {
	kind    routeKind
	methods []string // allowed methods, the first is the route's own
	allow   string   // Allow header for 405
	pattern string   // for OnDenied: "METHOD base/path/:param"
}

type handler struct {
	cfg    HandlerConfig
	base   string // "" for the root
	routes [6]route
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
	mk := func(kind routeKind, path string, methods ...string) route {
		return route{kind: kind, methods: methods, allow: strings.Join(methods, ", "), pattern: methods[0] + " " + base + path}
	}
	h.routes = [...]route{
		routeHealth:        mk(routeHealth, "/health", http.MethodGet, http.MethodHead),
		routeGetSession:    mk(routeGetSession, "/sessions/user/:userId", http.MethodGet),
		routeListSessions:  mk(routeListSessions, "/sessions/list/:userId", http.MethodGet),
		routeRevokeSession: mk(routeRevokeSession, "/sessions/:sessionId", http.MethodDelete),
		routeImportSession: mk(routeImportSession, "/sessions/import", http.MethodPost),
		routeAccessLog:     mk(routeAccessLog, "/access-log", http.MethodGet),
	}
	return h
}

// match finds the route of path and its parameter.
func (h *handler) match(path string) (*route, string, bool) {
	if path == "/health" {
		return &h.routes[routeHealth], "", true
	}
	rest, ok := strings.CutPrefix(path, h.base)
	if !ok || !strings.HasPrefix(rest, "/") {
		return nil, "", false
	}
	seg := strings.Split(rest[1:], "/")
	switch {
	case len(seg) == 1 && seg[0] == "health":
		return &h.routes[routeHealth], "", true
	case len(seg) == 1 && seg[0] == "access-log":
		return &h.routes[routeAccessLog], "", true
	case len(seg) == 2 && seg[0] == "sessions" && seg[1] == "import":
		return &h.routes[routeImportSession], "", true
	case len(seg) == 2 && seg[0] == "sessions":
		return &h.routes[routeRevokeSession], seg[1], true
	case len(seg) == 3 && seg[0] == "sessions" && seg[1] == "user":
		return &h.routes[routeGetSession], seg[2], true
	case len(seg) == 3 && seg[0] == "sessions" && seg[1] == "list":
		return &h.routes[routeListSessions], seg[2], true
	}
	return nil, "", false
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, param, ok := h.match(r.URL.Path)
	if !ok {
		// No contract code means "no such route"; see the package comment.
		WriteError(w, http.StatusNotFound, invalid("no such route: "+quoteInput(r.URL.Path)))
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
		WriteError(w, http.StatusMethodNotAllowed, invalid("method "+quoteInput(r.Method)+" is not allowed here; allowed: "+rt.allow))
		return
	}
	if rt.kind == routeHealth {
		h.serveHealth(w, r)
		return
	}
	ctx, ok := h.authenticate(w, r, rt)
	if !ok {
		return
	}
	svc := h.cfg.Service
	switch rt.kind {
	case routeGetSession:
		if h.cfg.SessionReadsOff {
			serviceID, _ := ctx.Value(authenticatedKey{}).(string)
			if h.cfg.OnDenied != nil {
				h.cfg.OnDenied(ctx, serviceID, clientIP(r), rt.pattern, telegramauth.CodeForbidden)
			}
			WriteError(w, 0, telegramauth.NewError(telegramauth.CodeForbidden, "session hand-outs over HTTP are turned off here: use the TELEGRAM_AUTH service binding"))
			return
		}
		userID, e := parseUserIDSegment(param)
		if e != nil {
			WriteError(w, 0, e)
			return
		}
		s, err := svc.GetSessionByUserID(ctx, userID)
		if err != nil {
			WriteError(w, 0, err)
			return
		}
		WriteData(w, http.StatusOK, toWireSession(s))
	case routeListSessions:
		userID, e := parseUserIDSegment(param)
		if e != nil {
			WriteError(w, 0, e)
			return
		}
		list, err := svc.ListSessions(ctx, userID)
		if err != nil {
			WriteError(w, 0, err)
			return
		}
		out := make([]wireInfo, len(list))
		for i, s := range list {
			out[i] = toWireInfo(s)
		}
		WriteData(w, http.StatusOK, out)
	case routeRevokeSession:
		if e := checkSessionID(param); e != nil {
			WriteError(w, 0, e)
			return
		}
		rev, err := svc.RevokeSession(ctx, param)
		if err != nil {
			WriteError(w, 0, err)
			return
		}
		WriteData(w, http.StatusOK, wireRevocation{SessionID: rev.SessionID, RevokedAt: jsTime(rev.RevokedAt)})
	case routeImportSession:
		body, status, e := readBody(w, r)
		if e != nil {
			WriteError(w, status, e)
			return
		}
		userID, sessionString, e := parseImportBody(body)
		if e != nil {
			WriteError(w, 0, e)
			return
		}
		info, err := svc.ImportSession(ctx, userID, sessionString)
		if err != nil {
			WriteError(w, 0, err)
			return
		}
		WriteData(w, http.StatusCreated, toWireInfo(info))
	case routeAccessLog:
		q, e := parseAccessLogQuery(r.URL.Query())
		if e != nil {
			WriteError(w, 0, e)
			return
		}
		entries, err := svc.AccessLog(ctx, q)
		if err != nil {
			WriteError(w, 0, err)
			return
		}
		out := make([]wireLogEntry, len(entries))
		for i, e := range entries {
			out[i] = toWireLogEntry(e)
		}
		WriteData(w, http.StatusOK, out)
	}
}

// authenticatedKey carries the authenticated service id in the context.
type authenticatedKey struct{}

var errTooLarge = invalid("request body exceeds the limit of " + strconv.Itoa(MaxBodyBytes) + " bytes (64 KiB)")

// readBody reads at most MaxBodyBytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, *telegramauth.Error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, errTooLarge
		}
		return nil, 0, invalid("could not read the request body")
	}
	return body, 0, nil
}

// authenticate checks the caller's API key and service id. On failure it
// answers 401 and reports the failure to OnDenied.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request, rt *route) (context.Context, bool) {
	ctx := r.Context()
	ip := clientIP(r)
	serviceID, claimed, err := Authenticate(r, h.cfg.APIKeys)
	if err != nil {
		if h.cfg.OnDenied != nil {
			h.cfg.OnDenied(ctx, claimed, ip, rt.pattern, err.Code)
		}
		w.Header().Set("WWW-Authenticate", authScheme)
		WriteError(w, 0, err)
		return nil, false
	}
	ctx = context.WithValue(ctx, authenticatedKey{}, serviceID)
	if h.cfg.WithCaller != nil {
		ctx = h.cfg.WithCaller(ctx, serviceID, ip)
	}
	return ctx, true
}

// Authenticate checks a request's "Authorization: ApiKey <key>" and
// "X-Service-ID: <id>" against keys, comparing in constant time. It returns the
// authenticated service id, or an UNAUTHENTICATED error that names what was
// wrong and never the key; claimed is the service id the request claimed (for
// an audit log), sanitized when malformed.
func Authenticate(r *http.Request, keys APIKeys) (serviceID, claimed string, err *telegramauth.Error) {
	deny := func(msg string) (string, string, *telegramauth.Error) {
		return "", claimed, telegramauth.NewError(telegramauth.CodeUnauthenticated, msg)
	}
	ids := r.Header.Values(HeaderServiceID)
	if len(ids) > 0 {
		claimed = ids[0]
		if !validServiceID(claimed) {
			claimed = strings.Trim(quoteInput(claimed), `"`)
		}
	}
	auths := r.Header.Values(HeaderAuthorization)
	if len(auths) == 0 || auths[0] == "" {
		return deny(`missing Authorization header: expected "Authorization: ApiKey <key>"`)
	}
	key, ok := parseAuthorization(auths)
	if !ok {
		return deny(`malformed Authorization header: expected "Authorization: ApiKey <key>"`)
	}
	if len(ids) == 0 || ids[0] == "" {
		claimed = ""
		return deny("missing X-Service-ID header: expected \"X-Service-ID: <service id>\"")
	}
	if len(ids) > 1 || !validServiceID(ids[0]) {
		return deny("malformed X-Service-ID header: expected one service id of 1-64 characters of A-Z a-z 0-9 . _ -")
	}
	if !keys.Verify(ids[0], key) {
		return deny("invalid API key for this X-Service-ID")
	}
	return ids[0], ids[0], nil
}

func parseAuthorization(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, key, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, authScheme) {
		return "", false
	}
	key = strings.TrimLeft(key, " ")
	if key == "" || len(key) > maxAPIKeyLen {
		return "", false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return "", false
		}
	}
	return key, true
}

// clientIP is the CF-Connecting-IP header if it holds an IP address, else the
// host of the remote address, else "". Cloudflare's edge sets CF-Connecting-IP;
// behind anything else (wrangler dev) it is whatever the client sent.
func clientIP(r *http.Request) string {
	if v := r.Header.Get(HeaderConnectingIP); v != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
			return a.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	return ""
}

func (h *handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	data := wireHealth{Status: "ok", Service: h.cfg.ServiceName, Version: h.cfg.Version, Checks: map[string]wireCheck{}}
	var failed []string
	if h.cfg.Health != nil {
		for name, c := range h.cfg.Health(r.Context()).Checks {
			wc := wireCheck{Status: "ok", Detail: c.Detail}
			if !c.OK {
				wc.Status = "fail"
				failed = append(failed, name)
			}
			data.Checks[name] = wc
		}
	}
	if len(failed) == 0 {
		WriteData(w, http.StatusOK, data)
		return
	}
	data.Status = "degraded"
	sort.Strings(failed)
	code := telegramauth.CodeUnavailable
	writeJSON(w, code.HTTPStatus(), envelope{
		Success: false,
		Data:    data,
		Error:   &wireError{Code: string(code), Message: "degraded: failing checks: " + strings.Join(failed, ", ")},
	})
}

// WriteData writes the success envelope {"success": true, "data": data}.
func WriteData(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, envelope{Success: true, Data: data})
}

// WriteError writes the error envelope for err: the code, message and
// sessionId of a *telegramauth.Error. Status 0 means the status of err's code.
// An error that is not a *telegramauth.Error with a contract code becomes a
// generic 500 INTERNAL: its text may hold anything and is not shown.
func WriteError(w http.ResponseWriter, status int, err error) {
	var e *telegramauth.Error
	if !errors.As(err, &e) || !e.Code.Valid() {
		e = telegramauth.NewError(telegramauth.CodeInternal, "internal error")
	}
	if status == 0 {
		status = e.Code.HTTPStatus()
	}
	writeJSON(w, status, envelope{Error: &wireError{Code: string(e.Code), Message: e.Message, SessionID: e.SessionID}})
}

// internalBody is written when an envelope cannot be encoded.
const internalBody = `{"success":false,"error":{"code":"INTERNAL","message":"internal error"}}`

func writeJSON(w http.ResponseWriter, status int, env envelope) { WriteJSON(w, status, env) }

// WriteJSON writes v as the JSON body with this API's headers (no caching,
// no sniffing). v must encode as an envelope does; if it cannot be encoded
// the answer is a 500 INTERNAL envelope.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body, status = []byte(internalBody), http.StatusInternalServerError
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
