package authclient

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/telegramauth"
)

// BindingName is the ingestor's service binding to auth-telegram
// ([[services]] binding = "TELEGRAM_AUTH" in wrangler.toml).
const BindingName = "TELEGRAM_AUTH"

// The variables ParseConfig reads.
const (
	EnvServiceID   = "TELEGRAM_SERVICE_ID"
	EnvMaxRetries  = "TELEGRAM_MAX_RETRIES"
	EnvRetryDelay  = "TELEGRAM_RETRY_DELAY"
	EnvCacheTTL    = "TELEGRAM_SESSION_CACHE_TTL"
	EnvCacheSize   = "TELEGRAM_SESSION_CACHE_SIZE"
	EnvCallTimeout = "TELEGRAM_AUTH_CALL_TIMEOUT"
	EnvTransport   = "TELEGRAM_AUTH_TRANSPORT"
	EnvEndpoint    = "TELEGRAM_AUTH_SERVICE_ENDPOINT"
	EnvAPIKey      = "TELEGRAM_AUTH_SERVICE_API_KEY" // secret
	maxQuotedValue = 32
)

// Transport settings. TransportBinding and TransportHTTP are also the values of
// Client.Transport.
const (
	TransportAuto    = "auto"
	TransportBinding = "binding"
	TransportHTTP    = "http"
)

// Defaults and bounds of the variables.
const (
	DefaultServiceID   = "ingestor-service"
	DefaultMaxRetries  = 3
	DefaultRetryDelay  = 2000 * time.Millisecond // the earlier TypeScript default
	DefaultCacheTTL    = 5 * time.Minute
	DefaultCacheSize   = 1000
	DefaultCallTimeout = 10 * time.Second

	MaxMaxRetries  = 10
	MaxRetryDelay  = MaxBackoff // a larger base would only ever sleep MaxBackoff
	MaxCacheTTL    = 24 * time.Hour
	MaxCacheSize   = 1_000_000
	MaxCallTimeout = 2 * time.Minute
)

// ClientConfig configures the session client (New).
type ClientConfig struct {
	// ServiceID is sent as X-Service-ID over HTTP. Over the binding the caller
	// is identified by the binding's named entrypoint (IngestorEntrypoint is
	// ingestor-service), not by this value.
	ServiceID string
	// TransportSetting is TELEGRAM_AUTH_TRANSPORT as configured (auto, binding
	// or http); Transport is what it resolved to (binding or http). A
	// hand-made ClientConfig may leave Transport empty: New then resolves
	// TransportSetting (empty meaning auto) against the transports it gets.
	TransportSetting string
	Transport        string
	// Endpoint and APIKey reach auth-telegram's HTTP API; required when
	// Transport is http.
	Endpoint string
	APIKey   string `json:"-"` // secret
	// MaxRetries is how many times a transient failure is retried (so at most
	// MaxRetries+1 attempts); RetryDelay is the backoff's base.
	MaxRetries int
	RetryDelay time.Duration
	// CallTimeout bounds each attempt; 0 means none.
	CallTimeout time.Duration
	// CacheTTL is how long a fetched session is served from the cache; 0
	// disables the cache. CacheSize bounds the number of cached users (LRU).
	CacheTTL  time.Duration
	CacheSize int
}

// DefaultClientConfig is the configuration of an environment that sets
// nothing but has the binding.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{
		ServiceID:        DefaultServiceID,
		TransportSetting: TransportAuto,
		MaxRetries:       DefaultMaxRetries,
		RetryDelay:       DefaultRetryDelay,
		CallTimeout:      DefaultCallTimeout,
		CacheTTL:         DefaultCacheTTL,
		CacheSize:        DefaultCacheSize,
	}
}

// String never shows the API key.
func (c ClientConfig) String() string {
	var b strings.Builder
	b.WriteString("ClientConfig{ServiceID:")
	b.WriteString(c.ServiceID)
	b.WriteString(" TransportSetting:")
	b.WriteString(c.TransportSetting)
	b.WriteString(" Transport:")
	b.WriteString(c.Transport)
	b.WriteString(" Endpoint:")
	b.WriteString(c.Endpoint)
	b.WriteString(" APIKey:")
	b.WriteString(redacted(c.APIKey))
	b.WriteString(" MaxRetries:")
	b.WriteString(strconv.Itoa(c.MaxRetries))
	b.WriteString(" RetryDelay:")
	b.WriteString(c.RetryDelay.String())
	b.WriteString(" CallTimeout:")
	b.WriteString(c.CallTimeout.String())
	b.WriteString(" CacheTTL:")
	b.WriteString(c.CacheTTL.String())
	b.WriteString(" CacheSize:")
	b.WriteString(strconv.Itoa(c.CacheSize))
	b.WriteString("}")
	return b.String()
}

// GoString never shows the API key.
func (c ClientConfig) GoString() string { return "authclient." + c.String() }

func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[redacted]"
}

// Problem is one bad or missing variable.
type Problem struct {
	Var    string
	Reason string // completes "<Var> ...": "is missing", "must be ..., got "x""
}

func (p Problem) String() string { return p.Var + " " + p.Reason }

