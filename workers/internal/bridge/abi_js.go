//go:build js && wasm

package bridge

import (
	"context"
	"sync"
	"unsafe"
)

// Imports provided by js/runtime.mjs (module "bridge").

//go:wasmimport bridge post
func jsPost(req, op, call uint32, ptr unsafe.Pointer, n uint32) uint32

//go:wasmimport bridge ready
func jsReady()

//go:wasmimport bridge env
func jsEnv(ptr unsafe.Pointer, n uint32) uint32

//go:wasmimport bridge console
func jsConsole(level uint32, ptr unsafe.Pointer, n uint32)

// Console writes one line to the worker's console (console.log, or
// console.error when level is 1), synchronously.
func Console(level uint32, line []byte) {
	jsConsole(level, unsafe.Pointer(unsafe.SliceData(line)), uint32(len(line)))
}

var (
	mu       sync.Mutex
	calls    = map[uint32]chan Reply{}
	nextCall uint32
	start    StartFunc
	inbound  []byte // the buffer handed out by bridge_alloc, taken by the next start or complete
	chanPool = sync.Pool{New: func() any { return make(chan Reply, 1) }}
)

// Ready registers the handler of incoming events and tells JavaScript that Go
// is ready to serve.
func Ready(f StartFunc) {
	start = f
	jsReady()
}

// Env returns the worker's environment as JavaScript encoded it at start.
func Env() []byte {
	buf := make([]byte, 4096)
	for {
		n := jsEnv(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
		if int(n) <= len(buf) {
			return buf[:n]
		}
		buf = make([]byte, n)
	}
}

//go:wasmexport bridge_alloc
func bridgeAlloc(n uint32) uint32 {
	inbound = make([]byte, n)
	if n == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(inbound))))
}

func takeInbound(n uint32) []byte {
	b := inbound
	inbound = nil
	if uint32(len(b)) < n {
		return b
	}
	return b[:n]
}

//go:wasmexport bridge_start
func bridgeStart(kind, req, method, n uint32) {
	start(kind, req, method, takeInbound(n))
}

// bridge_complete hands JavaScript's reply to the goroutine waiting on call.
// It only does a non-blocking send: exports must not block. JavaScript calls
// go._resume() afterwards to run the woken goroutine.
//
//go:wasmexport bridge_complete
func bridgeComplete(call, status, n uint32) {
	p := takeInbound(n)
	mu.Lock()
	ch, ok := calls[call]
	delete(calls, call)
	mu.Unlock()
	if ok {
		select {
		case ch <- Reply{Status: status, Payload: p}:
		default:
		}
	}
}

func requestID(ctx context.Context) (uint32, error) {
	r := RequestFrom(ctx)
	if r == nil {
		return 0, ErrNoRequest
	}
	return r.ID, nil
}

// Post sends an operation that has no reply to ctx's request.
func Post(ctx context.Context, op uint32, payload []byte) error {
	id, err := requestID(ctx)
	if err != nil {
		return err
	}
	return PostTo(id, op, payload)
}

// PostTo is Post for a request id.
func PostTo(req, op uint32, payload []byte) error {
	if jsPost(req, op, 0, unsafe.Pointer(unsafe.SliceData(payload)), uint32(len(payload))) == 0 {
		return ErrRequestGone
	}
	return nil
}

// Do posts an operation to ctx's request and waits for JavaScript's reply. If
// ctx is done first, Do returns ctx.Err() and the late reply is dropped.
// JavaScript copies payload when it is posted: the caller may reuse it as soon
// as Do returns.
func Do(ctx context.Context, op uint32, payload []byte) (Reply, error) {
	id, err := requestID(ctx)
	if err != nil {
		return Reply{}, err
	}
	ch := chanPool.Get().(chan Reply)
	mu.Lock()
	nextCall++
	if nextCall == 0 {
		nextCall = 1
	}
	call := nextCall
	calls[call] = ch
	mu.Unlock()
	if jsPost(id, op, call, unsafe.Pointer(unsafe.SliceData(payload)), uint32(len(payload))) == 0 {
		mu.Lock()
		delete(calls, call)
		mu.Unlock()
		chanPool.Put(ch)
		return Reply{}, ErrRequestGone
	}
	done := ctx.Done()
	if done == nil {
		r := <-ch
		chanPool.Put(ch)
		return r, nil
	}
	select {
	case r := <-ch:
		chanPool.Put(ch)
		return r, nil
	case <-done:
		mu.Lock()
		_, pending := calls[call]
		delete(calls, call)
		mu.Unlock()
		if !pending {
			<-ch // the reply arrived together with ctx's end; drop it
		}
		chanPool.Put(ch)
		return Reply{}, ctx.Err()
	}
}

// PendingCalls is the number of operations waiting for JavaScript.
func PendingCalls() int {
	mu.Lock()
	defer mu.Unlock()
	return len(calls)
}
