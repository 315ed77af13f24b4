package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/workers"
)

// client waits long: a request over -stall is counted, one over a minute
// is counted as timed out.
var client = &http.Client{Timeout: 60 * time.Second}

// bridgeSoak is the state of the bridge part.
type bridgeSoak struct {
	st      *devstack.Stack
	url     string
	echo    string // a TCP echo server's address, for the sockets
	stacks  int
	done    int                        // iterations run
	results map[string][]time.Duration // by what was timed: light, heavy, scheduled, queue
	stalls  []stall
	failed  []string
	// Counters of the bridge-caller's runtime, summed over stacks.
	waitsReported, instances  int
	triggered, freshTriggered int
	triggeredNow              bool          // this iteration began with the triggers
	pokedAt                   time.Duration // when the timed request got company (-poke)
	memory                    []bridgeMemory
}

// stall is a request (or a queue batch) slower than -stall.
type stall struct {
	iteration int
	what      string
	took      time.Duration
	fresh     bool          // in the first iteration of a fresh workerd
	triggers  bool          // in an iteration that began with TestBridge's triggers
	afterPoke time.Duration // how long it took after another request was sent (-poke); 0: none was
	err       string
}

// bridgeMemory is the caller's memory at the end of one workerd's run.
type bridgeMemory struct {
	iterations       int
	wasm, heap, rss  uint64
	first, firstHeap uint64 // after the first heavy request
}

// bridgeStats is what the bridge worker's GET /stats answers.
type bridgeStats struct {
	JS struct {
		Instances, LiveRequests, InflightOps, WaitsReported int
	}
	Memory workers.Memory
}

func soakBridge(rep *strings.Builder) {
	began := time.Now()
	b := &bridgeSoak{results: map[string][]time.Duration{}, echo: echoServer()}
	var mem bridgeMemory
	sinceStart := 0
	for i := 0; i < *iterations; i++ {
		fresh := b.st == nil || (*restartEvery > 0 && i%*restartEvery == 0)
		if fresh {
			if b.st != nil {
				mem.iterations = sinceStart
				b.finishStack(&mem)
			}
			b.start()
			mem, sinceStart = bridgeMemory{}, 0
		}
		sinceStart++
		b.triggeredNow = fresh || (*triggerEvery > 0 && i%*triggerEvery == 0)
		if b.triggeredNow {
			b.triggers(i, fresh)
		}
		b.timed(i, "heavy", fmt.Sprintf("/leak?n=%d", *heavyCalls), sinceStart <= 1)
		if *aloneEvery > 0 && i%*aloneEvery == *aloneEvery/3 {
			b.scheduledAlone(i, sinceStart <= 1)
		}
		if *aloneEvery > 0 && i%*aloneEvery == 2**aloneEvery/3 {
			b.queueAlone(i, sinceStart <= 1)
		}
		_, body := b.timed(i, "light", "/stats", sinceStart <= 1)
		if sinceStart == 1 {
			var s bridgeStats
			json.Unmarshal(body, &s)
			mem.first, mem.firstHeap = s.Memory.WasmMemory, s.Memory.GoHeapInuse
		}
		b.done++
		if *budget > 0 && time.Since(began) > *budget && i+1 < *iterations {
			progress("bridge: stopping after %d iterations: the budget of %s is spent", i+1, *budget)
			break
		}
		if (i+1)%50 == 0 {
			progress("bridge: %d/%d iterations, %d stalls, %s", i+1, *iterations, len(b.stalls), time.Since(began).Round(time.Second))
		}
	}
	if b.st != nil {
		mem.iterations = sinceStart
		b.finishStack(&mem)
	}
	b.report(rep, time.Since(began))
}

