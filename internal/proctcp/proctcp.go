// Package proctcp reads a process's IPv4 TCP sockets from Linux's /proc: the
// ports it listens on (how v8inspect finds workerd's inspector) and the
// connections in its network namespace (how a test counts the clients of
// that inspector).
package proctcp

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// States of /proc/net/tcp's st column.
const (
	Established = "01"
	Listen      = "0A"
)

// Socket is one line of /proc/<pid>/net/tcp.
type Socket struct {
	LocalPort, RemotePort int
	State                 string // Established, Listen, …
	Inode                 string // the socket's inode, as /proc/<pid>/fd links name it
}

// Table returns the IPv4 TCP sockets of the network namespace of process
// pid ("self" for this one).
func Table(pid string) ([]Socket, error) {
	f, err := os.Open(filepath.Join("/proc", pid, "net", "tcp"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseTable(f)
}

// parseTable reads /proc/net/tcp's format; lines it cannot read are skipped.
func parseTable(r io.Reader) ([]Socket, error) {
	var out []Socket
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if first || len(f) < 10 {
			continue
		}
		local, ok1 := portOf(f[1])
		remote, ok2 := portOf(f[2])
		if ok1 && ok2 {
			out = append(out, Socket{LocalPort: local, RemotePort: remote, State: f[3], Inode: f[9]})
		}
	}
	return out, sc.Err()
}

// portOf reads the port of an address written as hex "ADDR:PORT".
func portOf(addr string) (int, bool) {
	_, h, ok := strings.Cut(addr, ":")
	if !ok {
		return 0, false
	}
	p, err := strconv.ParseUint(h, 16, 16)
	return int(p), err == nil
}

// Owned returns the inodes of the sockets process pid ("self" for this one)
// holds open.
func Owned(pid string) (map[string]bool, error) {
	dir := filepath.Join("/proc", pid, "fd")
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	return inodes, nil
}

// ListeningPorts returns the TCP ports (IPv4) process pid listens on.
func ListeningPorts(pid int) ([]int, error) {
	id := strconv.Itoa(pid)
	owned, err := Owned(id)
	if err != nil {
		return nil, err
	}
	table, err := Table(id)
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, s := range table {
		if s.State == Listen && owned[s.Inode] {
			ports = append(ports, s.LocalPort)
		}
	}
	return ports, nil
}
