package e2e

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/internal/devstack"
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
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ours := map[string]bool{} // socket inodes of this process
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			ours[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	portOf := func(addr string) int {
		_, h, _ := strings.Cut(addr, ":")
		v, _ := strconv.ParseUint(h, 16, 32)
		return int(v)
	}
	type conn struct{ local, remote int }
	var toPort []conn
	ourPorts := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text()) // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[3] != "01" {
			continue
		}
		c := conn{portOf(fields[1]), portOf(fields[2])}
		if c.local == port {
			toPort = append(toPort, c)
		}
		if ours[fields[9]] {
			ourPorts[c.local] = true
		}
	}
	n := 0
	for _, c := range toPort {
		if !ourPorts[c.remote] {
			n++
		}
	}
	return n
}