func (b *bridgeSoak) start() {
	build := filepath.Join(root, "e2e", "bridgeworker", "build")
	migrations := filepath.Join(root, "e2e", "bridgeworker", "migrations")
	b.st = startStack(devstack.Options{
		Workers: []devstack.Worker{
			{Name: "bridge-caller", Dir: filepath.Join(root, "e2e", "bridgeworker", "caller"), Build: build, Migrations: migrations, Migrate: true},
			{Name: "bridge-callee", Dir: filepath.Join(root, "e2e", "bridgeworker", "callee"), Build: build, Migrations: migrations, Migrate: true},
		},
		Processes: []devstack.Process{{Workers: []string{"bridge-caller", "bridge-callee"}, TestScheduled: true}},
	})
	b.url = b.st.URL["bridge-caller"]
	b.stacks++
}

// finishStack reads the caller's counters and memory, and stops the stack.
func (b *bridgeSoak) finishStack(m *bridgeMemory) {
	s := b.stats()
	b.waitsReported += s.JS.WaitsReported
	b.instances += s.JS.Instances
	m.wasm, m.heap = s.Memory.WasmMemory, s.Memory.GoHeapInuse
	m.rss = workerdRSS(b.st)
	b.memory = append(b.memory, *m)
	b.st.Stop()
	b.st = nil
}

func (b *bridgeSoak) stats() bridgeStats {
	var s bridgeStats
	if _, err := b.getJSON(b.url+"/stats", &s); err != nil {
		b.failed = append(b.failed, "stats: "+err.Error())
	}
	return s
}

// timed GETs path, records its time under what, and counts a stall. With
// -poke, a request (but the heavy one) still waiting after -stall gets
// company: GET /health, to see whether another request releases it.
func (b *bridgeSoak) timed(i int, what, path string, fresh bool) (time.Duration, []byte) {
	start := time.Now()
	var poked atomic.Int64 // when, in ns since start
	if *poke && what != "heavy" {
		t := time.AfterFunc(*stallAfter, func() {
			poked.Store(int64(time.Since(start)))
			b.get(b.url + "/health")
		})
		defer t.Stop()
	}
	body, err := b.get(b.url + path)
	d := time.Since(start)
	b.results[what] = append(b.results[what], d)
	b.pokedAt = time.Duration(poked.Load())
	b.check(i, what, d, fresh, err)
	b.pokedAt = 0
	return d, body
}

// check counts a stall (or a failure) of what.
func (b *bridgeSoak) check(i int, what string, d time.Duration, fresh bool, err error) {
	if what != "heavy" && (d > *stallAfter || err != nil) {
		s := stall{iteration: i, what: what, took: d, fresh: fresh, triggers: b.triggeredNow}
		if b.pokedAt > 0 {
			s.afterPoke = d - b.pokedAt
		}
		if err != nil {
			s.err = err.Error()
		}
		b.stalls = append(b.stalls, s)
		progress("bridge: iteration %d: %s took %s %s", i, what, d.Round(time.Millisecond), s.err)
		return
	}
	if err != nil {
		b.failed = append(b.failed, fmt.Sprintf("iteration %d, %s: %v", i, what, err))
	}
}

func (b *bridgeSoak) get(url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	return body, err
}

func (b *bridgeSoak) getJSON(url string, v any) ([]byte, error) {
	body, err := b.get(url)
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	return body, err
}

