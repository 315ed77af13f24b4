package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/ingest"
	"github.com/communicator/communicator/internal/devstack"
)

// The ingestion benchmark's settings.
const (
	// fixtureUser is the local Telegram's account that every sync reads:
	// 30 dialogs, 5,524 messages.
	fixtureUser = 1001
	// addedLatency is what the local Telegram adds to every getDialogs and
	// getHistory answer in the "with latency" figures: a round trip to one
	// of Telegram's data centers from a Cloudflare location, roughly.
	addedLatency = 50 * time.Millisecond
	// pollEvery is how often the bench asks for the sync's state.
	pollEvery = 20 * time.Millisecond
)

// The Telegram methods a sync calls.
var syncMethods = []string{"messages.getDialogs", "messages.getHistory"}

// ingestBench is the stack and the local Telegram of the ingestion figures.
type ingestBench struct {
	fake     *faketelegram.Server
	st       *devstack.Stack
	ingestor string // base URL
	auth     string
	nextUser int64
	tick     float64 // seconds per clock tick of /proc/<pid>/stat
	hostPort string  // the stack's address: wrangler's proxy listens there
}

// syncRun is one sync through the ingestor's API.
type syncRun struct {
	ms     float64 // from the POST to the GET that saw it done
	status syncState
	cpu    cpuTimes // of the stack's processes during the sync
	calls  map[string]int
	slices []sliceLog
	queue  []float64 // ms of each queue invocation, as wrangler reports it
}

// sliceLog is the ingestor's "ingest: slice ended" line.
type sliceLog struct {
	Pages      int     `json:"pages"`
	Rows       int     `json:"rows"`
	Ms         float64 `json:"ms"`
	ConnectMs  float64 `json:"connect_ms"`
	TelegramMs float64 `json:"telegram_ms"`
	StoreMs    float64 `json:"store_ms"`
	CommitMs   float64 `json:"commit_ms"`
}

// syncState is what GET /v1/users/{userId}/sync answers (the fields used).
type syncState struct {
	State          string `json:"state"`
	Phase          string `json:"phase"`
	SyncID         string `json:"syncId"`
	DialogsTotal   int    `json:"dialogsTotal"`
	DialogsDone    int    `json:"dialogsDone"`
	MessagesStored int    `json:"messagesStored"`
	Slices         int    `json:"slices"`
	LastError      string `json:"lastError"`
}

func startIngestBench() *ingestBench {
	fake, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		fatal(err)
	}
	b := &ingestBench{fake: fake, nextUser: 2000, tick: clockTick()}
	iv := secretsFor("ingestor")
	maps.Copy(iv, fake.EndpointVars())
	b.st = startStack(devstack.Options{
		Workers: []devstack.Worker{
			{Name: "ingestor", Dir: filepath.Join(root, "services", "ingestor"), Migrate: true, Vars: iv},
			{Name: "auth-telegram", Dir: filepath.Join(root, "services", "auth-telegram"), Migrate: true, Vars: secretsFor("auth-telegram")},
		},
		// As make dev runs them: one workerd, the binding between them, the
		// queue and every D1 database local to it.
		Processes: []devstack.Process{{Workers: []string{"ingestor", "auth-telegram"}, Routed: true}},
	})
	b.ingestor, b.auth = b.st.URL["ingestor"], b.st.URL["auth-telegram"]
	b.hostPort = strings.TrimPrefix(b.ingestor, "http://")
	return b
}

func (b *ingestBench) stop() {
	b.st.Stop()
	b.fake.Close()
}

// mint makes a new session of the fixture user.
func (b *ingestBench) mint() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := b.fake.MintSession(ctx, fixtureUser)
	if err != nil {
		fatal(err)
	}
	return s
}

// newUser is a communicator user, new to the ingestor, whose session (of the
// fixture user) is in auth-telegram.
func (b *ingestBench) newUser() int64 {
	b.nextUser++
	if _, err := devstack.ImportSession(b.auth, apiKey, b.nextUser, b.mint()); err != nil {
		fatal(err)
	}
	return b.nextUser
}

