// Package workers runs a Go program as a Cloudflare Worker in workerd.
//
// It is the Go half of the bridge between Go (GOOS=js GOARCH=wasm) and the
// Workers runtime; the JavaScript half is js/runtime.mjs. Together they keep
// one Go instance per isolate, shared by every fetch and RPC call, and make
// every JavaScript operation a goroutine asks for run in the context of the
// request that goroutine serves (see docs/bridge.md, "Request contexts").
//
// Only the packages under workers/ touch the JavaScript boundary; everything
// here compiles natively too, where calls that need a worker return ErrNotWorker.
package workers