// triggers is what TestBridge does before its leak check: 50 concurrent
// requests each with D1, RPC, a sleep and a socket; a socket left open;
// RPC identity and typed errors; panics; D1's types and batches; the queue
// with a retried and a delayed message (waiting for the four deliveries).
func (b *bridgeSoak) triggers(i int, fresh bool) {
	b.triggered++
	if fresh {
		b.freshTriggered++
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for j := 0; j < 50; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.get(fmt.Sprintf("%s/stress?id=s%d-%d&ms=20&echo=%s", b.url, i, j, b.echo)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.failed = append(b.failed, fmt.Sprintf("iteration %d, stress: %v", i, err))
		break
	}
	for _, path := range []string{"/socket/leave-open?addr=" + b.echo, "/rpc/caller", "/rpc/fail?code=SESSION_REVOKED", "/rpc/boom", "/rpc/echo?v=x", "/d1/types", "/d1/batch"} {
		if _, err := b.get(b.url + path); err != nil {
			b.failed = append(b.failed, fmt.Sprintf("iteration %d, %s: %v", i, path, err))
		}
	}
	client.Get(b.url + "/panic") // a 500 on purpose
	run := fmt.Sprintf("soak%d-%d", i, time.Now().UnixNano())
	if _, err := b.get(b.url + "/queue/send?run=" + run); err != nil {
		b.failed = append(b.failed, fmt.Sprintf("iteration %d, queue: %v", i, err))
		return
	}
	if n := b.waitDeliveries(run, 4, 15*time.Second, 100*time.Millisecond); n != 4 {
		b.failed = append(b.failed, fmt.Sprintf("iteration %d: the queue delivered %d of 4", i, n))
	}
}

type delivery struct{ SentAt, ReceivedAt int64 }

func (b *bridgeSoak) deliveries(run string) []delivery {
	var seen []delivery
	b.getJSON(b.url+"/queue/seen?run="+run, &seen)
	return seen
}

func (b *bridgeSoak) waitDeliveries(run string, n int, timeout, every time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		seen := b.deliveries(run)
		if len(seen) >= n || time.Now().After(deadline) {
			return len(seen)
		}
		time.Sleep(every)
	}
}

// scheduledAlone runs the caller's scheduled handler (an RPC call and a D1
// write) with no request in flight: wrangler's /__scheduled answers when it
// has run.
func (b *bridgeSoak) scheduledAlone(i int, fresh bool) {
	cron := fmt.Sprintf("soak %d %d", i, time.Now().UnixNano())
	start := time.Now()
	_, err := b.get(b.url + "/__scheduled?cron=" + neturl.QueryEscape(cron))
	d := time.Since(start)
	b.results["scheduled"] = append(b.results["scheduled"], d)
	b.check(i, "scheduled", d, fresh, err)
	var out struct{ Count int }
	if _, err := b.getJSON(b.url+"/hits?who="+neturl.QueryEscape("cron "+cron), &out); err != nil || out.Count != 1 {
		b.failed = append(b.failed, fmt.Sprintf("iteration %d: the scheduled handler left %d rows (%v)", i, out.Count, err))
	}
}

// queueAlone sends one message and leaves the queue's batch alone: nothing
// is asked until 3 s later, then until it arrives. The batch's time is from
// the message's timestamp to its handler's start (the queue delivers at
// once: max_batch_timeout = 0).
func (b *bridgeSoak) queueAlone(i int, fresh bool) {
	run := fmt.Sprintf("alone%d-%d", i, time.Now().UnixNano())
	if _, err := b.get(b.url + "/queue/send-one?run=" + run); err != nil {
		b.failed = append(b.failed, fmt.Sprintf("iteration %d, send-one: %v", i, err))
		return
	}
	time.Sleep(3 * time.Second)
	if b.waitDeliveries(run, 1, 60*time.Second, 250*time.Millisecond) < 1 {
		b.check(i, "queue", 60*time.Second, fresh, fmt.Errorf("the batch did not arrive in 63 s"))
		return
	}
	d := b.deliveries(run)[0]
	took := time.Duration(d.ReceivedAt-d.SentAt) * time.Millisecond
	b.results["queue"] = append(b.results["queue"], took)
	b.check(i, "queue", took, fresh, nil)
}

