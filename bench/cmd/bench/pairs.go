package main

import (
	"fmt"
	"sort"
	"strings"
)

// spread is a set of measurements summarized by its median and its range.
type spread struct{ med, lo, hi, q1, q3 float64 }

func spreadOf(v []float64) spread {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	at := func(q float64) float64 { return s[int(q*float64(len(s)-1)+0.5)] }
	return spread{med: median(s), lo: s[0], hi: s[len(s)-1], q1: at(0.25), q3: at(0.75)}
}

// String prints the median with its interquartile range and its extremes.
func (s spread) String() string {
	return fmt.Sprintf("%.2f (IQR %.2f–%.2f, range %.2f–%.2f)", s.med, s.q1, s.q3, s.lo, s.hi)
}

// roundMedians runs each measurement reps times per round, interleaved (the
// order reversed on every other repetition, and each round starting where
// the last left off), and returns, per measurement, each round's median.
func roundMedians(rounds, reps int, m map[string]func() float64) map[string][]float64 {
	out := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for k, v := range compareFrom(reps, m, r*reps%2 == 1) {
			out[k] = append(out[k], median(v))
		}
	}
	return out
}

// ratios divides a's values by b's, round by round.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / b[i]
	}
	return out
}

// pairsAndTransports compares the Go pair with the JavaScript pair on a
// method answered without I/O, and the same method over RPC against HTTP.
func pairsAndTransports(rep *strings.Builder, caller, jsCaller string, perCall func(url string, n int) float64) {
	for _, u := range []string{caller + "/bench/go", caller + "/bench/goasync", caller + "/bench/js", jsCaller + "/"} {
		perCall(u, 300)
	}
	pairs := roundMedians(*pairRounds, 3, map[string]func() float64{
		"gogo": func() float64 { return perCall(caller+"/bench/go", *pairN) },
		// The same method without //rpc:sync: answered on the asynchronous path.
		"goasync": func() float64 { return perCall(caller+"/bench/goasync", *pairN) },
		"gojs":    func() float64 { return perCall(caller+"/bench/js", *pairN) },
		"jsjs":    func() float64 { return perCall(jsCaller+"/", *pairN) },
	})
	gg, ga, gj, jj := spreadOf(pairs["gogo"]), spreadOf(pairs["goasync"]), spreadOf(pairs["gojs"]), spreadOf(pairs["jsjs"])
	gar, syncR := spreadOf(ratios(pairs["goasync"], pairs["jsjs"])), spreadOf(ratios(pairs["gogo"], pairs["goasync"]))
	ggr, gjr := spreadOf(ratios(pairs["gogo"], pairs["jsjs"])), spreadOf(ratios(pairs["gojs"], pairs["jsjs"]))
	figures["Go→Go / JS→JS"], figures["Go→JS / JS→JS"] = ggr.med, gjr.med
	fmt.Fprintf(rep, "## A Go worker pair against a JavaScript pair\n\n"+
		"The caller makes %d sequential RPC calls per request of a method returning a session-shaped object (a 369-character string, an id, a number, a date), answered without I/O. "+
		"Between the two Go workers the arguments' and the result's JSON cross as bytes (`callJSON`, docs/ARCHITECTURE.md); to the JavaScript worker, as objects. "+
		"%d rounds; in each, three requests per pair, interleaved (the order reversed every other round), and the round's median; below, the median of the rounds' medians with the interquartile range and the extremes of the rounds. "+
		"The ratio is taken round by round (each round's Go figure over the same round's JavaScript figure), so that the machine's drift between rounds cancels. Target: Go→Go at most 1.5× JavaScript→JavaScript (goal 1.3×).\n\n", *pairN, *pairRounds)
	fmt.Fprintf(rep, "| pair | µs per call | vs JS→JS, round by round |\n|---|---|---|\n| JavaScript → JavaScript | %s | 1.00 |\n| Go → JavaScript (the caller's share) | %s | %s |\n| Go → Go, answered on the asynchronous path (no `//rpc:sync`) | %s | %s |\n| Go → Go | %s | %s |\n\n",
		jj, gj, gjr, ga, gar, gg, ggr)
	fmt.Fprintf(rep, "The synchronous answer (`//rpc:sync`: the callee answers inside the call, without a resume of Go) takes %s× the time of the asynchronous path, round by round.\n\n", syncR)
	fmt.Fprintf(rep, "Go→Go is %.2f× JavaScript→JavaScript (target ≤ 1.5×: %v; goal ≤ 1.3×: %v).\n\n", ggr.med, ggr.med <= 1.5, ggr.med <= 1.3)
	callJS, serveRPC := nodeBridgeBench()
	fmt.Fprintf(rep, "Over JavaScript→JavaScript, the Go caller adds %.0f µs per call (Go→JS − JS→JS) and the Go callee %.0f µs (Go→Go − Go→JS). "+
		"The bridge's own work, measured in the same run under Node with the same runtime (`go test -bench` in `workers/`, no workerd RPC underneath), is %.0f µs for a Go→JS call and %.0f µs for a Go→JS→Go round trip.\n\n",
		gj.med-jj.med, gg.med-gj.med, callJS, serveRPC)

	// The same method over HTTP.
	n := *pairN / 10
	for _, t := range []string{"go", "fetch", "http"} {
		perCall(caller+"/bench/"+t, 20)
	}
	tr := roundMedians(*rounds, 3, map[string]func() float64{
		"rpc":   func() float64 { return perCall(caller+"/bench/go", n) },
		"fetch": func() float64 { return perCall(caller+"/bench/fetch", n) },
		"http":  func() float64 { return perCall(caller+"/bench/http", n) },
	})
	rpc, fetch, httpT := spreadOf(tr["rpc"]), spreadOf(tr["fetch"]), spreadOf(tr["http"])
	httpR, fetchR := spreadOf(ratios(tr["http"], tr["rpc"])), spreadOf(ratios(tr["fetch"], tr["rpc"]))
	figures["HTTP over the network / RPC, no I/O"] = httpR.med
	fmt.Fprintf(rep, "## The same method over RPC and over HTTP\n\n"+
		"The Go caller calls the Go callee's session-shaped method %d times per request without any I/O behind it: (a) over RPC on the service binding; (b) as an HTTP route of the callee (`GET /bench/session`, the same answer in the same generated JSON codec) through the binding's fetch; (c) the same route over the loopback network, out through workerd's fetch and in through the local router, as a worker calls another worker's HTTP API. "+
		"%d rounds of three interleaved requests each, the median of the rounds' medians, ratios round by round. Target: RPC at least 10× faster than HTTP over the network.\n\n", n, *rounds)
	fmt.Fprintf(rep, "| transport | µs per call | vs RPC, round by round |\n|---|---|---|\n| (a) RPC over the binding | %s | 1.00 |\n| (b) HTTP through the binding's fetch | %s | %s |\n| (c) HTTP over the loopback network | %s | %s |\n\n", rpc, fetch, fetchR, httpT, httpR)
	fmt.Fprintf(rep, "RPC is %.1f× faster than HTTP over the network (target ≥ 10×: %v) and %.1f× faster than HTTP through the binding.\n\n", httpR.med, httpR.med >= 10, fetchR.med)
}
