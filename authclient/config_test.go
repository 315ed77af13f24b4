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
	goodHash = "0123456789abcdef0123456789ABCDEF"
	goodKey  = "k3y-SECRETKEYVALUE-for-tests"
)

// envOf makes a lookup over m, and a binding check that has TELEGRAM_AUTH
// when binding is set.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func hasBindingIf(b bool) func(string) bool {
	return func(name string) bool { return b && name == BindingName }
}

func validEnv() map[string]string {
	return map[string]string{EnvAPIID: "12345", EnvAPIHash: goodHash}
}

func parse(t *testing.T, m map[string]string, binding bool) (Config, *ConfigError) {
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
	want := Config{
		Telegram: TelegramConfig{APIID: 12345, APIHash: goodHash},
		Client: ClientConfig{
			ServiceID: "ingestor-service", TransportSetting: "auto", Transport: "binding",
			MaxRetries: 3, RetryDelay: 2 * time.Second, CallTimeout: 10 * time.Second,
			CacheTTL: 5 * time.Minute, CacheSize: 1000,
		},
	}
	if cfg != want {
		t.Fatalf("got  %#v\nwant %#v", cfg, want)
	}
	d := DefaultClientConfig()
	d.Transport = TransportBinding
	if cfg.Client != d {
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
	if cfg.Client != want {
		t.Fatalf("got  %#v\nwant %#v", cfg.Client, want)
	}
}

func TestParseConfigBadValues(t *testing.T) {
	cases := []struct {
		name, value string
		binding     bool
		want        string // in the problem's reason
		part        Part
	}{
		{EnvAPIID, "abc", true, `positive 32-bit integer, got "abc"`, PartTelegram},
		{EnvAPIID, "0", true, `got "0"`, PartTelegram},
		{EnvAPIID, "-5", true, `got "-5"`, PartTelegram},
		{EnvAPIID, "2147483648", true, `got "2147483648"`, PartTelegram},
		{EnvAPIID, " 12", true, `got " 12"`, PartTelegram},
		{EnvAPIID, "12.0", true, `got "12.0"`, PartTelegram},
		{EnvAPIHash, "abc", true, "32 hexadecimal characters; the value (a secret, not shown) has 3 bytes", PartTelegram},
		{EnvAPIHash, strings.Repeat("g", 32), true, "not 0-9 or a-f", PartTelegram},
		{EnvAPIHash, goodHash + "\n", true, "has 33 bytes", PartTelegram},
		{EnvServiceID, "Ingestor", true, `a-z, 0-9 and -, got "Ingestor"`, PartClient},
		{EnvServiceID, "ingestor_service", true, `got "ingestor_service"`, PartClient},
		{EnvServiceID, strings.Repeat("a", 65), true, `got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...`, PartClient},
		{EnvMaxRetries, "-1", true, `integer from 0 to 10, got "-1"`, PartClient},
		{EnvMaxRetries, "11", true, `got "11"`, PartClient},
		{EnvMaxRetries, "three", true, `got "three"`, PartClient},
		{EnvMaxRetries, "NaN", true, `got "NaN"`, PartClient},
		{EnvRetryDelay, "0", true, `integer from 1 to 30000 (milliseconds), got "0"`, PartClient},
		{EnvRetryDelay, "30001", true, `got "30001"`, PartClient},
		{EnvRetryDelay, "2s", true, `got "2s"`, PartClient},
		{EnvCallTimeout, "0", true, `integer from 1 to 120000 (milliseconds), got "0"`, PartClient},
		{EnvCallTimeout, "120001", true, `got "120001"`, PartClient},
		{EnvCacheTTL, "-1", true, `integer from 0 to 86400000 (milliseconds), got "-1"`, PartClient},
		{EnvCacheTTL, "86400001", true, `got "86400001"`, PartClient},
		{EnvCacheTTL, "5m", true, `got "5m"`, PartClient},
		{EnvCacheSize, "0", true, `integer from 1 to 1000000, got "0"`, PartClient},
		{EnvCacheSize, "1000001", true, `got "1000001"`, PartClient},
		{EnvTransport, "grpc", true, `"auto", "binding" or "http", got "grpc"`, PartClient},
		{EnvTransport, "HTTP", true, `got "HTTP"`, PartClient},
		{EnvTransport, "binding", false, `is "binding" but the worker has no TELEGRAM_AUTH service binding`, PartClient},
		{EnvEndpoint, "auth.example.com/api", true, `absolute http or https URL, got "auth.example.com/api"`, PartClient},
		{EnvEndpoint, "ftp://auth.example.com", true, `http or https URL, got "ftp://auth.example.com"`, PartClient},
		{EnvEndpoint, "https://", true, `has no host`, PartClient},
		{EnvEndpoint, "https://auth.example.com/api?x=1", true, `query or fragment`, PartClient},
		{EnvEndpoint, "https://auth.example.com/api#top", true, `query or fragment`, PartClient},
		{EnvEndpoint, "https://user:SECRETPASS@auth.example.com/", true, `must not contain credentials`, PartClient},
		{EnvEndpoint, "http://[::1", true, `is not a URL, got "http://[::1"`, PartClient},
		{EnvAPIKey, "SECRETKEY with space", true, "not visible ASCII", PartClient},
		{EnvAPIKey, "SECRETKEY\n", true, "not visible ASCII", PartClient},
		{EnvAPIKey, strings.Repeat("S", 1025), true, "longer than 1024 bytes", PartClient},
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
			if p.Var != c.name || p.Part != c.part || !strings.Contains(p.Reason, c.want) {
				t.Fatalf("problem = %+v\nwant var %s, part %s, reason containing %q", p, c.name, c.part, c.want)
			}
			if !strings.HasPrefix(ce.Error(), "authclient: invalid configuration: "+c.name+" ") {
				t.Fatalf("Error() = %q", ce.Error())
			}
			if strings.Contains(ce.Error(), "SECRET") || strings.Contains(ce.Error(), goodHash) {
				t.Fatalf("a secret is echoed: %q", ce.Error())
			}
		})
	}
}

