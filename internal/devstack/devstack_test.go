package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

// writeWorker writes a worker directory with a wrangler.toml, a build and the
// given directories.
func writeWorker(t *testing.T, toml string, dirs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range append(dirs, "build") {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"wrangler.toml": toml, "build/worker.mjs": "export default {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Migrate applies the migrations of every D1 binding with a migrations_dir
// (and DB's in any case), in wrangler.toml's order; each directory is
// staged beside the config, from the worker's directory or from its
// replacement (Migrations for DB, MigrationsOf for any binding).
func TestStageMigrations(t *testing.T) {
	const conf = `name = "w"
main = "build/worker.mjs"
[[d1_databases]]
binding = "DB"
database_name = "w"
database_id = "1"
migrations_dir = "migrations"
[[d1_databases]]
binding = "CACHE"
database_name = "w-cache"
database_id = "2"
[[d1_databases]]
binding = "MESSAGES_0"
database_name = "w-messages-0"
database_id = "3"
migrations_dir = "migrations-messages"
[[d1_databases]]
binding = "MESSAGES_1"
database_name = "w-messages-1"
database_id = "4"
migrations_dir = "migrations-messages"
`
	dir := writeWorker(t, conf, "migrations", "migrations-messages")
	linked := func(root, name string) string {
		t.Helper()
		target, err := os.Readlink(filepath.Join(root, "w", name))
		if err != nil {
			t.Fatal(err)
		}
		return target
	}
	root := t.TempDir()
	st, err := stage(root, Worker{Name: "w", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DB", "MESSAGES_0", "MESSAGES_1"}; !slices.Equal(st.migrate, want) || st.config != filepath.Join(root, "w", "wrangler.toml") {
		t.Errorf("migrates %v with %s, want %v", st.migrate, st.config, want)
	}
	if linked(root, "migrations") != filepath.Join(dir, "migrations") || linked(root, "migrations-messages") != filepath.Join(dir, "migrations-messages") {
		t.Error("the migrations directories are not the worker's")
	}

	other := t.TempDir()
	root = t.TempDir()
	if _, err := stage(root, Worker{Name: "w", Dir: dir, Migrations: filepath.Join(other, "db"),
		MigrationsOf: map[string]string{"MESSAGES_0": filepath.Join(other, "messages"), "MESSAGES_1": filepath.Join(other, "messages")}}); err != nil {
		t.Fatal(err)
	}
	if linked(root, "migrations") != filepath.Join(other, "db") || linked(root, "migrations-messages") != filepath.Join(other, "messages") {
		t.Error("the replacements are not staged")
	}

	for _, c := range []struct {
		w    Worker
		want string
	}{
		{Worker{MigrationsOf: map[string]string{"CACHE": other}}, "D1 binding CACHE, which wrangler.toml does not declare with a migrations_dir"},
		{Worker{MigrationsOf: map[string]string{"MESSAGES_0": other, "MESSAGES_1": dir}}, `D1 bindings MESSAGES_0 and MESSAGES_1 share migrations_dir "migrations-messages" but are given different migrations`},
		{Worker{Migrations: other, MigrationsOf: map[string]string{"DB": dir}}, `Migrations and MigrationsOf["DB"] differ`},
	} {
		c.w.Name, c.w.Dir = "w", dir
		if _, err := stage(t.TempDir(), c.w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.w, err, c.want)
		}
	}

	// DB without a migrations_dir: wrangler's default directory.
	dir = writeWorker(t, "name = \"w\"\nmain = \"build/worker.mjs\"\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"w\"\ndatabase_id = \"1\"\n", "migrations")
	if st, err := stage(t.TempDir(), Worker{Name: "w", Dir: dir}); err != nil || !slices.Equal(st.migrate, []string{"DB"}) {
		t.Errorf("DB without migrations_dir: %v, %v", st.migrate, err)
	}
}

// The ingestor's wrangler.toml: its accounts database and both local message
// shards are migrated, from directories the service has.
func TestStageIngestorMigrations(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	build := t.TempDir()
	os.WriteFile(filepath.Join(build, "worker.mjs"), []byte("export default {}\n"), 0o644)
	stageDir := t.TempDir()
	st, err := stage(stageDir, Worker{Name: "ingestor", Dir: filepath.Join(root, "services", "ingestor"), Build: build})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DB", "MESSAGES_0", "MESSAGES_1"}; !slices.Equal(st.migrate, want) {
		t.Errorf("the ingestor migrates %v, want %v", st.migrate, want)
	}
	for _, d := range []string{"migrations", "migrations-messages"} {
		if sql, _ := filepath.Glob(filepath.Join(stageDir, "ingestor", d, "*.sql")); len(sql) == 0 {
			t.Errorf("staged %s has no migrations", d)
		}
	}
}

// The router of a routed process gets its token in its vars.
func TestStageRouterToken(t *testing.T) {
	cfg, err := stageRouter(t.TempDir(), []string{"ingestor", "auth-telegram"}, "0123abcd")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), "\nDEVSTACK_ID = \"0123abcd\"\n") {
		t.Errorf("router config without its token:\n%s", b)
	}
}

