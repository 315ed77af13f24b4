//go:build js && wasm

package bridge

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
)

// Imports provided by js/runtime.mjs (module "bridge").

//go:wasmimport bridge post
func jsPost(req, op, call uint32, ptr unsafe.Pointer, n uint32) uint32

// jsCallStart makes an RPC call (op, for request req, as call) if Go may
// then wait for its answer inside jsCallWait, and answers 1; else it answers
// 0 and has done nothing (post the call). See js/runtime.mjs, #callStart.
//
//go:wasmimport bridge call_start
func jsCallStart(req, op, call uint32, ptr unsafe.Pointer, n uint32) uint32

// jsCallWait waits for the answer to a call jsCallStart made, with the whole
// of Go suspended inside the import (JSPI): it returns the reply's length
// times 4 plus its status, the bytes held for take, or waitReleased (the
// call is still in flight and its reply comes through bridge_complete).
//
//go:wasmimport bridge call_wait
func jsCallWait(call uint32) int32

const waitReleased = -1

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

//go:wasmimport bridge take
func jsTake(kind, id uint32, ptr unsafe.Pointer, n uint32)

// What take copies: the payload of an event (by request id) or of a reply
// (by call id).
const (
	takeEvent = 0
	takeReply = 1
)

// take copies the n bytes JavaScript holds for (kind, id) into a new slice;
// with n == 0 it only tells JavaScript to forget them. It allocates, so it
// runs on goroutines, never in an export.
func take(kind, id, n uint32) []byte {
	if n == 0 {
		jsTake(kind, id, nil, 0)
		return nil
	}
	p := make([]byte, n)
	jsTake(kind, id, unsafe.Pointer(unsafe.SliceData(p)), n)
	return p
}

var (
	mu       sync.Mutex
	calls    = map[uint32]chan Reply{}
	nextCall uint32
	start    StartFunc
	answer   AnswerFunc
	chanPool = sync.Pool{New: func() any { return make(chan Reply, 1) }}
)

// Exports run on the stack of whatever goroutine Go paused on, and must
// neither block nor allocate: an allocation during a garbage collection may
// have to wait (GC assist), and a blocked export unwinds into the scheduler
// and returns to JavaScript before it has finished. So exports only record
// what happened and wake goroutines; payloads stay in JavaScript until a
// goroutine takes them.

// ringSize bounds the events started and not yet dispatched. JavaScript runs
// Go right after starting an event, so only a few are ever pending.
const ringSize = 1024

var (
	ring               [ringSize]pendingEvent
	ringHead, ringTail uint32 // next slot bridge_start writes; next slot dispatch reads
	ringWake           = make(chan struct{}, 1)
)

type pendingEvent struct{ kind, req, method, n uint32 }

// Ready registers the handlers of incoming events (f for every event, a for
// the synchronous attempts of bridge_call), starts the goroutine that
// dispatches them, and tells JavaScript that Go is ready to serve.
func Ready(f StartFunc, a AnswerFunc) {
	start = f
	answer = a
	go dispatch()
	jsReady()
}

