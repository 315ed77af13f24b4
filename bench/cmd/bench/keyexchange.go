package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devstack"
)

// Creating an auth key in wasm: the target of the login issue, and the aim.
const (
	keyExchangeTargetMS = 300
	keyExchangeAimMS    = 150
)

// keyExchange reports the client's CPU for one MTProto key exchange, ours
// (mtproto/authkey) and stock gotd's, natively and as wasm under Node:
// package authkey's benchmarks, which replay a recorded exchange (no server
// runs, and each iteration checks the key), and the parts of ours that
// cost the most, timed on their own in the same iterations as a whole
// exchange; then what one exchange costs auth-telegram in workerd
// (keyExchangeInWorkerd).
func keyExchange(rep *strings.Builder) {
	const pkg = "./mtproto/authkey/"
	oursNative := goBench(pkg, false, "^BenchmarkKeyExchange$/^ours$", "100x")
	oursWasm := goBench(pkg, true, "^BenchmarkKeyExchange$/^ours$", "20x")
	partsNative := goBench(pkg, false, "^BenchmarkKeyExchangeParts$", "50x")
	partsWasm := goBench(pkg, true, "^BenchmarkKeyExchangeParts$", "10x")
	gotdNative := goBench(pkg, false, "^BenchmarkKeyExchange$/^gotd$", "2x")
	gotdWasm := goBench(pkg, true, "^BenchmarkKeyExchange$/^gotd$", "1x") // seconds each

	// ms answers a benchmark's figure in milliseconds.
	ms := func(r map[string]float64, key string) float64 {
		v, ok := r[key]
		if !ok || v <= 0 {
			fatalf("key exchange benchmarks: no %q in %v", key, r)
		}
		return v / 1e6
	}
	const took, whole = " exchange-ns/op", "KeyExchangeParts whole-ns/op"
	on, ow := ms(oursNative, "KeyExchange/ours"+took), ms(oursWasm, "KeyExchange/ours"+took)
	gn, gw := ms(gotdNative, "KeyExchange/gotd"+took), ms(gotdWasm, "KeyExchange/gotd"+took)

	fmt.Fprintf(rep, "## Creating an auth key (login)\n\n"+
		"The client's CPU for one MTProto 2.0 key exchange (a login's first step): ours (`mtproto/authkey`) against stock gotd v0.93.0's, natively and compiled to wasm under Node, in this run. "+
		"`go test -bench` in `mtproto/authkey/` replays exchanges recorded against the package's scripted server (`testdata/transcript-*.json`: Telegram's dh_prime, g = 3, the protocol text's pq): the client's random source is seeded and its clock fixed, so it sends the recorded requests and gets the recorded answers, no server work is timed, and every iteration checks that the client made the server's key. "+
		"gotd's exchange package is internal to gotd, so gotd runs as its `telegram.Client` does it with an empty session (seeded `Random`, fixed `Clock`), timed from its first request to its first encrypted message; building and stopping the client is left out (%.1f ms natively, %.1f ms in wasm). Time from the first request to the key, median of 3. "+
		"Target: at most %d ms of CPU in wasm (aim: %d ms).\n\n",
		ms(gotdNative, "KeyExchange/gotd")-gn, ms(gotdWasm, "KeyExchange/gotd")-gw, keyExchangeTargetMS, keyExchangeAimMS)
	fmt.Fprintf(rep, "| client | native | wasm (Node) | wasm vs ours |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(rep, "| ours (`authkey.Exchange`) | %.1f ms | %.0f ms | 1.00× |\n", on, ow)
	fmt.Fprintf(rep, "| stock gotd v0.93.0 | %.0f ms | %.0f ms | %.0f× |\n\n", gn, gw, gw/ow)
	fmt.Fprintf(rep, "Ours in wasm: %.0f ms, target ≤ %d ms met: %v; aim ≤ %d ms met: %v. Stock gotd in wasm: %.1f s, %.0f× ours (natively %.0f×); a CPU profile of its native run (taken during development, not in this run) puts about half of it in factoring pq and half in the primality tests of dh_prime, both on math/big.\n\n",
		ow, keyExchangeTargetMS, ow <= keyExchangeTargetMS, keyExchangeAimMS, ow <= keyExchangeAimMS, gw/1000, gw/ow, gn/on)

	fmt.Fprintf(rep, "Where our exchange's time goes (`BenchmarkKeyExchangeParts`): each iteration replays a whole exchange, then times each part on its own with the exchange's sizes; a share is the part's time over the whole's, from the same iterations (median of 3). The whole: %.1f ms natively, %.0f ms in wasm.\n\n",
		ms(partsNative, whole), ms(partsWasm, whole))
	fmt.Fprintf(rep, "| part | native | share | wasm (Node) | share |\n|---|---:|---:|---:|---:|\n")
	parts := []struct{ key, name string }{
		{"modexp_g_b", "g^b mod dh_prime (2048-bit, g = 3)"},
		{"modexp_ga_b", "g_a^b mod dh_prime (2048-bit)"},
		{"rsa_pad", "RSA_PAD (2048-bit RSA, e = 65537, with its AES-IGE and hashes)"},
		{"split_pq", "factoring pq (Pollard–Brent on uint64)"},
	}
	wn, ww := ms(partsNative, whole), ms(partsWasm, whole)
	var sumN, sumW, expN, expW float64
	for _, p := range parts {
		n, w := ms(partsNative, "KeyExchangeParts "+p.key+"-ns/op"), ms(partsWasm, "KeyExchangeParts "+p.key+"-ns/op")
		fmt.Fprintf(rep, "| %s | %.2f ms | %.0f%% | %.2f ms | %.0f%% |\n", p.name, n, 100*n/wn, w, 100*w/ww)
		sumN, sumW = sumN+n, sumW+w
		if strings.HasPrefix(p.key, "modexp") {
			expN, expW = expN+n, expW+w
		}
	}
	fmt.Fprintf(rep, "| the two modular exponentiations | %.2f ms | %.0f%% | %.2f ms | %.0f%% |\n", expN, 100*expN/wn, expW, 100*expW/ww)
	fmt.Fprintf(rep, "| the rest (hashes, AES-IGE, TL, checks, the replaying transport) | %.2f ms | %.0f%% | %.2f ms | %.0f%% |\n\n", wn-sumN, 100*(wn-sumN)/wn, ww-sumW, 100*(ww-sumW)/ww)
	keyExchangeInWorkerd(rep, ow)
}

// loginService is the service that starts logins in the benchmark, with the
// login permission of auth-telegram's ACCESS_POLICY.
const loginService = "bench-login"

// loginUserBase is the first communicator user that logs in: the user of the
// i-th phone is loginUserBase + i.
const loginUserBase = 600

// loginPhones are fixture accounts of the local Telegram's main data center
// (15550101005 and 15550101006 live on another, where a start makes a second
// key after PHONE_MIGRATE), one login each.
var loginPhones = func() []string {
	var p []string
	for n := 1003; n <= 1024; n++ {
		if n != 1005 && n != 1006 {
			p = append(p, fmt.Sprintf("1555010%d", n))
		}
	}
	return p
}()

// loginBench is auth-telegram in workerd with the local Telegram, and the
// client of a service that logs users in over its HTTP API.
type loginBench struct {
	fake     *faketelegram.Server
	opts     devstack.Options // with a StateDir of its own, kept across restarts
	key      string           // loginService's API key
	st       *devstack.Stack
	login    *authhttp.Client
	hostPort string
	tick     float64
	logins   map[string]string // phone -> its login's id, from the last start
}

// loginPass is what n requests cost, per request, in milliseconds but for
// the counts.
type loginPass struct {
	wall float64 // from the client
	// thread is the CPU of the main thread of the workerd that runs the
	// worker (the isolate's JavaScript and wasm, and the local D1); workerd
	// that of all its threads (with V8's, which compile wasm in the
	// background and collect garbage); self that of the bench's process (the
	// local Telegram and the HTTP client).
	thread, workerd, self float64
	exchanges, conns      float64 // key exchanges and connections the local Telegram saw
}

func startLoginBench() *loginBench {
	fake, err := faketelegram.Start(context.Background(), faketelegram.Options{})
	if err != nil {
		fatal(err)
	}
	key := "bench-login-" + devstack.RandomHex(16)
	vars := secretsFor("auth-telegram")
	maps.Copy(vars, fake.EndpointVars())
	vars["TELEGRAM_API_ID"], vars["TELEGRAM_API_HASH"] = telegramAPIID, telegramAPIHash
	vars["SERVICE_API_KEYS"] = fmt.Sprintf(`{"ingestor-service":%q,%q:%q}`, httpapi.HashAPIKey(apiKey), loginService, httpapi.HashAPIKey(key))
	vars["ACCESS_POLICY"] = fmt.Sprintf(`{"login":[%q]}`, loginService)
	state, err := os.MkdirTemp("", "communicator-bench-login-")
	if err != nil {
		fatal(err)
	}
	b := &loginBench{fake: fake, key: key, tick: clockTick(), logins: map[string]string{}, opts: devstack.Options{
		Workers:   []devstack.Worker{{Name: "auth-telegram", Dir: filepath.Join(root, "services", "auth-telegram"), Migrate: true, Vars: vars}},
		Processes: []devstack.Process{{Workers: []string{"auth-telegram"}}},
		StateDir:  state,
	}}
	b.restart()
	return b
}

// restart starts a new stack on the same local D1 (a new workerd: its
// isolate is new, the logins are kept); the stack's health check starts the
// isolate and its Go program.
func (b *loginBench) restart() {
	if b.st != nil {
		b.st.Stop()
	}
	b.st = startStack(b.opts)
	url := b.st.URL["auth-telegram"]
	c, err := authhttp.NewClient(authhttp.ClientConfig{Endpoint: url + "/api/telegram-auth", APIKey: b.key, ServiceID: loginService, Timeout: time.Minute, Transport: http.DefaultTransport})
	if err != nil {
		fatal(err)
	}
	b.login, b.hostPort = c, strings.TrimPrefix(url, "http://")
}

func (b *loginBench) stop() {
	b.st.Stop()
	b.fake.Close()
	os.RemoveAll(b.opts.StateDir)
}

// measure runs f and returns its cost per request over n requests.
func (b *loginBench) measure(n int, f func()) loginPass {
	cpu, self, ex, conns := stackCPU(b.st, b.hostPort, b.tick), selfCPU(), b.fake.KeyExchanges(), b.fake.Connections()
	start := time.Now()
	f()
	wall := ms(time.Since(start))
	used := stackCPU(b.st, b.hostPort, b.tick).sub(cpu)
	per := func(v float64) float64 { return v / float64(n) }
	return loginPass{
		wall:      per(wall),
		thread:    per(used.mainThread * 1000),
		workerd:   per(used.workerd * 1000),
		self:      per(selfCPU() - self),
		exchanges: per(float64(b.fake.KeyExchanges() - ex)),
		conns:     per(float64(b.fake.Connections() - conns)),
	}
}

// start starts a login for each phone of phones (each replacing that user's
// and phone's last one).
func (b *loginBench) start(phones []string) loginPass {
	return b.measure(len(phones), func() {
		for _, phone := range phones {
			user := loginUserBase + int64(slices.Index(loginPhones, phone))
			st, err := b.login.StartLogin(context.Background(), user, phone)
			if err != nil {
				fatalf("POST /login/start (user %d): %v\n%s", user, err, b.st.Logs().Tail(20))
			}
			b.logins[phone] = st.LoginID
		}
	})
}

// resend sends the code again on the last login of each phone.
func (b *loginBench) resend(phones []string) loginPass {
	return b.measure(len(phones), func() {
		for _, phone := range phones {
			if _, err := b.login.ResendCode(context.Background(), b.logins[phone]); err != nil {
				fatalf("POST /login/resend: %v\n%s", err, b.st.Logs().Tail(20))
			}
		}
	})
}

// selfCPU is the CPU time of the bench's own process in milliseconds: the
// local Telegram's and the HTTP client's.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// keyExchangeInWorkerd measures what one key exchange costs auth-telegram in
// workerd: POST /login/start (a new key by our exchange on its own
// connection, then auth.sendCode on another) against POST /login/resend on
// the logins just started (auth.resendCode with the login's key, on one
// connection), in alternating rounds, on a warm isolate and as the first
// request of a new one; nodeMS is the exchange replayed in wasm under Node
// in the same run.
func keyExchangeInWorkerd(rep *strings.Builder, nodeMS float64) {
	b := startLoginBench()
	defer b.stop()
	// A warm-up that leaves a login on every phone for the first resends.
	b.start(loginPhones)
	b.resend(loginPhones)
	warm := b.rounds(func(f func([]string) loginPass) loginPass { return f(loginPhones) })
	if warm.med("start", func(p loginPass) float64 { return p.thread }) <= 0 {
		fatal("no CPU time of workerd's main thread: /proc/<pid>/task/<pid>/stat unread")
	}

	// The first request of a new isolate (a new workerd on the same D1):
	// each start and each resend on an isolate of its own.
	phone := loginPhones[0]
	cold := b.rounds(func(f func([]string) loginPass) loginPass {
		b.restart()
		return f([]string{phone})
	})

	wall := func(p loginPass) float64 { return p.wall }
	thread := func(p loginPass) float64 { return p.thread }
	workerd := func(p loginPass) float64 { return p.workerd }
	self := func(p loginPass) float64 { return p.self }
	conns := func(p loginPass) float64 { return p.conns }
	kx, coldKX := warm.diff(thread), cold.diff(thread)

	n := len(loginPhones)
	fmt.Fprintf(rep, "Inside workerd: auth-telegram under `wrangler dev` (local D1) with the local Telegram (faketelegram in the bench's process, on loopback), called over its HTTP API by a service with the login permission. "+
		"Each round, %d `POST /login/start`, one for each of %d fixture phones on the main data center (a new auth key by our exchange on its own connection, then `auth.sendCode` on a second, then the login sealed and stored), against %d `POST /login/resend` on the logins just started (the login read, held, unsealed; `auth.resendCode` with its key on one connection; the login saved): the same call without the exchange. "+
		"Per request, median of %d alternating rounds after a warm-up of one pass each; the exchange is the median of each round's start minus its resend. "+
		"CPU: utime+stime from `/proc`, before and after each round's %d requests, of the workerd that runs the worker (not wrangler's proxy): its main thread, which runs the isolate (the worker's JavaScript and wasm) and the local D1, and all its threads, with V8's background threads (wasm compilation, garbage collection); and of the bench's own process, which holds the local Telegram (the server's half of the exchange) and the HTTP client. "+
		"The resend makes two more D1 calls than the start (it reads and holds the login before it saves it), so the difference understates the exchange by about their cost.\n\n",
		n, n, n, *rounds, n)
	fmt.Fprintf(rep, "| request | wall | workerd CPU, main thread | workerd CPU, all threads | the bench's process CPU (the local Telegram) | connections to Telegram |\n|---|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(rep, "| `POST /login/start` | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.0f |\n", warm.med("start", wall), warm.med("start", thread), warm.med("start", workerd), warm.med("start", self), warm.med("start", conns))
	fmt.Fprintf(rep, "| `POST /login/resend` (baseline) | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.0f |\n", warm.med("resend", wall), warm.med("resend", thread), warm.med("resend", workerd), warm.med("resend", self), warm.med("resend", conns))
	fmt.Fprintf(rep, "| **the key exchange inside workerd** (start − resend) | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.0f |\n\n", warm.diff(wall), kx, warm.diff(workerd), warm.diff(self), warm.diff(conns))
	fmt.Fprintf(rep, "A start takes %.1f× a resend's wall time and %.1f× its CPU on workerd's main thread. The key exchange costs %.0f ms of CPU on workerd's main thread (target ≤ %d ms met: %v; aim ≤ %d ms met: %v), against %.0f ms for the exchange replayed in wasm under Node above (%.2f×; inside workerd the difference also holds the exchange's own connection: `connect()` and its socket I/O through the bridge).\n\n",
		warm.med("start", wall)/warm.med("resend", wall), warm.med("start", thread)/warm.med("resend", thread), kx, keyExchangeTargetMS, kx <= keyExchangeTargetMS, keyExchangeAimMS, kx <= keyExchangeAimMS, nodeMS, kx/nodeMS)

	fmt.Fprintf(rep, "The first login request of a new isolate: a new workerd on the same local D1, whose health check has started the isolate and its Go program, then one `POST /login/start`, or one `POST /login/resend` on a login started before; each on an isolate of its own, %d of each, alternating, medians. /proc counts CPU in ticks of %.0f ms, coarse for one request.\n\n", *rounds, b.tick*1000)
	fmt.Fprintf(rep, "| first request of an isolate | wall | workerd CPU, main thread | workerd CPU, all threads |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(rep, "| `POST /login/start` | %.0f ms | %.0f ms | %.0f ms |\n", cold.med("start", wall), cold.med("start", thread), cold.med("start", workerd))
	fmt.Fprintf(rep, "| `POST /login/resend` (baseline) | %.0f ms | %.0f ms | %.0f ms |\n", cold.med("resend", wall), cold.med("resend", thread), cold.med("resend", workerd))
	fmt.Fprintf(rep, "| the key exchange on a new isolate (start − resend) | %.0f ms | %.0f ms | %.0f ms |\n\n", cold.diff(wall), coldKX, cold.diff(workerd))
	fmt.Fprintf(rep, "On a new isolate the exchange costs %.0f ms of CPU on workerd's main thread (target ≤ %d ms met: %v). A first request of either kind also pays for compiling the wasm it runs, partly on V8's background threads.\n\n",
		coldKX, keyExchangeTargetMS, coldKX <= keyExchangeTargetMS)
}

// loginRounds are the passes of alternating rounds of starts and resends.
type loginRounds map[string][]loginPass

// rounds runs *rounds alternating rounds of run(b.start) and run(b.resend),
// and checks that each start made one key exchange and each resend none.
func (b *loginBench) rounds(run func(f func([]string) loginPass) loginPass) loginRounds {
	r := loginRounds{}
	pass := func(key string, f func([]string) loginPass) func() float64 {
		return func() float64 {
			p := run(f)
			r[key] = append(r[key], p)
			return p.wall
		}
	}
	compare(*rounds, map[string]func() float64{"start": pass("start", b.start), "resend": pass("resend", b.resend)})
	for i := range r["start"] {
		if r["start"][i].exchanges != 1 || r["resend"][i].exchanges != 0 {
			fatalf("key exchanges per request: %.2f per start and %.2f per resend, want 1 and 0", r["start"][i].exchanges, r["resend"][i].exchanges)
		}
	}
	return r
}

// med is the median over the rounds of a figure of key's passes.
func (r loginRounds) med(key string, f func(loginPass) float64) float64 {
	v := make([]float64, len(r[key]))
	for i, p := range r[key] {
		v[i] = f(p)
	}
	return median(v)
}

// diff is the median over the rounds of a figure of the round's start
// minus that of its resend.
func (r loginRounds) diff(f func(loginPass) float64) float64 {
	v := make([]float64, len(r["start"]))
	for i := range v {
		v[i] = f(r["start"][i]) - f(r["resend"][i])
	}
	return median(v)
}
