//go:build !js

package telegramauth

import (
	"go/build"
	"strings"
	"testing"
)

// The contract is plain Go: it imports the standard library only, so no
// caller of it depends on the bridge (workers/) or on any service.
func TestContractImportsOnlyTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("telegramauth imports %s; the contract must stand alone", imp)
		}
	}
}
