//go:build js && wasm

package workers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The servers are started by js/node_exec.mjs (see its header).

func dialTest(t *testing.T, env string) *Socket {
	t.Helper()
	addr := os.Getenv(env)
	if addr == "" {
		t.Fatalf("%s is not set: run with -exec workers/js/go_js_wasm_exec", env)
	}
	c, err := (&Dialer{AllowHalfOpen: true}).DialContext(testCtx(t), "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", env, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*Socket)
}

func TestSocketEchoPartialReads(t *testing.T) {
	c := dialTest(t, "ECHO_ADDR")
	if c.RemoteAddr().String() != os.Getenv("ECHO_ADDR") {
		t.Errorf("RemoteAddr = %v, want %s", c.RemoteAddr(), os.Getenv("ECHO_ADDR"))
	}
	if _, ok := c.LocalAddr().(*net.TCPAddr); !ok {
		t.Errorf("LocalAddr = %#v, want a *net.TCPAddr", c.LocalAddr())
	}
	msg := bytes.Repeat([]byte("0123456789"), 10_000) // 100 kB: several chunks
	go func() {
		if _, err := c.Write(msg); err != nil {
			t.Errorf("write: %v", err)
		}
	}()
	got := make([]byte, 0, len(msg))
	buf := make([]byte, 7) // smaller than any chunk: leftovers must be kept in order
	for len(got) < len(msg) {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echoed bytes differ from what was written")
	}
}

func TestSocketHalfClose(t *testing.T) {
	c := dialTest(t, "ECHO_ADDR")
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	// The server echoes, sees our FIN, says bye and closes: we read all of it, then EOF.
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read after CloseWrite: %v", err)
	}
	if string(b) != "pingbye" {
		t.Fatalf("read %q, want %q", b, "pingbye")
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read after EOF = %d, %v; want 0, EOF", n, err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after CloseWrite succeeded")
	}
}

func TestSocketDeadlines(t *testing.T) {
	c := dialTest(t, "SILENT_ADDR")
	// The zero deadline means none: gotd sets it before every read.
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := c.Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v (%T), want a net.Error with Timeout()", err, err)
	}
	// A deadline in the past fails at once, and the connection stays usable.
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with a past deadline: %v", err)
	}
	// Moving the deadline while a Read waits applies to it.
	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 10)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the deadline moved: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting Read ignored a new deadline")
	}
}

func TestSocketTimeoutKeepsData(t *testing.T) {
	c := dialTest(t, "ECHO_ADDR")
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent: %v, want a timeout", err)
	}
	// The read still in flight must deliver what arrives next.
	c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("after timeout")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(c, buf, len("after timeout"))
	if err != nil || string(buf[:n]) != "after timeout" {
		t.Fatalf("read %q, %v; want %q", buf[:n], err, "after timeout")
	}
}

func TestSocketCloseUnblocks(t *testing.T) {
	c := dialTest(t, "SILENT_ADDR")
	done := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 10)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("pending read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock a pending Read")
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitSockets(t, 0)
}

func TestSocketDialErrors(t *testing.T) {
	ctx := testCtx(t)
	for _, tc := range []struct{ network, addr, want string }{
		{"udp", "127.0.0.1:1", "unknown network udp"},
		{"tcp", "127.0.0.1", "missing port"},
		{"tcp", "127.0.0.1:0", `invalid port "0"`},
		{"tcp", "127.0.0.1:99999", `invalid port "99999"`},
		{"tcp", ":80", "missing host"},
		{"tcp", os.Getenv("CLOSED_ADDR"), "cannot connect"},
	} {
		_, err := Dial(ctx, tc.network, tc.addr)
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dial(%q, %q) = %v, want a dial *net.OpError containing %q", tc.network, tc.addr, err, tc.want)
		}
	}
	if _, err := Dial(context.Background(), "tcp", os.Getenv("ECHO_ADDR")); err == nil || !strings.Contains(err.Error(), "no request in context") {
		t.Errorf("Dial without a request = %v, want the no-request error", err)
	}
	waitSockets(t, 0)
}

func TestSocketConcurrentConns(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialTest(t, "ECHO_ADDR")
			defer c.Close()
			for j := 0; j < 20; j++ {
				msg := []byte{byte(i), byte(j), 'x'}
				if _, err := c.Write(msg); err != nil {
					t.Error(err)
					return
				}
				buf := make([]byte, 3)
				if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, msg) {
					t.Errorf("conn %d message %d: %q, %v", i, j, buf, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitSockets(t, 0)
}

// waitSockets waits until JavaScript holds n open sockets.
func waitSockets(t *testing.T, n int) {
	t.Helper()
	var js struct{ OpenSockets int }
	for i := 0; i < 100; i++ {
		st, err := ReadStats(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(st.JS, &js); err != nil {
			t.Fatal(err)
		}
		if js.OpenSockets == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("open sockets in JavaScript = %d, want %d", js.OpenSockets, n)
}
