package devstack

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A command interrupted while its stacks run stops them before it exits:
// Ctrl-C on make soak used to leave its wrangler and workerd running. The
// test runs itself as that command (groupCommand), with a stack of two
// process groups, interrupts it, and looks for what is left of them.
func TestGroupStopsOnSignal(t *testing.T) {
	if os.Getenv("DEVSTACK_GROUP_COMMAND") == "1" {
		groupCommand()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupStopsOnSignal$")
	cmd.Env = append(os.Environ(), "DEVSTACK_GROUP_COMMAND=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("the command printed no process groups: %v", err)
	}
	var groups []int
	for _, f := range strings.Fields(line) {
		pg, err := strconv.Atoi(f)
		if err != nil || pg <= 1 {
			cmd.Process.Kill()
			t.Fatalf("the command printed %q", line)
		}
		groups = append(groups, pg)
	}
	defer func() { // whatever happens, leave nothing behind
		for _, pg := range groups {
			syscall.Kill(-pg, syscall.SIGKILL)
		}
	}()
	if len(groups) != 2 || !alive(groups[0]) || !alive(groups[1]) {
		t.Fatalf("process groups %v, want two running", groups)
	}

	cmd.Process.Signal(os.Interrupt)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the command did not exit after an interrupt")
	}
	if err == nil || !strings.Contains(stderr.String(), "group command: interrupt") {
		t.Errorf("exit %v, stderr %q: want a failure that names the interrupt", err, stderr.String())
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
}

// groupCommand is the command TestGroupStopsOnSignal interrupts: one stack of
// two processes (sh and its sleep, in a process group each, as wrangler and
// its workerd are), kept by a Group that stops it on a signal.
func groupCommand() {
	st := &Stack{}
	var groups []string
	for range 2 {
		cmd := exec.Command("sh", "-c", "sleep 60; true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		p, err := startProcess(cmd)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		st.procs = append(st.procs, p)
		groups = append(groups, strconv.Itoa(cmd.Process.Pid))
	}
	var g Group
	g.stacks = append(g.stacks, st) // Start would need wrangler
	g.StopOnSignal("group command")
	fmt.Println(strings.Join(groups, " "))
	time.Sleep(time.Minute)
	os.Exit(4) // no signal came
}

// alive reports whether any process of process group pg exists.
func alive(pg int) bool {
	return !errors.Is(syscall.Kill(-pg, 0), syscall.ESRCH)
}
