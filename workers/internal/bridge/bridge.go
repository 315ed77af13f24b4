// Package bridge is the Go half of the bridge's ABI: the wasm imports and
// exports that js/runtime.mjs provides and calls, the table of calls waiting for
// JavaScript, and the request a goroutine works for. It is the only package that
// declares go:wasmimport and go:wasmexport functions.
//
// The rule it enforces: Go never touches JavaScript that belongs to a request.
// A goroutine posts an operation (plain bytes) to the mailbox of the request it
// works for; that request's own loop performs the I/O in its own context and
// hands the result back. See docs/bridge.md, "Request contexts".
package bridge

import (
	"context"
	"errors"
)

// Kinds of events JavaScript starts in Go; they match KIND_* in js/runtime.mjs.
const (
	KindFetch     = 1
	KindRPC       = 2
	KindScheduled = 3
	KindQueue     = 4
)

// Operations Go posts to a request's mailbox; they match OP_* in js/runtime.mjs.
const (
	OpReturn      = 1  // RPC result: u8 ok, JSON. Ends the request.
	OpRespond     = 2  // whole response: u32 status, headers, body. Ends the request.
	OpRespondHead = 3  // streamed response head: u32 status, headers. Replies when sent.
	OpBodyWrite   = 4  // a chunk of the streamed response body. Replies when taken.
	OpBodyEnd     = 5  // end of the streamed body: u8 ok, error text. Ends the request.
	OpBodyRead    = 6  // next chunk of the request body. Replies with it (StatusEOF at the end).
	OpRPC         = 7  // call an RPC method of a binding: binding, method, JSON args.
	OpFetch       = 8  // fetch through a binding or the global fetch.
	OpD1          = 9  // one D1 statement.
	OpD1Batch     = 10 // D1 batch (atomic).
	OpDone        = 11 // a scheduled or queue event finished: u8 ok, error text (a queue's results follow). Ends the request.
	OpSockOpen    = 12 // connect(): host, u32 port, u8 tls, u8 allowHalfOpen. Replies u32 id, remote, local.
	OpSockRead    = 13 // u32 id. Replies with the next chunk (StatusEOF at the end).
	OpSockWrite   = 14 // u32 id, bytes. Replies when written.
	OpSockClose   = 15 // u32 id, u8 how: 0 close, 1 close the writing side. Replies when done.
	OpStats       = 17 // JavaScript-side counters, for tests
	OpPBKDF2      = 18 // WebCrypto PBKDF2: hash name, password, salt, u32 iterations, u32 bits. Replies with the key.
)

// Reply statuses, set by JavaScript when it completes a call.
const (
	StatusOK    = 0
	StatusError = 1 // payload: JSON {"name","message", own properties...}
	StatusEOF   = 2
)

// ErrNotWorker is returned by every operation outside a Go program run by the
// bridge in workerd or in the Node test harness.
var ErrNotWorker = errors.New("workers: not running in a worker")

// ErrRequestGone is returned when the request an operation belongs to has
// already finished: its context cannot perform I/O any more.
var ErrRequestGone = errors.New("workers: the request has finished; its I/O context is gone")

// ErrNoRequest is returned for I/O asked for with a context that carries no
// request (for example from a goroutine started at init).
var ErrNoRequest = errors.New("workers: no request in context: JavaScript I/O must be done for a request")

// ErrWouldBlock is what I/O returns to a handler running in a synchronous
// attempt (see Request.BeginAttempt): the attempt is abandoned, and the call
// is served again on the asynchronous path, where the I/O is done.
var ErrWouldBlock = errors.New("workers: I/O in a synchronous answer; the call is served again asynchronously")

// Request is an incoming event (fetch, RPC call, scheduled, queue batch) as Go sees it.
type Request struct {
	ID    uint32
	Props []byte // JSON of ctx.props of an RPC call ("null" or nil otherwise)
	// Entrypoint is the named entrypoint an RPC call arrived on: 0 for the
	// default entrypoint, n for the n-th named one of the entry module.
	Entrypoint int

	attempt uint8 // attemptNone, or the state of a synchronous attempt
}

// States of a synchronous attempt.
const (
	attemptNone    = iota // an ordinary request
	attemptRunning        // running inside the export; no I/O so far
	attemptBlocked        // I/O was asked for: the answer is discarded
	attemptOver           // the attempt has ended: its request is gone to Go
)

// BeginAttempt marks r as a synchronous attempt: its handler runs inside an
// export, where Go cannot wait for JavaScript, so every operation posted for
// r fails with ErrWouldBlock instead of being posted.
func (r *Request) BeginAttempt() { r.attempt = attemptRunning }

// EndAttempt ends the attempt and reports whether its handler asked for I/O
// (then its answer must be discarded). Goroutines the handler started that
// post for r afterwards get ErrRequestGone: the call is answered, or served
// again under a new Request.
func (r *Request) EndAttempt() (blocked bool) {
	blocked = r.attempt == attemptBlocked
	r.attempt = attemptOver
	return blocked
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request ctx carries, or nil.
func RequestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// Reply is JavaScript's answer to an operation.
type Reply struct {
	Status  uint32
	Payload []byte
	n       uint32 // the payload's length, before it is taken
}

// StartFunc handles an event JavaScript starts; it must not block (start a
// goroutine for the work).
type StartFunc func(kind, req, method uint32, payload []byte)

// AnswerFunc answers an RPC call inside the bridge_call export, if it can
// without waiting for JavaScript, and reports whether it did (it has then
// posted OpReturn for req). It must not block; see bridge_call.
type AnswerFunc func(req, method uint32, payload []byte) bool
