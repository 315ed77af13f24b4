package tgclient

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/internal/errtext"
)

// The variables ParseEndpoint reads.
const (
	EnvDCID       = "TELEGRAM_DC_ID"
	EnvDCAddr     = "TELEGRAM_DC_ADDR"
	EnvPublicKeys = "TELEGRAM_PUBLIC_KEYS"
	EnvDCOthers   = "TELEGRAM_DC_OTHERS"
	EnvTimeout    = "TELEGRAM_CALL_TIMEOUT"
	EnvAPIID      = "TELEGRAM_API_ID"
	EnvAPIHash    = "TELEGRAM_API_HASH" // secret
)

// DefaultTimeout bounds one unit of work (dial, key check, the calls) unless
// TELEGRAM_CALL_TIMEOUT says otherwise.
const DefaultTimeout = 15 * time.Second

// Endpoint is where Telegram is. The zero value is production Telegram: the
// data center a session names, at the addresses gotd ships, checked with
// Telegram's public keys.
type Endpoint struct {
	// DC is the data center to use; 0 means the session's own.
	DC int
	// Addr ("host:port") replaces the data center's address: a test server.
	Addr string
	// Others are a test server's other data centers by id ("host:port"):
	// where PHONE_MIGRATE sends a login, and where their sessions live.
	Others map[int]string
	// PublicKeys are the server's RSA keys; nil means Telegram's.
	PublicKeys []*rsa.PublicKey
	// Timeout bounds one Run.
	Timeout time.Duration
}

// Production reports whether the endpoint is production Telegram.
func (e Endpoint) Production() bool { return e.Addr == "" && len(e.PublicKeys) == 0 }

// ConfigError lists every bad variable, one problem each. The values of
// variables are not quoted (public keys are not secret, but are long).
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string { return strings.Join(e.Problems, "; ") }

// Vars names the variables the problems are about.
func (e *ConfigError) Vars() []string {
	var vars []string
	for _, name := range []string{EnvAPIID, EnvAPIHash, EnvDCID, EnvDCAddr, EnvDCOthers, EnvPublicKeys, EnvTimeout} {
		for _, p := range e.Problems {
			if strings.Contains(p, name) && !slices.Contains(vars, name) {
				vars = append(vars, name)
			}
		}
	}
	return vars
}

// ParseEndpoint reads TELEGRAM_DC_ID, TELEGRAM_DC_ADDR, TELEGRAM_PUBLIC_KEYS,
// TELEGRAM_DC_OTHERS and TELEGRAM_CALL_TIMEOUT. All unset is production
// Telegram. TELEGRAM_DC_OTHERS ("4=127.0.0.1:5678,5=...") lists a test
// server's other data centers and needs the first three. A test server
// needs all three of the first: its address, its data center and its key
// (without the key, gotd would check the server against Telegram's own keys
// and fail in the middle of the handshake).
func ParseEndpoint(lookup func(string) (string, bool)) (Endpoint, error) {
	var e Endpoint
	var problems []string
	bad := func(name, why string) { problems = append(problems, name+" "+why) }
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	dc, addr, keys, timeout := get(EnvDCID), get(EnvDCAddr), get(EnvPublicKeys), get(EnvTimeout)
	if dc != "" {
		n, err := strconv.Atoi(dc)
		if err != nil || n < 1 || n > 255 {
			bad(EnvDCID, "must be a data center id from 1 to 255, got "+errtext.Quote(dc, 64))
		} else {
			e.DC = n
		}
	}
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		p, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			bad(EnvDCAddr, `must be "host:port" (an IPv6 host in brackets), got `+errtext.Quote(addr, 64))
		} else {
			e.Addr = addr
		}
	}
	if keys != "" {
		k, err := ParsePublicKeys(keys)
		if err != nil {
			bad(EnvPublicKeys, err.Error())
		} else {
			e.PublicKeys = k
		}
	}
	if (dc != "" || addr != "" || keys != "") && (dc == "" || addr == "" || keys == "") {
		var missing []string
		for _, v := range [][2]string{{EnvDCID, dc}, {EnvDCAddr, addr}, {EnvPublicKeys, keys}} {
			if v[1] == "" {
				missing = append(missing, v[0])
			}
		}
		problems = append(problems, "a test server needs "+EnvDCID+", "+EnvDCAddr+" and "+EnvPublicKeys+" together; missing "+strings.Join(missing, ", "))
	}
	if others := get(EnvDCOthers); others != "" {
		if addr == "" {
			bad(EnvDCOthers, "is for a test server: it needs "+EnvDCID+", "+EnvDCAddr+" and "+EnvPublicKeys)
		} else if m, why := parseOthers(others); why != "" {
			bad(EnvDCOthers, why)
		} else {
			e.Others = m
		}
	}
	e.Timeout = DefaultTimeout
	if timeout != "" {
		ms, err := strconv.Atoi(timeout)
		if err != nil || ms < 100 || ms > 600_000 {
			bad(EnvTimeout, "must be milliseconds from 100 to 600000, got "+errtext.Quote(timeout, 64))
		} else {
			e.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if problems != nil {
		return Endpoint{}, &ConfigError{Problems: problems}
	}
	return e, nil
}

// parseOthers reads "4=127.0.0.1:5678,5=127.0.0.1:5679".
func parseOthers(s string) (map[int]string, string) {
	m := map[int]string{}
	for _, item := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		n, err := strconv.Atoi(id)
		host, port, herr := net.SplitHostPort(addr)
		p, perr := strconv.Atoi(port)
		switch {
		case !ok || err != nil || n < 1 || n > 255:
			return nil, `must be "id=host:port" items separated by commas, with ids from 1 to 255, got ` + errtext.Quote(item, 64)
		case herr != nil || host == "" || perr != nil || p < 1 || p > 65535:
			return nil, `has an address that is not "host:port": ` + errtext.Quote(item, 64)
		}
		if _, dup := m[n]; dup {
			return nil, "names data center " + id + " twice"
		}
		m[n] = addr
	}
	return m, ""
}

