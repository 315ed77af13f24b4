package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/internal/v8inspect"
	"github.com/communicator/communicator/workers"
)

// The services part's callers and users.
var (
	apiKey      = "soak-" + devstack.RandomHex(16) // ingestor-service's key at auth-telegram
	secret      = devstack.RandomHex(32)
	operatorKey = "soak-op-" + devstack.RandomHex(16)
)

const (
	operator = "soak-operator" // reads the ingestor's routes and auth-telegram's stats
	// The ingestor's session cache holds cacheSize users: the hot users stay
	// in it, the cold ones, taken in turn, never do.
	cacheSize = 50
	hotUsers  = 20
	coldUsers = 200
	coldFirst = 1001 // the cold users' ids: coldFirst...
	noSession = 9999 // a user without a session
	meUser    = 1    // a hot user whose session the local Telegram knows
	// telegramUser is the local Telegram's fixture account behind meUser.
	telegramUser = 1001
)

// The targets of the services part.
const (
	wasmTarget   = 64 << 20 // bytes of linear memory per isolate
	jsHeapTarget = 48 << 20
	growthTarget = 0.05 // between the second and the last snapshot
)

// kinds of request in the mix, in parts per 100.
var mix = []struct {
	name  string
	share int
}{
	{"session-status, cached", 70},
	{"session-status, uncached (a hand-out over the binding)", 20},
	{"session-status, no session", 5},
	{"/telegram/me (MTProto to the local Telegram)", 5},
}

// snapshot is the memory at a number of requests done.
type snapshot struct {
	done               int
	ingestor, auth     workers.Memory
	ingestorBridge     workers.Bridge // the bridge's counters, from the same stats route
	authBridge         workers.Bridge
	ingestorJS, authJS v8inspect.Heap // after a full collection, from workerd's inspector
	rss, hwm           uint64         // the workerd that runs both workers
}

type servicesSoak struct {
	st          *devstack.Stack
	ingestor    string
	auth        string
	hdr         []string
	lat         [][]time.Duration // per kind
	bad         []int64           // per kind: unexpected answers
	badSample   []string
	mu          sync.Mutex
	next, coldN atomic.Int64
	inspector   string // workerd's inspector address, once found
}

func soakServices(rep *strings.Builder) {
	began := time.Now()
	fake, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		fatal(err)
	}
	defer fake.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	session, err := fake.MintSession(ctx, telegramUser)
	cancel()
	if err != nil {
		fatal(err)
	}

	iv := map[string]string{"TELEGRAM_API_ID": "17349", "TELEGRAM_API_HASH": "344583e45741c457fe1862106095a5eb", "TELEGRAM_AUTH_SERVICE_API_KEY": apiKey,
		"INGESTOR_API_KEYS":           fmt.Sprintf(`{%q:%q}`, operator, httpapi.HashAPIKey(operatorKey)),
		"INGESTOR_ACCESS_POLICY":      fmt.Sprintf(`{"read":[%q]}`, operator),
		"TELEGRAM_SESSION_CACHE_SIZE": strconv.Itoa(cacheSize)}
	maps.Copy(iv, fake.EndpointVars())
	av := devstack.AuthTelegramVars(secret, apiKey)
	av["SERVICE_API_KEYS"] = fmt.Sprintf(`{"ingestor-service":%q,%q:%q}`, httpapi.HashAPIKey(apiKey), operator, httpapi.HashAPIKey(operatorKey))
	av["ACCESS_POLICY"] = fmt.Sprintf(`{"get_session":["ingestor-service"],"list_sessions":["ingestor-service"],"revoke_session":["ingestor-service"],"import_session":["ingestor-service"],"report":["ingestor-service"],"read_stats":[%q]}`, operator)
	s := &servicesSoak{hdr: []string{"Authorization", "ApiKey " + operatorKey, "X-Service-ID", operator},
		lat: make([][]time.Duration, len(mix)), bad: make([]int64, len(mix))}
	s.st = startStack(devstack.Options{
		Workers: []devstack.Worker{
			{Name: "ingestor", Dir: filepath.Join(root, "services", "ingestor"), Migrate: true, Vars: iv},
			{Name: "auth-telegram", Dir: filepath.Join(root, "services", "auth-telegram"), Migrate: true, Vars: av},
		},
		Processes: []devstack.Process{{Workers: []string{"ingestor", "auth-telegram"}, Routed: true}},
	})
	defer s.st.Stop()
	s.ingestor, s.auth = s.st.URL["ingestor"], s.st.URL["auth-telegram"]

	// Sessions: meUser's the local Telegram knows; the others random.
	users := []int64{meUser}
	for u := int64(2); u <= hotUsers; u++ {
		users = append(users, u)
	}
	for u := int64(0); u < coldUsers; u++ {
		users = append(users, coldFirst+u)
	}
	progress("services: importing %d sessions", len(users))
	var wg sync.WaitGroup
	work := make(chan int64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				sess := devstack.RandomSession()
				if u == meUser {
					sess = session
				}
				if _, err := devstack.ImportSession(s.auth, apiKey, u, sess); err != nil {
					fatalf("import user %d: %v", u, err)
				}
			}
		}()
	}
	for _, u := range users {
		work <- u
	}
	close(work)
	wg.Wait()
	// Warm both isolates and every path once.
	for k := range mix {
		s.do(k)
	}
	snaps := []snapshot{s.snapshot(0)}
	marks := []int{*requests / 5, *requests / 2, *requests}
	loadBegan := time.Now()
	done := 0
	for _, m := range marks {
		s.run(m - done)
		done = m
		snaps = append(snaps, s.snapshot(done))
		progress("services: %d/%d requests, %s", done, *requests, time.Since(loadBegan).Round(time.Second))
	}
	s.report(rep, snaps, time.Since(loadBegan), time.Since(began))
}

