//go:build !(js && wasm)

package workers

import (
	"context"
	"errors"
	"testing"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// Natively there is no JavaScript side: Go's own figures, and ErrNotWorker.
func TestReadIsolateNative(t *testing.T) {
	i, err := ReadIsolate(context.Background())
	m, b := i.Memory, i.Bridge
	if !errors.Is(err, bridge.ErrNotWorker) {
		t.Fatalf("err = %v, want ErrNotWorker", err)
	}
	if m.GoHeapInuse == 0 || m.GoSys < m.GoHeapInuse || m.WasmMemory != 0 || m.JSHeap != nil {
		t.Errorf("got %+v", m)
	}
	if b.Goroutines == 0 || b.JSPI || b.GoInstances != 0 {
		t.Errorf("bridge %+v", b)
	}
}