// api calls the ingestor's API as the operator and decodes the envelope's data.
func (b *ingestBench) api(method, path string, want int, data any) {
	req, _ := http.NewRequest(method, b.ingestor+path, nil)
	httpapi.SetAPIKey(req.Header, benchOperator, operatorKey)
	resp, err := client.Do(req)
	if err != nil {
		fatalf("%s %s: %v", method, path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	var env struct{ Data json.RawMessage }
	if err := json.Unmarshal(body, &env); err != nil || json.Unmarshal(env.Data, data) != nil {
		fatalf("%s %s: %s", method, path, body)
	}
}

func (b *ingestBench) calls() map[string]int {
	m := map[string]int{}
	for _, name := range syncMethods {
		m[name] = b.fake.Calls(name)
	}
	return m
}

// sync starts a sync of user and polls its state until it is done: idle,
// phase done, the sync this POST started. So that polling takes no CPU from
// the sync (workerd runs every isolate and the local D1 on one thread), the
// poll that ends it is sent when the ingestor logs the sync's end, and
// otherwise once a second (a slice that failed shows there).
func (b *ingestBench) sync(user int64) syncRun {
	logs := b.st.Logs()
	from := len(logs.Lines())
	calls, cpu := b.calls(), b.cpu()
	path := fmt.Sprintf("/v1/users/%d/sync", user)
	start := time.Now()
	var st syncState
	b.api("POST", path, http.StatusAccepted, &st)
	id := st.SyncID
	ended := func(line string) bool {
		return strings.Contains(line, `"ingest: sync finished"`) && strings.Contains(line, `"sync_id":"`+id+`"`)
	}
	var run syncRun
	lastPoll := start
	for {
		seen := slices.ContainsFunc(logs.Lines()[from:], ended)
		if seen || time.Since(lastPoll) > time.Second {
			b.api("GET", path, http.StatusOK, &st)
			lastPoll = time.Now()
			if st.SyncID != id {
				fatalf("sync of %d: another sync %s replaced %s", user, st.SyncID, id)
			}
			if st.State == ingest.StateIdle && st.Phase == ingest.PhaseDone {
				break
			}
			if st.State == ingest.StateNeedsLogin || st.State == ingest.StatePaused || time.Since(start) > 5*time.Minute {
				fatalf("sync of %d: %+v\n%s", user, st, logs.Tail(30))
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	run.ms = ms(time.Since(start))
	run.status, run.cpu = st, b.cpu().sub(cpu)
	run.calls = map[string]int{}
	for k, v := range b.calls() {
		run.calls[k] = v - calls[k]
	}
	// wrangler reports a queue invocation after it ends.
	for deadline := time.Now().Add(3 * time.Second); ; {
		run.slices, run.queue = nil, nil
		for _, line := range logs.Lines()[from:] {
			if strings.Contains(line, `"ingest: slice ended"`) && strings.Contains(line, `"sync_id":"`+id+`"`) {
				var sl sliceLog
				if i := strings.IndexByte(line, '{'); i < 0 || json.Unmarshal([]byte(line[i:]), &sl) != nil {
					fatalf("a slice's log line: %s", line)
				}
				run.slices = append(run.slices, sl)
			}
			if m := queueLine.FindStringSubmatch(line); m != nil {
				v, _ := strconv.ParseFloat(m[1], 64)
				run.queue = append(run.queue, v)
			}
		}
		if len(run.queue) >= len(run.slices) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return run
}

// queueLine is wrangler's line for a queue invocation of the sync queue.
var queueLine = regexp.MustCompile(`QUEUE telegram-sync \d+/\d+ \((\d+)ms\)`)

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// slow adds addedLatency to every getDialogs and getHistory answer until
// the local Telegram's faults are cleared.
func (b *ingestBench) slow() {
	for _, m := range syncMethods {
		b.fake.Slow(m, addedLatency, 0)
	}
}

// anchor times anchorFetch with a new session.
func (b *ingestBench) anchor(sess string) (float64, int, map[string]int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	calls := b.calls()
	start := time.Now()
	_, n, err := anchorFetch(ctx, b.fake, sess)
	d := ms(time.Since(start))
	if err != nil {
		fatalf("the anchor: %v", err)
	}
	out := map[string]int{}
	for k, v := range b.calls() {
		out[k] = v - calls[k]
	}
	return d, n, out
}

// native times nativeIngest.
func (b *ingestBench) native(sess string) (float64, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	n, _, err := nativeIngest(ctx, b.fake, sess)
	d := ms(time.Since(start))
	if err != nil {
		fatalf("the native ingestion: %v", err)
	}
	return d, n
}

// cpuTimes are CPU seconds (user + system) of the processes of the stack's
// process group: wrangler 4.86 starts two workerd, the one that runs the
// workers (and the local D1 databases and queue) and one for its proxy,
// which listens on the stack's port; the rest is wrangler's node. mainThread
// is the workers' workerd's main thread, which runs the isolates (its other
// threads are mostly V8's, compiling wasm in the background and collecting
// garbage).
type cpuTimes struct{ workerd, mainThread, proxy, group float64 }

func (c cpuTimes) sub(o cpuTimes) cpuTimes {
	return cpuTimes{c.workerd - o.workerd, c.mainThread - o.mainThread, c.proxy - o.proxy, c.group - o.group}
}

func (b *ingestBench) cpu() cpuTimes { return stackCPU(b.st, b.hostPort, b.tick) }

// stackCPU reads utime+stime from /proc/<pid>/stat of every process in the
// process group of the stack's first process, whose wrangler proxy listens on
// hostPort; tick is the seconds of a clock tick (clockTick).
func stackCPU(st *devstack.Stack, hostPort string, tick float64) cpuTimes {
	return processCPU(st.Pids()[0], hostPort, tick)
}

// processCPU is stackCPU for the process group of the wrangler whose pid is
// pgid.
func processCPU(pid int, hostPort string, tick float64) cpuTimes {
	pgid := strconv.Itoa(pid)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		fatal(err)
	}
	var c cpuTimes
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, f, ok := devstack.ProcStat(filepath.Join("/proc", e.Name(), "stat"))
		if !ok || f[2] != pgid {
			continue
		}
		s := cpuSeconds(f, tick)
		c.group += s
		if comm == "workerd" {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if bytes.Contains(cmdline, []byte("entry="+hostPort)) {
				c.proxy += s
				continue
			}
			c.workerd += s
			if _, tf, ok := devstack.ProcStat(filepath.Join("/proc", e.Name(), "task", e.Name(), "stat")); ok {
				c.mainThread += cpuSeconds(tf, tick)
			}
		}
	}
	return c
}

// cpuSeconds is utime+stime of devstack.ProcStat's fields: the 14th and 15th fields
// of the line, f[11] and f[12] after the command.
func cpuSeconds(f []string, tick float64) float64 {
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) * tick
}

// clockTick is the seconds of a tick of /proc's CPU times (getconf CLK_TCK).
func clockTick() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if n, e := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && e == nil && n > 0 {
		return 1 / float64(n)
	}
	return 0.01
}

// ingestion measures the ingestor's first sync of the fixture user against
// the anchor (anchorFetch) and against the same code run natively
// (nativeIngest), with and without added latency, in alternating rounds of
// one run; then what a sync costs workerd's CPU, an incremental sync with
// nothing new, and what a stored message takes in its shard.
func ingestion(rep *strings.Builder) {
	b := startIngestBench()
	defer b.stop()
	sess := b.mint() // the anchor's and the native run's
	// Warm up the ingestor's isolate, its session client and the local queue.
	warm := b.sync(b.newUser())
	fixtureMsgs := warm.status.MessagesStored

	times := map[string][]float64{}
	runs := map[string][]syncRun{}
	anchorCalls := map[string]int{}
	check := func(what string, n int) {
		if n != fixtureMsgs {
			fatalf("%s: %d messages, the ingestor stored %d", what, n, fixtureMsgs)
		}
	}
	measure := func(latency bool, f func() float64) func() float64 {
		return func() float64 {
			if latency {
				b.slow()
				defer b.fake.ClearFaults()
			}
			return f()
		}
	}
	anchor := func() float64 {
		d, n, calls := b.anchor(sess)
		check("the anchor", n)
		anchorCalls = calls
		return d
	}
	native := func() float64 {
		d, n := b.native(sess)
		check("the native run", n)
		return d
	}
	worker := func(key string) func() float64 {
		return func() float64 {
			r := b.sync(b.newUser())
			check("the ingestor", r.status.MessagesStored)
			runs[key] = append(runs[key], r)
			return r.ms
		}
	}
	times = compare(*rounds, map[string]func() float64{
		"anchor50": measure(true, anchor),
		"native50": measure(true, native),
		"ingest50": measure(true, worker("ingest50")),
		"anchor":   measure(false, anchor),
		"native":   measure(false, native),
		"ingest":   measure(false, worker("ingest")),
	})
	med := func(k string) float64 { return median(times[k]) }
	a50, n50, i50 := med("anchor50"), med("native50"), med("ingest50")
	a0, n0, i0 := med("anchor"), med("native"), med("ingest")
	workerCalls := runs["ingest"][0].calls

	// What a status poll costs (the bench's own requests, to tell them apart).
	cpu0, t0 := b.cpu(), time.Now()
	const polls = 50
	for range polls {
		var st syncState
		b.api("GET", fmt.Sprintf("/v1/users/%d/sync", b.nextUser), http.StatusOK, &st)
	}
	pollCPU := b.cpu().sub(cpu0).workerd / polls * 1000
	pollMs := ms(time.Since(t0)) / polls

	// Incremental syncs with nothing new, of an account synced above.
	var incr []syncRun
	var incrMs, incrCPU []float64
	for range *rounds {
		r := b.sync(b.nextUser)
		incr = append(incr, r)
		incrMs, incrCPU = append(incrMs, r.ms), append(incrCPU, r.cpu.workerd*1000)
	}

	// Where the time went, from the slices' log lines (medians of the rounds).
	type split struct{ wall, slices, pages, connect, telegram, store, commit, slice, queue, dispatch, cpu, proxy, group float64 }
	splitOf := func(key string) split {
		var v [13][]float64
		for _, r := range runs[key] {
			var s split
			s.slices = float64(len(r.slices))
			for _, sl := range r.slices {
				s.pages += float64(sl.Pages)
				s.connect += sl.ConnectMs
				s.telegram += sl.TelegramMs
				s.store += sl.StoreMs
				s.commit += sl.CommitMs
				s.slice += sl.Ms
			}
			for _, q := range r.queue {
				s.queue += q
			}
			s.dispatch = r.ms - s.slice
			s.cpu, s.proxy, s.group, s.wall = r.cpu.workerd*1000, r.cpu.proxy*1000, r.cpu.group*1000, r.ms
			for i, x := range []float64{s.wall, s.slices, s.pages, s.connect, s.telegram, s.store, s.commit, s.slice, s.queue, s.dispatch, s.cpu, s.proxy, s.group} {
				v[i] = append(v[i], x)
			}
		}
		return split{median(v[0]), median(v[1]), median(v[2]), median(v[3]), median(v[4]), median(v[5]), median(v[6]), median(v[7]), median(v[8]), median(v[9]), median(v[10]), median(v[11]), median(v[12])}
	}
	s50, s0 := splitOf("ingest50"), splitOf("ingest")

	// What a message takes in its shard.
	shardRows, payload, text, onDisk := b.storage()

	msgs := float64(fixtureMsgs)
	fmt.Fprintf(rep, "## Ingestion against the local Telegram\n\n"+
		"A first sync of fixture user %d (%d dialogs, %d messages) by the ingestor in workerd: `POST /v1/users/N/sync`, then `GET .../sync` until the state is idle and the phase done (the bench asks when the ingestor logs the sync's end, so that polling takes no CPU from it), each round a new account. "+
		"It fetches **and stores**: slices from the local queue, %d history pages in flight (`ingest.DefaultInFlight`) on one MTProto connection, each page committed to the account's D1 shard with its cursor. "+
		"Anchor: what a Go programmer would write instead, natively and **fetch-only**: a gotd client with a session of the same user, gotd's `query.GetDialogs(api).BatchSize(100).Iter()` and, dialog after dialog, `query.Messages(api).GetHistory(peer).BatchSize(100).Iter()`, every message decoded and counted, nothing stored (gotd's default batch of one dialog a request would only slow it). "+
		"Also the ingestor's own code natively (package `ingest` over tgsource and gotd, SQLite files for D1, the next slice at once for the queue). "+
		"The local Telegram (faketelegram) runs in the bench's process; with latency it adds %d ms to every getDialogs and getHistory answer. Medians of %d alternating rounds. Target: with latency, the ingestor in at most 0.5× the anchor's time.\n\n",
		fixtureUser, warm.status.DialogsTotal, fixtureMsgs, ingest.DefaultInFlight, addedLatency.Milliseconds(), *rounds)
	fmt.Fprintf(rep, "| run | +%d ms a call | vs anchor | no added latency | vs anchor | Telegram calls (getDialogs + getHistory) |\n|---|---:|---:|---:|---:|---|\n", addedLatency.Milliseconds())
	fmt.Fprintf(rep, "| anchor: gotd iterators, native, fetch only | %.0f ms | 1.00× | %.0f ms | 1.00× | %d + %d |\n", a50, a0, anchorCalls["messages.getDialogs"], anchorCalls["messages.getHistory"])
	fmt.Fprintf(rep, "| ingestor in workerd: fetch and store in D1 | %.0f ms | %.2f× | %.0f ms | %.1f× | %d + %d |\n", i50, i50/a50, i0, i0/a0, workerCalls["messages.getDialogs"], workerCalls["messages.getHistory"])
	fmt.Fprintf(rep, "| package ingest natively, SQLite | %.0f ms | %.2f× | %.0f ms | %.1f× | the same |\n\n", n50, n50/a50, n0, n0/a0)
	fmt.Fprintf(rep, "With latency the ingestor takes %.2f× the anchor's time (target ≤ 0.5×: %v). ", i50/a50, i50/a50 <= 0.5)
	fmt.Fprintf(rep, "gotd's history iterator asks for one more page after the last short one (it is sent, and its answer dropped), and the dialogs iterator one more empty page: %d calls against the ingestor's %d, each paying the latency; the ingestor also waits on %d pages at once. "+
		"Telegram's clients prefetch too; %d is per account and per connection, so an account never has more than %d requests waiting, and a flood wait stops its slice, which is retried after the wait.\n\n",
		anchorCalls["messages.getDialogs"]+anchorCalls["messages.getHistory"], workerCalls["messages.getDialogs"]+workerCalls["messages.getHistory"], ingest.DefaultInFlight, ingest.DefaultInFlight, ingest.DefaultInFlight)

	fmt.Fprintf(rep, "Where the ingestor's time goes, from its slices' log lines (`ingest: slice ended`), medians:\n\n"+
		"| | +%d ms a call | no added latency |\n|---|---:|---:|\n", addedLatency.Milliseconds())
	row := func(name, format string, f func(split) float64) {
		fmt.Fprintf(rep, "| %s | "+format+" | "+format+" |\n", name, f(s50), f(s0))
	}
	row("slices (queue invocations)", "%.0f", func(s split) float64 { return s.slices })
	row("Telegram requests (pages)", "%.0f", func(s split) float64 { return s.pages })
	row("whole sync, from the POST", "%.0f ms", func(s split) float64 { return s.wall })
	row("in slices", "%.0f ms", func(s split) float64 { return s.slice })
	row("· the session from auth-telegram and connecting", "%.0f ms", func(s split) float64 { return s.connect })
	row("· waiting on Telegram's answers (decoding in wasm included)", "%.0f ms", func(s split) float64 { return s.telegram })
	row("· D1: picking dialogs, checking the lease, committing pages", "%.0f ms", func(s split) float64 { return s.store })
	row("· · of which the batches that commit history pages", "%.0f ms", func(s split) float64 { return s.commit })
	row("· the rest: the lease, progress, the outcome", "%.0f ms", func(s split) float64 { return s.slice - s.connect - s.telegram - s.store })
	row("outside slices: the POST, the queue's delivery, the last poll", "%.0f ms", func(s split) float64 { return s.dispatch })
	row("CPU of workerd (the workers, local D1 and queue) during the sync", "%.0f ms", func(s split) float64 { return s.cpu })
	row("CPU of wrangler's proxy (a second workerd) and node", "%.0f ms", func(s split) float64 { return s.group - s.cpu })
	rep.WriteString("\n")
	fmt.Fprintf(rep, "Without added latency, D1 takes %.0f%% of the slices' time: %.1f ms a history page's commit batch (%d pages), and %.0f ms for the other D1 calls (before every round of up to 4 pages: a choice of dialogs on the shard and a check of the lease on DB). "+
		"Telegram's %d answers, decoded in wasm, take %.0f ms. workerd runs the workers and the local D1 databases on one thread, and its CPU time during the sync (%.0f ms) is %.0f%% of the sync's wall time (%.0f ms)%s. "+
		"With latency the waits add to that work rather than hide it: a round of up to %d pages is waited for, then committed, before the next round is requested. "+
		"The same code natively (SQLite, no wasm, no bridge) takes %.0f ms without latency, against %.0f ms in workerd. "+
		"wrangler's node process and its proxy's workerd spend %.0f ms of CPU during a sync that sends them two HTTP requests: local overhead that competes for this machine's %d cores and that production does not have.\n\n",
		s0.store/s0.slice*100, s0.commit/(s0.pages-1), int(s0.pages-1), s0.store-s0.commit, int(s0.pages), s0.telegram, s0.cpu, s0.cpu/s0.wall*100, s0.wall, cpuBound(s0.cpu/s0.wall), ingest.DefaultInFlight, n0, i0, s0.group-s0.cpu, runtime.NumCPU())

	fmt.Fprintf(rep, "**workerd CPU per 1,000 messages stored** (first sync, no added latency; utime+stime from `/proc/<pid>/stat`, before and after, of the workerd in the stack's process group that runs the workers, not wrangler's proxy): %.0f ms. "+
		"A status poll costs %.1f ms of workerd CPU (%.1f ms wall, %d polls measured alone); a sync here is polled once or twice.\n\n",
		s0.cpu/msgs*1000, pollCPU, pollMs, polls)

	fmt.Fprintf(rep, "**An incremental sync with nothing new** (an account synced above, again, %d times): %.0f ms from the POST (median), %.0f ms of workerd CPU, Telegram calls: %d getDialogs and %d getHistory (the listing shows no dialog with a newer top message, so no history is read).\n\n",
		*rounds, median(incrMs), median(incrCPU), incr[0].calls["messages.getDialogs"], incr[0].calls["messages.getHistory"])

	fmt.Fprintf(rep, "**Into one D1 shard.** Rows committed per second of the slices' D1 time: %.0f (no added latency: %d messages in %.0f ms of D1 calls, %d pages, %.1f ms a page); end to end, %.0f messages a second. "+
		"A stored message takes %.0f bytes of text and JSON columns on average (%.0f of it the message's text; SQL `length(CAST(column AS BLOB))` over every message of both shards, %d rows) and %.0f bytes of the shards' SQLite files (with the primary key's b-tree; the fixture's messages are short).\n\n",
		msgs/s0.store*1000, fixtureMsgs, s0.store, int(s0.pages), s0.store/s0.pages, msgs/i0*1000, payload, text, shardRows, onDisk)
}

// cpuBound says what a share of CPU time in a sync's wall time means.
func cpuBound(share float64) string {
	if share >= 0.7 {
		return ": most of the sync is work on that thread"
	}
	return ": the rest is waiting, on Telegram's answers and for a core (wrangler's own processes, below, run beside it)"
}

// storage reports what the shards hold: rows, and per row the bytes of the
// text and JSON columns (wrangler d1 execute on each shard, as an operator
// would), of message text alone, and of the shards' SQLite files.
func (b *ingestBench) storage() (rows int, payload, text, onDisk float64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	col := func(c string) string { return "coalesce(length(CAST(" + c + " AS BLOB)), 0)" }
	q := "SELECT count(*) AS n, sum(" + strings.Join([]string{col("peer"), col("sender"), col("text"), col("entities"), col("forward"), col("media"), col("action"), col("grouped_id")}, " + ") +
		") AS payload, sum(" + col("text") + ") AS text FROM messages"
	var sumPayload, sumText float64
	for _, shard := range []string{"MESSAGES_0", "MESSAGES_1"} {
		res, err := b.st.D1On(ctx, "ingestor", shard, q)
		if err != nil || len(res) != 1 {
			fatalf("%s: %v %v", shard, res, err)
		}
		n, _ := res[0]["n"].(float64)
		p, _ := res[0]["payload"].(float64)
		t, _ := res[0]["text"].(float64)
		rows += int(n)
		sumPayload += p
		sumText += t
	}
	// The shards are the D1 files with a messages table (local D1 names
	// files by a hash of the database).
	files, _ := filepath.Glob(filepath.Join(b.st.StateDir, "v3", "d1", "*", "*.sqlite"))
	var size int64
	for _, f := range files {
		db, err := sql.Open("sqlite", "file:"+f+"?mode=ro")
		if err != nil {
			continue
		}
		var n int
		err = db.QueryRow("SELECT count(*) FROM messages").Scan(&n)
		db.Close()
		if err != nil {
			continue
		}
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(f + suffix); err == nil {
				size += st.Size()
			}
		}
	}
	if rows == 0 || size == 0 {
		fatalf("the shards hold %d rows in %d bytes", rows, size)
	}
	return rows, sumPayload / float64(rows), sumText / float64(rows), float64(size) / float64(rows)
}