func (b *bridgeSoak) report(rep *strings.Builder, took time.Duration) {
	fmt.Fprintf(rep, "## Stalls after heavy work (the bridge pair)\n\n")
	if b.done < *iterations {
		fmt.Fprintf(rep, "**Stopped after %d of %d iterations: the time budget (-budget %s) was spent.**\n\n", b.done, *iterations, *budget)
	}
	fmt.Fprintf(rep, "The bridge test workers (bridge-caller and bridge-callee in one workerd, as TestBridge runs them). %d iterations of: a heavy request (`GET /leak?n=%d`: %d bridged RPC calls, then `runtime.GC()` twice), then a light one (`GET /stats`), timed. "+
		"Every %d iterations, and first on each fresh workerd, the iteration starts with TestBridge's triggers (50 concurrent requests each with D1, RPC, a sleep and a socket to an echo server; a socket left open; RPC identity, typed errors and a panic; D1's types and a batch; the queue with a retried and a delayed message, waited for). "+
		"Every %d iterations the heavy request is followed by the scheduled handler alone (wrangler's `/__scheduled`: an RPC call and a D1 write, nothing else in flight), and, in other iterations, by a queue batch alone (one message; nothing asked for 3 s; its time is from the message's timestamp to its handler's start). "+
		"A fresh workerd every %d iterations (%d in all). A stall is anything over %s (the client waits 60 s); with -poke (on here: %v), a light request still waiting then gets company, `GET /health`, to see whether another request releases it.\n\n",
		b.done, *heavyCalls, *heavyCalls, *triggerEvery, *aloneEvery, *restartEvery, b.stacks, *stallAfter, *poke)
	fmt.Fprintf(rep, "| | count | median | p99 | max |\n|---|---:|---:|---:|---:|\n")
	for _, k := range []string{"heavy", "light", "scheduled", "queue"} {
		v := b.results[k]
		name := map[string]string{"heavy": "heavy: `/leak?n=" + fmt.Sprint(*heavyCalls) + "`", "light": "light: `/stats` right after", "scheduled": "scheduled handler alone", "queue": "queue batch alone (delivery)"}[k]
		fmt.Fprintf(rep, "| %s | %d | %s | %s | %s |\n", name, len(v), ms(quantile(v, 0.5)), ms(quantile(v, 0.99)), ms(quantile(v, 1)))
	}
	fmt.Fprintf(rep, "\n**Stalls: %d** (light requests, scheduled runs and queue batches over %s). ", len(b.stalls), *stallAfter)
	fmt.Fprintf(rep, "**Requests the runtime found waiting on Go with nothing in flight: %d** (its `waitsReported`, summed over the %d workerds; there is no nudge any more that would resume Go for them). Go instances started: %d. Iterations with TestBridge's triggers: %d (%d on a fresh workerd).\n\n",
		b.waitsReported, b.stacks, b.instances, b.triggered, b.freshTriggered)
	if len(b.stalls) > 0 {
		fmt.Fprintf(rep, "| iteration | what | took | answered after another request was sent | first on a fresh workerd | after TestBridge's triggers | error |\n|---:|---|---:|---:|---|---|---|\n")
		for _, s := range b.stalls {
			after := "no other request"
			if s.afterPoke > 0 {
				after = ms(s.afterPoke)
			}
			fmt.Fprintf(rep, "| %d | %s | %s | %s | %v | %v | %s |\n", s.iteration, s.what, ms(s.took), after, s.fresh, s.triggers, s.err)
		}
		rep.WriteString("\n")
	}
	if len(b.failed) > 0 {
		fmt.Fprintf(rep, "Other failures (%d):\n\n", len(b.failed))
		for i, f := range b.failed {
			if i == 10 {
				fmt.Fprintf(rep, "- … %d more\n", len(b.failed)-10)
				break
			}
			fmt.Fprintf(rep, "- %s\n", f)
		}
		rep.WriteString("\n")
	}
	fmt.Fprintf(rep, "The caller's memory per workerd: after its first heavy request, and at the end of its iterations; RSS is the whole workerd (both workers, local D1).\n\n| workerd | iterations | wasm memory, first → last | Go heap in use, first → last | workerd RSS at the end |\n|---:|---:|---:|---:|---:|\n")
	for i, m := range b.memory {
		fmt.Fprintf(rep, "| %d | %d | %s → %s | %s → %s | %s |\n", i+1, m.iterations, mb(m.first), mb(m.wasm), mb(m.firstHeap), mb(m.heap), mb(m.rss))
	}
	fmt.Fprintf(rep, "\nThis part took %s.\n\n", took.Round(time.Second))
}

// echoServer is a TCP echo server on loopback, for the sockets.
func echoServer() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return l.Addr().String()
}

// quantile is the q-quantile (nearest rank) of v; 0 for none.
func quantile(v []time.Duration, q float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
}

func mb(n uint64) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
