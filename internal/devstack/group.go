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
	mu     sync.Mutex
	stacks []*Stack
}

// Start starts a stack with o, giving it 3 minutes, and keeps it. If it does
// not start, Fatal: the command cannot go on without it.
func (g *Group) Start(o Options) *Stack {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := Start(ctx, o)
	g.mu.Lock()
	g.stacks = append(g.stacks, st) // even a failed start may have left processes
	g.mu.Unlock()
	if err != nil {
		g.Fatal(err)
	}
	return st
}

// Stop stops every stack of the group.
func (g *Group) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.stacks {
		st.Stop()
	}
}

// Fatal is log.Fatal after stopping the group's stacks.
func (g *Group) Fatal(v ...any) {
	g.Stop()
	log.Fatal(v...)
}

// Fatalf is log.Fatalf after stopping the group's stacks.
func (g *Group) Fatalf(format string, v ...any) {
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
