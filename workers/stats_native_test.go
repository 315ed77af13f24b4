//go:build !(js && wasm)

package workers

import (
	"context"
	"errors"
	"testing"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// Natively there is no JavaScript side: Go's own figures, and ErrNotWorker.
func TestReadMemoryNative(t *testing.T) {
	m, err := ReadMemory(context.Background())
	if !errors.Is(err, bridge.ErrNotWorker) {
		t.Fatalf("err = %v, want ErrNotWorker", err)
	}
	if m.GoHeapInuse == 0 || m.GoSys < m.GoHeapInuse || m.WasmMemory != 0 || m.JSHeap != nil {
		t.Errorf("got %+v", m)
	}
}
