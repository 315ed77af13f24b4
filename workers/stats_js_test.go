//go:build js && wasm

package workers

import (
	"runtime"
	"testing"
)

// The JavaScript side reports the instance's linear memory, which holds
// everything Go has; under Node it also reports the JavaScript heap
// (process.memoryUsage), which workerd does not expose.
func TestReadIsolateMemory(t *testing.T) {
	i, err := ReadIsolate(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	before := i.Memory
	if before.WasmMemory == 0 || before.WasmMemory%65536 != 0 || before.WasmMemory < before.GoSys/2 {
		t.Errorf("wasm memory %d bytes (Go's Sys %d)", before.WasmMemory, before.GoSys)
	}
	if before.GoHeapInuse == 0 || before.GoSys < before.GoHeapInuse {
		t.Errorf("Go heap %+v", before)
	}
	if before.JSHeap == nil || *before.JSHeap == 0 {
		t.Errorf("no JavaScript heap under Node: %+v", before)
	}
	// Linear memory holds Go's heap: 64 MiB more in use is in it (it may
	// not grow by as much, if earlier tests left it larger than the heap).
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 1<<20))
	}
	i, err = ReadIsolate(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	after := i.Memory
	runtime.KeepAlive(keep)
	if after.GoHeapInuse < before.GoHeapInuse+60<<20 || after.WasmMemory < after.GoHeapInuse || after.WasmMemory < before.WasmMemory {
		t.Errorf("after 64 MiB more: before %+v, after %+v", before, after)
	}
}

// The bridge's counters as the runtime reports them under Node, which has no
// JSPI: every call waits on the asynchronous path, none inside the call.
func TestReadIsolateBridge(t *testing.T) {
	i, err := ReadIsolate(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	b := i.Bridge
	if b.JSPI || b.SuspendedCalls != 0 || b.GoInstances != 1 || b.LiveRequests == 0 || b.Goroutines == 0 || b.WaitsReported != 0 {
		t.Errorf("bridge %+v", b)
	}
}
