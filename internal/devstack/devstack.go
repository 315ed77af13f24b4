// Package devstack runs workers locally in workerd through the repository's
// pinned wrangler: it stages each worker's config with its own .dev.vars,
// applies D1 migrations to a local state directory, starts `wrangler dev`
// processes on free ports, waits until they answer, and stops them (and their
// workerd children) again. `make dev`, the end-to-end tests and the benchmarks
// all start the system through it.
//
// A routed process proves that it is the one answering on its port: its
// router answers /__devstack/id with a token devstack generated for it, and
// the readiness wait accepts nothing else. Another program on the port is a
// *PortError, and nothing more is sent to it.
package devstack

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
)

// Worker is a worker to run: a directory with wrangler.toml, its build/ and
// the migrations of its D1 databases (as `make build` leaves a service
// directory).
type Worker struct {
	Name string            // the worker's name in wrangler.toml
	Dir  string            // absolute directory of its wrangler.toml
	Vars map[string]string // written to its .dev.vars: secrets and overrides of [vars]
	// Build defaults to Dir/build.
	Build string
	// Migrations replaces the migrations directory of the D1 binding DB
	// (Dir/<its migrations_dir>, by default Dir/migrations); MigrationsOf
	// does the same for any D1 binding by name. Bindings that share a
	// migrations_dir (the ingestor's MESSAGES_0 and MESSAGES_1) share its
	// replacement; two different replacements of one directory are an error.
	Migrations   string
	MigrationsOf map[string]string
	// Migrate applies, before start, the migrations of every D1 binding of
	// wrangler.toml's top level that has a migrations_dir, and of DB in any
	// case (wrangler's default directory is migrations/), each with
	// `wrangler d1 migrations apply <BINDING> --local`.
	Migrate bool
}

// Process is one `wrangler dev` process. Its first worker is the primary: it
// gets the HTTP port; the others are reachable only through bindings, in the
// same workerd (and the same thread), as in production.
type Process struct {
	Workers       []string
	Port          int // 0: a free port
	InspectorPort int // Chrome DevTools protocol, for profiling; 0: a free port
	// Routed puts a generated router in front: it takes the HTTP port and
	// sends "/<worker>/..." to that worker (prefix removed) and anything else
	// to the first worker, so every worker of the process is reachable over
	// HTTP while all of them run in one workerd. Stack.URL then has an entry
	// per worker. Start waits for the router to answer with the process's
	// token, so that another program on the port is an error, not a stack.
	Routed bool
	// TestScheduled starts wrangler with --test-scheduled: GET
	// /__scheduled?cron=... on the HTTP port runs the primary worker's
	// scheduled handler (not routed: the router has none).
	TestScheduled bool
}

// Options describe a stack.
type Options struct {
	Root      string // repository root (where node_modules/.bin/wrangler is); found from the working directory when empty
	Workers   []Worker
	Processes []Process // default: one process per worker, in order
	StateDir  string    // local D1 state (--persist-to); a temporary directory when empty
	StageDir  string    // where configs are staged; a temporary directory when empty
	Log       io.Writer // also receives every line the processes print
	// ReadyTimeout bounds the wait for each process to answer (default 90s).
	ReadyTimeout time.Duration
	// NoWarmup skips the request that checks readiness through the worker: the
	// first request then meets a cold isolate (for cold-start benchmarks).
	NoWarmup bool
	// NoDevTools starts wrangler without its DevTools proxy, which keeps an
	// inspector session open on every isolate: V8 then serializes each
	// console call for that session, about 0.19 ms of the isolate's CPU per
	// log line, where workerd without the session spends about 5 µs. No
	// deployed worker has that session, so make bench sets this. Logs
	// still reach Log (wrangler reads workerd's structured output), and
	// workerd's own inspector stays open (v8inspect). make dev keeps the proxy
	// for DevTools. wrangler 4.86 has no flag for it: it leaves the proxy out
	// when VSCODE_INSPECTOR_OPTIONS is set (a VS Code debug terminal, which
	// brings its own), and nothing else reads that variable without VS Code's
	// bootloader in NODE_OPTIONS.
	NoDevTools bool
}

