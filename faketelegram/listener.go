package faketelegram

import (
	"bufio"
	"net"
	"sync"
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
}

func (c *trackedConn) Read(p []byte) (int, error) {
	if c.r == nil {
		return c.Conn.Read(p)
	}
	return c.r.Read(p)
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}
