package devstack

import (
	"context"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// Group is the stacks a long command (make bench, make soak) starts, kept so
// that every one of them is stopped before the command exits: when it is done
// (Stop), when it fails (Fatal), or when it is interrupted (StopOnSignal). No
// wrangler or workerd outlives the command to load the machine for whatever
// runs next. A stack the command stopped itself is stopped again as a no-op.
type Group struct {
	mu      sync.Mutex
	stacks  []*Stack
	stopped bool
	exiting sync.Mutex // held by the first Fatal, which ends the command
}

// Start starts a stack with o, giving it 3 minutes, and keeps it. If it does
// not start, Fatal: the command cannot go on without it. The group keeps the
// stack before starting it, so an interrupt while it starts (migrations, and
// waiting for wrangler, take seconds) stops what it has started so far.
func (g *Group) Start(o Options) *Stack {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := newStack(o)
	g.mu.Lock()
	stopped := g.stopped
	g.stacks = append(g.stacks, st)
	g.mu.Unlock()
	if stopped {
		g.Fatal(errStopped)
	}
	if err := st.start(ctx); err != nil {
		g.Fatal(err)
	}
	return st
}

// Stop stops every stack of the group; a stack started later fails.
func (g *Group) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	for _, st := range g.stacks {
		st.Stop()
	}
}

// Fatal is log.Fatal after stopping the group's stacks. Only the first
// failure is logged: an interrupt stops a stack that is starting, whose start
// then fails too, and the command must say it was interrupted.
func (g *Group) Fatal(v ...any) {
	g.exiting.Lock() // never unlocked: the command exits
	g.Stop()
	log.Fatal(v...)
}

// Fatalf is Fatal with a format.
func (g *Group) Fatalf(format string, v ...any) {
	g.exiting.Lock()
	g.Stop()
	log.Fatalf(format, v...)
}

// StopOnSignal makes an interrupt or SIGTERM stop the group's stacks, then
// end the command (as command: signal).
func (g *Group) StopOnSignal(command string) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-c
		g.Fatalf("%s: %v", command, s)
	}()
}