// Stack is a running set of wrangler processes.
type Stack struct {
	URL      map[string]string // primary worker name -> http://127.0.0.1:port
	StateDir string
	opts     Options
	stopping sync.Mutex // Stop may be called twice at once (a Group's signal handler)
	logs     *Logs

	// What Stop stops and removes. A Group's signal handler may Stop the
	// stack while start is still starting it: mu orders the two, and once
	// stopped, start starts nothing more.
	mu      sync.Mutex
	stopped bool
	procs   []*process // the wrangler dev processes, in the order of Options.Processes
	helper  *process   // a wrangler command start waits for (migrations)
	tmp     []string
}

// Start starts the stack; Stop it even when Start fails halfway (it returns a
// usable *Stack in that case too).
func Start(ctx context.Context, opts Options) (*Stack, error) {
	s := newStack(opts)
	if err := s.start(ctx); err != nil {
		return s, err
	}
	return s, nil
}

func newStack(opts Options) *Stack {
	return &Stack{URL: map[string]string{}, opts: opts, logs: &Logs{w: opts.Log}}
}

// errStopped is what start and Wait answer once the stack is stopped.
var errStopped = errors.New("devstack: the stack was stopped")

// tempDir makes a temporary directory that Stop removes.
func (s *Stack) tempDir(pattern string) (string, error) {
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		os.RemoveAll(d)
		return "", errStopped
	}
	s.tmp = append(s.tmp, d)
	return d, nil
}

// spawn starts cmd in a process group of its own, which Stop stops: as one
// of the stack's processes, or as its helper (one at a time).
func (s *Stack) spawn(cmd *exec.Cmd, helper bool) (*process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, errStopped
	}
	p, err := startProcess(cmd)
	if err != nil {
		return nil, err
	}
	if helper {
		s.helper = p
	} else {
		s.procs = append(s.procs, p)
	}
	return p, nil
}

func (s *Stack) start(ctx context.Context) error {
	o := &s.opts
	if o.Root == "" {
		root, err := FindRoot()
		if err != nil {
			return err
		}
		o.Root = root
	}
	wrangler := filepath.Join(o.Root, "node_modules", ".bin", "wrangler")
	if _, err := os.Stat(wrangler); err != nil {
		return fmt.Errorf("devstack: %s is missing: run `npm ci` (make does it)", wrangler)
	}
	if o.StateDir == "" {
		d, err := s.tempDir("communicator-state-")
		if err != nil {
			return err
		}
		o.StateDir = d
	}
	s.StateDir = o.StateDir
	if o.StageDir == "" {
		d, err := s.tempDir("communicator-stage-")
		if err != nil {
			return err
		}
		o.StageDir = d
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 90 * time.Second
	}
	if len(o.Processes) == 0 {
		for _, w := range o.Workers {
			o.Processes = append(o.Processes, Process{Workers: []string{w.Name}})
		}
	}
	registry := filepath.Join(o.StageDir, "registry")
	if err := os.MkdirAll(registry, 0o755); err != nil {
		return err
	}
	configs := map[string]string{}
	for _, w := range o.Workers {
		st, err := stage(o.StageDir, w)
		if err != nil {
			return err
		}
		configs[w.Name] = st.config
		if !w.Migrate {
			continue
		}
		for _, b := range st.migrate {
			if err := s.run(ctx, wrangler, registry, "d1", "migrations", "apply", b, "--local",
				"--persist-to", o.StateDir, "-c", st.config); err != nil {
				return fmt.Errorf("devstack: migrations of %s (D1 binding %s): %w", w.Name, b, err)
			}
		}
	}
	ready := make([]readiness, len(o.Processes))
	started := make([]*process, len(o.Processes))
	for i, p := range o.Processes {
		port := p.Port
		if port == 0 {
			port = FreePort()
		}
		ready[i] = readiness{name: p.Workers[0], port: port}
		args := []string{"dev"}
		if p.Routed {
			ready[i].token = RandomHex(16)
			cfg, err := stageRouter(o.StageDir, p.Workers, ready[i].token)
			if err != nil {
				return err
			}
			args = append(args, "-c", cfg)
		}
		for _, name := range p.Workers {
			cfg, ok := configs[name]
			if !ok {
				return fmt.Errorf("devstack: process names unknown worker %q", name)
			}
			args = append(args, "-c", cfg)
		}
		inspector := p.InspectorPort
		if inspector == 0 {
			inspector = FreePort()
		}
		if p.TestScheduled {
			args = append(args, "--test-scheduled")
		}
		args = append(args, "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
			"--inspector-port", strconv.Itoa(inspector), "--persist-to", o.StateDir, "--log-level", "log")
		cmd := exec.Command(wrangler, args...)
		cmd.Dir = o.StageDir
		cmd.Env = wranglerEnv(registry)
		if o.NoDevTools {
			cmd.Env = append(cmd.Env, "VSCODE_INSPECTOR_OPTIONS={}")
		}
		cmd.Stdout = s.logs.writer(p.Workers[0])
		cmd.Stderr = cmd.Stdout
		proc, err := s.spawn(cmd, false)
		if errors.Is(err, errStopped) {
			return err
		}
		if err != nil {
			return fmt.Errorf("devstack: start wrangler: %w", err)
		}
		started[i] = proc
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		s.URL[p.Workers[0]] = base
		if p.Routed {
			for _, name := range p.Workers[1:] {
				s.URL[name] = base + "/" + name
			}
		}
	}
	for i, r := range ready {
		if err := s.waitReady(ctx, started[i], r, o.ReadyTimeout); err != nil {
			var pe *PortError
			if errors.As(err, &pe) { // the error says it all; the tail is wrangler's banner
				return fmt.Errorf("devstack: %s did not start: %w", r.name, err)
			}
			return fmt.Errorf("devstack: %s did not start: %w\n%s", r.name, err, s.logs.Tail(40))
		}
	}
	return nil
}

