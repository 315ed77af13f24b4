package main

import (
	"strings"
	"testing"
)

func TestPairNamed(t *testing.T) {
	for name, caller := range map[string]string{"go": "bridge-caller", "js": "bench-jscaller"} {
		p, err := pairNamed(name)
		if err != nil || p.caller != caller || p.path == "" {
			t.Errorf("pairNamed(%q) = %+v, %v", name, p, err)
		}
	}
	if _, err := pairNamed("rust"); err == nil || !strings.Contains(err.Error(), `-pair "rust"`) {
		t.Errorf("pairNamed(rust): %v", err)
	}
}
