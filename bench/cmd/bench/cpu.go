package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/internal/devstack"
)

// The processes of the CPU part's stack, each a wrangler with its own
// workerd, so that each one's CPU is its own.
const (
	procGoPair = iota // bridge-caller and bridge-callee
	procJSPair        // bench-jscaller and bridge-jscallee
	procIngestor
	procAuth
)

var procNames = []string{"the Go pair", "the JavaScript pair", "ingestor", "auth-telegram"}

// cpuCase is one kind of work whose CPU is measured: run does n units
// (requests or calls) and the workerds of procs are charged for it.
type cpuCase struct {
	key, what, unit string
	n               int
	procs           []int
	run             func()
}

// cpuCost is what one unit cost one workerd, in milliseconds.
type cpuCost struct{ main, all float64 }

// cpuPerRequest measures what requests cost workerd in CPU time, which is
// what Workers bill: utime+stime of each workerd from /proc around n units of
// work, minus what the same workerd burns idle over the same wall time
// (measured just before, every round).
func cpuPerRequest(rep *strings.Builder) {
	fake, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		fatal(err)
	}
	defer fake.Close()
	build := filepath.Join(root, "e2e", "bridgeworker", "build")
	migrations := filepath.Join(root, "e2e", "bridgeworker", "migrations")
	iv := secretsFor("ingestor")
	maps.Copy(iv, fake.EndpointVars())
	// A cache of one session: alternating two users, every request misses.
	iv["TELEGRAM_SESSION_CACHE_SIZE"] = "1"
	st := startStack(devstack.Options{
		Workers: []devstack.Worker{
			{Name: "bridge-caller", Dir: filepath.Join(root, "e2e", "bridgeworker", "caller"), Build: build, Migrations: migrations, Migrate: true},
			{Name: "bridge-callee", Dir: filepath.Join(root, "e2e", "bridgeworker", "callee"), Build: build, Migrations: migrations, Migrate: true},
			{Name: "bench-jscaller", Dir: filepath.Join(root, "bench", "jspair", "caller")},
			{Name: "bridge-jscallee", Dir: filepath.Join(root, "bench", "jspair", "callee")},
			{Name: "ingestor", Dir: filepath.Join(root, "services", "ingestor"), Vars: iv},
			{Name: "auth-telegram", Dir: filepath.Join(root, "services", "auth-telegram"), Migrate: true, Vars: secretsFor("auth-telegram")},
			{Name: "bench-jsremote", Dir: filepath.Join(root, "bench", "jspair", "remote")},
		},
		Processes: []devstack.Process{
			{Workers: []string{"bridge-caller", "bridge-callee"}},
			{Workers: []string{"bench-jscaller", "bridge-jscallee"}},
			{Workers: []string{"ingestor"}},
			{Workers: []string{"auth-telegram", "bench-jsremote"}},
		},
	})
	defer st.Stop()
	for user, tgUser := range map[int64]int64{1: 1001, 2: 1002} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		session, err := fake.MintSession(ctx, tgUser)
		cancel()
		if err != nil {
			fatal(err)
		}
		if _, err := devstack.ImportSession(st.URL["auth-telegram"], apiKey, user, session); err != nil {
			fatal(err)
		}
	}
	goCaller, jsCaller, ingestor := st.URL["bridge-caller"], st.URL["bench-jscaller"], st.URL["ingestor"]
	status := func(user int) {
		timeGetOK(fmt.Sprintf("%s/telegram/session-status/%d", ingestor, user), operatorHeaders...)
	}
	times := func(k int, f func(i int)) func() {
		return func() {
			for i := 0; i < k; i++ {
				f(i)
			}
		}
	}
	const statusN, meN, handN, rpcN = 300, 50, 300, 3000
	cases := []cpuCase{
		{"floor-js", "a JavaScript worker's `GET /health` (`Response.json`): the local plumbing every request pays (miniflare's entry worker in the same workerd)", "request", statusN, []int{procJSPair},
			times(statusN, func(int) { timeGet(jsCaller + "/health") })},
		{"floor-bridge", "a Go worker's `GET /health` (the bridge test worker: a small JSON answer, no log line)", "request", statusN, []int{procGoPair},
			times(statusN, func(int) { timeGet(goCaller + "/health") })},
		{"floor-go", "ingestor: a path it does not serve (404, no I/O, no authentication; its request log line)", "request", statusN, []int{procIngestor},
			times(statusN, func(int) { timeGet(ingestor + "/cpu-probe") })},
		{"status", "ingestor: `GET /telegram/session-status`, the session cached", "request", statusN, []int{procIngestor, procAuth},
			times(statusN, func(int) { status(1) })},
		{"status-miss", "ingestor: `GET /telegram/session-status`, not cached (a hand-out from auth-telegram over RPC)", "request", statusN, []int{procIngestor, procAuth},
			times(statusN, func(i int) { status(1 + i%2) })},
		{"me", "ingestor: `GET /telegram/me` (session cached; a connection to the local Telegram, `users.getUsers`)", "request", meN, []int{procIngestor, procAuth},
			times(meN, func(int) { timeGetOK(ingestor+"/telegram/me/1", operatorHeaders...) })},
		{"hand-go", "a Go caller (the bridge test worker) hands out a session from auth-telegram over RPC", "call", handN, []int{procGoPair, procAuth},
			times(handN/100, func(int) { timeGet(goCaller + "/bench/auth/rpc?n=100&user=1") })},
		{"hand-js", "a JavaScript caller hands out a session from auth-telegram over RPC", "call", handN, []int{procJSPair, procAuth},
			times(handN/100, func(int) { timeGet(jsCaller + "/auth?n=100&user=1") })},
		{"remote", "a JavaScript worker in auth-telegram's workerd answers the session-shaped method to the JavaScript caller in another workerd: what a call between two processes costs the callee's workerd locally", "call", handN, []int{procJSPair, procAuth},
			times(handN/100, func(int) { timeGet(jsCaller + "/remote?n=100") })},
		{"d1", "a Go worker's D1 batch shaped like the hand-out (read, mark used, log, log id)", "call", handN, []int{procGoPair},
			times(handN/100, func(int) { timeGet(goCaller + "/bench/d1/batch?n=100") })},
		{"rpc-go", "Go → Go: the session-shaped method, no I/O (caller and callee in one workerd)", "call", rpcN, []int{procGoPair},
			times(rpcN/1000, func(int) { timeGet(goCaller + "/bench/go?n=1000") })},
		{"rpc-js", "JavaScript → JavaScript: the same method (caller and callee in one workerd)", "call", rpcN, []int{procJSPair},
			times(rpcN/1000, func(int) { timeGet(jsCaller + "/?n=1000") })},
	}
	// Bindings between the processes connect through wrangler's registry once
	// both have started: wait until the ingestor reaches auth-telegram.
	waitOK(ingestor+"/telegram/session-status/2", operatorHeaders...)
	waitOK(goCaller + "/bench/auth/rpc?n=1&user=1")
	waitOK(jsCaller + "/auth?n=1&user=1")
	for _, c := range cases { // warm-up: every path once, every isolate started
		c.run()
	}

	tick := clockTick()
	pids := st.Pids()
	hostPorts := []string{hostPort(goCaller), hostPort(jsCaller), hostPort(ingestor), hostPort(st.URL["auth-telegram"])}
	read := func() []cpuTimes {
		out := make([]cpuTimes, len(pids))
		for i, pid := range pids {
			out[i] = processCPU(pid, hostPorts[i], tick)
		}
		return out
	}
	// costs[case][proc] are each round's cost per unit.
	costs := map[string][][]cpuCost{}
	walls := map[string][]float64{}
	for r := 0; r < *rounds; r++ {
		idleFrom, idleStart := read(), time.Now()
		time.Sleep(2 * time.Second)
		idleTo, idleWall := read(), time.Since(idleStart).Seconds()
		for i := range cases {
			c := cases[i]
			if r%2 == 1 {
				c = cases[len(cases)-1-i]
			}
			before, start := read(), time.Now()
			c.run()
			wall := time.Since(start).Seconds()
			after := read()
			row := make([]cpuCost, len(pids))
			for _, p := range c.procs {
				used, idle := after[p].sub(before[p]), idleTo[p].sub(idleFrom[p])
				row[p] = cpuCost{
					main: (used.mainThread - idle.mainThread/idleWall*wall) * 1000 / float64(c.n),
					all:  (used.workerd - idle.workerd/idleWall*wall) * 1000 / float64(c.n),
				}
			}
			costs[c.key] = append(costs[c.key], row)
			walls[c.key] = append(walls[c.key], wall*1000/float64(c.n))
		}
	}
	med := func(key string, proc int, all bool) float64 {
		var v []float64
		for _, row := range costs[key] {
			if all {
				v = append(v, row[proc].all)
			} else {
				v = append(v, row[proc].main)
			}
		}
		return median(v)
	}
	// ratio is key's cost over base's on proc and baseProc, round by round.
	ratio := func(key string, proc int, base string, baseProc int) spread {
		var v []float64
		for i := range costs[key] {
			v = append(v, costs[key][i][proc].main/costs[base][i][baseProc].main)
		}
		return spreadOf(v)
	}

	fmt.Fprintf(rep, "## CPU time per request\n\n"+
		"Workers bill CPU time, and wall time on a shared 2-core machine is noisy. Here every workerd is its own process (four `wrangler dev`: the Go pair, the JavaScript pair, the ingestor, auth-telegram with a JavaScript callee beside it; the local Telegram in the bench's process; every `wrangler dev` of the bench without its DevTools proxy, whose inspector session would cost each console line about 0.19 ms of the isolate's CPU that no deployment pays), and each is charged the CPU (utime+stime from `/proc`) it used around n units of work, minus what it burned idle over the same wall time (2 s idle measured before every round). "+
		"Main thread: the thread that runs the isolates (the worker's JavaScript and wasm) and, in local development, the local D1's SQLite, so a D1 statement's own CPU is counted where Cloudflare would not bill it; all threads adds V8's background threads (garbage collection, wasm compilation). "+
		"Per unit, median of %d rounds (the cases interleaved, the order reversed every other round). /proc counts in ticks of %.0f ms, spread over n units. "+
		"Targets: the Go pair's CPU per RPC at most 1.5× the JavaScript pair's; each service's warm request at most 1 ms of CPU besides its I/O.\n\n", *rounds, tick*1000)
	fmt.Fprintf(rep, "| work | workerd | per | n | wall per unit | CPU of the caller's workerd, main thread (all threads) | CPU of auth-telegram's workerd, main thread (all threads) |\n|---|---|---|---:|---:|---:|---:|\n")
	for _, c := range cases {
		callerProc := c.procs[0]
		authCol := "–"
		if len(c.procs) > 1 {
			authCol = fmt.Sprintf("%.3f ms (%.3f)", med(c.key, procAuth, false), med(c.key, procAuth, true))
		}
		fmt.Fprintf(rep, "| %s | %s | %s | %d | %.2f ms | %.3f ms (%.3f) | %s |\n", c.what, procNames[callerProc], c.unit, c.n, median(walls[c.key]),
			med(c.key, callerProc, false), med(c.key, callerProc, true), authCol)
	}
	rep.WriteString("\n")

	pair := ratio("rpc-go", procGoPair, "rpc-js", procJSPair)
	hand := ratio("hand-go", procGoPair, "hand-js", procJSPair)
	figures["CPU per RPC, Go pair / JS pair"] = pair.med
	warm, handAuth, d1 := med("status", procIngestor, false), med("status-miss", procAuth, false), med("d1", procGoPair, false)
	fmt.Fprintf(rep, "- The Go pair's CPU per RPC is %s× the JavaScript pair's, round by round (target ≤ 1.5×: %v).\n", pair, pair.med <= 1.5)
	fmt.Fprintf(rep, "- A hand-out over RPC costs the Go caller's workerd %s× what it costs the JavaScript caller's (auth-telegram's side is the same Go worker in both).\n", hand)
	floor := med("floor-js", procJSPair, false)
	bridge, notFound := med("floor-bridge", procGoPair, false), med("floor-go", procIngestor, false)
	fmt.Fprintf(rep, "- Every request pays the local plumbing: %.3f ms of main-thread CPU for a JavaScript worker's trivial answer; a Go worker's costs %.3f ms (the bridge's share of a request: %.3f ms), the ingestor's 404 %.3f ms (with its request log line).\n",
		floor, bridge, bridge-floor, notFound)
	fmt.Fprintf(rep, "- The ingestor's warm request (session-status, cached) costs %.3f ms of CPU on its main thread, %.3f ms besides the plumbing (target ≤ 1 ms: %v); not cached, %.3f ms in the ingestor and %.3f ms in auth-telegram.\n",
		warm, warm-floor, warm-floor <= 1, med("status-miss", procIngestor, false), handAuth)
	remote := med("remote", procAuth, false)
	own := handAuth - d1 - remote
	fmt.Fprintf(rep, "- auth-telegram's hand-out costs %.3f ms of main-thread CPU with the local D1's SQLite in it. Its I/O and plumbing: a hand-out-shaped D1 batch from a Go worker costs %.3f ms, and a call arriving from another workerd costs the callee's workerd %.3f ms when a JavaScript worker answers it (what the ingestor's requests pay as the plumbing above). So its own work besides them is about %.3f ms (target ≤ 1 ms: %v); %.3f ms besides D1 alone. The D1 subtraction also removes the Go side of issuing a batch, so it understates auth-telegram's own share somewhat.\n",
		handAuth, d1, remote, own, own <= 1, handAuth-d1)
	fmt.Fprintf(rep, "- `/telegram/me` costs the ingestor %.3f ms of main-thread CPU: most of it gotd's MTProto work (a new connection, `initConnection`, the request's encryption), which JavaScript callers would pay in their own client.\n\n", med("me", procIngestor, false))
}

// hostPort is the host:port of a URL.
func hostPort(url string) string {
	s := strings.TrimPrefix(url, "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// waitOK waits up to a minute for url to answer 200.
func waitOK(url string, headers ...string) {
	deadline := time.Now().Add(time.Minute)
	for {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			err = fmt.Errorf("%d %s", resp.StatusCode, b)
		}
		if time.Now().After(deadline) {
			fatalf("GET %s: %v", url, err)
		}
		time.Sleep(time.Second)
	}
}