// server is an HTTP server on 127.0.0.1 that answers with answer and
// records the paths it was asked.
func server(t *testing.T, answer func(path string) (int, string)) (port int, paths func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path)
		mu.Unlock()
		code, body := answer(r.URL.Path)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func waitReady(t *testing.T, r readiness, logLines ...string) error {
	s := &Stack{logs: &Logs{}}
	w := s.logs.writer(r.name)
	for _, line := range logLines {
		io.WriteString(w, line+"\n")
	}
	start := time.Now()
	err := s.waitReady(context.Background(), &process{exited: make(chan struct{})}, r, 20*time.Second)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waitReady took %v", d)
	}
	return err
}

// A foreign server that answers 200 to everything, /health included, is not
// taken for the stack: the error names the port, and the server was asked
// only for the stack's token, once.
func TestWaitReadyRefusesAForeignServer(t *testing.T) {
	port, paths := server(t, func(string) (int, string) { return 200, `{"status":"ok"}` })
	err := waitReady(t, readiness{name: "ingestor", port: port, token: RandomHex(16)})
	var pe *PortError
	if !errors.As(err, &pe) || pe.Port != port || !strings.Contains(err.Error(), fmt.Sprintf("port %d", port)) ||
		!strings.Contains(err.Error(), "another program answers there") {
		t.Errorf("waitReady against a foreign server: %v", err)
	}
	if p := paths(); len(p) != 1 || p[0] != "/__devstack/id" {
		t.Errorf("the foreign server was asked %q", p)
	}
	// Another stack's router answers a token, but not this one's.
	port, _ = server(t, func(string) (int, string) { return 200, RandomHex(16) })
	if err := waitReady(t, readiness{name: "ingestor", port: port, token: RandomHex(16)}); !errors.As(err, &pe) ||
		!strings.Contains(err.Error(), "another devstack router answers there") {
		t.Errorf("waitReady against another stack: %v", err)
	}
}

// The stack's own router answers its token; then /health warms the worker.
// A process without a router is ready when /health answers.
func TestWaitReadyAcceptsItsRouter(t *testing.T) {
	token := RandomHex(16)
	port, paths := server(t, func(path string) (int, string) {
		if path == "/__devstack/id" {
			return 200, token
		}
		return 200, "ok"
	})
	if err := waitReady(t, readiness{name: "ingestor", port: port, token: token}); err != nil {
		t.Fatal(err)
	}
	if p := paths(); len(p) != 2 || p[0] != "/__devstack/id" || p[1] != "/health" {
		t.Errorf("asked %q", p)
	}
	if err := waitReady(t, readiness{name: "ingestor", port: port}); err != nil {
		t.Errorf("without a router: %v", err)
	}
}