// staged is a worker's staged configuration.
type staged struct {
	config  string   // the staged wrangler.toml
	migrate []string // its D1 bindings whose migrations Migrate applies, in wrangler.toml's order
}

// wranglerTOML is what devstack reads of a wrangler.toml: the top level,
// which `wrangler dev` runs.
type wranglerTOML struct {
	Main string `toml:"main"`
	D1   []struct {
		Binding       string `toml:"binding"`
		MigrationsDir string `toml:"migrations_dir"`
	} `toml:"d1_databases"`
}

// migrations returns the D1 bindings whose migrations are applied and each
// one's migrations directory (relative to the wrangler.toml, as wrangler
// resolves it): every binding with a migrations_dir, and DB in any case
// (wrangler's default is migrations).
func (c *wranglerTOML) migrations() (bindings []string, dirs map[string]string) {
	dirs = map[string]string{}
	for _, d := range c.D1 {
		switch {
		case d.MigrationsDir != "":
			dirs[d.Binding] = d.MigrationsDir
		case d.Binding == "DB":
			dirs[d.Binding] = "migrations"
		default:
			continue
		}
		bindings = append(bindings, d.Binding)
	}
	return bindings, dirs
}

// stage writes dir/<name>/ with the worker's wrangler.toml, .dev.vars, and
// links to its build/ and migrations directories, so that secrets and
// overrides never touch the repository.
func stage(root string, w Worker) (staged, error) {
	var st staged
	dir := filepath.Join(root, w.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	content, err := os.ReadFile(filepath.Join(w.Dir, "wrangler.toml"))
	if err != nil {
		return st, err
	}
	var conf wranglerTOML
	if _, err := toml.Decode(string(content), &conf); err != nil {
		return st, fmt.Errorf("devstack: %s: %v", filepath.Join(w.Dir, "wrangler.toml"), err)
	}
	st.config = filepath.Join(dir, "wrangler.toml")
	if err := os.WriteFile(st.config, content, 0o644); err != nil {
		return st, err
	}
	// Everything else of the worker's directory is linked, and build/ and
	// migrations directories may come from elsewhere.
	links := map[string]string{}
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		return st, err
	}
	for _, e := range entries {
		switch e.Name() {
		case "wrangler.toml", ".dev.vars", ".wrangler":
		default:
			links[e.Name()] = filepath.Join(w.Dir, e.Name())
		}
	}
	if w.Build != "" {
		links["build"] = w.Build
	}
	var dirs map[string]string
	st.migrate, dirs = conf.migrations()
	if err := linkMigrations(links, w, dirs); err != nil {
		return st, err
	}
	if main := conf.Main; strings.HasPrefix(main, "build/") {
		if _, err := os.Stat(filepath.Join(links["build"], strings.TrimPrefix(main, "build/"))); links["build"] == "" || err != nil {
			return st, fmt.Errorf("devstack: %s of %s is missing: run `make build`", main, w.Name)
		}
	}
	for name, src := range links {
		link := filepath.Join(dir, name)
		os.Remove(link)
		if err := os.Symlink(src, link); err != nil {
			return st, err
		}
	}
	var vars bytes.Buffer
	keys := make([]string, 0, len(w.Vars))
	for k := range w.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := w.Vars[k]
		switch {
		case strings.ContainsAny(v, "\n\r"):
			return st, fmt.Errorf("devstack: %s: .dev.vars values cannot span lines", k)
		case !strings.Contains(v, "'"):
			fmt.Fprintf(&vars, "%s='%s'\n", k, v) // single quotes: taken literally
		case !strings.Contains(v, `"`):
			fmt.Fprintf(&vars, "%s=\"%s\"\n", k, v)
		default:
			return st, fmt.Errorf("devstack: %s: a .dev.vars value cannot hold both kinds of quote", k)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".dev.vars"), vars.Bytes(), 0o600); err != nil {
		return st, err
	}
	return st, nil
}

