//go:build !(js && wasm)

package bridge

import (
	"context"
	"os"
)

// Ready is only meaningful in a worker; natively it panics, because a program
// that calls it cannot serve.
func Ready(StartFunc, AnswerFunc) { panic(ErrNotWorker) }

// Console writes to standard error outside a worker.
func Console(level uint32, line []byte) { os.Stderr.Write(append(line, '\n')) }

// Env is empty outside a worker.
func Env() []byte { return nil }

func Post(context.Context, uint32, []byte) error        { return ErrNotWorker }
func PostTo(uint32, uint32, []byte) error               { return ErrNotWorker }
func Do(context.Context, uint32, []byte) (Reply, error) { return Reply{}, ErrNotWorker }
func PendingCalls() int                                 { return 0 }