// ConfigError names every bad or missing variable and why. It never contains
// a secret's value; other bad values are quoted, cut to a few characters.
type ConfigError struct {
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("authclient: invalid configuration: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Vars lists the variables named by the problems, in order, without repeats.
func (e *ConfigError) Vars() []string {
	if e == nil {
		return nil
	}
	var vars []string
	for _, p := range e.Problems {
		dup := false
		for _, v := range vars {
			dup = dup || v == p.Var
		}
		if !dup {
			vars = append(vars, p.Var)
		}
	}
	return vars
}

// ParseConfig reads and validates the session client's configuration once
// per isolate: env looks up a var or secret (workers.LookupEnv), hasBinding
// reports whether the worker has a binding (workers.HasBinding; nil means
// none).
//
// An empty value is treated as unset: the default applies, or the variable
// is reported missing when required. The error, if any, is a *ConfigError
// listing every problem.
func ParseConfig(env func(string) (string, bool), hasBinding func(string) bool) (ClientConfig, error) {
	p := parser{env: env}
	var c ClientConfig

	c.ServiceID = DefaultServiceID
	if v, ok := p.get(EnvServiceID); ok {
		if telegramauth.ValidServiceID(v) {
			c.ServiceID = v
		} else {
			c.ServiceID = ""
			p.add(EnvServiceID, "must be "+telegramauth.ServiceIDRule+", got "+quote(v))
		}
	}
	c.MaxRetries = int(p.integer(EnvMaxRetries, DefaultMaxRetries, 0, MaxMaxRetries, ""))
	c.RetryDelay = p.millis(EnvRetryDelay, DefaultRetryDelay, time.Millisecond, MaxRetryDelay)
	c.CallTimeout = p.millis(EnvCallTimeout, DefaultCallTimeout, time.Millisecond, MaxCallTimeout)
	c.CacheTTL = p.millis(EnvCacheTTL, DefaultCacheTTL, 0, MaxCacheTTL)
	c.CacheSize = int(p.integer(EnvCacheSize, DefaultCacheSize, 1, MaxCacheSize, ""))

	binding := hasBinding != nil && hasBinding(BindingName)
	c.TransportSetting = TransportAuto
	if v, ok := p.get(EnvTransport); ok {
		switch v {
		case TransportAuto, TransportBinding, TransportHTTP:
			c.TransportSetting = v
		default:
			c.TransportSetting = ""
			p.add(EnvTransport, `must be "auto", "binding" or "http", got `+quote(v))
		}
	}
	switch c.TransportSetting {
	case TransportBinding:
		if binding {
			c.Transport = TransportBinding
		} else {
			p.add(EnvTransport, `is "binding" but the worker has no `+BindingName+
				` service binding (declare [[services]] binding = "`+BindingName+`" in this environment of wrangler.toml, or set `+EnvTransport+` to "http")`)
		}
	case TransportHTTP:
		c.Transport = TransportHTTP
	case TransportAuto:
		if binding {
			c.Transport = TransportBinding
		} else {
			c.Transport = TransportHTTP
		}
	}
	// A variable that is set is checked; one that is needed is required.
	needHTTP := c.Transport == TransportHTTP
	why := ""
	if c.TransportSetting == TransportHTTP {
		why = " (" + EnvTransport + " is http)"
	} else {
		why = " (" + EnvTransport + " is auto and the worker has no " + BindingName + " binding)"
	}
	if v, ok := p.get(EnvEndpoint); ok {
		if reason := checkEndpoint(v); reason != "" {
			p.add(EnvEndpoint, reason)
		} else {
			c.Endpoint = v
		}
	} else if needHTTP {
		p.add(EnvEndpoint, "is missing: the HTTP transport needs auth-telegram's API base URL, such as https://auth.example.com/api/telegram-auth"+why)
	}
	if v, ok := p.get(EnvAPIKey); ok {
		if reason := httpapi.CheckAPIKey(v); reason != "" {
			p.add(EnvAPIKey, reason)
		} else {
			c.APIKey = v
		}
	} else if needHTTP {
		p.add(EnvAPIKey, "is missing: the HTTP transport needs a secret API key"+why)
	}

	if len(p.problems) > 0 {
		return c, &ConfigError{Problems: p.problems}
	}
	return c, nil
}

type parser struct {
	env      func(string) (string, bool)
	problems []Problem
}

func (p *parser) get(name string) (string, bool) {
	if p.env == nil {
		return "", false
	}
	v, ok := p.env(name)
	return v, ok && v != ""
}

func (p *parser) add(name, reason string) {
	p.problems = append(p.problems, Problem{Var: name, Reason: reason})
}

// integer parses an optional base-10 integer in [lo, hi]; unit, if set, is
// named in the error.
func (p *parser) integer(name string, def, lo, hi int64, unit string) int64 {
	v, ok := p.get(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		p.add(name, "must be an integer from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10)+unit+", got "+quote(v))
		return 0
	}
	return n
}

// millis parses an optional duration written in milliseconds.
func (p *parser) millis(name string, def, lo, hi time.Duration) time.Duration {
	n := p.integer(name, int64(def/time.Millisecond), int64(lo/time.Millisecond), int64(hi/time.Millisecond), " (milliseconds)")
	return time.Duration(n) * time.Millisecond
}

// quote quotes a non-secret value for an error message.
func quote(s string) string { return errtext.Quote(s, maxQuotedValue) }

// checkEndpoint describes what is wrong with the endpoint. The value is
// quoted only when it cannot hold credentials.
func checkEndpoint(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		if strings.Contains(s, "@") {
			return "is not a URL"
		}
		return "is not a URL, got " + quote(s)
	case u.User != nil:
		return "must not contain credentials (user:password@); the key goes in " + EnvAPIKey
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http or https URL, got " + quote(s)
	case u.Host == "" || u.Hostname() == "":
		return "has no host, got " + quote(s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "must not have a query or fragment, got " + quote(s)
	}
	return ""
}
