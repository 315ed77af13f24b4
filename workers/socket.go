package workers

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// Dialer opens TCP connections with the Workers connect() API
// ("cloudflare:sockets"). The zero value dials plain TCP.
type Dialer struct {
	// TLS asks connect() for secureTransport "on".
	TLS bool
	// AllowHalfOpen keeps the writing side open after the peer closes its
	// side; without it the runtime closes both when reading ends.
	AllowHalfOpen bool
}

// Dial is (&Dialer{}).DialContext.
func Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return (&Dialer{}).DialContext(ctx, network, address)
}

// DialContext connects to address ("host:port") on network "tcp", "tcp4" or
// "tcp6", in the request ctx carries. The connection belongs to that request
// (workerd binds a socket to the request that opened it) and works for as
// long as the request lives: when it ends, the runtime closes the socket and
// every later operation fails. ctx bounds only the dial.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: stringAddr(address), Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, opErr(net.UnknownNetworkError(network))
	}
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, opErr(err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, opErr(errors.New("invalid port " + strconv.Quote(portText)))
	}
	if host == "" {
		return nil, opErr(errors.New("missing host"))
	}
	r := bridge.RequestFrom(ctx)
	if r == nil {
		return nil, opErr(bridge.ErrNoRequest)
	}
	var w wire.Writer
	w.String(host)
	w.U32(uint32(port))
	w.U8(boolByte(d.TLS))
	w.U8(boolByte(d.AllowHalfOpen))
	rep, err := bridge.Do(ctx, bridge.OpSockOpen, w.Buf)
	if err != nil {
		// A connect still in progress is closed with its request; nothing
		// waits on it.
		return nil, opErr(err)
	}
	if rep.Status != bridge.StatusOK {
		return nil, opErr(&SocketError{Message: remoteError(rep.Payload).Message})
	}
	rd := wire.NewReader(rep.Payload)
	id := rd.U32()
	remote, local := rd.String(), rd.String()
	if rd.Err() != nil {
		return nil, opErr(errors.New("workers: malformed connect reply from JavaScript"))
	}
	c := &Socket{
		req:    bridge.WithRequest(context.Background(), r),
		id:     id,
		remote: parseAddr(remote, address),
		local:  parseAddr(local, ""),
		closed: make(chan struct{}),
	}
	c.rdl.init()
	c.wdl.init()
	return c, nil
}

// SocketError is an error the runtime reported for a socket (a refused
// connection, a reset, the request having finished).
type SocketError struct{ Message string }

func (e *SocketError) Error() string { return e.Message }

// Socket is a TCP connection made with connect(). It implements net.Conn:
// a zero deadline means none; a Read or Write past its deadline fails with an
// error whose Timeout() is true (os.ErrDeadlineExceeded) and leaves the
// connection usable; Close unblocks pending calls with net.ErrClosed.
type Socket struct {
	req           context.Context // the request that opened it, never cancelled
	id            uint32
	remote, local net.Addr

	closeOnce sync.Once
	closed    chan struct{}

	readMu   sync.Mutex
	pending  chan result // the read in flight, kept across a timeout so no data is lost
	leftover []byte      // the rest of a chunk larger than the caller's buffer
	readErr  error       // io.EOF or the error that ended reading, sticky

	writeMu sync.Mutex

	rdl, wdl deadline
}

type result struct {
	rep bridge.Reply
	err error
}

// Read reads what the peer sent: leftovers of the last chunk first, then the
// next chunk the runtime delivers.
func (c *Socket) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.isClosed() {
		return 0, c.opError("read", net.ErrClosed)
	}
	if len(c.leftover) > 0 {
		n := copy(p, c.leftover)
		c.leftover = c.leftover[n:]
		return n, nil
	}
	if c.readErr != nil {
		return 0, c.readErr
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.pending == nil {
		c.pending = c.start(bridge.OpSockRead, c.payload())
	}
	res, err := c.wait(c.pending, &c.rdl)
	if err != nil {
		return 0, c.opError("read", err)
	}
	c.pending = nil
	switch {
	case res.err != nil:
		c.readErr = c.opError("read", res.err)
	case res.rep.Status == bridge.StatusEOF:
		c.readErr = io.EOF
	case res.rep.Status != bridge.StatusOK:
		c.readErr = c.opError("read", c.remoteErr(res.rep.Payload))
	default:
		n := copy(p, res.rep.Payload)
		c.leftover = res.rep.Payload[n:]
		return n, nil
	}
	return 0, c.readErr
}

