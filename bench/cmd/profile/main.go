// Command profile samples the CPU of a worker pair's isolates while one of the
// caller's routes runs, through workerd's inspector, and prints the functions
// with the most self time: where a Go→Go RPC call's time goes inside workerd,
// or auth-telegram's hand-out. It builds the Go worker without stripping its
// symbols (so Go functions have names), runs the pairs in one workerd as make
// bench does, and prints the caller's profile, then the callee's.
//
//	go run ./bench/cmd/profile                                  # the Go pair, /bench/go
//	go run ./bench/cmd/profile -pair js                         # the JavaScript pair
//	go run ./bench/cmd/profile -route '/bench/goasync?n=3000'   # another route of the Go caller
//	go run ./bench/cmd/profile -pair auth                       # a JavaScript caller → auth-telegram's hand-out
//	go run ./bench/cmd/profile -native                          # the whole workerd process, with Linux perf
//
// V8's profiler sees JavaScript and WebAssembly frames, and time in the
// engine's C++ only as "(program)" or a native's name. -native samples the
// whole workerd process with perf instead: workerd's, kj's and V8's own code
// by symbol, and everything V8 compiled (Go's WebAssembly, JavaScript) as one
// line, in µs of the process's CPU a call (the route's n calls a request).
// -match picks symbols to print besides the top ones.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/internal/v8inspect"
)

var (
	pair     = flag.String("pair", "go", "the pair to profile: go (bridge-caller → bridge-callee), js (bench-jscaller → bridge-jscallee) or auth (bench-jscaller → auth-telegram, hand-outs)")
	route    = flag.String("route", "", "the caller's route to run while sampling (default: 3000 calls of the session-shaped method)")
	seconds  = flag.Duration("for", 6*time.Second, "how long to sample each isolate")
	interval = flag.Duration("interval", 50*time.Microsecond, "V8's sampling interval")
	top      = flag.Int("top", 30, "functions to print per isolate (with -native, symbols of the process)")
	native   = flag.Bool("native", false, "sample the whole workerd process with Linux perf instead of V8's profiler")
	match    = flag.String("match", "", "with -native, also print the symbols matching this regular expression")
)

// matchFlag reads -match: nil when it is empty, else its regular expression,
// which only -native uses.
func matchFlag(expr string, native bool) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	if !native {
		return nil, fmt.Errorf("-match %q: only -native prints symbols; V8's profile has functions (-top)", expr)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("-match: %v", err)
	}
	return re, nil
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	p, err := pairNamed(*pair)
	if err != nil {
		log.Fatal(err)
	}
	if *route != "" {
		p.path = *route
	}
	matching, err := matchFlag(*match, *native)
	if err != nil {
		log.Fatal(err)
	}
	root, err := devstack.FindRoot()
	if err != nil {
		log.Fatal(err)
	}
	build := filepath.Join(root, p.goDir, "build")
	// The same worker, with its symbols: wasm functions get Go's names.
	stage, err := os.MkdirTemp("", "communicator-profile-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(stage)
	for _, f := range []string{"worker.mjs", "runtime.mjs", "wasm_exec.js"} {
		b, err := os.ReadFile(filepath.Join(build, f))
		if err != nil {
			log.Fatalf("%v (make build build-testworkers first)", err)
		}
		if err := os.WriteFile(filepath.Join(stage, f), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(stage, "app.wasm"), "./"+p.goDir)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}

	caller, callee, path := p.caller, p.callee, p.path
	stacks.StopOnSignal("profile")
	st := start(root, p, stage)
	defer st.Stop()
	url := st.URL[caller] + path
	run := func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %d %.300s", path, resp.StatusCode, b)
		}
		return nil
	}
	for range 5 { // warm up
		if err := run(); err != nil {
			stacks.Fatal(err)
		}
	}
	if *native {
		pid := st.Workerds()[0]
		syms, runs, err := nativeProfile(pid, *seconds, run)
		if err != nil {
			stacks.Fatal(err)
		}
		printNative(os.Stdout, pid, path, syms, runs, *top, matching)
		return
	}
	addr, err := v8inspect.Find(st.Workerds()[0])
	if err != nil {
		stacks.Fatal(err)
	}
	profiled := []string{caller, callee}
	if p.callee == "auth-telegram" {
		profiled = []string{callee} // the caller is JavaScript in another workerd
	}
	for _, w := range profiled {
		var failed error
		ctx, cancel := context.WithTimeout(context.Background(), *seconds+time.Minute)
		fns, total, err := v8inspect.Profile(ctx, addr, w, *interval, func() { _, failed = repeatFor(*seconds, run) })
		cancel()
		if err == nil {
			err = failed
		}
		if err != nil {
			stacks.Fatal(err)
		}
		fmt.Printf("%s, while %s runs: %s sampled, self time\n", w, path, total.Round(time.Millisecond))
		for i, f := range fns {
			if i == *top {
				break
			}
			where := ""
			if f.URL != "" {
				where = fmt.Sprintf(" (%s:%d)", filepath.Base(f.URL), f.Line+1)
			}
			fmt.Printf("%6.2f%% %8s  %s%s\n", 100*float64(f.Self)/float64(total), f.Self.Round(time.Millisecond), f.Name, where)
		}
		fmt.Println()
	}
}

