// Command profile samples the CPU of a worker pair's isolates while one of the
// bridge test worker's routes runs, through workerd's inspector, and prints
// the functions with the most self time: where a Go→Go RPC call's time goes
// inside workerd. It builds the bridge test worker without stripping its
// symbols (so Go functions have names), runs the Go pair and the JavaScript
// pair in one workerd as make bench does, and prints the caller's profile,
// then the callee's.
//
//	go run ./bench/cmd/profile                                  # the Go pair, /bench/go
//	go run ./bench/cmd/profile -pair js                         # the JavaScript pair
//	go run ./bench/cmd/profile -route '/bench/goasync?n=3000'   # another route of the Go caller
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
	"time"

	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/internal/v8inspect"
)

var (
	pair     = flag.String("pair", "go", "the pair to profile: go (bridge-caller → bridge-callee) or js (bench-jscaller → bridge-jscallee)")
	route    = flag.String("route", "", "the caller's route to run while sampling (default: 3000 calls of the session-shaped method)")
	seconds  = flag.Duration("for", 6*time.Second, "how long to sample each isolate")
	interval = flag.Duration("interval", 50*time.Microsecond, "V8's sampling interval")
	top      = flag.Int("top", 30, "functions to print per isolate")
)

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
	root, err := devstack.FindRoot()
	if err != nil {
		log.Fatal(err)
	}
	build := filepath.Join(root, "e2e", "bridgeworker", "build")
	// The same worker, with its symbols: wasm functions get Go's names.
	stage, err := os.MkdirTemp("", "communicator-profile-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(stage)
	for _, f := range []string{"worker.mjs", "runtime.mjs", "wasm_exec.js"} {
		b, err := os.ReadFile(filepath.Join(build, f))
		if err != nil {
			log.Fatalf("%v (make build-testworkers first)", err)
		}
		if err := os.WriteFile(filepath.Join(stage, f), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(stage, "app.wasm"), "./e2e/bridgeworker")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}

	caller, callee, path := p.caller, p.callee, p.path
	migrations := filepath.Join(root, "e2e", "bridgeworker", "migrations")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	st, err := devstack.Start(ctx, devstack.Options{Root: root,
		Workers: []devstack.Worker{
			{Name: "bridge-caller", Dir: filepath.Join(root, "e2e", "bridgeworker", "caller"), Build: stage, Migrations: migrations, Migrate: true},
			{Name: "bridge-callee", Dir: filepath.Join(root, "e2e", "bridgeworker", "callee"), Build: stage, Migrations: migrations, Migrate: true},
			{Name: "bridge-jscallee", Dir: filepath.Join(root, "bench", "jspair", "callee")},
			{Name: "bench-jscaller", Dir: filepath.Join(root, "bench", "jspair", "caller")},
		},
		// One workerd, the caller first: it is the one served on a port.
		Processes: []devstack.Process{{Workers: []string{p.caller, p.callee, p.otherCaller, p.otherCallee}}},
	})
	cancel()
	if err != nil {
		st.Stop()
		log.Fatal(err)
	}
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
			st.Stop()
			log.Fatal(err)
		}
	}
	addr, err := v8inspect.Find(st.Workerds()[0])
	if err != nil {
		st.Stop()
		log.Fatal(err)
	}
	for _, w := range []string{caller, callee} {
		var failed error
		ctx, cancel := context.WithTimeout(context.Background(), *seconds+time.Minute)
		fns, total, err := v8inspect.Profile(ctx, addr, w, *interval, func() {
			for end := time.Now().Add(*seconds); time.Now().Before(end) && failed == nil; {
				failed = run()
			}
		})
		cancel()
		if err == nil {
			err = failed
		}
		if err != nil {
			st.Stop()
			log.Fatal(err)
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

// workerPair is the pair to profile, the other pair (started beside it, as
// make bench runs them), and the caller's default route.
type workerPair struct{ caller, callee, otherCaller, otherCallee, path string }

func pairNamed(name string) (workerPair, error) {
	switch name {
	case "go":
		return workerPair{"bridge-caller", "bridge-callee", "bench-jscaller", "bridge-jscallee", "/bench/go?n=3000"}, nil
	case "js":
		return workerPair{"bench-jscaller", "bridge-jscallee", "bridge-caller", "bridge-callee", "/?n=3000"}, nil
	}
	return workerPair{}, fmt.Errorf("-pair %q: want go or js", name)
}