func TestParseConfigMissing(t *testing.T) {
	_, ce := parse(t, map[string]string{}, true)
	if ce == nil || !reflect.DeepEqual(ce.Vars(), []string{EnvAPIID, EnvAPIHash}) {
		t.Fatalf("problems = %v", ce)
	}
	for _, p := range ce.Problems {
		if p.Part != PartTelegram || !strings.HasPrefix(p.Reason, "is missing") {
			t.Fatalf("problem = %+v", p)
		}
	}
	// nil functions: nothing is set, there is no binding.
	_, err := ParseConfig(nil, nil)
	if !errors.As(err, &ce) || !reflect.DeepEqual(ce.Vars(), []string{EnvAPIID, EnvAPIHash, EnvEndpoint, EnvAPIKey}) {
		t.Fatalf("ParseConfig(nil, nil) = %v", err)
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
	if want := (ClientConfig{ServiceID: "ingestor-service", TransportSetting: "auto", Transport: "binding", MaxRetries: 3, RetryDelay: 2 * time.Second, CallTimeout: 10 * time.Second, CacheTTL: 5 * time.Minute, CacheSize: 1000}); cfg.Client != want {
		t.Fatalf("got %#v", cfg.Client)
	}
	m[EnvAPIID] = ""
	if _, ce := parse(t, m, true); ce == nil || ce.Problems[0].Reason[:10] != "is missing" {
		t.Fatalf("empty API id: %v", ce)
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
			if cfg.Client.Transport != c.want {
				t.Fatalf("transport %q, want %q", cfg.Client.Transport, c.want)
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
	secretHash := "SECRETHASH-not-hex-but-32-bytes!"
	secretKey := "SECRETKEY\x00"
	env := map[string]string{
		EnvAPIHash:    secretHash,
		EnvMaxRetries: "lots",
		EnvRetryDelay: "99999999",
		EnvCacheTTL:   "forever",
		EnvTransport:  "binding",
		EnvEndpoint:   "https://user:SECRETPW@x.example",
		EnvAPIKey:     secretKey,
	}
	cfg, ce := parse(t, env, false)
	wantVars := []string{EnvAPIID, EnvAPIHash, EnvMaxRetries, EnvRetryDelay, EnvCacheTTL, EnvTransport, EnvEndpoint, EnvAPIKey}
	if ce == nil || !reflect.DeepEqual(ce.Vars(), wantVars) {
		t.Fatalf("vars = %v\nwant %v", ce.Vars(), wantVars)
	}
	msg := ce.Error()
	for _, v := range wantVars {
		if !strings.Contains(msg, v+" ") {
			t.Errorf("the message does not name %s: %s", v, msg)
		}
	}
	for _, s := range []string{"SECRET", secretHash, secretKey} {
		if strings.Contains(msg, s) || strings.Contains(fmt.Sprintf("%+v %#v", ce, ce), s) {
			t.Errorf("the message echoes a secret (%q): %s", s, msg)
		}
	}
	for _, s := range []string{`"lots"`, `"99999999"`, `"forever"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("the message does not quote the bad value %s: %s", s, msg)
		}
	}
	// Per part.
	tg := ce.Part(PartTelegram)
	var tce *ConfigError
	if !errors.As(tg, &tce) || !reflect.DeepEqual(tce.Vars(), []string{EnvAPIID, EnvAPIHash}) {
		t.Fatalf("telegram part = %v", tg)
	}
	cl := ce.Part(PartClient)
	if !errors.As(cl, &tce) || len(tce.Problems) != 6 {
		t.Fatalf("client part = %v", cl)
	}
	if cfg.Telegram != (TelegramConfig{}) {
		t.Fatalf("bad values leaked into the config: %v", cfg.Telegram)
	}
	if cfg.Client.APIKey != "" || cfg.Client.Endpoint != "" {
		t.Fatal("bad secrets kept in the config")
	}
}

func TestParseConfigPartsAreIndependent(t *testing.T) {
	// Only the Telegram credentials are bad: the client part is usable.
	cfg, err := ParseConfig(envOf(map[string]string{EnvAPIID: "x"}), hasBindingIf(true))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatal(err)
	}
	if ce.Part(PartClient) != nil || ce.Part(PartTelegram) == nil {
		t.Fatalf("parts: client %v, telegram %v", ce.Part(PartClient), ce.Part(PartTelegram))
	}
	svc := newFakeService(newFakeClock())
	if c := New(cfg.Client, Transports{Binding: svc}); c.Transport() != TransportBinding {
		t.Fatalf("transport %s", c.Transport())
	}
	// And the other way round.
	cfg, err = ParseConfig(envOf(with(validEnv(), EnvCacheSize, "0")), hasBindingIf(true))
	if !errors.As(err, &ce) || ce.Part(PartTelegram) != nil || ce.Part(PartClient) == nil {
		t.Fatalf("parts of %v", err)
	}
	if cfg.Telegram != (TelegramConfig{APIID: 12345, APIHash: goodHash}) {
		t.Fatalf("telegram = %v", cfg.Telegram)
	}
	// A nil *ConfigError has no problems.
	var none *ConfigError
	if none.Part(PartClient) != nil || none.Vars() != nil {
		t.Fatal("nil *ConfigError")
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
		fmt.Sprintf("%v %+v %#v", cfg.Client, cfg.Client, cfg.Client),
		fmt.Sprintf("%v %+v %#v", cfg.Telegram, cfg.Telegram, cfg.Telegram),
		string(b),
	} {
		if strings.Contains(s, goodKey) || strings.Contains(s, goodHash) {
			t.Fatalf("a secret is printed: %s", s)
		}
	}
	if !strings.Contains(cfg.Client.String(), "APIKey:[redacted]") || !strings.Contains(cfg.Telegram.String(), "APIID:12345") {
		t.Fatalf("String: %s %s", cfg.Client, cfg.Telegram)
	}
}
