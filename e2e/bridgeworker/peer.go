package main

//go:generate go run ../../workers/rpcgen -type Peer -go rpc_gen.go -js entry/worker.mjs -js-class BridgeTestWorker -service bridge-test -error-name PeerError -error-type errorProps -queue

import (
	"context"
	"time"
)

// Peer is the RPC surface of the bridge test worker: small methods that
// exercise the bridge (sync and async answers, D1 and timers inside a call,
// props, panics, typed errors) and one shaped like getSessionByUserId for the
// benchmarks.
type Peer interface {
	// Echo returns value.
	//
	//rpc:sync
	Echo(ctx context.Context, value string) (string, error)
	// Slow sleeps ms milliseconds in Go, queries D1, and returns ms.
	Slow(ctx context.Context, ms int64) (int64, error)
	// Caller returns the serviceId of the caller's props ("" without props).
	Caller(ctx context.Context) (string, error)
	// Boom panics.
	Boom(ctx context.Context) (string, error)
	// Fail fails with code.
	Fail(ctx context.Context, code string) (string, error)
	// Session returns a fixed session-shaped value, answering synchronously.
	//
	//rpc:sync
	Session(ctx context.Context, userID int64) (Session, error)
	// Sleep sleeps ms milliseconds in Go and returns ms: nothing but a wait.
	Sleep(ctx context.Context, ms int64) (int64, error)
	// SessionAsync is Session without //rpc:sync: the same answer through the
	// asynchronous path, to compare the two.
	SessionAsync(ctx context.Context, userID int64) (Session, error)
}

// Session has the shape of telegramauth.Session.
type Session struct {
	SessionString string    `json:"sessionString"`
	SessionID     string    `json:"sessionId"`
	UserID        int64     `json:"userId"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

// errorProps are the own properties of a thrown PeerError.
type errorProps struct {
	Code string `json:"code"`
}
