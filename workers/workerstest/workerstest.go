// Package workerstest helps native tests of code that reads what the bridge
// tells a handler about its call: it builds the context an RPC call arrives
// with, without workerd.
package workerstest

import (
	"context"

	"github.com/communicator/communicator/workers/internal/bridge"
)

// RPCContext returns a context as an RPC call arriving on the named
// entrypoint n (0: the default one) with the binding's props (JSON, or nil)
// carries it: workers.Entrypoint and workers.Props read it back. It does no
// I/O: a handler that performs I/O with it fails as outside a request.
func RPCContext(ctx context.Context, entrypoint int, props []byte) context.Context {
	return bridge.WithRequest(ctx, &bridge.Request{Props: props, Entrypoint: entrypoint})
}
