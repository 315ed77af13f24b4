package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPairNamed(t *testing.T) {
	for name, pair := range map[string][2]string{"go": {"bridge-caller", "bridge-callee"}, "js": {"bench-jscaller", "bridge-jscallee"}, "auth": {"bench-jscaller", "auth-telegram"}} {
		p, err := pairNamed(name)
		if err != nil || p.caller != pair[0] || p.callee != pair[1] || p.path == "" || p.goDir == "" {
			t.Errorf("pairNamed(%q) = %+v, %v", name, p, err)
		}
	}
	if _, err := pairNamed("rust"); err == nil || !strings.Contains(err.Error(), `-pair "rust"`) {
		t.Errorf("pairNamed(rust): %v", err)
	}
}

// Lines as perf 6 prints them for workerd (cut short).
const perfReport = `     1.80%           594  workerd            [.] tcmalloc::tcmalloc_internal::alloc_small_sampled_hooks_or_perthread<tcmalloc::Policy>
     1.17%           387  workerd            [.] v8::internal::ExternalEntityTable<v8::internal::CppHeapPointerTableEntry, 536870912ul>::TryAllocateEntry
     0.86%           284  libc.so.6          [.] __memmove_avx512_unaligned_erms
     0.07%            23  [JIT] tid 6695     [.] 0x000034965c8b8052
     0.27%            89  [kernel.kallsyms]  [k] exc_page_fault
     0.07%            22  [JIT] tid 6695     [.] 0x000034965c0ba4b6
     0.46%           150  workerd            [.] workerd::api::JsRpcTargetBase::callImpl(workerd::Worker::Lock&)
     0.20%            66  workerd            [.] Builtins_WasmLiftoffFrameSetup

`

func TestParsePerfReport(t *testing.T) {
	syms, err := parsePerfReport(strings.NewReader(perfReport))
	if err != nil {
		t.Fatal(err)
	}
	want := []perfSymbol{
		{"workerd", "tcmalloc::tcmalloc_internal::alloc_small_sampled_hooks_or_perthread<tcmalloc::Policy>", 594},
		{"workerd", "v8::internal::ExternalEntityTable<v8::internal::CppHeapPointerTableEntry, 536870912ul>::TryAllocateEntry", 387},
		{"libc.so.6", "__memmove_avx512_unaligned_erms", 284},
		{"[JIT]", "(code V8 compiled: Go's WebAssembly, JavaScript)", 45},
		{"[kernel.kallsyms]", "exc_page_fault", 89},
		{"workerd", "workerd::api::JsRpcTargetBase::callImpl(workerd::Worker::Lock&)", 150},
		{"workerd", "Builtins_WasmLiftoffFrameSetup", 66},
	}
	if len(syms) != len(want) {
		t.Fatalf("got %d symbols, want %d: %+v", len(syms), len(want), syms)
	}
	for i := range want {
		if syms[i] != want[i] {
			t.Errorf("symbol %d = %+v, want %+v", i, syms[i], want[i])
		}
	}
	parts := []string{"tcmalloc", "V8 runtime (C++)", "libc and other libraries", "JIT code: Go's WebAssembly and JavaScript", "kernel", "workerd (IoContext, RPC, jsg)", "V8 builtins"}
	for i, s := range syms {
		if got := partOf(s); got != parts[i] {
			t.Errorf("partOf(%s) = %q, want %q", s.Symbol, got, parts[i])
		}
	}
}

func TestParsePerfReportRefusesWhatItCannotRead(t *testing.T) {
	_, err := parsePerfReport(strings.NewReader("Error:\nUnknown --sort key: `tid'\n"))
	if err == nil || !strings.Contains(err.Error(), "Error:") {
		t.Errorf("got %v, want the unexpected line named", err)
	}
}

func TestPrintNative(t *testing.T) {
	syms, err := parsePerfReport(strings.NewReader(perfReport))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	// 2 requests of 10 calls; 1,615 samples of 250 µs: 20,187.5 µs a call.
	printNative(&b, 42, "/bench/go?n=10", syms, 2, 1, regexp.MustCompile(`^workerd::`))
	out := b.String()
	for _, want := range []string{
		"workerd 42 while /bench/go?n=10 runs: 2 requests, 20 calls; its CPU a call (perf, every 250µs of CPU): 20187.5 µs\n",
		"7425.00 µs  tcmalloc\n",
		"7425.00  workerd  tcmalloc::",                              // the top symbol
		"1875.00  workerd  workerd::api::JsRpcTargetBase::callImpl", // matched
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "__memmove") {
		t.Errorf("printed a symbol neither in the top 1 nor matched:\n%s", out)
	}
}

func TestCallsPerRequest(t *testing.T) {
	for route, want := range map[string]int{"/bench/go?n=3000": 3000, "/?touch=512&n=7": 7, "/cpu": 1, "/x?n=-1": 1, "/x?n=abc": 1} {
		if got := callsPerRequest(route); got != want {
			t.Errorf("callsPerRequest(%q) = %d, want %d", route, got, want)
		}
	}
}

func TestRepeatFor(t *testing.T) {
	calls := 0
	n, err := repeatFor(time.Minute, func() error {
		if calls++; calls == 3 {
			return errors.New("third call failed")
		}
		return nil
	})
	if n != 2 || err == nil || err.Error() != "third call failed" {
		t.Errorf("repeatFor = %d, %v; want 2 completed and the third call's error", n, err)
	}
	if n, err := repeatFor(0, func() error { t.Error("ran with no time"); return nil }); n != 0 || err != nil {
		t.Errorf("repeatFor(0) = %d, %v", n, err)
	}
}

func TestMatchFlag(t *testing.T) {
	if re, err := matchFlag("", false); re != nil || err != nil {
		t.Errorf("empty: %v, %v", re, err)
	}
	if re, err := matchFlag(`callImpl|Scavenger`, true); err != nil || !re.MatchString("v8::internal::Scavenger::ScavengePage") {
		t.Errorf("a good expression: %v, %v", re, err)
	}
	if _, err := matchFlag(`callImpl(`, true); err == nil || !strings.Contains(err.Error(), "-match: error parsing regexp: missing closing )") {
		t.Errorf("a bad expression: %v", err)
	}
	if _, err := matchFlag(`callImpl`, false); err == nil || !strings.Contains(err.Error(), `-match "callImpl": only -native`) {
		t.Errorf("without -native: %v", err)
	}
}
