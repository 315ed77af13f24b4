package accesspolicy

import (
	"strings"
	"testing"
)

var known = []string{"read", "operate"}

func TestParse(t *testing.T) {
	p, err := Parse("X_POLICY", `{"read": ["communicator", "Ingestor_1"], "operate": []}`, known)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		perm, id string
		want     bool
	}{
		{"read", "communicator", true}, {"read", "Ingestor_1", true}, {"read", "other", false},
		{"operate", "communicator", false}, {"sync", "communicator", false}, {"read", "", false},
	} {
		if got := p.Allows(tt.perm, tt.id); got != tt.want {
			t.Errorf("Allows(%s, %s) = %v", tt.perm, tt.id, got)
		}
	}
	bad := map[string]string{
		``:                               `X_POLICY must be a JSON object of permission to a list of service ids, such as {"read": ["some-service"]}`,
		`[]`:                             "must be a JSON object",
		`{"read": ["a"]} x`:              "must be a JSON object",
		`{"write": ["a"]}`:               `X_POLICY: unknown permission "write" (known: read, operate)`,
		`{"read": "a"}`:                  "X_POLICY: read must be a list of service ids",
		`{"read": ["a b"]}`:              `X_POLICY: read: "a b" is not a service id (1-64 characters of A-Z a-z 0-9 . _ -)`,
		`{"read": ["a"], "read": ["b"]}`: `X_POLICY: member "read" appears more than once`,
		`{"read": [` + strings.Repeat(`"a",`, 3) + `1]}`: "read must be a list of service ids",
	}
	for in, want := range bad {
		if _, err := Parse("X_POLICY", in, known); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v, want %q", in, err, want)
		}
	}
}