// linkMigrations adds to links the replacements of migrations directories
// (Worker.Migrations and MigrationsOf), at each binding's migrations_dir
// (dirs, from wrangler.toml).
func linkMigrations(links map[string]string, w Worker, dirs map[string]string) error {
	replace := map[string]string{}
	for b, src := range w.MigrationsOf {
		replace[b] = src
	}
	if w.Migrations != "" {
		if other, ok := replace["DB"]; ok && other != w.Migrations {
			return fmt.Errorf("devstack: %s: Migrations and MigrationsOf[\"DB\"] differ", w.Name)
		}
		replace["DB"] = w.Migrations
		if _, ok := dirs["DB"]; !ok {
			dirs["DB"] = "migrations" // no DB binding: where it always went
		}
	}
	bindings := make([]string, 0, len(replace))
	for b := range replace {
		bindings = append(bindings, b)
	}
	sort.Strings(bindings)
	set := map[string]string{} // migrations_dir -> the binding that replaced it
	for _, b := range bindings {
		d, ok := dirs[b]
		switch {
		case !ok:
			return fmt.Errorf("devstack: %s: migrations are given for D1 binding %s, which wrangler.toml does not declare with a migrations_dir", w.Name, b)
		case filepath.IsAbs(d) || strings.ContainsAny(filepath.Clean(d), `/\`) || filepath.Clean(d) == "..":
			return fmt.Errorf("devstack: %s: D1 binding %s's migrations_dir %q is not a directory beside wrangler.toml, so it cannot be replaced", w.Name, b, d)
		}
		d = filepath.Clean(d)
		if other, ok := set[d]; ok && replace[other] != replace[b] {
			return fmt.Errorf("devstack: %s: D1 bindings %s and %s share migrations_dir %q but are given different migrations", w.Name, other, b, d)
		}
		set[d] = b
		links[d] = replace[b]
	}
	return nil
}

//go:embed router/router.mjs
var routerJS []byte

// stageRouter writes the router of a routed process, bound to its workers,
// with the token it answers on /__devstack/id.
func stageRouter(root string, workers []string, token string) (string, error) {
	dir := filepath.Join(root, "dev-router-"+strings.Join(workers, "+"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "router.mjs"), routerJS, 0o644); err != nil {
		return "", err
	}
	routes := map[string]string{}
	var toml strings.Builder
	fmt.Fprintf(&toml, "# Generated by internal/devstack: the local router (never deployed).\nname = %q\nmain = \"router.mjs\"\ncompatibility_date = \"2026-04-21\"\n\n",
		"dev-router-"+RandomHex(4))
	for _, w := range workers {
		b := bindingName(w)
		routes[w] = b
		fmt.Fprintf(&toml, "[[services]]\nbinding = %q\nservice = %q\n\n", b, w)
	}
	rj, _ := json.Marshal(routes)
	fmt.Fprintf(&toml, "[vars]\nROUTES = %q\nDEFAULT_BINDING = %q\nDEVSTACK_ID = %q\n", rj, bindingName(workers[0]), token)
	cfg := filepath.Join(dir, "wrangler.toml")
	return cfg, os.WriteFile(cfg, []byte(toml.String()), 0o644)
}

// bindingName is the router's binding for a worker: AUTH_TELEGRAM for auth-telegram.
func bindingName(worker string) string {
	b := []byte(strings.ToUpper(worker))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func wranglerEnv(registry string) []string {
	env := os.Environ()
	return append(env,
		"WRANGLER_SEND_METRICS=false",
		"MINIFLARE_REGISTRY_PATH="+registry,
		"CI=true",
		"NO_COLOR=1",
		"FORCE_COLOR=0",
	)
}

// run runs a wrangler command to its end (or ctx's, or the stack's).
func (s *Stack) run(ctx context.Context, name, registry string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.opts.StageDir
	cmd.Env = wranglerEnv(registry)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := s.spawn(cmd, true)
	if err != nil {
		return err
	}
	var cancelled error
	select {
	case <-p.exited:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		cancelled = ctx.Err()
	}
	s.mu.Lock()
	stopped := s.stopped
	s.helper = nil
	s.mu.Unlock()
	switch {
	case cancelled != nil:
		return cancelled
	case stopped:
		return errStopped
	}
	if p.err != nil {
		return fmt.Errorf("%v\n%s", p.err, out.String())
	}
	return nil
}

// readiness is what waitReady waits for on one process.
type readiness struct {
	name  string // the primary worker: the process's log lines start with "[name] "
	port  int
	token string // what its router answers on /__devstack/id; "" without a router
}

// PortError says that a process's port is not the stack's: another program
// answers there, or wrangler could not listen on it.
type PortError struct {
	Port   int
	Detail string
}

func (e *PortError) Error() string { return fmt.Sprintf("port %d on 127.0.0.1: %s", e.Port, e.Detail) }

// waitReady waits until the process answers on its port. A routed process
// must first answer its token (until then only /__devstack/id is asked);
// then, unless NoWarmup, /health warms the primary worker. A process without
// a router is ready when /health answers anything (with NoWarmup: when
// wrangler says it is ready).
func (s *Stack) waitReady(ctx context.Context, proc *process, r readiness, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	base := "http://127.0.0.1:" + strconv.Itoa(r.port)
	client := &http.Client{Timeout: 30 * time.Second}
	ours := r.token == "" // without a router nothing can tell
	for {
		if err := s.bindFailure(r); err != nil {
			return err
		}
		if !ours {
			var err error
			if ours, err = identify(ctx, r.port, r.token); err != nil {
				return err
			}
		}
		if ours {
			switch {
			case s.opts.NoWarmup && r.token != "":
				return nil // the router answered: workerd serves, and no other isolate was touched
			case s.opts.NoWarmup:
				if s.logs.linesOf(r.name, "Ready on http") != nil {
					return nil
				}
			default:
				if resp, err := client.Get(base + "/health"); err == nil {
					resp.Body.Close()
					return nil
				}
			}
		}
		select {
		case <-proc.exited:
			// Its last lines may still be on their way.
			s.logs.WaitUntil(func(line string) bool {
				return strings.HasPrefix(line, "["+r.name+"] ") && strings.Contains(line, bindFailureText)
			}, time.Second)
			if err := s.bindFailure(r); err != nil {
				return err
			}
			return fmt.Errorf("wrangler exited: %v", proc.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(150 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
	}
}

// identify asks the port for the router's token. It reports true when the
// answer is the token, false when nothing answers yet, and a *PortError when
// something else answers.
func identify(ctx context.Context, port int, token string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/__devstack/id", port), nil)
	if err != nil {
		return false, err
	}
	req.Close = true // no connection is kept to whatever answers
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode == http.StatusOK && string(b) == token {
		return true, nil
	}
	who := "another program answers there"
	if _, err := hex.DecodeString(string(b)); err == nil && len(b) == len(token) && resp.StatusCode == http.StatusOK {
		who = "another devstack router answers there (is an earlier make dev, test or benchmark still running?)"
	}
	return false, &PortError{Port: port, Detail: fmt.Sprintf("%s: GET /__devstack/id answered %d %.60q, not this stack's token", who, resp.StatusCode, b)}
}

// bindFailure returns an error if the process's wrangler said that it could
// not listen: a *PortError for its HTTP port, a plain error for another
// (its inspector's).
func (s *Stack) bindFailure(r readiness) error {
	var found string
	for _, line := range s.logs.linesOf(r.name, bindFailureText) {
		if found == "" || strings.Contains(line, "ERROR") { // wrangler's own line over workerd's
			found = line
		}
	}
	found = strings.TrimSpace(ansi.ReplaceAllString(found, ""))
	switch {
	case found == "":
		return nil
	case strings.Contains(found, "127.0.0.1:"+strconv.Itoa(r.port)):
		return &PortError{Port: r.port, Detail: "wrangler could not listen there: " + found}
	}
	return fmt.Errorf("wrangler could not listen: %s", found)
}

// bindFailureText is in what workerd and wrangler print when a port is taken.
const bindFailureText = "Address already in use"

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// Logs returns what the processes printed so far.
func (s *Stack) Logs() *Logs { return s.logs }

// Stop stops every process with its children and removes temporary
// directories. It is safe to call more than once.
func (s *Stack) Stop() {
	s.stopping.Lock()
	defer s.stopping.Unlock()
	s.mu.Lock()
	s.stopped = true
	procs, tmp := s.procs, s.tmp
	if s.helper != nil {
		procs = append(procs[:len(procs):len(procs)], s.helper)
	}
	s.procs, s.helper, s.tmp = nil, nil, nil
	s.mu.Unlock()
	for _, p := range procs {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	}
	for _, d := range tmp {
		os.RemoveAll(d)
	}
}

// Pids returns the process ids of the stack's wrangler processes, in the
// order of Options.Processes. Each leads its own process group, which holds
// its workerd: benchmarks read their CPU time from /proc.
func (s *Stack) Pids() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, p := range s.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// Wait blocks until a process exits (for `make dev`), and returns how it
// exited.
func (s *Stack) Wait() error {
	s.mu.Lock()
	procs := s.procs
	s.mu.Unlock()
	if len(procs) == 0 {
		return errStopped
	}
	errs := make(chan error, len(procs))
	for _, p := range procs {
		go func() { <-p.exited; errs <- p.err }()
	}
	return <-errs
}

// process is a started wrangler. cmd.Wait runs once, in a goroutine of its
// own, and exited is closed when it has returned (err is its result then):
// everything that waits for the process waits on exited. Two calls of
// cmd.Wait at once (Stack.Wait's and Stop's) would both wait for the one
// goroutine that copies the output, and one of them for ever: make dev hung
// on Ctrl-C that way when wrangler was slow to exit.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// startProcess starts cmd. Once it has exited, its output is read for at
// most 5 s more (a process outside its group may hold the pipe), so that
// exited is closed in any case.
func startProcess(cmd *exec.Cmd) (*process, error) {
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FindRoot returns the repository root: the nearest directory above the
// working directory that holds go.mod and package.json.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("devstack: repository root not found (no go.mod with package.json above the working directory)")
		}
		dir = parent
	}
}

// Logs collects the processes' output, line by line, each prefixed with the
// process's primary worker in brackets: "[ingestor] ...".
type Logs struct {
	mu    sync.Mutex
	lines []string
	w     io.Writer
}

func (l *Logs) writer(name string) io.Writer { return &lineWriter{l: l, name: name} }

// lineWriter splits what a process prints into lines.
type lineWriter struct {
	l    *Logs
	name string
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		line = "[" + w.name + "] " + line
		w.l.mu.Lock()
		w.l.lines = append(w.l.lines, line)
		if w.l.w != nil {
			fmt.Fprintln(w.l.w, line)
		}
		w.l.mu.Unlock()
	}
	return len(p), nil
}

// Lines returns a copy of every line so far.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// linesOf returns the lines of the process whose primary worker is name that
// contain s, without their prefix.
func (l *Logs) linesOf(name, s string) []string {
	prefix := "[" + name + "] "
	var out []string
	for _, line := range l.Lines() {
		if rest, ok := strings.CutPrefix(line, prefix); ok && strings.Contains(rest, s) {
			out = append(out, rest)
		}
	}
	return out
}

// Contains reports whether any line contains s.
func (l *Logs) Contains(s string) bool {
	for _, line := range l.Lines() {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// WaitFor reports whether a line containing s arrives within timeout:
// workerd prints a request's logs after answering it.
func (l *Logs) WaitFor(s string, timeout time.Duration) bool {
	return l.WaitUntil(func(line string) bool { return strings.Contains(line, s) }, timeout)
}

// WaitUntil reports whether a line for which match is true arrives within
// timeout.
func (l *Logs) WaitUntil(match func(line string) bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range l.Lines() {
			if match(line) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tail returns the last n lines.
func (l *Logs) Tail(n int) string {
	lines := l.Lines()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// D1 runs SQL on a worker's local D1 database bound as DB: D1On(ctx,
// worker, "DB", sql).
func (s *Stack) D1(ctx context.Context, worker, sql string) ([]map[string]any, error) {
	return s.D1On(ctx, worker, "DB", sql)
}

// D1On runs SQL on the local D1 database a worker binds as binding (the
// ingestor's MESSAGES_0, say) with `wrangler d1 execute`, as an operator
// would, and returns the rows.
func (s *Stack) D1On(ctx context.Context, worker, binding, sql string) ([]map[string]any, error) {
	cfg := filepath.Join(s.opts.StageDir, worker, "wrangler.toml")
	cmd := exec.CommandContext(ctx, filepath.Join(s.opts.Root, "node_modules", ".bin", "wrangler"),
		"d1", "execute", binding, "--local", "--persist-to", s.opts.StateDir, "-c", cfg, "--json", "--command", sql)
	cmd.Dir = s.opts.StageDir
	cmd.Env = wranglerEnv(filepath.Join(s.opts.StageDir, "registry"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wrangler d1 execute: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var out []struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("wrangler d1 execute: %v: %s", err, stdout.String())
	}
	var rows []map[string]any
	for _, o := range out {
		rows = append(rows, o.Results...)
	}
	return rows, nil
}

// Workerds returns the process ids of the workerd processes that run the
// stack's workers, for each wrangler process in the order of
// Options.Processes: the one in its process group started with an inspector,
// not wrangler's proxy (the other workerd there).
func (s *Stack) Workerds() []int {
	var out []int
	for _, pgid := range s.Pids() {
		out = append(out, workerdIn(pgid)...)
	}
	return out
}

func workerdIn(pgid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		comm, f, ok := ProcStat(filepath.Join(dir, "stat"))
		if !ok || comm != "workerd" || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline")); bytes.Contains(cmdline, []byte("--inspector-addr")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ProcStat reads a /proc stat file (a process's, or a thread's under task/):
// the command, and the fields after it (state ppid pgrp ..., at least through
// stime, the 13th).
func ProcStat(path string) (comm string, fields []string, ok bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", nil, false
	}
	open, close := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || close < open {
		return "", nil, false
	}
	f := strings.Fields(string(raw[close+1:]))
	return string(raw[open+1 : close]), f, len(f) >= 13
}

// PackageVersion is the version of npm package name installed under root (the
// pinned one, from node_modules: "wrangler", "workerd"), or "?" if there is
// none.
func PackageVersion(root, name string) string {
	b, _ := os.ReadFile(filepath.Join(root, "node_modules", name, "package.json"))
	var p struct{ Version string }
	if json.Unmarshal(b, &p) != nil || p.Version == "" {
		return "?"
	}
	return p.Version
}
