package devstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// .dev.vars values that dotenv cannot carry are refused, naming the variable
// and not the value; the others are written so that dotenv reads them back as
// given.
func TestStageDevVars(t *testing.T) {
	dir := t.TempDir()
	w := Worker{Name: "w", Dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "wrangler.toml"), []byte("name = \"w\"\nmain = \"index.mjs\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []map[string]string{
		{"SECRET_A": "two\nlines"},
		{"SECRET_B": `both ' and " quotes`},
	} {
		w.Vars = bad
		_, err := stage(t.TempDir(), w)
		for k, v := range bad {
			if err == nil || !strings.Contains(err.Error(), k) || strings.Contains(err.Error(), v) {
				t.Errorf("%s: %v", k, err)
			}
		}
	}
	w.Vars = map[string]string{"JSON": `{"a":"b"}`, "QUOTE": "it's"}
	root := t.TempDir()
	if _, err := stage(root, w); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "w", ".dev.vars"))
	if string(b) != "JSON='{\"a\":\"b\"}'\nQUOTE=\"it's\"\n" {
		t.Errorf(".dev.vars = %q", b)
	}
}
