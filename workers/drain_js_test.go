//go:build js && wasm

package workers

import (
	"testing"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// Operations JavaScript completes at once (here the counters) hand their
// result back and resume Go while the request's queue is being drained; the
// runtime must loop, not recurse: 100,000 of them in one request once
// overflowed its stack ("Maximum call stack size exceeded").
func TestManySynchronousCompletions(t *testing.T) {
	ctx := testCtx(t)
	for i := range 100_000 {
		rep, err := bridge.Do(ctx, bridge.OpStats, nil)
		if err != nil || rep.Status != bridge.StatusOK {
			t.Fatalf("call %d: %v %d", i, err, rep.Status)
		}
	}
}
