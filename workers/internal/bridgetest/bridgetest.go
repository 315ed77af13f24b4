// Package bridgetest helps tests that run under Node through
// workers/js/go_js_wasm_exec: the test program runs as one request.
package bridgetest

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// Context returns a context of the request the test program runs as.
func Context(t testing.TB) context.Context {
	t.Helper()
	id, err := strconv.Atoi(os.Getenv("WORKERS_TEST_REQUEST"))
	if err != nil {
		t.Fatal("run with -exec workers/js/go_js_wasm_exec (WORKERS_TEST_REQUEST is not set)")
	}
	return bridge.WithRequest(context.Background(), &bridge.Request{ID: uint32(id)})
}
