package authclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	goodKey = "k3y-SECRETKEYVALUE-for-tests"
)

// envOf makes a lookup over m, and a binding check that has TELEGRAM_AUTH
// when binding is set.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func hasBindingIf(b bool) func(string) bool {
	return func(name string) bool { return b && name == BindingName }
}

func validEnv() map[string]string { return map[string]string{} }

func parse(t *testing.T, m map[string]string, binding bool) (ClientConfig, *ConfigError) {
	t.Helper()
	cfg, err := ParseConfig(envOf(m), hasBindingIf(binding))
	if err == nil {
		return cfg, nil
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not a *ConfigError", err)
	}
	return cfg, ce
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, ce := parse(t, validEnv(), true)
	if ce != nil {
		t.Fatal(ce)
	}
	want := ClientConfig{
		ServiceID: "ingestor-service", TransportSetting: "auto", Transport: "binding",
		MaxRetries: 3, RetryDelay: 2 * time.Second, CallTimeout: 10 * time.Second,
		CacheTTL: 5 * time.Minute, CacheSize: 1000,
	}
	if cfg != want {
		t.Fatalf("got  %#v\nwant %#v", cfg, want)
	}
	d := DefaultClientConfig()
	d.Transport = TransportBinding
	if cfg != d {
		t.Fatalf("DefaultClientConfig %#v differs from the parsed defaults", d)
	}
}

func TestParseConfigAllSet(t *testing.T) {
	m := validEnv()
	m[EnvServiceID] = "ingestor-2"
	m[EnvMaxRetries] = "0"
	m[EnvRetryDelay] = "1"
	m[EnvCallTimeout] = "120000"
	m[EnvCacheTTL] = "0"
	m[EnvCacheSize] = "1000000"
	m[EnvTransport] = "http"
	m[EnvEndpoint] = "https://auth.example.com/api/telegram-auth"
	m[EnvAPIKey] = goodKey
	cfg, ce := parse(t, m, true)
	if ce != nil {
		t.Fatal(ce)
	}
	want := ClientConfig{
		ServiceID: "ingestor-2", TransportSetting: "http", Transport: "http",
		Endpoint: m[EnvEndpoint], APIKey: goodKey,
		MaxRetries: 0, RetryDelay: time.Millisecond, CallTimeout: 2 * time.Minute,
		CacheTTL: 0, CacheSize: 1_000_000,
	}
	if cfg != want {
		t.Fatalf("got  %#v\nwant %#v", cfg, want)
	}
}

func TestParseConfigBadValues(t *testing.T) {
	cases := []struct {
		name, value string
		binding     bool
		want        string // in the problem's reason
	}{
		{EnvServiceID, "ingestor service", true, `A-Z a-z 0-9 . _ -, got "ingestor service"`},
		{EnvServiceID, "ingestor/service", true, `got "ingestor/service"`},
		{EnvServiceID, strings.Repeat("a", 65), true, `got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...`},
		{EnvMaxRetries, "-1", true, `integer from 0 to 10, got "-1"`},
		{EnvMaxRetries, "11", true, `got "11"`},
		{EnvMaxRetries, "three", true, `got "three"`},
		{EnvMaxRetries, "NaN", true, `got "NaN"`},
		{EnvRetryDelay, "0", true, `integer from 1 to 30000 (milliseconds), got "0"`},
		{EnvRetryDelay, "30001", true, `got "30001"`},
		{EnvRetryDelay, "2s", true, `got "2s"`},
		{EnvCallTimeout, "0", true, `integer from 1 to 120000 (milliseconds), got "0"`},
		{EnvCallTimeout, "120001", true, `got "120001"`},
		{EnvCacheTTL, "-1", true, `integer from 0 to 86400000 (milliseconds), got "-1"`},
		{EnvCacheTTL, "86400001", true, `got "86400001"`},
		{EnvCacheTTL, "5m", true, `got "5m"`},
		{EnvCacheSize, "0", true, `integer from 1 to 1000000, got "0"`},
		{EnvCacheSize, "1000001", true, `got "1000001"`},
		{EnvTransport, "grpc", true, `"auto", "binding" or "http", got "grpc"`},
		{EnvTransport, "HTTP", true, `got "HTTP"`},
		{EnvTransport, "binding", false, `is "binding" but the worker has no TELEGRAM_AUTH service binding`},
		{EnvEndpoint, "auth.example.com/api", true, `absolute http or https URL, got "auth.example.com/api"`},
		{EnvEndpoint, "ftp://auth.example.com", true, `http or https URL, got "ftp://auth.example.com"`},
		{EnvEndpoint, "https://", true, `has no host`},
		{EnvEndpoint, "https://auth.example.com/api?x=1", true, `query or fragment`},
		{EnvEndpoint, "https://auth.example.com/api#top", true, `query or fragment`},
		{EnvEndpoint, "https://user:SECRETPASS@auth.example.com/", true, `must not contain credentials`},
		{EnvEndpoint, "http://[::1", true, `is not a URL, got "http://[::1"`},
		{EnvAPIKey, "SECRETKEY with space", true, "not visible ASCII"},
		{EnvAPIKey, "SECRETKEY\n", true, "not visible ASCII"},
		{EnvAPIKey, strings.Repeat("S", 1025), true, "longer than 1024 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			m := validEnv()
			m[c.name] = c.value
			_, ce := parse(t, m, c.binding)
			if ce == nil || len(ce.Problems) != 1 {
				t.Fatalf("problems = %v, want exactly one", ce)
			}
			p := ce.Problems[0]
			if p.Var != c.name || !strings.Contains(p.Reason, c.want) {
				t.Fatalf("problem = %+v\nwant var %s, reason containing %q", p, c.name, c.want)
			}
			if !strings.HasPrefix(ce.Error(), "authclient: invalid configuration: "+c.name+" ") {
				t.Fatalf("Error() = %q", ce.Error())
			}
			if strings.Contains(ce.Error(), "SECRET") {
				t.Fatalf("a secret is echoed: %q", ce.Error())
			}
		})
	}
}

