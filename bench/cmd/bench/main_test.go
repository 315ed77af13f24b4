package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The report copies soak.md's verdicts by how their lines begin: the soak.md
// in the repository (written by make soak) must still begin them that way.
func TestSoakVerdictsFoundInSoakMD(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "soak.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines, missing := soakVerdicts(string(b))
	if len(missing) > 0 {
		t.Errorf("docs/soak.md has no line beginning %q", missing)
	}
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "Measured by") {
		t.Errorf("verdicts: %q", lines)
	}
}

func TestSoakVerdictsNameWhatIsMissing(t *testing.T) {
	lines, missing := soakVerdicts("Measured by make soak.\nsomething else\nTargets: met.\n")
	if !reflect.DeepEqual(lines, []string{"Measured by make soak.", "Targets: met."}) || !reflect.DeepEqual(missing, []string{"**Stalls:", "The bridge in each isolate"}) {
		t.Errorf("lines %q, missing %q", lines, missing)
	}
}
