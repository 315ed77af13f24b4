package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// samplePeriod is perf's sampling period, in CPU time of the sampled process.
const samplePeriod = 250 * time.Microsecond

// perfSymbol is one line of perf report: samples in a symbol of a DSO. Code
// that V8 compiled (JavaScript and WebAssembly alike) has no symbol for perf
// and is one line, DSO "[JIT]".
type perfSymbol struct {
	DSO, Symbol string
	Samples     int
}

// nativeProfile samples the whole workerd process pid with Linux perf while
// run repeats for d, and returns what perf saw and how many times run
// completed.
func nativeProfile(pid int, d time.Duration, run func() error) ([]perfSymbol, int, error) {
	out, err := os.CreateTemp("", "communicator-perf-")
	if err != nil {
		return nil, 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	rec := exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-c", strconv.FormatInt(samplePeriod.Nanoseconds(), 10),
		"-p", strconv.Itoa(pid), "-o", out.Name(), "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	var stderr bytes.Buffer
	rec.Stderr = &stderr
	if err := rec.Start(); err != nil {
		return nil, 0, fmt.Errorf("perf record: %w (-native needs Linux perf)", err)
	}
	runs, failed := repeatFor(d, run)
	if err := rec.Wait(); err != nil {
		return nil, 0, fmt.Errorf("perf record: %w: %s", err, stderr.Bytes())
	}
	if failed != nil {
		return nil, 0, failed
	}
	rep := exec.Command("perf", "report", "-i", out.Name(), "--stdio", "--no-children", "--sort", "dso,sym", "-n", "-q")
	stderr.Reset()
	rep.Stderr = &stderr
	b, err := rep.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("perf report: %w: %s", err, stderr.Bytes())
	}
	syms, err := parsePerfReport(bytes.NewReader(b))
	return syms, runs, err
}

// A line of `perf report --sort dso,sym -n -q`: share, samples, DSO, then
// the symbol after "[.]" (user space) or "[k]" (kernel). The DSO of JIT code
// is "[JIT] tid N".
var reportLine = regexp.MustCompile(`^\s*[\d.]+%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[[.k]\]\s+(.*\S)\s*$`)

// parsePerfReport reads perf report's lines, JIT code as one symbol.
func parsePerfReport(r io.Reader) ([]perfSymbol, error) {
	var out []perfSymbol
	jit := -1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := reportLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("perf report: unexpected line %q", line)
		}
		n, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "[JIT]") {
			if jit < 0 {
				jit = len(out)
				out = append(out, perfSymbol{DSO: "[JIT]", Symbol: "(code V8 compiled: Go's WebAssembly, JavaScript)"})
			}
			out[jit].Samples += n
			continue
		}
		out = append(out, perfSymbol{DSO: m[2], Symbol: m[3], Samples: n})
	}
	return out, sc.Err()
}

// partOf sorts a symbol into the part of workerd it belongs to.
func partOf(s perfSymbol) string {
	switch {
	case s.DSO == "[JIT]":
		return "JIT code: Go's WebAssembly and JavaScript"
	case s.DSO == "[kernel.kallsyms]":
		return "kernel"
	case s.DSO != "workerd":
		return "libc and other libraries"
	case strings.Contains(s.Symbol, "tcmalloc") || strings.HasPrefix(s.Symbol, "TCMalloc"):
		return "tcmalloc"
	case strings.HasPrefix(s.Symbol, "Builtins_"):
		return "V8 builtins"
	case strings.Contains(s.Symbol, "Scaveng") || strings.Contains(s.Symbol, "Sweep") || strings.HasPrefix(s.Symbol, "cppgc::") ||
		strings.Contains(s.Symbol, "Marking") || strings.Contains(s.Symbol, "GlobalHandles"):
		return "V8 garbage collection and handles"
	case strings.HasPrefix(s.Symbol, "v8::") || strings.HasPrefix(s.Symbol, "_ZN2v8"):
		return "V8 runtime (C++)"
	case strings.HasPrefix(s.Symbol, "kj::") || strings.HasPrefix(s.Symbol, "capnp::"):
		return "kj and Cap'n Proto (event loop, RPC)"
	case strings.HasPrefix(s.Symbol, "workerd::"):
		return "workerd (IoContext, RPC, jsg)"
	}
	return "other workerd code"
}

// callsPerRequest reads the route's n parameter: how many calls one request
// makes (1 if the route has none).
func callsPerRequest(route string) int {
	u, err := url.Parse(route)
	if err != nil {
		return 1
	}
	n, err := strconv.Atoi(u.Query().Get("n"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// printNative prints the process's CPU a call, by part and by symbol: the
// top symbols, and those whose name matches match.
func printNative(w io.Writer, pid int, route string, syms []perfSymbol, runs int, top int, match *regexp.Regexp) {
	calls := runs * callsPerRequest(route)
	perCall := func(samples int) float64 {
		return float64(samples) * float64(samplePeriod.Microseconds()) / float64(max(calls, 1))
	}
	total := 0
	parts := map[string]int{}
	for _, s := range syms {
		total += s.Samples
		parts[partOf(s)] += s.Samples
	}
	fmt.Fprintf(w, "workerd %d while %s runs: %d requests, %d calls; its CPU a call (perf, every %s of CPU): %.1f µs\n",
		pid, route, runs, calls, samplePeriod, perCall(total))
	names := make([]string, 0, len(parts))
	for p := range parts {
		names = append(names, p)
	}
	sort.Slice(names, func(i, j int) bool { return parts[names[i]] > parts[names[j]] })
	for _, p := range names {
		fmt.Fprintf(w, "%8.2f µs  %s\n", perCall(parts[p]), p)
	}
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].Samples > syms[j].Samples })
	fmt.Fprintln(w, "symbols, µs a call:")
	for i, s := range syms {
		if i < top || (match != nil && match.MatchString(s.Symbol)) {
			fmt.Fprintf(w, "%8.2f  %s  %.160s\n", perCall(s.Samples), s.DSO, s.Symbol)
		}
	}
}
