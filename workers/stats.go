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
	// JS is the JSON of the JavaScript side's counters: jspi (whether Go may
	// wait for an RPC answer inside the call), instances (Go
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

// Bridge is what the bridge has done in one isolate since it started, for
// operators: whether a Go caller can wait for an RPC answer inside the call,
// and how often it did; the stall detector's count; what is in flight now.
// Counters a runtime does not report are zero.
type Bridge struct {
	// JSPI is whether the runtime has JavaScript Promise Integration, so a Go
	// caller may wait for an RPC answer inside the call (docs/bridge.md,
	// "Waiting inside the call"); without it every call takes the slower
	// asynchronous path.
	JSPI bool `json:"jspi"`
	// SuspendedCalls are RPC calls Go waited for inside the call; of those,
	// SuspendsReleased went on waiting on the asynchronous path because
	// something else needed Go.
	SuspendedCalls   uint64 `json:"suspendedCalls"`
	SuspendsReleased uint64 `json:"suspendsReleased"`
	// SyncAnswers and SyncFallbacks are //rpc:sync calls answered inside the
	// call, and not (the method asked for I/O and ran again as any other).
	SyncAnswers   uint64 `json:"syncAnswers"`
	SyncFallbacks uint64 `json:"syncFallbacks"`
	// JSONCalls and JSONServed are RPC calls made to another Go worker, and
	// answered to one, with their JSON passed as bytes (callJSON).
	JSONCalls  uint64 `json:"jsonCalls"`
	JSONServed uint64 `json:"jsonServed"`
	// WaitsReported counts requests found waiting on Go with nothing in
	// flight and no Go timer pending: a bug in the bridge, each one logged.
	WaitsReported uint64 `json:"waitsReported"`
	// GoInstances are the Go instances this isolate started: more than one
	// means the program died and was started again.
	GoInstances uint64 `json:"goInstances"`
	// Now: requests alive in the isolate, their operations in flight, Go's
	// calls waiting for JavaScript, Go's timers, goroutines, open sockets.
	LiveRequests uint64 `json:"liveRequests"`
	InflightOps  uint64 `json:"inflightOps"`
	PendingCalls int    `json:"pendingCalls"`
	GoTimers     uint64 `json:"goTimers"`
	Goroutines   int    `json:"goroutines"`
	OpenSockets  uint64 `json:"openSockets"`
}

// Isolate is what a service reports of the isolate that answers: its memory
// and its bridge's counters.
type Isolate struct {
	Memory Memory `json:"memory"`
	Bridge Bridge `json:"bridge"`
}

// Isolate returns the figures of s. Those of the JavaScript side are zero
// (nil) when s.JS does not carry them.
func (s Stats) Isolate() Isolate {
	i := Isolate{
		Memory: Memory{GoHeapInuse: s.HeapInuse, GoSys: s.Sys},
		Bridge: Bridge{Goroutines: s.Goroutines, PendingCalls: s.PendingCalls},
	}
	if len(s.JS) == 0 {
		return i
	}
	b := &i.Bridge
	counters := map[string]*uint64{
		"suspendedCalls": &b.SuspendedCalls, "suspendsReleased": &b.SuspendsReleased,
		"syncAnswers": &b.SyncAnswers, "syncFallbacks": &b.SyncFallbacks,
		"jsonCalls": &b.JSONCalls, "jsonServed": &b.JSONServed,
		"waitsReported": &b.WaitsReported, "instances": &b.GoInstances,
		"liveRequests": &b.LiveRequests, "inflightOps": &b.InflightOps,
		"goTimers": &b.GoTimers, "openSockets": &b.OpenSockets,
		"wasmMemory": &i.Memory.WasmMemory,
	}
	d := jsoncodec.NewDecoder(s.JS)
	d.Object(func(key []byte) error {
		if c, ok := counters[string(key)]; ok {
			f, err := d.Float64()
			if err == nil && f > 0 {
				*c = uint64(f)
			}
			return err
		}
		switch string(key) {
		case "jspi":
			v, err := d.Bool()
			b.JSPI = v
			return err
		case "jsHeap":
			if d.IsNull() {
				return d.Null()
			}
			f, err := d.Float64()
			if err == nil && f > 0 {
				v := uint64(f)
				i.Memory.JSHeap = &v
			}
			return err
		}
		return d.Skip()
	})
	return i
}

// Memory returns the memory figures of s (Isolate's).
func (s Stats) Memory() Memory { return s.Isolate().Memory }

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

// ReadIsolate reads the isolate's figures in ctx's request. Outside a worker
// (natively) it returns Go's figures and the error that says so.
func ReadIsolate(ctx context.Context) (Isolate, error) {
	s, err := ReadStats(ctx)
	return s.Isolate(), err
}
