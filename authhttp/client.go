package authhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/telegramauth"
)

// maxResponseBytes bounds what the client reads of a response.
const maxResponseBytes = 4 << 20

// ClientConfig configures NewClient.
type ClientConfig struct {
	// Endpoint is the API's base URL including the base path, such as
	// "https://auth-telegram.example.com/api/telegram-auth" (the ingestor's
	// TELEGRAM_AUTH_SERVICE_ENDPOINT). http or https, no credentials, query or
	// fragment; a trailing "/" is dropped.
	Endpoint string
	// APIKey and ServiceID are sent as "Authorization: ApiKey <APIKey>" and
	// "X-Service-ID: <ServiceID>".
	APIKey    string
	ServiceID string
	// Transport sends each request once (in a worker, a workers.Transport):
	// no redirect is followed, so a moved endpoint is an error naming the
	// status rather than credentials sent to another place. Required.
	Transport http.RoundTripper
	// Timeout, if positive, bounds each call, on top of the caller's context.
	Timeout time.Duration
}

// Client is telegramauth.Service over auth-telegram's HTTP API. It is safe for
// concurrent use; make one per isolate.
type Client struct {
	base      string
	apiKey    string
	serviceID string
	rt        http.RoundTripper
	timeout   time.Duration
}

var _ telegramauth.Service = (*Client)(nil)

// ConfigError lists every problem of a ClientConfig.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "authhttp: invalid client config: " + strings.Join(e.Problems, "; ")
}

// NewClient validates cfg and returns a client. The error, a *ConfigError,
// names each bad field and never contains the API key.
func NewClient(cfg ClientConfig) (*Client, error) {
	var problems []string
	base, problem := checkEndpoint(cfg.Endpoint)
	if problem != "" {
		problems = append(problems, problem)
	}
	if reason := httpapi.CheckAPIKey(cfg.APIKey); reason != "" {
		problems = append(problems, "APIKey "+reason)
	}
	switch {
	case cfg.ServiceID == "":
		problems = append(problems, "ServiceID is empty")
	case !telegramauth.ValidServiceID(cfg.ServiceID):
		problems = append(problems, "ServiceID must be "+telegramauth.ServiceIDRule)
	}
	if cfg.Transport == nil {
		problems = append(problems, "Transport is nil")
	}
	if cfg.Timeout < 0 {
		problems = append(problems, "Timeout is negative")
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return &Client{base: base, apiKey: cfg.APIKey, serviceID: cfg.ServiceID, rt: cfg.Transport, timeout: cfg.Timeout}, nil
}

func checkEndpoint(endpoint string) (string, string) {
	if endpoint == "" {
		return "", "Endpoint is empty"
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return "", "Endpoint is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "Endpoint must be an http or https URL"
	case u.Host == "":
		return "", "Endpoint has no host"
	case u.User != nil:
		return "", "Endpoint must not contain credentials"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", "Endpoint must not have a query or fragment"
	}
	return strings.TrimRight(endpoint, "/"), ""
}

// GetSessionByUserID implements telegramauth.Service.
func (c *Client) GetSessionByUserID(ctx context.Context, userID int64) (telegramauth.Session, error) {
	if !telegramauth.ValidUserID(userID) {
		return telegramauth.Session{}, badUserID(userID)
	}
	var out wireSession
	if err := c.do(ctx, http.MethodGet, "/sessions/user/"+strconv.FormatInt(userID, 10), nil, &out); err != nil {
		return telegramauth.Session{}, err
	}
	return out.session(), nil
}

// ListSessions implements telegramauth.Service.
func (c *Client) ListSessions(ctx context.Context, userID int64) ([]telegramauth.SessionInfo, error) {
	if !telegramauth.ValidUserID(userID) {
		return nil, badUserID(userID)
	}
	var out []wireInfo
	if err := c.do(ctx, http.MethodGet, "/sessions/list/"+strconv.FormatInt(userID, 10), nil, &out); err != nil {
		return nil, err
	}
	list := make([]telegramauth.SessionInfo, len(out))
	for i, w := range out {
		list[i] = w.info()
	}
	return list, nil
}

// RevokeSession implements telegramauth.Service.
func (c *Client) RevokeSession(ctx context.Context, sessionID string) (telegramauth.Revocation, error) {
	if e := httpapi.CheckSessionID(sessionID); e != nil {
		return telegramauth.Revocation{}, e
	}
	var out wireRevocation
	if err := c.do(ctx, http.MethodDelete, "/sessions/"+sessionID, nil, &out); err != nil {
		return telegramauth.Revocation{}, err
	}
	return telegramauth.Revocation{SessionID: out.SessionID, RevokedAt: time.Time(out.RevokedAt)}, nil
}

// ImportSession implements telegramauth.Service.
func (c *Client) ImportSession(ctx context.Context, userID int64, sessionString string) (telegramauth.SessionInfo, error) {
	if !telegramauth.ValidUserID(userID) {
		return telegramauth.SessionInfo{}, badUserID(userID)
	}
	if sessionString == "" {
		return telegramauth.SessionInfo{}, invalid("sessionString is empty")
	}
	body, err := json.Marshal(wireImport{UserID: userID, SessionString: sessionString})
	if err != nil {
		return telegramauth.SessionInfo{}, telegramauth.NewError(telegramauth.CodeInternal, "could not encode the request")
	}
	var out wireInfo
	if err := c.do(ctx, http.MethodPost, "/sessions/import", body, &out); err != nil {
		return telegramauth.SessionInfo{}, err
	}
	return out.info(), nil
}

func badUserID(id int64) *telegramauth.Error {
	return invalid("userId must be between 1 and " + maxUserIDText + ", got " + strconv.FormatInt(id, 10))
}

// transportError is UNAVAILABLE caused by the transport (the request could
// not be sent, or the response could not be read): a
// *telegramauth.CausedError whose cause's text (a *url.Error names the method
// and URL, never headers) has the API key cut out should it ever appear.
func (c *Client) transportError(what string, cause error) error {
	return telegramauth.WithCause(telegramauth.NewError(telegramauth.CodeUnavailable, what), redacted{cause, c.apiKey})
}

// redacted is an error whose text never shows secret.
type redacted struct {
	err    error
	secret string
}

func (r redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.secret, "[redacted]") }
func (r redacted) Unwrap() error { return r.err }