// run sends n requests of the mix, *concurrency at a time.
func (s *servicesSoak) run(n int) {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(n))
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				s.do(s.kind())
			}
		}()
	}
	wg.Wait()
}

// kind picks the next request's kind: the mix in a fixed rotation.
func (s *servicesSoak) kind() int {
	i := int(s.next.Add(1) % 100) // also picks the cached user (do)
	if *onlyKind >= 0 {
		return *onlyKind
	}
	for k, m := range mix {
		if i < m.share {
			return k
		}
		i -= m.share
	}
	return 0
}

func (s *servicesSoak) do(k int) {
	var url string
	switch k {
	case 0:
		url = fmt.Sprintf("%s/telegram/session-status/%d", s.ingestor, 1+s.next.Load()%hotUsers)
	case 1:
		url = fmt.Sprintf("%s/telegram/session-status/%d", s.ingestor, coldFirst+s.coldN.Add(1)%coldUsers)
	case 2:
		url = fmt.Sprintf("%s/telegram/session-status/%d", s.ingestor, noSession)
	case 3:
		url = fmt.Sprintf("%s/telegram/me/%d", s.ingestor, meUser)
	}
	start := time.Now()
	status, body, err := s.get(url)
	d := time.Since(start)
	ok := err == nil && status == 200
	if ok && k == 2 {
		ok = bytes.Contains(body, []byte(`"usable":false`))
	} else if ok && k < 2 {
		ok = bytes.Contains(body, []byte(`"usable":true`))
	}
	s.mu.Lock()
	s.lat[k] = append(s.lat[k], d)
	if !ok {
		s.bad[k]++
		if len(s.badSample) < 5 {
			s.badSample = append(s.badSample, fmt.Sprintf("%s: %d %v %.200s", url[strings.Index(url, "/telegram"):], status, err, body))
		}
	}
	s.mu.Unlock()
}

