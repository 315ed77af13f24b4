// Package tgclient runs units of work against Telegram with gotd/td: one
// MTProto client per unit, built from a decrypted session that lives only in
// memory, connected through a dial function (the Workers connect() API in a
// worker, package net natively) and closed when the unit ends.
//
// gotd/td is here because it is the maintained pure-Go MTProto client; it
// runs under GOOS=js GOARCH=wasm with dcs.Plain and a custom dial
// (docs/ARCHITECTURE.md; measured in workerd: 18-38 ms a call with an existing key). v0.93.0 is the
// version the module proxy serves here, and the smaller one in wasm.
package tgclient

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/communicator/communicator/mtproto/sessionstring"
)

// DialFunc opens a TCP connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// App is the Telegram application (api_id and api_hash from my.telegram.org).
type App struct {
	ID   int
	Hash string
}

// Client runs units of work. It holds no connection and no session between
// them, so one Client serves every request of an isolate.
type Client struct {
	app      App
	endpoint Endpoint
	dial     DialFunc
}

// New returns a Client for app at endpoint, connecting with dial.
func New(app App, endpoint Endpoint, dial DialFunc) *Client {
	if endpoint.Timeout <= 0 {
		endpoint.Timeout = DefaultTimeout
	}
	return &Client{app: app, endpoint: endpoint, dial: dial}
}

// Endpoint is the endpoint the client connects to.
func (c *Client) Endpoint() Endpoint { return c.endpoint }

// Run connects to Telegram as the session's account, calls f with the API
// and disconnects when f returns. The whole unit is bounded by the endpoint's
// Timeout. The session stays in this process's memory (gotd's in-memory
// storage, dropped when Run returns) and is never written anywhere.
//
// Errors are *Error: say whether to retry, and whether Telegram rejected the
// session.
func (c *Client) Run(ctx context.Context, s sessionstring.Session, f func(ctx context.Context, api *tg.Client) error) error {
	return c.RunWithSalt(ctx, s, 0, f)
}

// RunWithSalt is Run with a server salt the key is known to have (a new
// key's first salt), which saves the round trip that would learn it; 0 is
// none.
func (c *Client) RunWithSalt(ctx context.Context, s sessionstring.Session, salt int64, f func(ctx context.Context, api *tg.Client) error) error {
	if err := s.Validate(); err != nil {
		return &Error{Kind: KindRefused, Err: err}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.endpoint.Timeout, errTimeout{c.endpoint})
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	storage := new(session.StorageMemory)
	data := SessionData(s)
	data.Salt = salt
	if err := (&session.Loader{Storage: storage}).Save(ctx, data); err != nil {
		return &Error{Kind: KindUnavailable, Err: err}
	}
	opts := c.options(s, storage, unitDial(ctx, stop, c.dial))
	opts.Logger = zap.New(gotdWatch{stop: stop})
	client := telegram.NewClient(c.app.ID, c.app.Hash, opts)
	// gotd's Run answers nil when its work group ends with anything that
	// wraps context.Canceled, which is also what a call gets when the
	// connection drops under it. So the unit's outcome is f's own.
	var done bool
	var ferr error
	err := client.Run(ctx, func(ctx context.Context) error {
		ferr = f(ctx, client.API())
		done = true
		return ferr
	})
	switch {
	case done && ferr == nil:
		return nil
	case done && errors.Is(ferr, context.Canceled) && ctx.Err() == nil:
		err = errDropped // gotd cancels a call whose connection died
	case done:
		err = ferr
	case err == nil:
		err = errDropped
	}
	if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
		switch c := cause.(type) {
		case errTimeout, errUnreachable:
			err = cause
		case errKeyNotFound:
			return &Error{Kind: KindSessionRejected, Type: "AUTH_KEY_NOT_FOUND", Err: cause}
		case errMigrate:
			return &Error{Kind: KindRefused, Type: c.typ, Arg: c.dc, Err: cause}
		}
	}
	return classify(err)
}

// unitDial dials connections that end with the unit: once unit is done,
// they refuse every read and write (checked before each, so nothing more is
// sent after the unit ends) and are closed, which unblocks a waiting read.
// gotd does not check its context before sending.
//
// A dial that fails ends the unit with errUnreachable: gotd would retry it
// with backoff until the unit's timeout, holding the caller for the whole
// of it while the reason (a refused connection, a name that does not
// resolve) stays in gotd's logs.
func unitDial(unit context.Context, stop context.CancelCauseFunc, dial DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := unit.Err(); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: net.ErrClosed}
		}
		conn, err := dial(ctx, network, addr)
		if err != nil {
			// A redial cancelled because the unit is ending is not
			// Telegram being unreachable: the unit's own outcome stands.
			if ctx.Err() == nil && unit.Err() == nil {
				stop(errUnreachable{err})
			}
			return nil, err
		}
		context.AfterFunc(unit, func() { conn.Close() })
		return unitConn{Conn: conn, unit: unit}, nil
	}
}

