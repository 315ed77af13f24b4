// Package devport tells a newcomer, before anything is built or started,
// whether `make dev` can have its HTTP port, and how to choose another. It
// uses nothing but the standard library, so that `make dev` can run it
// (cmd/devport) before compiling the rest.
package devport

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Check returns nil when port is free on 127.0.0.1 (where make dev serves
// both workers), and otherwise an error that names the port and how to
// choose another.
func Check(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("PORT=%d is not a TCP port: choose one from 1024 to 65535, e.g. make dev PORT=8788", port)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err == nil {
		l.Close()
		return nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %d is busy: another program listens on 127.0.0.1:%d, where make dev serves the workers.\nStop that program, or %s", port, port, Advice(port))
	}
	return fmt.Errorf("cannot listen on 127.0.0.1:%d (%v): %s", port, err, Advice(port))
}

// Advice says how to run make dev on another port than port: the first free
// one above it.
func Advice(port int) string {
	return fmt.Sprintf("choose another port: make dev PORT=%d", nextFree(port))
}

// nextFree returns the first port above port that is free on 127.0.0.1, or
// 8788 when none of the next hundred is.
func nextFree(port int) int {
	for p := max(port+1, 1024); p <= port+100 && p <= 65535; p++ {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			l.Close()
			return p
		}
	}
	return 8788
}