func (s *servicesSoak) get(url string) (int, []byte, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i+1 < len(s.hdr); i += 2 {
		req.Header.Set(s.hdr[i], s.hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, b, err
}

// snapshot reads each isolate's memory through its stats route, and
// workerd's resident memory from /proc.
func (s *servicesSoak) snapshot(done int) snapshot {
	snap := snapshot{done: done}
	read := func(url, path string, into *workers.Memory, bridge *workers.Bridge) {
		status, body, err := s.get(url)
		var env struct {
			Data struct {
				Memory *workers.Memory
				Bridge *workers.Bridge
			}
		}
		if err != nil || status != 200 || json.Unmarshal(body, &env) != nil || env.Data.Memory == nil || env.Data.Bridge == nil {
			fatalf("%s: %d %v %.300s", path, status, err, body)
		}
		*into, *bridge = *env.Data.Memory, *env.Data.Bridge
	}
	read(s.ingestor+"/telegram/client-stats", "the ingestor's client-stats", &snap.ingestor, &snap.ingestorBridge)
	read(s.auth+"/api/telegram-auth/stats", "auth-telegram's stats", &snap.auth, &snap.authBridge)
	snap.rss, snap.hwm = workerdMemory(s.st)
	snap.ingestorJS = s.jsHeap("ingestor", s.ingestor+"/telegram/client-stats")
	snap.authJS = s.jsHeap("auth-telegram", s.auth+"/api/telegram-auth/stats")
	return snap
}

// jsHeap reads worker's JavaScript heap after a full collection, through the
// inspector of the workerd that runs it.
func (s *servicesSoak) jsHeap(worker, kickURL string) v8inspect.Heap {
	if s.inspector == "" {
		pids := s.st.Workerds()
		if len(pids) == 0 {
			fatalf("no workerd runs %s", worker)
		}
		addr, err := v8inspect.Find(pids[0])
		if err != nil {
			fatal(err)
		}
		s.inspector = addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := v8inspect.HeapUsage(ctx, s.inspector, worker, true, func() { go s.get(kickURL) })
	if err != nil {
		fatal(err)
	}
	return h
}

func (s *servicesSoak) report(rep *strings.Builder, snaps []snapshot, load, took time.Duration) {
	total := 0
	for _, l := range s.lat {
		total += len(l)
	}
	fmt.Fprintf(rep, "## Memory under load (the two services)\n\n")
	fmt.Fprintf(rep, "The ingestor and auth-telegram in one workerd (as `make dev` runs them; the ingestor calls auth-telegram over the service binding), the local Telegram in this process. "+
		"%d requests to the ingestor, %d in flight, in %s (%.0f requests/s), after a warm-up of one of each kind; the ingestor's session cache holds %d users. The mix:\n\n",
		total-len(mix), *concurrency, load.Round(time.Second), float64(total-len(mix))/load.Seconds(), cacheSize)
	fmt.Fprintf(rep, "| request | share | count | median | p99 | max | unexpected answers |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for k, m := range mix {
		fmt.Fprintf(rep, "| %s | %d%% | %d | %s | %s | %s | %d |\n", m.name, m.share, len(s.lat[k]), ms(quantile(s.lat[k], 0.5)), ms(quantile(s.lat[k], 0.99)), ms(quantile(s.lat[k], 1)), s.bad[k])
	}
	rep.WriteString("\n")
	for _, b := range s.badSample {
		fmt.Fprintf(rep, "- unexpected: `%s`\n", b)
	}
	if len(s.badSample) > 0 {
		rep.WriteString("\n")
	}
	fmt.Fprintf(rep, "Memory per isolate, read from each service's stats route (the ingestor's `GET /telegram/client-stats`, auth-telegram's `GET /api/telegram-auth/stats`; Go's heap without a collection first, so it includes garbage). "+
		"workerd does not expose the JavaScript heap to a worker (`jsHeapBytes` is null), so each isolate's JavaScript heap is read from outside, through workerd's inspector (V8's `Runtime.getHeapUsage` after `HeapProfiler.collectGarbage`: what the isolate retains, and what V8 has reserved for it; package internal/v8inspect). "+
		"V8 counts the wasm memory apart from this heap. The last column is the resident memory of the workerd process that runs both workers, the local D1 and wrangler's own dev workers (`VmRSS`, and its peak `VmHWM`, from `/proc/<pid>/status`), for reference.\n\n")
	fmt.Fprintf(rep, "| requests done | ingestor wasm memory | ingestor Go heap in use / Sys | ingestor JS heap / reserved | auth-telegram wasm memory | auth-telegram Go heap in use / Sys | auth-telegram JS heap / reserved | workerd RSS (peak) |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sn := range snaps {
		fmt.Fprintf(rep, "| %d | %s | %s / %s | %s / %s | %s | %s / %s | %s / %s | %s (%s) |\n", sn.done,
			mb(sn.ingestor.WasmMemory), mb(sn.ingestor.GoHeapInuse), mb(sn.ingestor.GoSys), mb(sn.ingestorJS.Used), mb(sn.ingestorJS.Total),
			mb(sn.auth.WasmMemory), mb(sn.auth.GoHeapInuse), mb(sn.auth.GoSys), mb(sn.authJS.Used), mb(sn.authJS.Total), mb(sn.rss), mb(sn.hwm))
	}
	last, mid := snaps[len(snaps)-1], snaps[len(snaps)-2]
	grow := func(a, b uint64) float64 {
		if a == 0 {
			return 0
		}
		return float64(b)/float64(a) - 1
	}
	maxWasm := max(last.ingestor.WasmMemory, last.auth.WasmMemory)
	var maxJS uint64
	for _, sn := range snaps {
		maxJS = max(maxJS, sn.ingestorJS.Used, sn.authJS.Used)
	}
	gi, ga := grow(mid.ingestor.WasmMemory, last.ingestor.WasmMemory), grow(mid.auth.WasmMemory, last.auth.WasmMemory)
	gji, gja, gr := grow(mid.ingestorJS.Used, last.ingestorJS.Used), grow(mid.authJS.Used, last.authJS.Used), grow(mid.rss, last.rss)
	fmt.Fprintf(rep, "\nTargets: wasm memory ≤ 64 MB per isolate: %v (largest %s). JS heap ≤ 48 MB per isolate: %v (largest %s). "+
		"Growth from %d to %d requests ≤ 5%%: wasm memory ingestor %+.1f%%, auth-telegram %+.1f%%; JS heap ingestor %+.1f%%, auth-telegram %+.1f%%: %v. (workerd's RSS: %+.1f%%.)\n\n",
		maxWasm <= wasmTarget, mb(maxWasm), maxJS <= jsHeapTarget, mb(maxJS), mid.done, last.done, gi*100, ga*100, gji*100, gja*100,
		gi <= growthTarget && ga <= growthTarget && gji <= growthTarget && gja <= growthTarget, gr*100)
	ib, ab := last.ingestorBridge, last.authBridge
	fmt.Fprintf(rep, "The bridge in each isolate at the end (the `bridge` of the same stats routes): **requests found waiting on Go with nothing in flight (`waitsReported`): ingestor %d, auth-telegram %d** (target 0); "+
		"Go instances started: %d and %d; JSPI in the runtime: %v and %v. The ingestor's calls to auth-telegram: %d with their JSON as bytes (auth-telegram answered %d so), "+
		"%d waited for inside the call, of which %d were released to the asynchronous path (something else needed Go: another request, a Go timer that fell due, or a wait of 10 ms; with 64 requests in flight a call is waited for inside only when its request is alone in the isolate).\n\n",
		ib.WaitsReported, ab.WaitsReported, ib.GoInstances, ab.GoInstances, ib.JSPI, ab.JSPI, ib.JSONCalls, ab.JSONServed, ib.SuspendedCalls, ib.SuspendsReleased)
	fmt.Fprintf(rep, "`/telegram/me` opens one MTProto connection per request with `connect()`; `-kind 3` sends only those. "+
		"workerd releases before 1.20260904.1 (wrangler 4.86's own among them) keep about half a kilobyte of an isolate's JavaScript heap for every such socket, which grew the ingestor's heap by 30.1%% between 25k and 50k requests in the soak of 2026-12-01 12:57 UTC; the repository pins a newer workerd (docs/operations.md, \"Memory\").\n\n")
	fmt.Fprintf(rep, "This part took %s (starting the stack and importing %d sessions included).\n\n", took.Round(time.Second), hotUsers+coldUsers)
}

// workerdRSS is the resident memory of the workerd that runs a stack's
// workers.
func workerdRSS(st *devstack.Stack) uint64 { rss, _ := workerdMemory(st); return rss }

// workerdMemory reads VmRSS and VmHWM of the workerd that runs the stack's
// workers.
func workerdMemory(st *devstack.Stack) (rss, hwm uint64) {
	for _, pid := range st.Workerds() {
		status, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		for _, line := range strings.Split(string(status), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			n, _ := strconv.ParseUint(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				rss += n << 10
			case "VmHWM:":
				hwm += n << 10
			}
		}
	}
	return rss, hwm
}
