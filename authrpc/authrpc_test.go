package authrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	// The contract's names read as they do in package telegramauth.
	. "github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/jsoncodec"
)

// Times with a millisecond part that does not end in zero are written the
// same by AppendTime and by encoding/json (RFC 3339 with trimmed zeros).
var (
	created = time.Date(2026, 11, 26, 22, 22, 44, 123e6, time.UTC)
	used    = created.Add(90*time.Minute + 2*time.Millisecond)
	expires = created.AddDate(0, 1, 0)
)

// codec is a value with its generated codec functions.
type codec struct {
	v      any
	append func() []byte
	decode func(d *jsoncodec.Decoder) (any, error)
}

func codecOf[T any](v T, app func([]byte, *T) []byte, dec func(*jsoncodec.Decoder, *T) error) codec {
	return codec{
		v:      &v,
		append: func() []byte { return app(nil, &v) },
		decode: func(d *jsoncodec.Decoder) (any, error) { var back T; err := dec(d, &back); return &back, err },
	}
}

func TestCodecsMatchEncodingJSON(t *testing.T) {
	values := []codec{
		codecOf(Session{SessionString: "1AgAAAA+/=", SessionID: "s-1", UserID: MaxUserID, ExpiresAt: expires}, appendSessionJSON, decodeSessionJSON),
		codecOf(Session{SessionString: "with \"quotes\" \\ and \n and é", SessionID: "", UserID: 1, ExpiresAt: expires}, appendSessionJSON, decodeSessionJSON),
		codecOf(SessionInfo{SessionID: "s-2", UserID: 42, CreatedAt: created, ExpiresAt: expires, Status: StatusActive}, appendSessionInfoJSON, decodeSessionInfoJSON),
		codecOf(SessionInfo{SessionID: "s-3", UserID: 42, CreatedAt: created, ExpiresAt: expires, LastUsedAt: &used,
			RevokedAt: &used, Status: StatusRevoked}, appendSessionInfoJSON, decodeSessionInfoJSON),
		codecOf(Revocation{SessionID: "s-4", RevokedAt: used}, appendRevocationJSON, decodeRevocationJSON),
		codecOf(ErrorProps{Code: CodeSessionRevoked, SessionID: "s-5"}, appendErrorPropsJSON, decodeErrorPropsJSON),
		codecOf(ErrorProps{Code: CodeInternal}, appendErrorPropsJSON, decodeErrorPropsJSON),
	}
	for _, c := range values {
		v := c.v
		got := c.append()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T:\nappend       %s\nencoding/json %s", v, got, want)
		}
		// Both decoders read it back as v.
		std := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(got, std); err != nil || !reflect.DeepEqual(std, v) {
			t.Errorf("%T: encoding/json read %s as %+v, %v", v, got, std, err)
		}
		d := jsoncodec.NewDecoder(got)
		back, err := c.decode(d)
		if err != nil || d.End() != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("%T: decode read %s as %+v, %v", v, got, back, err)
		}
	}
}

func TestTimesAreISOStrings(t *testing.T) {
	v := SessionInfo{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), ExpiresAt: created.Add(999999)}
	got := string(appendSessionInfoJSON(nil, &v))
	for _, want := range []string{`"createdAt":"2026-01-02T02:04:05.000Z"`, `"expiresAt":"2026-11-26T22:22:44.123Z"`,
		`"lastUsedAt":null`, `"revokedAt":null`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
}

func TestDecodeErrorNamesTheField(t *testing.T) {
	var s Session
	err := decodeSessionJSON(jsoncodec.NewDecoder([]byte(`{"sessionId":"x","expiresAt":1700000000}`)), &s)
	if err == nil || err.Error() != "jsoncodec: offset 29: expiresAt: expected a string (a date-time), found a number" {
		t.Errorf("got %v", err)
	}
}

// fakeService validates as auth-telegram does and answers with canned values.
type fakeService struct {
	calls []string
	err   error
}

var errNotPositive = NewError(CodeInvalidArgument, "userId must be a positive integer")

func (f *fakeService) GetSessionByUserID(ctx context.Context, userID int64) (Session, error) {
	f.calls = append(f.calls, fmt.Sprint("get ", userID))
	if !ValidUserID(userID) {
		return Session{}, errNotPositive
	}
	return Session{SessionString: "1AgAA", SessionID: "s-1", UserID: userID, ExpiresAt: expires}, f.err
}

