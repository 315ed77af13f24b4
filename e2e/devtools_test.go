package e2e

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/communicator/communicator/internal/devstack"
	"github.com/communicator/communicator/internal/proctcp"
	"github.com/communicator/communicator/internal/v8inspect"
)

// TestNoDevTools: wrangler's DevTools proxy keeps a session on workerd's
// inspector (which makes every console line cost the isolate CPU); with
// NoDevTools nothing is connected to it, and it is still there for
// v8inspect.
func TestNoDevTools(t *testing.T) {
	for _, noDevTools := range []bool{false, true} {
		s := start(t, devstack.Options{
			Workers:    []devstack.Worker{{Name: "bridge-jscallee", Dir: filepath.Join(root, "bench", "jspair", "callee")}},
			NoDevTools: noDevTools,
		})
		addr, err := v8inspect.Find(s.Workerds()[0])
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		// The proxy connects once wrangler has reloaded the worker, shortly
		// after it answers: give it a few seconds.
		n := 0
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if n = sessionsOn(t, p); n > 0 {
				break
			}
		}
		if noDevTools && n != 0 {
			t.Errorf("NoDevTools: %d connections to workerd's inspector", n)
		}
		if !noDevTools && n == 0 {
			t.Errorf("with DevTools: no connection to workerd's inspector (has wrangler stopped using VSCODE_INSPECTOR_OPTIONS, or its proxy?)")
		}
		s.Stop()
	}
}

// sessionsOn counts the established TCP connections (IPv4) to port from
// other processes than this one (v8inspect.Find keeps its own open).
func sessionsOn(t *testing.T, port int) int {
	table, err := proctcp.Table("self")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := proctcp.Owned("self")
	if err != nil {
		t.Fatal(err)
	}
	ourPorts := map[int]bool{}
	for _, s := range table {
		if s.State == proctcp.Established && ours[s.Inode] {
			ourPorts[s.LocalPort] = true
		}
	}
	n := 0
	for _, s := range table {
		if s.State == proctcp.Established && s.LocalPort == port && !ourPorts[s.RemotePort] {
			n++
		}
	}
	return n
}