// dispatch takes each started event's payload and hands the event to start.
func dispatch() {
	for range ringWake {
		for ringTail != ringHead {
			e := ring[ringTail%ringSize]
			ringTail++
			start(e.kind, e.req, e.method, take(takeEvent, e.req, e.n))
		}
	}
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

// bridge_start records an event whose n-byte payload JavaScript holds. It
// answers 0 when too many events wait to be dispatched (JavaScript then fails
// the event), 1 otherwise; JavaScript runs Go afterwards.
//
//go:wasmexport bridge_start
func bridgeStart(kind, req, method, n uint32) uint32 {
	if ringHead-ringTail >= ringSize {
		return 0
	}
	ring[ringHead%ringSize] = pendingEvent{kind: kind, req: req, method: method, n: n}
	ringHead++
	select {
	case ringWake <- struct{}{}:
	default:
	}
	return 1
}

// bridge_call tries to answer an RPC call (method, and the n-byte payload
// JavaScript holds for request req) before returning: 1 if Go has posted the
// answer (JavaScript performs it as soon as this returns), 0 if not (nothing
// was done that matters; JavaScript starts the event with bridge_start).
//
// Unlike the other exports it runs a handler, which allocates: this export's
// goroutine may be parked by the runtime (a garbage collection's assist, a
// preemption) and other goroutines run meanwhile, inside this call. That is
// safe while one of them stays runnable, as this one does until it has
// answered. What is not safe is every goroutine waiting for JavaScript: the
// runtime then returns to JavaScript in the middle of this call. So a handler
// answered here must wait for nothing but the CPU: its I/O fails with
// ErrWouldBlock and sends the call to the asynchronous path, and it must not
// sleep, nor wait on a channel or lock that only I/O would release.
//
//go:wasmexport bridge_call
func bridgeCall(req, method, n uint32) uint32 {
	if answer == nil {
		return 0
	}
	p := take(takeEvent, req, n)
	if !answer(req, method, p) {
		return 0
	}
	// Run what the handler made runnable (a goroutine it started, a garbage
	// collection's workers), as a resume would, before returning to JavaScript.
	runtime.Gosched()
	return 1
}

// bridge_complete hands the reply to call (status, and the length of the
// payload JavaScript holds) to the goroutine waiting on it, with a non-blocking
// send. It answers 1 if a goroutine waits (it will take the payload), 0 if not
// (JavaScript forgets the payload). JavaScript runs Go afterwards.
//
//go:wasmexport bridge_complete
func bridgeComplete(call, status, n uint32) uint32 {
	mu.Lock()
	ch, ok := calls[call]
	delete(calls, call)
	mu.Unlock()
	if !ok {
		return 0
	}
	select {
	case ch <- Reply{Status: status, n: n}:
		return 1
	default:
		return 0
	}
}

func requestID(ctx context.Context) (uint32, error) {
	r := RequestFrom(ctx)
	if r == nil {
		return 0, ErrNoRequest
	}
	switch r.attempt {
	case attemptRunning, attemptBlocked:
		r.attempt = attemptBlocked
		return 0, ErrWouldBlock
	case attemptOver:
		return 0, ErrRequestGone
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
// as Do returns. An RPC call is first offered to jsCallStart: if it takes it,
// Go waits for the reply inside jsCallWait (the whole of Go suspended, JSPI);
// a call released from there, or not taken, waits here as any other.
func Do(ctx context.Context, op uint32, payload []byte) (Reply, error) {
	id, err := requestID(ctx)
	if err != nil {
		return Reply{}, err
	}
	mu.Lock()
	nextCall++
	if nextCall == 0 {
		nextCall = 1
	}
	call := nextCall
	mu.Unlock()
	ptr, n := unsafe.Pointer(unsafe.SliceData(payload)), uint32(len(payload))
	if op == OpRPC && jsCallStart(id, op, call, ptr, n) == 1 {
		// Nothing else can run in Go while it waits inside the import, and
		// JavaScript releases the wait as soon as anything needs Go.
		r := jsCallWait(call)
		if r == waitReleased {
			return wait(ctx, call, register(call))
		}
		rep := Reply{Status: uint32(r & 3), n: uint32(r) >> 2}
		rep.Payload = take(takeReply, call, rep.n)
		return rep, nil
	}
	ch := register(call)
	if jsPost(id, op, call, ptr, n) == 0 {
		mu.Lock()
		delete(calls, call)
		mu.Unlock()
		chanPool.Put(ch)
		return Reply{}, ErrRequestGone
	}
	return wait(ctx, call, ch)
}

// register takes a channel from the pool and makes it the one bridge_complete
// hands call's reply to.
func register(call uint32) chan Reply {
	ch := chanPool.Get().(chan Reply)
	mu.Lock()
	calls[call] = ch
	mu.Unlock()
	return ch
}

// wait waits for call's reply on ch, or for ctx's end.
func wait(ctx context.Context, call uint32, ch chan Reply) (Reply, error) {
	done := ctx.Done()
	if done == nil {
		r := <-ch
		chanPool.Put(ch)
		r.Payload = take(takeReply, call, r.n)
		return r, nil
	}
	select {
	case r := <-ch:
		chanPool.Put(ch)
		r.Payload = take(takeReply, call, r.n)
		return r, nil
	case <-done:
		mu.Lock()
		_, pending := calls[call]
		delete(calls, call)
		mu.Unlock()
		if !pending {
			// The reply arrived together with ctx's end: drop it.
			<-ch
			take(takeReply, call, 0)
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
