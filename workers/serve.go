package workers

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

var handlers Handlers

// Serve serves h for the life of the Go instance and never returns. Call it at
// the end of main, after building everything that lives once per isolate (the
// database, clients, caches): main runs once per isolate, on its first event.
func Serve(h Handlers) {
	handlers = h
	bridge.Ready(start, answer)
	select {}
}

// start runs in the bridge_start export: it must not block. Events run on
// pooled goroutines: a goroutine whose stack has grown serves the next event
// instead of a new one growing its stack again (measurable on the RPC hot path).
func start(kind, req, method uint32, payload []byte) {
	e := event{kind: kind, req: req, method: method, payload: payload}
	select {
	case idle <- e:
	default:
		go serve(e)
	}
}

type event struct {
	kind, req, method uint32
	payload           []byte
}

// idle hands events to goroutines waiting for one. Unbuffered: a send succeeds
// only if a goroutine is waiting.
var idle = make(chan event)

// maxIdle bounds the goroutines kept waiting for events.
const maxIdle = 64

var idleCount atomic.Int32

func serve(e event) {
	for {
		switch e.kind {
		case bridge.KindFetch:
			serveFetch(e.req, e.payload)
		case bridge.KindRPC:
			serveRPC(e.req, e.method, e.payload)
		case bridge.KindScheduled:
			serveScheduled(e.req, e.payload)
		case bridge.KindQueue:
			serveQueue(e.req, e.payload)
		}
		if idleCount.Add(1) > maxIdle {
			idleCount.Add(-1)
			return
		}
		e = <-idle
		idleCount.Add(-1)
	}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func serveRPC(id, method uint32, payload []byte) {
	r := wire.NewReader(payload)
	entrypoint := int(r.U32())
	props := r.Bytes()
	args := r.Rest()
	ctx := bridge.WithRequest(context.Background(), &bridge.Request{ID: id, Props: props, Entrypoint: entrypoint})
	bp := bufPool.Get().(*[]byte)
	out := rpcResult(ctx, int(method), args, append((*bp)[:0], 1))
	_ = bridge.PostTo(id, bridge.OpReturn, out) // a failure means the caller is gone
	*bp = out
	bufPool.Put(bp)
}

// answer runs in the bridge_call export: it answers an RPC call at once when
// the handler marks its method synchronous (SyncRPCHandler) and the method
// completes without I/O. Otherwise it reports false and the call comes again
// through start, where the method runs anew: a synchronous method must have
// done nothing that matters before its first I/O.
func answer(id, method uint32, payload []byte) bool {
	h, ok := handlers.RPC.(SyncRPCHandler)
	if !ok || !h.SyncMethod(int(method)) {
		return false
	}
	r := wire.NewReader(payload)
	entrypoint := int(r.U32())
	props := r.Bytes()
	args := r.Rest()
	req := &bridge.Request{ID: id, Props: props, Entrypoint: entrypoint}
	req.BeginAttempt()
	ctx := bridge.WithRequest(context.Background(), req)
	bp := bufPool.Get().(*[]byte)
	out := rpcResult(ctx, int(method), args, append((*bp)[:0], 1))
	blocked := req.EndAttempt()
	if !blocked {
		_ = bridge.PostTo(id, bridge.OpReturn, out)
	}
	*bp = out
	bufPool.Put(bp)
	return !blocked
}

func rpcResult(ctx context.Context, method int, args, dst []byte) (out []byte) {
	h := handlers.RPC
	if h == nil {
		return append(dst[:0], 0, '{', '}') // generated entries only call methods they declare
	}
	defer func() {
		if v := recover(); v != nil {
			perr := &PanicError{Value: v, Stack: debug.Stack()}
			logPanic(perr)
			out = h.AppendError(append(dst[:0], 0), perr)
		}
	}()
	res, err := h.ServeRPC(ctx, method, args, dst)
	if err != nil {
		return h.AppendError(append(dst[:0], 0), err)
	}
	return res
}

func serveScheduled(id uint32, payload []byte) {
	r := wire.NewReader(payload)
	cron := r.String()
	at := time.UnixMilli(int64(r.F64())).UTC()
	ctx := bridge.WithRequest(context.Background(), &bridge.Request{ID: id})
	var w wire.Writer
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				perr := &PanicError{Value: v, Stack: debug.Stack()}
				logPanic(perr)
				err = perr
			}
		}()
		if handlers.Scheduled == nil {
			return fmt.Errorf("workers: no scheduled handler")
		}
		return handlers.Scheduled(ctx, cron, at)
	}()
	if err != nil {
		w.U8(0)
		w.String(err.Error())
	} else {
		w.U8(1)
		w.String("")
	}
	_ = bridge.PostTo(id, bridge.OpDone, w.Buf)
}

func logPanic(p *PanicError) {
	fmt.Fprintf(ConsoleErrors, `{"level":"ERROR","msg":"handler panicked; recovered","panic":%q,"stack":%q}`+"\n",
		fmt.Sprint(p.Value), p.Stack)
}

// Props returns the JSON of ctx.props of the RPC call ctx belongs to: what the
// caller's service binding declares (for example {"serviceId":"ingestor-service"}).
// It is nil outside an RPC call, and "null" when the binding has no props.
func Props(ctx context.Context) []byte {
	if r := bridge.RequestFrom(ctx); r != nil {
		return r.Props
	}
	return nil
}

// Entrypoint returns the named entrypoint the RPC call ctx belongs to arrived
// on: 0 for the default entrypoint (and outside an RPC call), n for the n-th
// class of the list the entry module was generated from (rpcgen -entrypoints).
// A binding chooses its entrypoint, so the entrypoint identifies the caller.
func Entrypoint(ctx context.Context) int {
	if r := bridge.RequestFrom(ctx); r != nil {
		return r.Entrypoint
	}
	return 0
}
