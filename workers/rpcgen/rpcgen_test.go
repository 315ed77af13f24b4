//go:build !js

package main

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot is the repository's root, relative to this package.
const moduleRoot = "../.."

// generateLine is a //go:generate line that runs rpcgen, with its package's
// directory.
type generateLine struct {
	dir  string
	args []string
}

// rpcgenLines finds every //go:generate line of the module that runs rpcgen.
func rpcgenLines(t *testing.T) []generateLine {
	t.Helper()
	var lines []generateLine
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "testdata", ".wrangler":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[0] != "//go:generate" || fields[1] != "go" || fields[2] != "run" {
				continue
			}
			dir := filepath.Dir(path)
			target, err := filepath.Abs(filepath.Join(dir, fields[3]))
			if err != nil {
				return err
			}
			self, err := filepath.Abs(".")
			if err != nil {
				return err
			}
			if target != self {
				continue
			}
			if strings.ContainsAny(sc.Text(), `"'`) {
				t.Errorf("%s: rpcgen's test cannot read quoted go:generate arguments", path)
			}
			lines = append(lines, generateLine{dir: dir, args: fields[4:]})
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestGeneratedFilesAreUpToDate runs every rpcgen go:generate line of the
// module into a temporary directory and compares the output with the files in
// the repository.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	lines := rpcgenLines(t)
	want := map[string]bool{"authrpc": false, "ingestor": false, "kitchensink": false}
	for _, l := range lines {
		want[filepath.Base(l.dir)] = true
	}
	for dir, found := range want {
		if !found {
			t.Errorf("no rpcgen go:generate line in %s", dir)
		}
	}
	for _, l := range lines {
		c, err := parseFlags(l.args, io.Discard)
		if err != nil {
			t.Errorf("%s: %v", l.dir, err)
			continue
		}
		tmp := t.TempDir()
		// Paths are relative to the package's directory; outputs go to tmp.
		committed := map[string]string{}
		redirect := func(p *string) {
			if *p == "" {
				return
			}
			real := filepath.Join(l.dir, *p)
			*p = filepath.Join(tmp, strings.ReplaceAll(filepath.Clean(*p), string(filepath.Separator), "_"))
			committed[*p] = real
		}
		// Read the package as go generate would, skipping the committed Go
		// output, and write the outputs into tmp.
		m, err := load(l.dir, c)
		if err != nil {
			t.Errorf("%s: %v", l.dir, err)
			continue
		}
		redirect(&c.goOut)
		redirect(&c.jsOut)
		redirect(&c.dtsOut)
		files, err := render(m, c)
		if err != nil {
			t.Errorf("%s: %v", l.dir, err)
			continue
		}
		for tmpPath, data := range files {
			if err := os.WriteFile(tmpPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			real := committed[tmpPath]
			old, err := os.ReadFile(real)
			if err != nil || !bytes.Equal(old, data) {
				t.Errorf("%s is stale or missing: run go generate ./...", real)
			}
		}
	}
}

func TestJSName(t *testing.T) {
	tests := map[string]string{
		"GetSessionByUserID": "getSessionByUserId",
		"userID":             "userId",
		"ID":                 "id",
		"IDs":                "ids",
		"UserIDs":            "userIds",
		"GetUserIDsByName":   "getUserIdsByName",
		"IDToken":            "idToken",
		"Identity":           "identity",
		"IDentity":           "iDentity",
		"UUID":               "uuid",
		"GetUUID":            "getUUID",
		"HTTPStatus":         "httpStatus",
		"sessionString":      "sessionString",
		"ListSessions":       "listSessions",
		"X":                  "x",
		"x":                  "x",
		"OAuth2Token":        "oAuth2Token",
		"HTTP2":              "http2",
		"Video":              "video",
		"DID":                "did",
	}
	for in, want := range tests {
		if got := jsName(in); got != want {
			t.Errorf("jsName(%s) = %s, want %s", in, got, want)
		}
	}
}

// writePkg writes a package with the given files into a new directory.
func writePkg(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const hooksSrc = `package p

func rpcArgumentError(method, param string, err error) error { return err }
func rpcAppendError(dst []byte, err error) []byte { return dst }
func rpcClientError(err error) error { return err }
`

func TestGeneratorErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"map field", `type T struct{ M map[string]int ` + "`json:\"m\"`" + ` }
type S interface{ F(ctx context.Context) (T, error) }`, "p.go:9: field T.M: unsupported type map[string]int"},
		{"interface field", `type T struct{ X any ` + "`json:\"x\"`" + ` }
type S interface{ F(ctx context.Context) (T, error) }`, "field T.X: unsupported type any"},
		{"byte slice", `type S interface{ F(ctx context.Context, b []byte) error }`, "S.F parameter b: unsupported type byte"},
		{"uint64", `type S interface{ F(ctx context.Context, n uint64) error }`, "S.F parameter n: unsupported type uint64"},
		{"foreign struct", `type S interface{ F(ctx context.Context) (time.Duration, error) }`, "S.F result: unsupported type time.Duration"},
		{"array", `type S interface{ F(ctx context.Context, a [2]string) error }`, "unsupported type [2]string (arrays are not supported"},
		{"pointer to slice", `type S interface{ F(ctx context.Context, a *[]string) error }`, "unsupported type *[]string"},
		{"named map", `type M map[string]int
type S interface{ F(ctx context.Context, m M) error }`, "S.F parameter m: unsupported type M (its underlying type map[string]int"},
		{"no json tag", `type T struct{ A string }
type S interface{ F(ctx context.Context, t T) error }`, "T.A: no json tag"},
		{"tag option", `type T struct{ A string ` + "`json:\"a,string\"`" + ` }
type S interface{ F(ctx context.Context, t T) error }`, `T.A: json tag option "string" is not supported`},
		{"omitempty time", `type T struct{ A time.Time ` + "`json:\"a,omitempty\"`" + ` }
type S interface{ F(ctx context.Context, t T) error }`, "T.A: omitempty is not supported for time.Time"},
		{"duplicate key", `type T struct{ A string ` + "`json:\"a\"`" + `; B string ` + "`json:\"a\"`" + ` }
type S interface{ F(ctx context.Context, t T) error }`, `T.B: JSON key "a" is also the key of A`},
		{"embedded field", `type E struct{}
type T struct{ E }
type S interface{ F(ctx context.Context, t T) error }`, "T: embedded field E is not supported"},
		{"no context", `type S interface{ F(n int) error }`, "S.F: the first parameter must be a context.Context"},
		{"unnamed params", `type S interface{ F(context.Context, int) error }`, "S.F: parameters must be named"},
		{"no error", `type S interface{ F(ctx context.Context) int }`, "S.F: results must be (T, error) or (error)"},
		{"three results", `type S interface{ F(ctx context.Context) (int, int, error) }`, "results must be"},
		{"variadic", `type S interface{ F(ctx context.Context, xs ...string) error }`, "variadic parameters are not supported"},
		{"reserved name", `type S interface{ Fetch(ctx context.Context) error }`, `S.Fetch: "fetch" cannot be an RPC method name`},
		{"then", `type S interface{ Then(ctx context.Context) error }`, `"then" cannot be an RPC method name`},
		{"callJSON", `type S interface{ CallJSON(ctx context.Context) error }`, `"callJSON" cannot be an RPC method name`},
		{"bad directive", `type S interface{
	//rpc:name not-valid
	F(ctx context.Context) error
}`, `"not-valid" cannot be an RPC method name`},
		{"duplicate rpc name", `type S interface{
	F(ctx context.Context) error
	//rpc:name f
	G(ctx context.Context) error
}`, "S.G: RPC name f is also the name of F"},
		{"embedded interface", `type S interface{ fmt.Stringer }`, "embedded interfaces are not supported"},
		{"not an interface", `type S struct{}`, "S is not an interface type"},
		{"empty interface", `type S interface{}`, "S has no methods"},
		{"generic struct", `type T[X any] struct{ A X ` + "`json:\"a\"`" + ` }
type S interface{ F(ctx context.Context, t T[int]) error }`, "unsupported type T[int]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The package is only parsed, so unused imports do not matter.
			src := "package p\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"time\"\n)\n\n"
			dir := writePkg(t, map[string]string{"p.go": src + tt.src + "\n", "hooks.go": hooksSrc})
			_, err := generate(config{typeName: "S", pkgDir: dir, goOut: filepath.Join(dir, "rpc_gen.go"), jsClass: "W"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMissingHooks(t *testing.T) {
	dir := writePkg(t, map[string]string{"p.go": "package p\n\nimport \"context\"\n\ntype S interface{ F(ctx context.Context) error }\n"})
	_, err := generate(config{typeName: "S", pkgDir: dir, goOut: "x.go", jsClass: "W"})
	if err == nil || !strings.Contains(err.Error(), "must declare the hook `func rpcArgumentError(method, param string, err error) error`") {
		t.Errorf("got %v", err)
	}
	// Without -type, no hooks are needed.
	if _, err := generate(config{pkgDir: dir, jsOut: "x.mjs", jsClass: "W"}); err != nil {
		t.Error(err)
	}
}

func TestFlags(t *testing.T) {
	bad := map[string][]string{
		"nothing to write":                  {"-type", "S"},
		"-go and -dts need -type":           {"-go", "x.go"},
		"is not a JavaScript identifier":    {"-js", "x.mjs", "-js-class", "my-class"},
		"-error-type needs -error-name":     {"-type", "S", "-dts", "x.d.ts", "-error-type", "E"},
		"unexpected arguments":              {"-js", "x.mjs", "extra"},
		"-queue needs -js":                  {"-type", "S", "-go", "x.go", "-queue"},
		"flag provided but not defined: -x": {"-x"},
	}
	for want, args := range bad {
		if _, err := parseFlags(args, io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", args, err, want)
		}
	}
	c, err := parseFlags([]string{"-type", "S", "-go", "a.go", "-js", "b.mjs", "-dts", "c.d.ts", "-js-class", "W", "-service", "s",
		"-error-name", "E", "-error-type", "p", "-pkg-dir", "d", "-queue"}, io.Discard)
	want := config{typeName: "S", goOut: "a.go", jsOut: "b.mjs", dtsOut: "c.d.ts", jsClass: "W", service: "s", errName: "E", errType: "p", pkgDir: "d", queue: true}
	if err != nil || c != want {
		t.Errorf("parseFlags = %+v, %v", c, err)
	}
}

// TestRunWritesFiles runs the generator as go generate would, in a package
// outside the module (the Go output is not compiled here; kitchensink is).
func TestRunWritesFiles(t *testing.T) {
	dir := writePkg(t, map[string]string{
		"p.go":     "package p\n\nimport \"context\"\n\n// S does things.\ntype S interface {\n\t// Do does.\n\tDo(ctx context.Context, id string) error\n}\n",
		"hooks.go": hooksSrc,
	})
	c := config{typeName: "S", pkgDir: dir, goOut: filepath.Join(dir, "rpc_gen.go"), jsOut: filepath.Join(dir, "entry", "w.mjs"),
		dtsOut: filepath.Join(dir, "entry", "w.d.ts"), jsClass: "W", service: "svc \"quoted\""}
	if err := run(c); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(c.jsOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`service: "svc \"quoted\""`, "export default class W extends WorkerEntrypoint {",
		"  do(...args) { return runtime.call(0, args, this.env, this.ctx); }"} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("the entry module lacks %s:\n%s", want, js)
		}
	}
	if bytes.Contains(js, []byte("errorName")) {
		t.Error("errorName without -error-name")
	}
	if bytes.Contains(js, []byte("queue")) {
		t.Errorf("a queue handler without -queue:\n%s", js)
	}
	dts, err := os.ReadFile(c.dtsOut)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dts, []byte("/** do does. */\n  do(id: string): Promise<void>;")) {
		t.Errorf("declaration:\n%s", dts)
	}
	goSrc, err := os.ReadFile(c.goOut)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(goSrc, []byte("// Code generated by rpcgen. DO NOT EDIT.\n")) {
		t.Errorf("Go output header:\n%s", goSrc[:80])
	}
	// Running again reads the package without the previous output.
	if err := run(c); err != nil {
		t.Fatal(err)
	}
	// The generated Go code does not use reflection, fmt or encoding/json.
	for _, banned := range []string{`"reflect"`, `"fmt"`, `"encoding/json"`} {
		if bytes.Contains(goSrc, []byte(banned)) {
			t.Errorf("the generated code imports %s", banned)
		}
	}
}

// TestGeneratedJavaScriptParses checks the committed JavaScript and
// TypeScript outputs with node and esbuild, where they are installed.
func TestGeneratedJavaScriptParses(t *testing.T) {
	var js, dts []string
	for _, l := range rpcgenLines(t) {
		c, err := parseFlags(l.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.jsOut != "" {
			js = append(js, filepath.Join(l.dir, c.jsOut))
		}
		if c.dtsOut != "" {
			dts = append(dts, filepath.Join(l.dir, c.dtsOut))
		}
	}
	if node, err := exec.LookPath("node"); err == nil {
		for _, f := range js {
			if out, err := exec.Command(node, "--check", f).CombinedOutput(); err != nil {
				t.Errorf("node --check %s: %v\n%s", f, err, out)
			}
		}
	} else {
		t.Log("node not found: JavaScript not checked")
	}
	esbuild := filepath.Join(moduleRoot, "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		t.Log("esbuild not installed (npm ci): TypeScript not checked")
		return
	}
	for _, f := range dts {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(esbuild, "--loader=ts", "--log-level=error")
		cmd.Stdin = bytes.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("esbuild %s: %v\n%s", f, err, out)
		}
	}
}

// TestContractAndEntrypoints generates into one package from the interface
// and types of another (-contract), with named entrypoints.
func TestContractAndEntrypoints(t *testing.T) {
	root := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("contract/c.go", `package contract

import "context"

type Thing struct {
	ID string `+"`json:\"id\"`"+`
}

type Entrypoint struct{ Name, ServiceID string }

const alpha = "alpha-service"

var Entrypoints = []Entrypoint{
	{Name: "AlphaEntrypoint", ServiceID: alpha},
	{Name: "BetaEntrypoint", ServiceID: "beta-service"},
}

type S interface {
	Get(ctx context.Context, id string) (Thing, error)
}
`)
	write("glue/hooks.go", strings.Replace(hooksSrc, "package p", "package glue", 1))
	c := config{typeName: "S", pkgDir: filepath.Join(root, "glue"), contract: filepath.Join(root, "contract"),
		entrypoints: "Entrypoints", goOut: filepath.Join(root, "glue", "rpc_gen.go"),
		jsOut: filepath.Join(root, "w.mjs"), dtsOut: filepath.Join(root, "w.d.ts"), jsClass: "W", service: "s", queue: true}
	files, err := generate(c)
	if err != nil {
		t.Fatal(err)
	}
	goSrc, js, dts := string(files[c.goOut]), string(files[c.jsOut]), string(files[c.dtsOut])
	for _, want := range []string{"package glue", `"example.com/m/contract"`, "func appendThingJSON(dst []byte, v *contract.Thing) []byte",
		"impl contract.S", "var _ contract.S = SClient{}", `var sMethodNames = [...]string{"get"}`} {
		if !strings.Contains(goSrc, want) {
			t.Errorf("the Go output lacks %s:\n%s", want, goSrc)
		}
	}
	// -queue: the default class consumes queues; the named ones do not.
	for _, want := range []string{"export default class W extends WorkerEntrypoint {\n" +
		"  fetch(request) { return runtime.fetch(request, this.env, this.ctx); }\n" +
		"  scheduled(controller) { return runtime.scheduled(controller, this.env, this.ctx); }\n" +
		"  queue(batch) { return runtime.queue(batch, this.env, this.ctx); }\n" +
		"  get(...args) { return runtime.call(0, args, this.env, this.ctx); }\n" +
		"  callJSON(method, json) { return runtime.callJSON(methods, method, json, this.env, this.ctx, 0); }\n" +
		"  callJSONVersion() { return JSON_RPC_VERSION; }\n}",
		"export class AlphaEntrypoint extends WorkerEntrypoint {\n  fetch(request) { return runtime.fetch(request, this.env, this.ctx); }\n" +
			"  get(...args) { return runtime.call(0, args, this.env, this.ctx, 1); }\n" +
			"  callJSON(method, json) { return runtime.callJSON(methods, method, json, this.env, this.ctx, 1); }\n" +
			"  callJSONVersion() { return JSON_RPC_VERSION; }\n}",
		`const methods = new Map([["get", [0, false]]]);`,
		"// BetaEntrypoint is the entrypoint of beta-service", "runtime.call(0, args, this.env, this.ctx, 2)"} {
		if !strings.Contains(js, want) {
			t.Errorf("the entry module lacks %q:\n%s", want, js)
		}
	}
	if n := strings.Count(js, "  queue(batch)"); n != 1 {
		t.Errorf("%d queue handlers, want 1 (the default class's):\n%s", n, js)
	}
	for _, want := range []string{"export type WEntrypoint =\n  | \"AlphaEntrypoint\"\n  | \"BetaEntrypoint\";",
		"export type AlphaEntrypointRpc = WRpc;", "AlphaEntrypoint: alpha-service"} {
		if !strings.Contains(dts, want) {
			t.Errorf("the declaration lacks %q:\n%s", want, dts)
		}
	}

	bad := map[string]string{
		"no such variable":           `var Other = 1`,
		"must be a slice literal":    `var Entrypoints = map[string]string{}`,
		"is not a JavaScript class":  `var Entrypoints = []Entrypoint{{Name: "not-a-class", ServiceID: "x"}}`,
		"is used twice":              `var Entrypoints = []Entrypoint{{Name: "A", ServiceID: "x"}, {Name: "A", ServiceID: "y"}}`,
		"or is the default":          `var Entrypoints = []Entrypoint{{Name: "W", ServiceID: "x"}}`,
		"has no ServiceID":           `var Entrypoints = []Entrypoint{{Name: "A"}}`,
		"of strings or string const": `var Entrypoints = []Entrypoint{{Name: "A", ServiceID: fmt.Sprint(1)}}`,
	}
	for want, decl := range bad {
		write("contract/c.go", "package contract\n\nimport \"context\"\n\ntype Entrypoint struct{ Name, ServiceID string }\n\n"+decl+
			"\n\ntype S interface{ Get(ctx context.Context) error }\n")
		if _, err := generate(c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", decl, err, want)
		}
	}
}

// A worker without RPC methods (the ingestor) gets no callJSON: another Go
// worker asking callJSONVersion finds none, and calls it as any worker.
func TestNoMethodsNoCallJSON(t *testing.T) {
	js := string(genJS(&model{}, "W", "s", "", true))
	for _, absent := range []string{"callJSON", "JSON_RPC_VERSION", "const methods"} {
		if strings.Contains(js, absent) {
			t.Errorf("the entry module of a worker without methods has %q:\n%s", absent, js)
		}
	}
	if !strings.Contains(js, `import { Runtime } from "./runtime.mjs";`) || !strings.Contains(js, "queue(batch)") {
		t.Errorf("the entry module lacks the runtime or its handlers:\n%s", js)
	}
}
