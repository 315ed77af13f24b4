package tgclient

import (
	"context"
	"crypto/rsa"
	_ "embed" // Telegram's public keys
	"errors"
	"net"
	"strconv"
	"sync"

	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/transport"

	"github.com/communicator/communicator/mtproto/authkey"
	"github.com/communicator/communicator/mtproto/sessionstring"
)

// telegramKeysPEM are the RSA public keys production Telegram offers for
// the key exchange, as published on my.telegram.org (Telegram's own apps
// ship the same two).
//
//go:embed telegram_public_keys.pem
var telegramKeysPEM string

var telegramKeys = sync.OnceValues(func() ([]*rsa.PublicKey, error) { return ParsePublicKeys(telegramKeysPEM) })

// DefaultLoginDC is the data center a login starts on in production; a
// phone that lives elsewhere is sent on with PHONE_MIGRATE.
const DefaultLoginDC = 2

// NewKey creates an authorization key with data center dc (0: the one a
// login starts on: the endpoint's, or DefaultLoginDC) by our own exchange
// (package authkey: gotd's takes seconds of CPU in wasm). It answers the
// session of the key, not logged in to anything yet, and the first server
// salt. The exchange is bounded by the endpoint's Timeout.
func (c *Client) NewKey(ctx context.Context, dc int) (sessionstring.Session, int64, error) {
	if dc == 0 {
		dc = c.endpoint.DC
	}
	if dc == 0 {
		dc = DefaultLoginDC
	}
	addr, err := c.dcAddr(dc)
	if err != nil {
		return sessionstring.Session{}, 0, &Error{Kind: KindRefused, Err: err}
	}
	keys := c.endpoint.PublicKeys
	if len(keys) == 0 {
		if keys, err = telegramKeys(); err != nil {
			return sessionstring.Session{}, 0, &Error{Kind: KindRefused, Err: err}
		}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.endpoint.Timeout, errTimeout{c.endpoint})
	defer cancel()
	raw, err := c.dial(ctx, "tcp", addr)
	if err != nil {
		return sessionstring.Session{}, 0, &Error{Kind: KindUnavailable, Err: errUnreachable{err}}
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { raw.Close() }) // a read waiting on a dead server ends with the bound
	defer stop()
	conn, err := transport.Intermediate.Handshake(raw)
	if err != nil {
		return sessionstring.Session{}, 0, &Error{Kind: KindUnavailable, Err: err}
	}
	key, err := authkey.Exchange(ctx, conn, authkey.Options{DC: dc, PublicKeys: keys})
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = cause
		}
		var ae *authkey.Error
		if errors.As(err, &ae) && ae.Step != "" && !isNetError(ae.Err) {
			return sessionstring.Session{}, 0, &Error{Kind: KindRefused, Err: err}
		}
		return sessionstring.Session{}, 0, &Error{Kind: KindUnavailable, Err: err}
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	s := sessionstring.Session{DC: dc, Addr: host, Port: p, AuthKey: key.Value}
	clear(key.Value[:])
	return s, key.Salt, nil
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// dcAddr is the address ("host:port") of data center dc: the endpoint's
// for a test server, else the one gotd ships for production Telegram.
func (c *Client) dcAddr(dc int) (string, error) {
	if c.endpoint.Addr != "" {
		if dc == c.endpoint.DC {
			return c.endpoint.Addr, nil
		}
		if a, ok := c.endpoint.Others[dc]; ok {
			return a, nil
		}
		return "", errors.New("the test server has no data center " + strconv.Itoa(dc) + " (" + EnvDCOthers + ")")
	}
	for _, o := range dcs.Prod().Options {
		if o.ID == dc && !o.Ipv6 && !o.MediaOnly && !o.CDN && !o.TCPObfuscatedOnly {
			return net.JoinHostPort(o.IPAddress, strconv.Itoa(o.Port)), nil
		}
	}
	return "", errors.New("Telegram has no data center " + strconv.Itoa(dc))
}