// ParsePublicKeys reads RSA public keys from PEM: "RSA PUBLIC KEY" (PKCS #1,
// how Telegram publishes its keys) or "PUBLIC KEY" (PKIX) blocks. Literal
// "\n" sequences are read as newlines, so a key fits in one line of .dev.vars
// or a dashboard field.
func ParsePublicKeys(s string) ([]*rsa.PublicKey, error) {
	rest := []byte(strings.ReplaceAll(s, `\n`, "\n"))
	var keys []*rsa.PublicKey
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var k *rsa.PublicKey
		switch b.Type {
		case "RSA PUBLIC KEY":
			pk, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, errors.New("PEM block " + strconv.Itoa(n) + " is not a PKCS #1 RSA public key")
			}
			k = pk
		case "PUBLIC KEY":
			pk, err := x509.ParsePKIXPublicKey(b.Bytes)
			rk, ok := pk.(*rsa.PublicKey)
			if err != nil || !ok {
				return nil, errors.New("PEM block " + strconv.Itoa(n) + " is not an RSA public key")
			}
			k = rk
		default:
			return nil, errors.New("PEM block " + strconv.Itoa(n) + ` is a ` + errtext.Quote(b.Type, 64) + `, want "RSA PUBLIC KEY"`)
		}
		if k.N.BitLen() != 2048 {
			return nil, errors.New("PEM block " + strconv.Itoa(n) + " is a " + strconv.Itoa(k.N.BitLen()) + "-bit key; MTProto uses 2048-bit keys")
		}
		keys = append(keys, k)
	}
	if strings.TrimSpace(string(rest)) != "" {
		if keys == nil {
			return nil, errors.New("must be PEM (-----BEGIN RSA PUBLIC KEY-----...)")
		}
		return nil, errors.New("has text after PEM block " + strconv.Itoa(len(keys)) + " that is not PEM")
	}
	if keys == nil {
		return nil, errors.New("has no PEM block")
	}
	return keys, nil
}

// ParseApp reads TELEGRAM_API_ID and TELEGRAM_API_HASH: the application
// (my.telegram.org) this worker talks MTProto as. Both are required. The
// error lists every problem and never quotes the hash, a secret.
func ParseApp(lookup func(string) (string, bool)) (App, error) {
	var app App
	var problems []string
	get := func(name string) string {
		v, _ := lookup(name)
		return v
	}
	switch v := get(EnvAPIID); {
	case v == "":
		problems = append(problems, EnvAPIID+" is missing (the api_id of the Telegram application, from my.telegram.org)")
	default:
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			problems = append(problems, EnvAPIID+" must be a positive 32-bit integer, got "+errtext.Quote(v, 32))
		} else {
			app.ID = int(n)
		}
	}
	switch v := get(EnvAPIHash); {
	case v == "":
		problems = append(problems, EnvAPIHash+" is missing (a secret: the api_hash of the Telegram application)")
	case !isHex32(v):
		problems = append(problems, EnvAPIHash+" must be 32 hexadecimal characters (a secret, not shown)")
	default:
		app.Hash = v
	}
	if problems != nil {
		return App{}, &ConfigError{Problems: problems}
	}
	return app, nil
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
