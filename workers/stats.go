package workers

import (
	"context"
	"runtime"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// Stats are the bridge's counters, for leak tests and operators.
type Stats struct {
	Goroutines   int    // Go goroutines alive
	HeapAlloc    uint64 // bytes of allocated Go heap objects
	PendingCalls int    // operations waiting for JavaScript
	// JS is the JSON of the JavaScript side's counters: instances (Go
	// instances started in this isolate), liveRequests, inflightOps (operations
	// started for Go and not completed), goTimers, openSockets, jsValues (JavaScript values
	// Go holds references to).
	JS []byte
}

// ReadStats reads both halves' counters in ctx's request. It does not run the
// garbage collector; call runtime.GC first for a settled heap.
func ReadStats(ctx context.Context) (Stats, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s := Stats{Goroutines: runtime.NumGoroutine(), HeapAlloc: m.HeapAlloc, PendingCalls: bridge.PendingCalls()}
	rep, err := bridge.Do(ctx, bridge.OpStats, nil)
	if err != nil {
		return s, err
	}
	s.JS = rep.Payload
	return s, nil
}
