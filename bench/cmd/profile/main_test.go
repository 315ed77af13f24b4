package main

import (
	"strings"
	"testing"
)

func TestPairNamed(t *testing.T) {
	for name, pair := range map[string][2]string{"go": {"bridge-caller", "bridge-callee"}, "js": {"bench-jscaller", "bridge-jscallee"}, "auth": {"bench-jscaller", "auth-telegram"}} {
		p, err := pairNamed(name)
		if err != nil || p.caller != pair[0] || p.callee != pair[1] || p.path == "" || p.goDir == "" {
			t.Errorf("pairNamed(%q) = %+v, %v", name, p, err)
		}
	}
	if _, err := pairNamed("rust"); err == nil || !strings.Contains(err.Error(), `-pair "rust"`) {
		t.Errorf("pairNamed(rust): %v", err)
	}
}