func (f *fakeService) ListSessions(ctx context.Context, userID int64) ([]SessionInfo, error) {
	f.calls = append(f.calls, fmt.Sprint("list ", userID))
	if !ValidUserID(userID) {
		return nil, errNotPositive
	}
	if userID == 2 {
		return nil, f.err // no sessions: [] on the wire
	}
	return []SessionInfo{
		{SessionID: "s-2", UserID: userID, CreatedAt: created, ExpiresAt: expires, LastUsedAt: &used, Status: StatusActive},
		{SessionID: "s-1", UserID: userID, CreatedAt: created, ExpiresAt: expires, RevokedAt: &used, Status: StatusRevoked},
	}, f.err
}

func (f *fakeService) RevokeSession(ctx context.Context, sessionID string) (Revocation, error) {
	f.calls = append(f.calls, "revoke "+sessionID)
	return Revocation{SessionID: sessionID, RevokedAt: used}, f.err
}

func (f *fakeService) ImportSession(ctx context.Context, userID int64, sessionString string) (SessionInfo, error) {
	f.calls = append(f.calls, fmt.Sprint("import ", userID, " ", len(sessionString)))
	return SessionInfo{SessionID: "s-3", UserID: userID, CreatedAt: created, ExpiresAt: expires, Status: StatusActive}, f.err
}

func (f *fakeService) AccessLog(ctx context.Context, q AccessLogQuery) ([]AccessLogEntry, error) {
	f.calls = append(f.calls, fmt.Sprint("log ", q.UserID, " ", q.SessionID, " ", q.BeforeID, " ", q.Limit))
	return []AccessLogEntry{{ID: 9, At: used, UserID: q.UserID, Caller: "ingestor-service", Action: "get_session", Success: false, ErrorCode: CodeSessionRevoked, Channel: "service-binding", Attempts: 1}}, f.err
}