// Write writes all of p or fails. After a timeout the bytes may still be
// sent: the runtime has no way to take a write back.
func (c *Socket) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.isClosed() {
		return 0, c.opError("write", net.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	res, err := c.wait(c.start(bridge.OpSockWrite, c.payload(p...)), &c.wdl)
	if err != nil {
		return 0, c.opError("write", err)
	}
	if res.err != nil {
		return 0, c.opError("write", res.err)
	}
	if res.rep.Status != bridge.StatusOK {
		return 0, c.opError("write", c.remoteErr(res.rep.Payload))
	}
	return len(p), nil
}

// CloseWrite closes the writing side (the peer reads EOF); reading goes on.
func (c *Socket) CloseWrite() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.isClosed() {
		return c.opError("close", net.ErrClosed)
	}
	res, err := c.wait(c.start(bridge.OpSockClose, c.payload(1)), &deadline{})
	if err == nil && res.err != nil {
		err = res.err
	}
	if err == nil && res.rep.Status != bridge.StatusOK {
		err = c.remoteErr(res.rep.Payload)
	}
	if err != nil {
		return c.opError("close", err)
	}
	return nil
}

// Close closes the connection. Pending and later calls fail with
// net.ErrClosed; closing twice is not an error.
func (c *Socket) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closed)
	})
	if !first {
		return nil
	}
	// No reply is awaited: the runtime closes at once, and if the request has
	// already finished the socket is closed with it.
	_ = bridge.Post(c.req, bridge.OpSockClose, c.payload(0))
	return nil
}

func (c *Socket) LocalAddr() net.Addr  { return c.local }
func (c *Socket) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets both deadlines.
func (c *Socket) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline sets the read deadline; it applies to a Read already waiting.
func (c *Socket) SetReadDeadline(t time.Time) error { c.rdl.set(t); return nil }

// SetWriteDeadline sets the write deadline; it applies to a Write already waiting.
func (c *Socket) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

func (c *Socket) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// payload is an operation's payload: the socket's id, then tail (the bytes
// to write, or how to close).
func (c *Socket) payload(tail ...byte) []byte {
	w := wire.Writer{Buf: make([]byte, 0, 4+len(tail))}
	w.U32(c.id)
	return append(w.Buf, tail...)
}

// start posts op to the socket's request and returns where its result will
// arrive. The goroutine ends when the runtime answers, which it always does:
// when the socket or its request closes, pending operations fail.
func (c *Socket) start(op uint32, payload []byte) chan result {
	ch := make(chan result, 1)
	go func() {
		rep, err := bridge.Do(c.req, op, payload)
		ch <- result{rep, err}
	}()
	return ch
}

// wait waits for ch, the deadline dl or Close. A deadline returns
// os.ErrDeadlineExceeded and leaves the operation in flight.
func (c *Socket) wait(ch chan result, dl *deadline) (result, error) {
	for {
		t, changed := dl.get()
		var timer *time.Timer
		var expired <-chan time.Time
		if !t.IsZero() {
			d := time.Until(t)
			if d <= 0 {
				return result{}, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			expired = timer.C
		}
		var res result
		err, again := error(nil), false
		select {
		case res = <-ch:
			if c.isClosed() {
				err = net.ErrClosed
			}
		case <-expired:
			err = os.ErrDeadlineExceeded
		case <-changed:
			again = true // the deadline moved: wait again under the new one
		case <-c.closed:
			err = net.ErrClosed
		}
		if timer != nil {
			timer.Stop()
		}
		if !again {
			return res, err
		}
	}
}

func (c *Socket) remoteErr(payload []byte) error {
	return &SocketError{Message: remoteError(payload).Message}
}

func (c *Socket) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
}

// deadline is a time that may change while a call waits on it: set closes
// the channel the waiters hold, so they look again.
type deadline struct {
	mu      sync.Mutex
	t       time.Time
	changed chan struct{}
}

func (d *deadline) init() { d.changed = make(chan struct{}) }

func (d *deadline) get() (time.Time, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.t, d.changed
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t = t
	if d.changed != nil {
		close(d.changed)
	}
	d.changed = make(chan struct{})
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// parseAddr reads an address the runtime reported ("ip:port"), falling back
// to what was dialed.
func parseAddr(s, fallback string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	if s == "" {
		s = fallback
	}
	return stringAddr(s)
}

// stringAddr is an address known only as text (a host name, or nothing).
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }
