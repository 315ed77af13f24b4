package faketelegram

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// headerTimeout is how long a new connection has to send the start of its
// transport header before the server closes it.
const headerTimeout = 10 * time.Second

// headerPeek is how many bytes a connection must have sent to be handed to
// tgtest: a whole header (0xeeeeeeee, 0xdddddddd), or the abridged header
// and the start of the first packet, or the start of a full-codec packet.
const headerPeek = 4

// listener hands tgtest only connections that have sent the start of their
// transport header, and records every connection so Close can close it.
//
// tgtest reads the header inside Accept, on its one accepting goroutine,
// and stops serving altogether when that read fails. A client that closes
// before its header (gotd does, when its unit of work ends while it
// reconnects) would end the server, and one that says nothing would hold up
// every client after it. Here each connection waits for its header on its
// own goroutine; one that closes or stays silent is closed and forgotten.
type listener struct {
	net.Listener
	s     *Server
	ready chan net.Conn
	done  chan struct{} // closed when the accepting loop ends
	err   error         // why it ended, read after done
}

func newListener(ln net.Listener, s *Server) *listener {
	l := &listener{Listener: ln, s: s, ready: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *listener) acceptLoop() {
	defer close(l.done)
	var waiting sync.WaitGroup
	defer waiting.Wait()
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.err = err
			return
		}
		tc := &trackedConn{Conn: c, s: l.s}
		l.s.mu.Lock()
		if l.s.closed {
			l.s.mu.Unlock()
			_ = c.Close()
			l.err = net.ErrClosed
			return
		}
		l.s.conns[tc] = struct{}{}
		l.s.mu.Unlock()
		l.s.accepted.Add(1)
		waiting.Add(1)
		go func() {
			defer waiting.Done()
			l.awaitHeader(tc)
		}()
	}
}

// awaitHeader hands c to Accept once it has sent headerPeek bytes, or
// closes it.
func (l *listener) awaitHeader(c *trackedConn) {
	br := bufio.NewReader(c.Conn)
	_ = c.SetReadDeadline(time.Now().Add(headerTimeout))
	if _, err := br.Peek(headerPeek); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	c.r = br
	select {
	case l.ready <- c:
	case <-l.s.closing:
		_ = c.Close()
	}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

// trackedConn is a connection the server has accepted: Close forgets it.
type trackedConn struct {
	net.Conn
	r *bufio.Reader // what was read of the header, then the rest
	s *Server
	// keyPending: this connection sent dh_gen_ok, and tgtest has not yet
	// stored the key (see keyGate).
	keyPending atomic.Bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	if c.keyPending.CompareAndSwap(true, false) {
		c.s.keys.done()
	}
	var n int
	var err error
	if c.r == nil {
		n, err = c.Conn.Read(p)
	} else {
		n, err = c.r.Read(p)
	}
	// After the read: one already waiting when a key was announced must
	// not hand its message to tgtest before the key is stored either.
	c.s.keys.wait()
	return n, err
}

func (c *trackedConn) Write(p []byte) (int, error) {
	// The gate opens before dh_gen_ok leaves: the client may use the key
	// as soon as it reads it.
	if hasDHGenOK(p) && c.keyPending.CompareAndSwap(false, true) {
		c.s.keys.open()
	}
	return c.Conn.Write(p)
}

func (c *trackedConn) Close() error {
	if c.keyPending.CompareAndSwap(true, false) {
		c.s.keys.done()
	}
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// keyGate holds back reads while a new auth key is on its way into tgtest's
// store. tgtest sends dh_gen_ok and only then stores the key, so a client
// that makes a key on one connection and uses it on a new one (package
// authkey hands its key to gotd, which dials again) could reach the server
// first and be told -404, key unknown. tgtest stores the key before it
// reads from that connection again, so the connection's next Read is when
// the key is known; until then no read of any connection returns (a few
// microseconds, and at most keyGateTimeout).
type keyGate struct {
	mu      sync.Mutex
	pending int
	idle    chan struct{} // closed when pending drops to 0
}

const keyGateTimeout = 5 * time.Second

func (g *keyGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == 0 {
		g.idle = make(chan struct{})
	}
	g.pending++
}

func (g *keyGate) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending--; g.pending == 0 {
		close(g.idle)
	}
}

func (g *keyGate) wait() {
	g.mu.Lock()
	if g.pending == 0 {
		g.mu.Unlock()
		return
	}
	idle := g.idle
	g.mu.Unlock()
	t := time.NewTimer(keyGateTimeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// dhGenOK is dh_gen_ok's constructor id as sent (little-endian).
var dhGenOK = []byte{0x34, 0xf7, 0xcb, 0x3b}

// hasDHGenOK reports whether p, bytes the server writes, holds an
// unencrypted message whose body is dh_gen_ok: 8 zero bytes of
// auth_key_id, the message id and length (12 bytes), then the id.
func hasDHGenOK(p []byte) bool {
	for off := 0; ; {
		i := bytes.Index(p[off:], dhGenOK)
		if i < 0 {
			return false
		}
		i += off
		if i >= 20 && bytes.Equal(p[i-20:i-12], make([]byte, 8)) {
			return true
		}
		off = i + 1
	}
}