// When wrangler says it cannot listen on the port, the wait ends at once with
// wrangler's words, not with a timeout; another process's line is not this
// one's.
func TestWaitReadyBindFailure(t *testing.T) {
	port := FreePort()
	line := fmt.Sprintf("\x1b[31m✘ [ERROR]\x1b[0m Address already in use (127.0.0.1:%d). Please check that you are not already running a server on this address or specify a different port with --port.", port)
	err := waitReady(t, readiness{name: "ingestor", port: port, token: RandomHex(16)}, line)
	var pe *PortError
	if !errors.As(err, &pe) || pe.Port != port || !strings.Contains(err.Error(), fmt.Sprintf("wrangler could not listen there: ✘ [ERROR] Address already in use (127.0.0.1:%d)", port)) {
		t.Errorf("waitReady after wrangler failed to listen: %v", err)
	}
	s := &Stack{logs: &Logs{}}
	io.WriteString(s.logs.writer("other"), line+"\n")
	if err := s.bindFailure(readiness{name: "ingestor", port: port}); err != nil {
		t.Errorf("another process's line: %v", err)
	}
}

// make dev's secrets are generated once and then read back unchanged; a
// missing file is an error for a reader.
func TestDevSecrets(t *testing.T) {
	path := DevSecretsPath(t.TempDir())
	if _, err := ReadDevSecrets(path); err == nil {
		t.Error("read a missing file")
	}
	s, err := LoadDevSecrets(path)
	if err != nil || s.SessionSecret == "" || s.APIKey == "" || !strings.HasPrefix(s.OperatorKey, "dev-operator-") {
		t.Fatalf("generated %+v, %v", s, err)
	}
	if again, err := LoadDevSecrets(path); err != nil || again != s {
		t.Errorf("loaded again: %+v, %v", again, err)
	}
	if read, err := ReadDevSecrets(path); err != nil || read != s {
		t.Errorf("read: %+v, %v", read, err)
	}
}

func TestPackageVersion(t *testing.T) {
	root := t.TempDir()
	if v := PackageVersion(root, "wrangler"); v != "?" {
		t.Errorf("no wrangler installed: %q, want ?", v)
	}
	dir := filepath.Join(root, "node_modules", "wrangler")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{`{"name":"wrangler","version":"4.86.0"}`: "4.86.0", `not json`: "?", `{"name":"wrangler"}`: "?"} {
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if v := PackageVersion(root, "wrangler"); v != want {
			t.Errorf("package.json %s: %q, want %q", body, v, want)
		}
	}
}

// ProcStat takes the command between the first '(' and the last ')', since a
// command may hold both, and refuses a line cut short.
func TestProcStat(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "stat")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	comm, f, ok := ProcStat(write("4242 (work (er)d) S 1 4200 4200 0 -1 4194560 100 0 0 0 17 3 0 0 20 0 9\n"))
	if !ok || comm != "work (er)d" || f[0] != "S" || f[2] != "4200" || f[11] != "17" || f[12] != "3" {
		t.Errorf("ProcStat = %q, %q, %v", comm, f, ok)
	}
	if _, _, ok := ProcStat(write("4242 (workerd) S 1 4200\n")); ok {
		t.Error("a line without stime: ok")
	}
	if _, _, ok := ProcStat(filepath.Join(dir, "missing")); ok {
		t.Error("a missing file: ok")
	}
}

