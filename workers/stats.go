package workers

import (
	"context"
	"runtime"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/jsoncodec"
)

// Stats are the bridge's counters, for leak tests and operators.
type Stats struct {
	Goroutines   int    // Go goroutines alive
	HeapAlloc    uint64 // bytes of allocated Go heap objects
	HeapInuse    uint64 // bytes of the Go heap's spans in use (runtime.MemStats.HeapInuse)
	Sys          uint64 // bytes Go obtained from its memory (runtime.MemStats.Sys)
	PendingCalls int    // operations waiting for JavaScript
	// JS is the JSON of the JavaScript side's counters: instances (Go
	// instances started in this isolate), liveRequests, inflightOps (operations
	// live requests started for Go and not completed), goTimers, waitsReported,
	// openSockets, loopWakes and loopPolls (a loop woken by its own context,
	// and on its poll timer), suspendedCalls and suspendsReleased (RPC calls
	// whose answer Go waited for inside the import that made them, with JSPI;
	// of those, the waits released to the asynchronous path because something
	// else needed Go), syncAnswers and syncFallbacks (//rpc:sync calls
	// answered inside the call, and not), jsonCalls and jsonServed (RPC calls
	// made to another Go worker, and answered to one, with their JSON as
	// bytes: callJSON), jsValues (JavaScript values Go holds references
	// to), wasmMemory (bytes of the instance's linear memory) and jsHeap (bytes
	// of JavaScript heap in use, or null where the runtime does not say).
	JS []byte
}

// Memory is what one isolate's Go instance holds, in bytes, for operators.
type Memory struct {
	// WasmMemory is the instance's linear memory (memory.buffer.byteLength):
	// everything Go has, its heap, stacks and runtime. It only grows.
	WasmMemory uint64 `json:"wasmMemoryBytes"`
	// GoHeapInuse and GoSys are runtime.MemStats' HeapInuse and Sys, read
	// without a collection first (so HeapInuse includes garbage).
	GoHeapInuse uint64 `json:"goHeapInuseBytes"`
	GoSys       uint64 `json:"goSysBytes"`
	// JSHeap is the JavaScript heap in use where the runtime exposes it, nil
	// (JSON null) where it does not: workerd gives a worker no figure, so
	// the isolate's JavaScript heap is measured from outside (workerd's
	// resident memory; docs/operations.md).
	JSHeap *uint64 `json:"jsHeapBytes"`
}

// Memory returns the memory figures of s. Those of the JavaScript side are
// zero (nil) when s.JS does not carry them.
func (s Stats) Memory() Memory {
	m := Memory{GoHeapInuse: s.HeapInuse, GoSys: s.Sys}
	if len(s.JS) == 0 {
		return m
	}
	d := jsoncodec.NewDecoder(s.JS)
	d.Object(func(key []byte) error {
		switch string(key) {
		case "wasmMemory":
			f, err := d.Float64()
			if err == nil && f > 0 {
				m.WasmMemory = uint64(f)
			}
			return err
		case "jsHeap":
			if d.IsNull() {
				return d.Null()
			}
			f, err := d.Float64()
			if err == nil && f > 0 {
				v := uint64(f)
				m.JSHeap = &v
			}
			return err
		}
		return d.Skip()
	})
	return m
}

// ReadStats reads both halves' counters in ctx's request. It does not run the
// garbage collector; call runtime.GC first for a settled heap.
func ReadStats(ctx context.Context) (Stats, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s := Stats{Goroutines: runtime.NumGoroutine(), HeapAlloc: m.HeapAlloc, HeapInuse: m.HeapInuse, Sys: m.Sys, PendingCalls: bridge.PendingCalls()}
	rep, err := bridge.Do(ctx, bridge.OpStats, nil)
	if err != nil {
		return s, err
	}
	s.JS = rep.Payload
	return s, nil
}

// ReadMemory reads the isolate's memory figures in ctx's request. Outside a
// worker (natively) it returns Go's figures and the error that says so.
func ReadMemory(ctx context.Context) (Memory, error) {
	s, err := ReadStats(ctx)
	return s.Memory(), err
}
