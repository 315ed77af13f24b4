package tgclient

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func lookupOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func testKeyPEM(t *testing.T, bits int, typ string) (string, *rsa.PublicKey) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PublicKey(&k.PublicKey)
	if typ == "PUBLIC KEY" {
		der, _ = x509.MarshalPKIXPublicKey(&k.PublicKey)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})), &k.PublicKey
}

func TestParseEndpointProduction(t *testing.T) {
	e, err := ParseEndpoint(lookupOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Production() || e.DC != 0 || e.Timeout != DefaultTimeout {
		t.Fatalf("unset = %+v, want production with the default timeout", e)
	}
}

func TestParseEndpointTestServer(t *testing.T) {
	p1, k1 := testKeyPEM(t, 2048, "RSA PUBLIC KEY")
	p2, k2 := testKeyPEM(t, 2048, "PUBLIC KEY")
	// One line with literal \n, as in .dev.vars.
	oneLine := strings.ReplaceAll(p1+p2, "\n", `\n`)
	e, err := ParseEndpoint(lookupOf(map[string]string{
		EnvDCID: "2", EnvDCAddr: "127.0.0.1:4430", EnvPublicKeys: oneLine, EnvTimeout: "2500", EnvDCOthers: "4=127.0.0.1:4431, 5=[::1]:4432",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e.Production() || e.DC != 2 || e.Addr != "127.0.0.1:4430" || e.Timeout != 2500*time.Millisecond ||
		len(e.Others) != 2 || e.Others[4] != "127.0.0.1:4431" || e.Others[5] != "[::1]:4432" {
		t.Fatalf("endpoint = %+v", e)
	}
	if len(e.PublicKeys) != 2 || !e.PublicKeys[0].Equal(k1) || !e.PublicKeys[1].Equal(k2) {
		t.Fatal("public keys not read in order")
	}
}

func TestParseEndpointBadInput(t *testing.T) {
	good, _ := testKeyPEM(t, 2048, "RSA PUBLIC KEY")
	small, _ := testKeyPEM(t, 1024, "RSA PUBLIC KEY")
	cert := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"dc not a number", map[string]string{EnvDCID: "two", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good}, []string{`TELEGRAM_DC_ID must be a data center id from 1 to 255, got "two"`}},
		{"dc out of range", map[string]string{EnvDCID: "256", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good}, []string{"TELEGRAM_DC_ID must be"}},
		{"addr without port", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1", EnvPublicKeys: good}, []string{`TELEGRAM_DC_ADDR must be "host:port"`}},
		{"addr port zero", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:0", EnvPublicKeys: good}, []string{"TELEGRAM_DC_ADDR must be"}},
		{"keys not PEM", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: "hello"}, []string{"TELEGRAM_PUBLIC_KEYS must be PEM"}},
		{"keys wrong block", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: cert}, []string{`TELEGRAM_PUBLIC_KEYS PEM block 1 is a "CERTIFICATE"`}},
		{"keys too small", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: small}, []string{"1024-bit key"}},
		{"keys trailing junk", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good + "junk"}, []string{"text after PEM block 1"}},
		{"only an address", map[string]string{EnvDCAddr: "127.0.0.1:1"}, []string{"missing TELEGRAM_DC_ID, TELEGRAM_PUBLIC_KEYS"}},
		{"timeout", map[string]string{EnvTimeout: "5"}, []string{`TELEGRAM_CALL_TIMEOUT must be milliseconds from 100 to 600000, got "5"`}},
		{"others without a test server", map[string]string{EnvDCOthers: "4=127.0.0.1:2"}, []string{"TELEGRAM_DC_OTHERS is for a test server"}},
		{"others not id=addr", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good, EnvDCOthers: "127.0.0.1:2"}, []string{`TELEGRAM_DC_OTHERS must be "id=host:port"`}},
		{"others id out of range", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good, EnvDCOthers: "0=127.0.0.1:2"}, []string{"ids from 1 to 255"}},
		{"others bad address", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good, EnvDCOthers: "4=127.0.0.1"}, []string{`TELEGRAM_DC_OTHERS has an address that is not "host:port"`}},
		{"others twice", map[string]string{EnvDCID: "2", EnvDCAddr: "127.0.0.1:1", EnvPublicKeys: good, EnvDCOthers: "4=127.0.0.1:2,4=127.0.0.1:3"}, []string{"names data center 4 twice"}},
		{"several at once", map[string]string{EnvDCID: "x", EnvTimeout: "y"}, []string{"TELEGRAM_DC_ID must", "TELEGRAM_CALL_TIMEOUT must", "missing TELEGRAM_DC_ADDR, TELEGRAM_PUBLIC_KEYS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseEndpoint(lookupOf(tc.env))
			if err == nil {
				t.Fatalf("accepted: %+v", e)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, ok := err.(*ConfigError); !ok {
				t.Errorf("error is %T, want *ConfigError", err)
			}
		})
	}
}

func TestParseApp(t *testing.T) {
	const hash = "0123456789abcdef0123456789ABCDEF"
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	app, err := ParseApp(env(map[string]string{EnvAPIID: "12345", EnvAPIHash: hash}))
	if err != nil || app.ID != 12345 || app.Hash != hash {
		t.Fatalf("ParseApp = %+v, %v", app, err)
	}
	for _, c := range []struct {
		id, hash string
		want     []string
	}{
		{"", "", []string{"TELEGRAM_API_ID is missing", "TELEGRAM_API_HASH is missing"}},
		{"abc", hash, []string{`TELEGRAM_API_ID must be a positive 32-bit integer, got "abc"`}},
		{"0", hash, []string{`got "0"`}},
		{"2147483648", hash, []string{`got "2147483648"`}},
		{"12", "SECRET-not-hex-SECRET-not-hex-12", []string{"TELEGRAM_API_HASH must be 32 hexadecimal characters (a secret, not shown)"}},
		{"12", hash + "\n", []string{"TELEGRAM_API_HASH must be 32 hexadecimal characters"}},
	} {
		_, err := ParseApp(env(map[string]string{EnvAPIID: c.id, EnvAPIHash: c.hash}))
		var ce *ConfigError
		if !errors.As(err, &ce) || len(ce.Problems) != len(c.want) {
			t.Errorf("%q %q: %v", c.id, c.hash, err)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(ce.Problems[i], w) || strings.Contains(ce.Problems[i], "SECRET") {
				t.Errorf("%q %q: problem %q, want %q", c.id, c.hash, ce.Problems[i], w)
			}
		}
	}
}