// The repository pins workerd apart from wrangler (package.json's overrides):
// wrangler 4.86 is the newest that runs on Node 20, and the workerd it brings,
// 1.20260426.1, keeps half a kilobyte of an isolate's heap for every socket
// opened with connect(), which the ingestor does on each connection to
// Telegram. workerd 1.20260904.1 is the first without it (docs/operations.md,
// "Memory"). The lock must install what package.json pins, and the pin must
// stay past that.
func TestWorkerdPin(t *testing.T) {
	const firstWithoutRetention = "1.20260904.1"
	var pkg struct {
		DevDependencies map[string]string
		Overrides       map[string]string
	}
	var lock struct {
		Packages map[string]struct{ Version string }
	}
	for file, into := range map[string]any{"package.json": &pkg, "package-lock.json": &lock} {
		b, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	pin := pkg.Overrides["workerd"]
	if pin == "" {
		t.Fatal(`package.json: no "overrides": {"workerd": ...}; wrangler's own workerd keeps heap for every socket`)
	}
	if !versionAtLeast(pin, firstWithoutRetention) {
		t.Errorf("package.json pins workerd %s, older than %s, the first that does not keep heap for every socket", pin, firstWithoutRetention)
	}
	for _, p := range []string{"node_modules/workerd", "node_modules/@cloudflare/workerd-linux-64"} {
		if got := lock.Packages[p].Version; got != pin {
			t.Errorf("package-lock.json installs %s %q, package.json pins %q: run npm install", p, got, pin)
		}
	}
	if got, want := lock.Packages["node_modules/wrangler"].Version, pkg.DevDependencies["wrangler"]; got != want {
		t.Errorf("package-lock.json installs wrangler %q, package.json pins %q", got, want)
	}
}

// versionAtLeast reports whether workerd version v (1.YYYYMMDD.N) is floor or
// later, comparing field by field; anything but numbers is not.
func versionAtLeast(v, floor string) bool {
	a, b := strings.Split(v, "."), strings.Split(floor, ".")
	for i := range b {
		if i >= len(a) {
			return false
		}
		x, errx := strconv.Atoi(a[i])
		y, erry := strconv.Atoi(b[i])
		if errx != nil || erry != nil {
			return false
		}
		if x != y {
			return x > y
		}
	}
	return true
}

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, floor string
		want     bool
	}{
		{"1.20261117.1", "1.20260904.1", true},
		{"1.20260904.1", "1.20260904.1", true},
		{"1.20260904.2", "1.20260904.1", true},
		{"1.20260903.1", "1.20260904.1", false},
		{"1.20260426.1", "1.20260904.1", false},
		{"1.20260904", "1.20260904.1", false},
		{"^1.20261117.1", "1.20260904.1", false},
	} {
		if got := versionAtLeast(c.v, c.floor); got != c.want {
			t.Errorf("versionAtLeast(%q, %q) = %v, want %v", c.v, c.floor, got, c.want)
		}
	}
}

func TestParseUpload(t *testing.T) {
	u, err := ParseUpload("Attaching...\nTotal Upload: 24666.84 KiB / gzip: 5211.51 KiB\nYour Worker has access to")
	if err != nil || u.Bytes != 25258844 || u.Gzip != 5336586 {
		t.Errorf("got %+v, %v", u, err)
	}
	for _, out := range []string{"", "Total Upload: 12 KiB", "Total Upload: 1.2.3 KiB / gzip: 4 KiB"} {
		if _, err := ParseUpload(out); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
}

// Stop returns while Wait waits (make dev waits, then stops on Ctrl-C), and
// then so does Wait: each process is waited for once. With Wait and Stop each
// calling cmd.Wait, one of them waited for ever for the output's copier.
func TestStopWhileWaiting(t *testing.T) {
	s := &Stack{}
	for range 3 {
		cmd := exec.Command("sh", "-c", "echo started; sleep 60")
		cmd.Stdout = &bytes.Buffer{} // not a file: a goroutine copies the output
		cmd.Stderr = cmd.Stdout
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		p, err := startProcess(cmd)
		if err != nil {
			t.Fatal(err)
		}
		s.procs = append(s.procs, p)
	}
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()
	time.Sleep(100 * time.Millisecond) // Wait is waiting
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("Stop did not return while Wait waited")
	}
	select {
	case err := <-waited:
		if err == nil {
			t.Error("Wait: nil, want how the process was stopped")
		}
	case <-time.After(time.Second):
		t.Fatal("Wait did not return after Stop")
	}
}