func unavailable(msg string) *telegramauth.Error {
	return telegramauth.NewError(telegramauth.CodeUnavailable, msg)
}

func statusText(code int) string {
	s := "HTTP " + strconv.Itoa(code)
	if t := http.StatusText(code); t != "" {
		s += " " + t
	}
	return s
}

// rawEnvelope is a response body as the client reads it.
type rawEnvelope struct {
	Success *bool           `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		SessionID  string `json:"sessionId"`
		Reason     string `json:"reason"`
		RetryAfter int    `json:"retryAfter"`
	} `json:"error"`
}

// do sends one request and decodes the envelope's data into out.
// AccessLog implements telegramauth.Service: GET /access-log.
func (c *Client) AccessLog(ctx context.Context, q telegramauth.AccessLogQuery) ([]telegramauth.AccessLogEntry, error) {
	v := url.Values{}
	if q.UserID != 0 {
		v.Set("userId", strconv.FormatInt(q.UserID, 10))
	}
	if q.SessionID != "" {
		v.Set("sessionId", q.SessionID)
	}
	if q.BeforeID != 0 {
		v.Set("beforeId", strconv.FormatInt(q.BeforeID, 10))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/access-log"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out []wireLogEntry
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	entries := make([]telegramauth.AccessLogEntry, len(out))
	for i, w := range out {
		entries[i] = w.entry()
	}
	return entries, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return telegramauth.NewError(telegramauth.CodeInternal, "could not build the request")
	}
	httpapi.SetAPIKey(req.Header, c.serviceID, c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return c.transportError("auth-telegram request failed", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return c.transportError("reading auth-telegram's response ("+statusText(resp.StatusCode)+") failed", err)
	}
	if len(data) > maxResponseBytes {
		return unavailable("auth-telegram's response (" + statusText(resp.StatusCode) + ") is larger than " + strconv.Itoa(maxResponseBytes) + " bytes")
	}
	return decodeResponse(resp.StatusCode, data, out)
}

// decodeResponse turns a response into out or an error. The body is never
// quoted: it may hold a session string.
func decodeResponse(status int, body []byte, out any) error {
	var env rawEnvelope
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(body, &env) != nil || env.Success == nil {
		return unavailable("auth-telegram answered " + statusText(status) + " without a response envelope")
	}
	ok2xx := status >= 200 && status < 300
	if !*env.Success {
		if env.Error == nil {
			return unavailable("auth-telegram answered " + statusText(status) + " with an error envelope without error")
		}
		code := telegramauth.Code(env.Error.Code)
		if !code.Valid() {
			// A code this client does not know: classify by status.
			if status >= 500 {
				return unavailable("auth-telegram answered " + statusText(status) + " with an unknown error code: " + env.Error.Message)
			}
			return telegramauth.NewError(telegramauth.CodeInternal, "auth-telegram answered "+statusText(status)+" with an unknown error code: "+env.Error.Message)
		}
		return &telegramauth.Error{Code: code, Message: env.Error.Message, SessionID: env.Error.SessionID,
			Reason: env.Error.Reason, RetryAfter: env.Error.RetryAfter}
	}
	if !ok2xx {
		return unavailable("auth-telegram answered " + statusText(status) + " with a success envelope")
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return telegramauth.NewError(telegramauth.CodeInternal, "auth-telegram's response has no data")
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return telegramauth.NewError(telegramauth.CodeInternal, "auth-telegram's response data has an unexpected shape")
	}
	return nil
}

// post sends v as the JSON body of a POST to path and decodes the answer into out.
func (c *Client) post(ctx context.Context, path string, v any, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return telegramauth.NewError(telegramauth.CodeInternal, "could not encode the request")
	}
	return c.do(ctx, http.MethodPost, path, body, out)
}

// StartLogin implements telegramauth.Service: POST /login/start.
func (c *Client) StartLogin(ctx context.Context, userID int64, phone string) (telegramauth.LoginStart, error) {
	if !telegramauth.ValidUserID(userID) {
		return telegramauth.LoginStart{}, badUserID(userID)
	}
	var out wireLoginStart
	err := c.post(ctx, "/login/start", struct {
		UserID int64  `json:"userId"`
		Phone  string `json:"phone"`
	}{userID, phone}, &out)
	return out.start(), err
}

// CompleteLogin implements telegramauth.Service: POST /login/code.
func (c *Client) CompleteLogin(ctx context.Context, loginID, code string) (telegramauth.LoginResult, error) {
	var out wireLoginResult
	err := c.post(ctx, "/login/code", struct {
		LoginID string `json:"loginId"`
		Code    string `json:"code"`
	}{loginID, code}, &out)
	return out.result(), err
}

// SubmitPassword implements telegramauth.Service: POST /login/password.
func (c *Client) SubmitPassword(ctx context.Context, loginID, password string) (telegramauth.LoginResult, error) {
	var out wireLoginResult
	err := c.post(ctx, "/login/password", struct {
		LoginID  string `json:"loginId"`
		Password string `json:"password"`
	}{loginID, password}, &out)
	return out.result(), err
}

type loginIDBody struct {
	LoginID string `json:"loginId"`
}

// ResendCode implements telegramauth.Service: POST /login/resend.
func (c *Client) ResendCode(ctx context.Context, loginID string) (telegramauth.LoginStart, error) {
	var out wireLoginStart
	err := c.post(ctx, "/login/resend", loginIDBody{loginID}, &out)
	return out.start(), err
}

// CancelLogin implements telegramauth.Service: POST /login/cancel.
func (c *Client) CancelLogin(ctx context.Context, loginID string) error {
	var out wireCancelled
	return c.post(ctx, "/login/cancel", loginIDBody{loginID}, &out)
}

// StartQRLogin implements telegramauth.Service: POST /login/qr.
func (c *Client) StartQRLogin(ctx context.Context, userID int64) (telegramauth.QRLogin, error) {
	if !telegramauth.ValidUserID(userID) {
		return telegramauth.QRLogin{}, badUserID(userID)
	}
	var out wireQRLogin
	err := c.post(ctx, "/login/qr", struct {
		UserID int64 `json:"userId"`
	}{userID}, &out)
	return telegramauth.QRLogin{LoginID: out.LoginID, URL: out.URL, ExpiresAt: time.Time(out.ExpiresAt)}, err
}

// PollLogin implements telegramauth.Service: POST /login/poll.
func (c *Client) PollLogin(ctx context.Context, loginID string) (telegramauth.LoginResult, error) {
	var out wireLoginResult
	err := c.post(ctx, "/login/poll", loginIDBody{loginID}, &out)
	return out.result(), err
}

// ReportSessionRejected implements telegramauth.Service: POST
// /sessions/:sessionId/rejected.
func (c *Client) ReportSessionRejected(ctx context.Context, sessionID, reason string) (telegramauth.SessionInfo, error) {
	if e := httpapi.CheckSessionID(sessionID); e != nil {
		return telegramauth.SessionInfo{}, e
	}
	var out wireInfo
	err := c.post(ctx, "/sessions/"+sessionID+"/rejected", struct {
		Reason string `json:"reason"`
	}{reason}, &out)
	return out.info(), err
}