func TestParseConfigMissing(t *testing.T) {
	// nil functions: nothing is set, there is no binding, so HTTP it is.
	var ce *ConfigError
	_, err := ParseConfig(nil, nil)
	if !errors.As(err, &ce) || !reflect.DeepEqual(ce.Vars(), []string{EnvEndpoint, EnvAPIKey}) {
		t.Fatalf("ParseConfig(nil, nil) = %v", err)
	}
}

// The service id rule is the contract's: Ingestor_1 is a service id.
func TestServiceIDFollowsTheContract(t *testing.T) {
	for _, id := range []string{"Ingestor_1", "ingestor.v2", "INGESTOR"} {
		cfg, ce := parse(t, map[string]string{EnvServiceID: id}, true)
		if ce != nil || cfg.ServiceID != id {
			t.Errorf("%s: %+v, %v", id, cfg, ce)
		}
	}
}

func TestParseConfigEmptyIsUnset(t *testing.T) {
	m := validEnv()
	for _, k := range []string{EnvServiceID, EnvMaxRetries, EnvRetryDelay, EnvCallTimeout, EnvCacheTTL, EnvCacheSize, EnvTransport, EnvEndpoint, EnvAPIKey} {
		m[k] = ""
	}
	cfg, ce := parse(t, m, true)
	if ce != nil {
		t.Fatal(ce)
	}
	if want := (ClientConfig{ServiceID: "ingestor-service", TransportSetting: "auto", Transport: "binding", MaxRetries: 3, RetryDelay: 2 * time.Second, CallTimeout: 10 * time.Second, CacheTTL: 5 * time.Minute, CacheSize: 1000}); cfg != want {
		t.Fatalf("got %#v", cfg)
	}
}

