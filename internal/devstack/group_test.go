package devstack

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A command interrupted while its stacks run, or while one is still starting,
// stops them before it exits: Ctrl-C on make soak used to leave its wrangler
// and workerd running, and an interrupt during a stack's start (its
// migrations, or the wait for wrangler to answer) left that stack's. The test
// runs itself as that command (groupCommand), interrupts it once the
// processes it expects are up, and looks for what is left of them. Every
// process leads a process group, as wrangler does with its workerd.
func TestGroupStopsOnSignal(t *testing.T) {
	if mode := os.Getenv("DEVSTACK_GROUP_COMMAND"); mode != "" {
		groupCommand(mode)
		return
	}
	for _, c := range []struct {
		mode   string
		groups int // the process groups the command starts before it is interrupted
	}{
		{"running", 2},   // a stack that has started
		{"migrating", 1}, // Group.Start, in `wrangler d1 migrations apply`
		{"starting", 1},  // Group.Start, waiting for `wrangler dev` to answer
	} {
		t.Run(c.mode, func(t *testing.T) {
			// A repository whose wrangler records itself and never answers,
			// and a worker with a D1 database, whose migrations it applies
			// when migrating.
			root := t.TempDir()
			wrangler := filepath.Join(root, "node_modules", ".bin", "wrangler")
			if err := os.MkdirAll(filepath.Dir(wrangler), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(wrangler, []byte("#!/bin/sh\necho $$ >> \"$DEVSTACK_FAKE_PIDS\"\nexec sleep 60\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			worker := writeWorker(t, "name = \"w\"\nmain = \"build/worker.mjs\"\n[[d1_databases]]\nbinding = \"DB\"\n"+
				"database_name = \"w\"\ndatabase_id = \"1\"\nmigrations_dir = \"migrations\"\n", "migrations")
			pids := filepath.Join(t.TempDir(), "pids")
			cmd := exec.Command(os.Args[0], "-test.run=^TestGroupStopsOnSignal$")
			cmd.Env = append(os.Environ(), "DEVSTACK_GROUP_COMMAND="+c.mode, "DEVSTACK_FAKE_PIDS="+pids,
				"DEVSTACK_FAKE_ROOT="+root, "DEVSTACK_FAKE_WORKER="+worker)
			var stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var groups []int
			defer func() { // whatever happens, leave nothing behind
				cmd.Process.Kill()
				for _, pg := range groups {
					syscall.Kill(-pg, syscall.SIGKILL)
				}
			}()
			for deadline := time.Now().Add(20 * time.Second); len(groups) < c.groups; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the command started process groups %v, want %d; it printed %q", groups, c.groups, stderr.String())
				}
				groups = groups[:0]
				b, _ := os.ReadFile(pids)
				for _, f := range strings.Fields(string(b)) {
					pg, err := strconv.Atoi(f)
					if err != nil || pg <= 1 {
						t.Fatalf("the command recorded %q", b)
					}
					groups = append(groups, pg)
				}
			}
			for _, pg := range groups {
				if !alive(pg) {
					t.Fatalf("process group %d is not running", pg)
				}
			}

			cmd.Process.Signal(os.Interrupt)
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			var err error
			select {
			case err = <-waited:
			case <-time.After(20 * time.Second):
				t.Fatal("the command did not exit after an interrupt")
			}
			if err == nil || !strings.Contains(stderr.String(), "group command: interrupt") {
				t.Errorf("exit %v, output %q: want a failure that names the interrupt", err, stderr.String())
			}
			for _, pg := range groups {
				// A killed sleep whose sh is gone is a zombie until init reaps it.
				for deadline := time.Now().Add(5 * time.Second); alive(pg) && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
				}
				if alive(pg) {
					t.Errorf("process group %d outlived the command", pg)
				}
			}
		})
	}
}

// groupCommand is the command TestGroupStopsOnSignal interrupts. Its
// processes record their process groups in $DEVSTACK_FAKE_PIDS.
func groupCommand(mode string) {
	var g Group
	g.StopOnSignal("group command")
	if mode == "running" {
		// One stack of two processes (sh and its sleep), kept as Start keeps
		// a started stack: Start itself would need wrangler.
		st := newStack(Options{})
		for range 2 {
			cmd := exec.Command("sh", "-c", `echo $$ >> "$DEVSTACK_FAKE_PIDS"; sleep 60; true`)
			if _, err := st.spawn(cmd, false); err != nil {
				g.Fatal(err)
			}
		}
		g.mu.Lock()
		g.stacks = append(g.stacks, st)
		g.mu.Unlock()
		time.Sleep(time.Minute)
		g.Fatal("no signal came")
	}
	worker := Worker{Name: "w", Dir: os.Getenv("DEVSTACK_FAKE_WORKER"), Migrate: mode == "migrating"}
	g.Start(Options{Root: os.Getenv("DEVSTACK_FAKE_ROOT"), Workers: []Worker{worker}, ReadyTimeout: time.Minute})
	g.Fatal("the stack started")
}

// alive reports whether any process of process group pg exists.
func alive(pg int) bool {
	return !errors.Is(syscall.Kill(-pg, 0), syscall.ESRCH)
}