// workerPair is the pair to profile, the other pair started beside it (as
// make bench runs them; none for auth), the caller's default route, and the
// directory of the Go worker built with its symbols.
type workerPair struct{ caller, callee, otherCaller, otherCallee, path, goDir string }

func pairNamed(name string) (workerPair, error) {
	switch name {
	case "go":
		return workerPair{"bridge-caller", "bridge-callee", "bench-jscaller", "bridge-jscallee", "/bench/go?n=3000", "e2e/bridgeworker"}, nil
	case "js":
		return workerPair{"bench-jscaller", "bridge-jscallee", "bridge-caller", "bridge-callee", "/?n=3000", "e2e/bridgeworker"}, nil
	case "auth":
		return workerPair{"bench-jscaller", "auth-telegram", "", "bridge-jscallee", "/auth?n=100&user=1", "services/auth-telegram"}, nil
	}
	return workerPair{}, fmt.Errorf("-pair %q: want go, js or auth", name)
}

// start runs the pair in one workerd, the caller first (it is the one served
// on a port), with the Go worker from stage. For auth, auth-telegram runs in
// a workerd of its own, as in make bench, with a session for user 1 to hand
// out.
func start(root string, p workerPair, stage string) *devstack.Stack {
	jspair := []devstack.Worker{
		{Name: "bench-jscaller", Dir: filepath.Join(root, "bench", "jspair", "caller")},
		{Name: "bridge-jscallee", Dir: filepath.Join(root, "bench", "jspair", "callee")},
	}
	if p.callee == "auth-telegram" {
		apiKey := "profile-" + devstack.RandomHex(16)
		st := stacks.Start(devstack.Options{Root: root, NoDevTools: true,
			Workers: append(jspair, devstack.Worker{Name: "auth-telegram", Dir: filepath.Join(root, "services", "auth-telegram"), Build: stage,
				Migrate: true, Vars: devstack.AuthTelegramVars(devstack.RandomHex(32), apiKey)}),
			// auth-telegram first, in its own workerd: its port takes the
			// session, and its inspector is Workerds()[0].
			Processes: []devstack.Process{{Workers: []string{p.callee}}, {Workers: []string{p.caller, p.otherCallee}}},
		})
		if _, err := devstack.ImportSession(st.URL[p.callee], apiKey, 1, devstack.RandomSession()); err != nil {
			stacks.Fatal(err)
		}
		return st
	}
	migrations := filepath.Join(root, "e2e", "bridgeworker", "migrations")
	return stacks.Start(devstack.Options{Root: root, NoDevTools: true,
		Workers: append(jspair,
			devstack.Worker{Name: "bridge-caller", Dir: filepath.Join(root, "e2e", "bridgeworker", "caller"), Build: stage, Migrations: migrations, Migrate: true},
			devstack.Worker{Name: "bridge-callee", Dir: filepath.Join(root, "e2e", "bridgeworker", "callee"), Build: stage, Migrations: migrations, Migrate: true}),
		Processes: []devstack.Process{{Workers: []string{p.caller, p.callee, p.otherCaller, p.otherCallee}}},
	})
}

// stacks holds the stack, so that a failure or an interrupt stops it (and
// no wrangler or workerd outlives the profile).
var stacks devstack.Group

// repeatFor runs run again and again for d, and returns how many times it
// completed, or its first error.
func repeatFor(d time.Duration, run func() error) (int, error) {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		if err := run(); err != nil {
			return n, err
		}
	}
	return n, nil
}