func TestParseConfigTransport(t *testing.T) {
	httpVars := func(m map[string]string) map[string]string {
		m[EnvEndpoint] = "http://127.0.0.1:8788/api/telegram-auth"
		m[EnvAPIKey] = goodKey
		return m
	}
	cases := []struct {
		name    string
		env     map[string]string
		binding bool
		want    string   // resolved transport
		bad     []string // variables named by the error
		reason  string   // in the first problem
	}{
		{"auto with binding", validEnv(), true, TransportBinding, nil, ""},
		{"auto without binding, no HTTP vars", validEnv(), false, TransportHTTP, []string{EnvEndpoint, EnvAPIKey}, "TELEGRAM_AUTH_TRANSPORT is auto and the worker has no TELEGRAM_AUTH binding"},
		{"auto without binding, HTTP vars", httpVars(validEnv()), false, TransportHTTP, nil, ""},
		{"http with binding", httpVars(with(validEnv(), EnvTransport, "http")), true, TransportHTTP, nil, ""},
		{"http without HTTP vars", with(validEnv(), EnvTransport, "http"), true, TransportHTTP, []string{EnvEndpoint, EnvAPIKey}, "(TELEGRAM_AUTH_TRANSPORT is http)"},
		{"http, key missing", with(with(validEnv(), EnvTransport, "http"), EnvEndpoint, "https://a.example/api"), true, TransportHTTP, []string{EnvAPIKey}, "needs a secret API key"},
		{"binding with binding", with(validEnv(), EnvTransport, "binding"), true, TransportBinding, nil, ""},
		{"binding without binding: an error, no fallback", httpVars(with(validEnv(), EnvTransport, "binding")), false, "", []string{EnvTransport}, "no TELEGRAM_AUTH service binding"},
		// An endpoint without a key is fine while it is not used...
		{"binding, endpoint without key", with(validEnv(), EnvEndpoint, "https://a.example/api"), true, TransportBinding, nil, ""},
		// ...but a value that is set is checked.
		{"binding, bad endpoint", with(validEnv(), EnvEndpoint, "nonsense"), true, TransportBinding, []string{EnvEndpoint}, "absolute http or https URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, ce := parse(t, c.env, c.binding)
			if cfg.Transport != c.want {
				t.Fatalf("transport %q, want %q", cfg.Transport, c.want)
			}
			if !reflect.DeepEqual(ce.Vars(), c.bad) {
				t.Fatalf("bad vars %v, want %v (%v)", ce.Vars(), c.bad, ce)
			}
			if c.reason != "" && !strings.Contains(ce.Problems[0].Reason, c.reason) {
				t.Fatalf("reason %q, want it to contain %q", ce.Problems[0].Reason, c.reason)
			}
			if ce != nil && strings.Contains(ce.Error(), goodKey) {
				t.Fatal("the API key is echoed")
			}
		})
	}
}

func with(m map[string]string, k, v string) map[string]string {
	m[k] = v
	return m
}

func TestParseConfigCombined(t *testing.T) {
	secretKey := "SECRETKEY\x00"
	env := map[string]string{
		EnvMaxRetries: "lots",
		EnvRetryDelay: "99999999",
		EnvCacheTTL:   "forever",
		EnvTransport:  "binding",
		EnvEndpoint:   "https://user:SECRETPW@x.example",
		EnvAPIKey:     secretKey,
	}
	cfg, ce := parse(t, env, false)
	wantVars := []string{EnvMaxRetries, EnvRetryDelay, EnvCacheTTL, EnvTransport, EnvEndpoint, EnvAPIKey}
	if ce == nil || !reflect.DeepEqual(ce.Vars(), wantVars) {
		t.Fatalf("vars = %v\nwant %v", ce.Vars(), wantVars)
	}
	msg := ce.Error()
	for _, v := range wantVars {
		if !strings.Contains(msg, v+" ") {
			t.Errorf("the message does not name %s: %s", v, msg)
		}
	}
	for _, s := range []string{"SECRET", secretKey} {
		if strings.Contains(msg, s) || strings.Contains(fmt.Sprintf("%+v %#v", ce, ce), s) {
			t.Errorf("the message echoes a secret (%q): %s", s, msg)
		}
	}
	for _, s := range []string{`"lots"`, `"99999999"`, `"forever"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("the message does not quote the bad value %s: %s", s, msg)
		}
	}
	if len(ce.Problems) != 6 {
		t.Fatalf("problems %v", ce.Problems)
	}
	if cfg.APIKey != "" || cfg.Endpoint != "" {
		t.Fatal("bad secrets kept in the config")
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	m := validEnv()
	m[EnvAPIKey] = goodKey
	cfg, ce := parse(t, m, true)
	if ce != nil {
		t.Fatal(ce)
	}
	b, _ := json.Marshal(cfg)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
		string(b),
	} {
		if strings.Contains(s, goodKey) {
			t.Fatalf("a secret is printed: %s", s)
		}
	}
	if !strings.Contains(cfg.String(), "APIKey:[redacted]") {
		t.Fatalf("String: %s", cfg)
	}
}
