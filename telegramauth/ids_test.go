package telegramauth

import (
	"strings"
	"testing"
)

func TestValidServiceID(t *testing.T) {
	for _, id := range []string{"ingestor-service", "Ingestor_1", "ops.team", "a", strings.Repeat("x", 64)} {
		if !ValidServiceID(id) {
			t.Errorf("%q refused", id)
		}
	}
	for _, id := range []string{"", "a b", "a/b", "é", "a\n", strings.Repeat("x", 65)} {
		if ValidServiceID(id) {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestValidSessionID(t *testing.T) {
	for _, id := range []string{"ses_abcdefghijklmnopqrstuvwxyz", "ses_234567abcdefghijklmnopqrst"} {
		if !ValidSessionID(id) {
			t.Errorf("%q refused", id)
		}
	}
	for _, id := range []string{"", "ses_", "ses_abcdefghijklmnopqrstuvwxy1", "ses_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"xes_abcdefghijklmnopqrstuvwxyz", "ses_abcdefghijklmnopqrstuvwxyza"} {
		if ValidSessionID(id) {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestValidUserID(t *testing.T) {
	if !ValidUserID(1) || !ValidUserID(MaxUserID) || ValidUserID(0) || ValidUserID(-1) || ValidUserID(MaxUserID+1) {
		t.Error("ValidUserID bounds")
	}
}

// The named entrypoints are distinct JavaScript class names with valid
// service ids (rpcgen checks the names again when it generates the classes).
func TestEntrypoints(t *testing.T) {
	seen := map[string]bool{}
	for _, ep := range Entrypoints {
		if ep.Name == "" || seen[ep.Name] || !ValidServiceID(ep.ServiceID) {
			t.Errorf("entrypoint %+v", ep)
		}
		seen[ep.Name] = true
	}
}