// The access log's query crosses as one object argument; its entries keep the
// error code and omit what is empty.
func TestAccessLogOverRPC(t *testing.T) {
	f := &fakeService{}
	h := NewServiceHandler(f)
	out, err := h.ServeRPC(context.Background(), 4, []byte(`[{"userId":42,"limit":10}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.calls[0] != "log 42  0 10" {
		t.Errorf("query = %q", f.calls[0])
	}
	want := `[{"id":9,"at":"` + used.UTC().Format("2006-01-02T15:04:05.000Z") + `","userId":42,"caller":"ingestor-service","action":"get_session","success":false,"errorCode":"SESSION_REVOKED","channel":"service-binding","attempts":1}]`
	if string(out) != want {
		t.Errorf("result\n got %s\nwant %s", out, want)
	}
	if _, err := h.ServeRPC(context.Background(), 4, []byte(`[{"userId":"42"}]`), nil); CodeOf(err) != CodeInvalidArgument {
		t.Errorf("a string userId: %v", err)
	}
}

func TestServeRPC(t *testing.T) {
	f := &fakeService{}
	h := NewServiceHandler(f)
	ctx := context.Background()
	tests := []struct {
		method     int
		args, want string
	}{
		{0, `[42]`, `{"sessionString":"1AgAA","sessionId":"s-1","userId":42,"expiresAt":"2026-12-26T22:22:44.123Z"}`},
		{1, `[7]`, `[{"sessionId":"s-2","userId":7,"createdAt":"2026-11-26T22:22:44.123Z","expiresAt":"2026-12-26T22:22:44.123Z",` +
			`"lastUsedAt":"2026-11-26T23:52:44.125Z","revokedAt":null,"status":"active"},{"sessionId":"s-1","userId":7,` +
			`"createdAt":"2026-11-26T22:22:44.123Z","expiresAt":"2026-12-26T22:22:44.123Z","lastUsedAt":null,` +
			`"revokedAt":"2026-11-26T23:52:44.125Z","status":"revoked"}]`},
		{1, `[2]`, `[]`},
		{2, `["s-1"]`, `{"sessionId":"s-1","revokedAt":"2026-11-26T23:52:44.125Z"}`},
		{3, `[42, "1AgAAAA"]`, `{"sessionId":"s-3","userId":42,"createdAt":"2026-11-26T22:22:44.123Z","expiresAt":"2026-12-26T22:22:44.123Z","lastUsedAt":null,"revokedAt":null,"status":"active"}`},
	}
	for _, tt := range tests {
		got, err := h.ServeRPC(ctx, tt.method, []byte(tt.args), nil)
		if err != nil || string(got) != tt.want {
			t.Errorf("method %d %s = %s, %v; want %s", tt.method, tt.args, got, err, tt.want)
		}
	}
	if want := []string{"get 42", "list 7", "list 2", "revoke s-1", "import 42 7"}; !reflect.DeepEqual(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

func TestServeRPCArgumentErrors(t *testing.T) {
	tests := []struct {
		method       int
		args         string
		message      string
		reachesImpl  bool // a domain error: the arguments decode, the service rejects them
		wantInternal bool
	}{
		{0, `[]`, "getSessionByUserId: expected 1 argument, found 0", false, false},
		{0, `["abc"]`, "userId: expected a number, found a string", false, false},
		{0, `["42"]`, "userId: expected a number, found a string", false, false},
		{0, `[1.5]`, "userId: expected an integer, found a number with a fraction", false, false},
		{0, `[-1]`, "userId must be a positive integer", true, false},
		{0, `[0]`, "userId must be a positive integer", true, false},
		// Exact in int64 but beyond JavaScript's safe integers: the codec
		// passes it on, the service's ValidUserID rejects it.
		{0, `[9007199254740993]`, "userId must be a positive integer", true, false},
		{0, `[1e400]`, "userId: integer out of range", false, false},
		{0, `[9223372036854775808]`, "userId: integer out of range", false, false},
		{0, `null`, "getSessionByUserId: expected an array, found null", false, false},
		{0, `{}`, "getSessionByUserId: expected an array, found an object", false, false},
		{0, `[null]`, "userId: expected a number, found null", false, false},
		{0, `[42] garbage`, "getSessionByUserId: expected the end of the input, found 'g'", false, false},
		{0, `[42]]`, "getSessionByUserId: expected the end of the input, found ']'", false, false},
		{0, `[42, 43]`, "getSessionByUserId: expected 1 argument, found more", false, false},
		{0, `[42`, "getSessionByUserId: expected ',' or ']' after an array element, found the end of the input", false, false},
		{2, `[7]`, "sessionId: expected a string, found a number", false, false},
		{3, `[42]`, "importSession: expected 2 arguments, found 1", false, false},
		{3, `[42, null]`, "sessionString: expected a string, found null", false, false},
		{3, `[42, "\u0000\ud800"]`, "", true, false},
	}
	for _, tt := range tests {
		f := &fakeService{}
		h := NewServiceHandler(f)
		_, err := h.ServeRPC(context.Background(), tt.method, []byte(tt.args), nil)
		if reached := len(f.calls) > 0; reached != tt.reachesImpl {
			t.Errorf("%d %s: service called = %v", tt.method, tt.args, reached)
		}
		if tt.message == "" {
			if err != nil {
				t.Errorf("%d %s: %v", tt.method, tt.args, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidArgument || e.Message != tt.message {
			t.Errorf("%d %s: got %#v, want INVALID_ARGUMENT %q", tt.method, tt.args, err, tt.message)
			continue
		}
		// What JavaScript receives.
		var thrown map[string]any
		if err := json.Unmarshal(h.AppendError(nil, err), &thrown); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"name": "TelegramAuthError", "message": "INVALID_ARGUMENT: " + tt.message, "code": "INVALID_ARGUMENT"}
		if !reflect.DeepEqual(thrown, want) {
			t.Errorf("%d %s: thrown %v, want %v", tt.method, tt.args, thrown, want)
		}
	}
}

func TestAppendError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&Error{Code: CodeSessionRevoked, Message: "session revoked", SessionID: "s-1"},
			`{"name":"TelegramAuthError","message":"SESSION_REVOKED: session revoked","code":"SESSION_REVOKED","sessionId":"s-1"}`},
		{&Error{Code: CodeSessionNotFound},
			`{"name":"TelegramAuthError","message":"SESSION_NOT_FOUND","code":"SESSION_NOT_FOUND"}`},
		{fmt.Errorf("vault: reading the row of 1AgAA-secret: %w", &Error{Code: CodeUnavailable, Message: "D1 \"busy\""}),
			`{"name":"TelegramAuthError","message":"UNAVAILABLE: D1 \"busy\"","code":"UNAVAILABLE"}`},
		{errors.New("sql: 1AgAA-secret is not a valid key"),
			`{"name":"TelegramAuthError","message":"INTERNAL: internal error","code":"INTERNAL"}`},
		{&workers.PanicError{Value: "1AgAA-secret", Stack: []byte("stack")},
			`{"name":"TelegramAuthError","message":"INTERNAL: internal error","code":"INTERNAL"}`},
		{&Error{Code: "BOGUS", Message: "1AgAA-secret"},
			`{"name":"TelegramAuthError","message":"INTERNAL: internal error","code":"INTERNAL"}`},
	}
	h := NewServiceHandler(&fakeService{})
	for _, tt := range tests {
		got := h.AppendError([]byte("x"), tt.err)
		if string(got) != "x"+tt.want {
			t.Errorf("AppendError(%v) =\n%s\nwant\n%s", tt.err, got[1:], tt.want)
		}
		if !json.Valid(got[1:]) || bytes.Contains(got, []byte("secret")) {
			t.Errorf("AppendError(%v) = %s: invalid or leaks", tt.err, got)
		}
	}
}

func TestClientErrorMapping(t *testing.T) {
	deadline := fmt.Errorf("binding: %w", context.DeadlineExceeded)
	tests := []struct {
		name string
		in   error
		want *Error
	}{
		{"props", &workers.RemoteError{Name: ErrorName, Message: "SESSION_REVOKED: session revoked",
			Props: []byte(`{"code":"SESSION_REVOKED","sessionId":"s-1","extra":[1]}`)},
			&Error{Code: CodeSessionRevoked, Message: "session revoked", SessionID: "s-1"}},
		{"props, message without the code", &workers.RemoteError{Name: ErrorName, Message: "gone",
			Props: []byte(`{"code":"SESSION_EXPIRED"}`)}, &Error{Code: CodeSessionExpired, Message: "gone"}},
		{"props, only the code", &workers.RemoteError{Name: ErrorName, Message: "FORBIDDEN",
			Props: []byte(`{"code":"FORBIDDEN"}`)}, &Error{Code: CodeForbidden}},
		{"old compatibility date: no props", &workers.RemoteError{Name: "Error", Message: "SESSION_NOT_FOUND: no active session"},
			&Error{Code: CodeSessionNotFound, Message: "no active session"}},
		{"dev registry between processes: name folded into the message", &workers.RemoteError{Name: "Error",
			Message: "TelegramAuthError: SESSION_REVOKED: revoked at 2026-11-26T23:12:36Z"},
			&Error{Code: CodeSessionRevoked, Message: "revoked at 2026-11-26T23:12:36Z"}},
		{"props with a bad code, code in the message", &workers.RemoteError{Name: ErrorName, Message: "FORBIDDEN: no",
			Props: []byte(`{"code":"NOPE"}`)}, &Error{Code: CodeForbidden, Message: "no"}},
		{"malformed props", &workers.RemoteError{Name: ErrorName, Message: "UNAUTHENTICATED: who",
			Props: []byte(`{"code":`)}, &Error{Code: CodeUnauthenticated, Message: "who"}},
		{"another JavaScript error", &workers.RemoteError{Name: "TypeError", Message: "x is not a function"},
			&Error{Code: CodeUnavailable, Message: "auth-telegram is unreachable"}},
		{"a name like ours without a code", &workers.RemoteError{Name: ErrorName, Message: "something"},
			&Error{Code: CodeUnavailable, Message: "auth-telegram is unreachable"}},
		{"transport", deadline, &Error{Code: CodeUnavailable, Message: "auth-telegram is unreachable"}},
		{"malformed result", jsoncodec.NewError(3, "expected an object, found null"),
			&Error{Code: CodeInternal, Message: "malformed result from auth-telegram: expected an object, found null"}},
	}
	for _, tt := range tests {
		err := rpcClientError(tt.in)
		var e *Error
		if !errors.As(err, &e) || *e != *tt.want {
			t.Errorf("%s: got %#v, want %#v", tt.name, e, tt.want)
		}
		if e != nil && e.Code == CodeUnavailable {
			if !errors.Is(err, tt.in) || !CodeOf(err).Transient() {
				t.Errorf("%s: the cause is not wrapped, or not transient: %v", tt.name, err)
			}
		}
	}
	if err := rpcClientError(deadline); !errors.Is(err, context.DeadlineExceeded) ||
		err.Error() != "UNAVAILABLE: auth-telegram is unreachable: binding: context deadline exceeded" {
		t.Errorf("transport error: %v", err)
	}
	var re *workers.RemoteError
	if err := rpcClientError(&workers.RemoteError{Name: "TypeError", Message: "m"}); !errors.As(err, &re) {
		t.Errorf("a RemoteError is not wrapped: %v", err)
	}
}

// loopback is a binding that calls a handler, passing errors as the runtime
// does: name and message, and the other own properties as Props.
type loopback struct{ h workers.RPCHandler }

var methodIndex = map[string]int{"getSessionByUserId": 0, "listSessions": 1, "revokeSession": 2, "importSession": 3}

func (l loopback) Call(ctx context.Context, method string, args []byte) ([]byte, error) {
	i, ok := methodIndex[method]
	if !ok {
		return nil, &workers.RemoteError{Name: "TypeError", Message: "not a function"}
	}
	out, err := l.h.ServeRPC(ctx, i, args, nil)
	if err == nil {
		return out, nil
	}
	var thrown map[string]any
	if err := json.Unmarshal(l.h.AppendError(nil, err), &thrown); err != nil {
		return nil, err
	}
	re := &workers.RemoteError{Name: thrown["name"].(string), Message: thrown["message"].(string)}
	delete(thrown, "name")
	delete(thrown, "message")
	re.Props, _ = json.Marshal(thrown)
	return nil, re
}

func TestClientThroughHandler(t *testing.T) {
	f := &fakeService{}
	c := ServiceClientOf[loopback]{Binding: loopback{NewServiceHandler(f)}}
	ctx := context.Background()

	s, err := c.GetSessionByUserID(ctx, 42)
	if want := (Session{SessionString: "1AgAA", SessionID: "s-1", UserID: 42, ExpiresAt: expires}); err != nil || s != want {
		t.Errorf("GetSessionByUserID = %+v, %v", s, err)
	}
	list, err := c.ListSessions(ctx, 7)
	if want, _ := f.ListSessions(ctx, 7); err != nil || !reflect.DeepEqual(list, want) {
		t.Errorf("ListSessions = %+v, %v", list, err)
	}
	if list, err := c.ListSessions(ctx, 2); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListSessions(no sessions) = %#v, %v", list, err)
	}
	r, err := c.RevokeSession(ctx, "s-\"1\"")
	if err != nil || r.SessionID != "s-\"1\"" || !r.RevokedAt.Equal(used) {
		t.Errorf("RevokeSession = %+v, %v", r, err)
	}
	info, err := c.ImportSession(ctx, 42, "1AgAAAA")
	if err != nil || info.SessionID != "s-3" || info.LastUsedAt != nil {
		t.Errorf("ImportSession = %+v, %v", info, err)
	}

	// A contract error crosses intact.
	f.err = &Error{Code: CodeSessionRevoked, Message: "session revoked", SessionID: "s-1"}
	_, err = c.GetSessionByUserID(ctx, 42)
	var e *Error
	if !errors.As(err, &e) || *e != *f.err.(*Error) {
		t.Errorf("GetSessionByUserID with an error: %#v", err)
	}
	// A domain rejection of an argument.
	_, err = c.GetSessionByUserID(ctx, -1)
	if !errors.As(err, &e) || *e != *errNotPositive {
		t.Errorf("GetSessionByUserID(-1): %#v", err)
	}
	// Any other error of the service is INTERNAL, without its text.
	f.err = errors.New("disk full at 1AgAA-secret")
	_, err = c.RevokeSession(ctx, "s")
	if !errors.As(err, &e) || e.Code != CodeInternal || strings.Contains(err.Error(), "secret") {
		t.Errorf("RevokeSession with an internal error: %v", err)
	}
}

func TestServeRPCAllocations(t *testing.T) {
	h := NewServiceHandler(staticService{})
	args := []byte(`[42]`)
	dst := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if dst, err = h.ServeRPC(context.Background(), 0, args, dst[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("ServeRPC allocates %v times per call", allocs)
	}
}

// staticService returns a fixed session without allocating.
type staticService struct{ Service }

var staticSession = Session{SessionString: "1" + strings.Repeat("AgAAAAAQ0WoBuzD4", 22), SessionID: "8f14e45f-ceea-467f-a8f6-0c4d1e5b3a2c", UserID: 42, ExpiresAt: expires}

func (staticService) GetSessionByUserID(ctx context.Context, userID int64) (Session, error) {
	return staticSession, nil
}

func BenchmarkServeRPC(b *testing.B) {
	h := NewServiceHandler(staticService{})
	args := []byte(`[123456789]`)
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = h.ServeRPC(context.Background(), 0, args, dst[:0])
	}
}

// echoBinding answers getSessionByUserId with a fixed result.
type echoBinding struct{ res []byte }

func (e echoBinding) Call(ctx context.Context, method string, args []byte) ([]byte, error) {
	return e.res, nil
}

func BenchmarkClient(b *testing.B) {
	c := ServiceClientOf[echoBinding]{Binding: echoBinding{appendSessionJSON(nil, &staticSession)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetSessionByUserID(context.Background(), 123456789); err != nil {
			b.Fatal(err)
		}
	}
}
