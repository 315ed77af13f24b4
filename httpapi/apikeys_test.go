package httpapi

import (
	"strings"
	"testing"
)

func TestParseAPIKeys(t *testing.T) {
	h1, h2 := HashAPIKey("key-one"), HashAPIKey("key-two")
	keys, err := ParseAPIKeys("SERVICE_API_KEYS", ` {"ingestor-service": "`+h1+`", "admin.cli_2": ["`+strings.ToUpper(h2)+`", "`+h1+`"]} `)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Len() != 2 || strings.Join(keys.ServiceIDs(), ",") != "admin.cli_2,ingestor-service" {
		t.Errorf("ids %v", keys.ServiceIDs())
	}
	for _, c := range []struct {
		id, key string
		ok      bool
	}{
		{"ingestor-service", "key-one", true},
		{"ingestor-service", "key-two", false},
		{"admin.cli_2", "key-two", true},
		{"admin.cli_2", "key-one", true},
		{"admin.cli_2", "key-three", false},
		{"nobody", "key-one", false},
		{"nobody", "httpapi: no such service id", false}, // the dummy hash's preimage
		{"", "", false},
	} {
		if got := keys.Verify(c.id, c.key); got != c.ok {
			t.Errorf("Verify(%q, %q) = %v", c.id, c.key, got)
		}
	}
	if (APIKeys{}).Verify("ingestor-service", "key-one") {
		t.Error("the zero APIKeys accepted a key")
	}
	if HashAPIKey("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Error("HashAPIKey is not SHA-256 hex")
	}

	const rawKey = "sk_live_THIS_IS_A_RAW_KEY"
	for _, c := range []struct{ in, want string }{
		{"", "SERVICE_API_KEYS is empty"},
		{"  ", "SERVICE_API_KEYS is empty"},
		{`{"ingestor-service": "` + rawKey + `"`, "not a SHA-256 hex digest: want 64 hex digits, got 25 characters (store the hash of the key, not the key)"},
		{`{"ingestor-service": ` + rawKey + `}`, "not valid JSON (near byte"},
		{rawKey, "not valid JSON (near byte"},
		{`"` + rawKey + `"`, "not a JSON object"},
		{`["` + h1 + `"]`, "not a JSON object"},
		{`{}`, "no service ids"},
		{`{"a":"` + h1 + `"} {"` + rawKey + `":1}`, "data after the JSON object"},
		{`{"a":"` + h1 + `","a":"` + h2 + `"}`, `service id "a" appears twice`},
		{`{"bad id":"` + h1 + `"}`, `service id "bad id" is not valid`},
		{`{"":"` + h1 + `"}`, `service id "" is not valid`},
		{`{"a":"` + strings.Repeat("z", 64) + `"}`, `SERVICE_API_KEYS["a"] is not a SHA-256 hex digest: it has a character that is not a hex digit`},
		{`{"a":42}`, `SERVICE_API_KEYS["a"] must be a SHA-256 hex string or an array of them`},
		{`{"a":null}`, `SERVICE_API_KEYS["a"] must be a SHA-256 hex string or an array of them`},
		{`{"a":[]}`, `SERVICE_API_KEYS["a"] is an empty array`},
		{`{"a":["` + h1 + `",7]}`, `SERVICE_API_KEYS["a"] must be a SHA-256 hex string or an array of them`},
		{`{"a":["` + rawKey + `"]}`, `SERVICE_API_KEYS["a"] is not a SHA-256 hex digest`},
		{`{"a":["` + h1 + `"}`, "not valid JSON"},
	} {
		_, err := ParseAPIKeys("SERVICE_API_KEYS", c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAPIKeys(%q) = %v, want %q", c.in, err, c.want)
			continue
		}
		for _, s := range []string{rawKey, "RAW_KEY", "THIS", h1[:16], h2[:16], "zzzz"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("ParseAPIKeys(%q): error echoes the input: %v", c.in, err)
			}
		}
	}
}