type unitConn struct {
	net.Conn
	unit context.Context
}

func (c unitConn) Read(p []byte) (int, error) {
	if err := c.unit.Err(); err != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	}
	return c.Conn.Read(p)
}

func (c unitConn) Write(p []byte) (int, error) {
	if err := c.unit.Err(); err != nil {
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}
	}
	return c.Conn.Write(p)
}

// errKeyNotFound ends a unit whose auth key the server does not know
// (MTProto's transport error -404).
type errKeyNotFound struct{}

func (errKeyNotFound) Error() string { return "the server does not know the session's auth key (-404)" }

// errMigrate ends a unit Telegram sent to another data center (PHONE_MIGRATE_4
// and the like): the caller decides, with a key of that data center.
type errMigrate struct {
	typ string
	dc  int
}

func (e errMigrate) Error() string {
	return "Telegram sends the call to data center " + strconv.Itoa(e.dc) + " (" + e.typ + ")"
}

// gotdWatch is gotd's logger. It ends the unit where gotd would otherwise
// start a fresh key exchange with its own code (seconds of CPU in wasm):
//   - when the server answers -404, gotd logs gotdKeyNotFoundMessage and
//     then exchanges a key in place of the session's, a key logged in to
//     nothing;
//   - when Telegram answers X_MIGRATE_X, gotd logs gotdMigrateMessage with
//     the error type and the data center, and then moves the client there,
//     with a new key.
//
// The log call runs first, on the goroutine that would go on, so the unit
// ends before anything is sent. gotd offers no hook for either; the messages
// are pinned with gotd's version, and TestRunUnknownKey and
// mtproto/tglogin's TestLoginMigrates fail if they change.
type gotdWatch struct {
	stop   context.CancelCauseFunc
	fields []zapcore.Field
}

const (
	gotdKeyNotFoundMessage = "Re-generating keys (server not found key that we provided)"
	gotdMigrateMessage     = "Migrating to target DC"
)

func (w gotdWatch) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }
func (w gotdWatch) With(f []zapcore.Field) zapcore.Core {
	return gotdWatch{stop: w.stop, fields: append(slices.Clip(w.fields), f...)}
}
func (w gotdWatch) Sync() error { return nil }
func (w gotdWatch) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	switch e.Message {
	case gotdKeyNotFoundMessage:
		w.stop(errKeyNotFound{})
	case gotdMigrateMessage:
		return ce.AddCore(e, w) // Write reads the fields
	}
	return ce
}

func (w gotdWatch) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if e.Message != gotdMigrateMessage {
		return nil
	}
	m := errMigrate{}
	for _, f := range append(slices.Clip(w.fields), fields...) {
		switch f.Key {
		case "error_type":
			m.typ = f.String
		case "target_dc":
			m.dc = int(f.Integer)
		}
	}
	w.stop(m)
	return nil
}

func (c *Client) options(s sessionstring.Session, storage telegram.SessionStorage, dial DialFunc) telegram.Options {
	dc := s.DC
	addr := c.endpoint.Addr
	if other, ok := c.endpoint.Others[dc]; ok {
		addr = other // a test server's other data center
	} else if c.endpoint.DC != 0 {
		dc = c.endpoint.DC
	}
	opts := telegram.Options{
		DC:             dc,
		Resolver:       dcs.Plain(dcs.PlainOptions{Dial: dcs.DialFunc(dial)}),
		SessionStorage: storage,
		NoUpdates:      true, // a unit of work reads what it asks for; updates come with ingestion
	}
	if addr != "" {
		host, port, _ := net.SplitHostPort(addr) // ParseEndpoint checked it
		p, _ := strconv.Atoi(port)
		opts.DCList = dcs.List{Options: []tg.DCOption{{ID: dc, IPAddress: host, Port: p}}}
	}
	for _, k := range c.endpoint.PublicKeys {
		opts.PublicKeys = append(opts.PublicKeys, telegram.PublicKey{RSA: k})
	}
	return opts
}

// errDropped is the outcome of a unit whose connection ended before it ran.
var errDropped = errors.New("the connection to Telegram closed before the call completed")

// errUnreachable is the cause of a unit whose connection could not be made.
type errUnreachable struct{ err error }

func (u errUnreachable) Error() string { return "cannot connect to Telegram: " + u.err.Error() }
func (u errUnreachable) Unwrap() error { return u.err }

// errTimeout is the cause of a unit of work that ran out of time.
type errTimeout struct{ e Endpoint }

func (t errTimeout) Error() string {
	return "Telegram did not answer within " + t.e.Timeout.String()
}

func (errTimeout) Timeout() bool { return true }

func (errTimeout) Is(target error) bool { return target == context.DeadlineExceeded }
