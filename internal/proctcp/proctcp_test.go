package proctcp

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseTable(t *testing.T) {
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:ZZZZ 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4444
   3: short line
`
	got, err := parseTable(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{{8080, 0, Listen, "4242"}, {50000, 8080, Established, "4343"}}
	if !slices.Equal(got, want) {
		t.Errorf("parseTable = %+v, want %+v (a bad port and a short line skipped)", got, want)
	}
}

// This process's own listener and a connection to it, as /proc shows them.
func TestListeningPortsAndTable(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("no /proc/self/net/tcp:", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ports, err := ListeningPorts(os.Getpid())
	if err != nil || !slices.Contains(ports, port) {
		t.Fatalf("ListeningPorts = %v, %v; want %d among them", ports, err, port)
	}
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().(*net.TCPAddr).Port
	table, err := Table("self")
	if err != nil {
		t.Fatal(err)
	}
	owned, err := Owned("self")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range table {
		if s.State == Established && s.LocalPort == local && s.RemotePort == port {
			found = owned[s.Inode]
		}
	}
	if !found {
		t.Errorf("no established connection %d → %d owned by this process in %+v", local, port, table)
	}
	if _, err := ListeningPorts(-1); err == nil {
		t.Error("ListeningPorts(-1): no error")
	}
}
