package faketelegram

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/transport"

	"github.com/communicator/communicator/mtproto/sessionstring"
	"github.com/communicator/communicator/mtproto/tgclient"
)

// Options configure Start.
type Options struct {
	// Fixture is what the server serves. Default: DefaultFixture().
	Fixture *Fixture
	// Addr is the TCP address the main DC listens on. Default
	// "127.0.0.1:0". Only loopback addresses are accepted: the server has
	// no real security. The other DCs listen on its IP address, any port.
	Addr string
	// DC is the id of the main data center, the one Addr serves. Default 2.
	DC int
	// Logger receives the server's logs: method names and errors, never a
	// session string, key, login code, password or QR login token.
	// Default: none.
	Logger *zap.Logger
	// Key is the server's RSA key. Default: a new 2048-bit key. Tests that
	// start many servers may share one.
	Key *rsa.PrivateKey
	// HomeDCs maps fixture users to the data center they live on; users
	// not listed live on DC. Start also serves every other DC named here,
	// each on its own loopback port (DCAddrs), with the same key and the
	// same users, messages, logins and codes. Default (nil): users 1005
	// and 1006 live on DC 4 (those of them the fixture has). An empty map:
	// every user lives on DC, and only DC is served.
	HomeDCs map[int64]int
}

// defaultHomeDCs is where HomeDCs' default puts users.
var defaultHomeDCs = map[int64]int{1005: 4, 1006: 4}

// Server is a running fake Telegram: its main data center, and the other
// DCs its users live on (Options.HomeDCs), in one process.
type Server struct {
	fx      *Fixture
	w       *world
	dc      int                 // the main DC
	home    map[int64]int       // users who live on another DC than dc
	dcs     map[int]*dataCenter // every DC served, dc included
	log     *zap.Logger
	addr    netip.AddrPort // the main DC's
	key     *rsa.PrivateKey
	pubPEM  []byte
	dispat  *tg.ServerDispatcher
	cancel  context.CancelFunc
	closing chan struct{}
	once    sync.Once

	exchanges atomic.Int64
	keys      keyGate      // reads wait while tgtest stores a new key
	accepted  atomic.Int64 // connections accepted

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{}
	handlers sync.WaitGroup
	bound    map[[8]byte]int64 // auth key id → logged-in user
	awaiting map[[8]byte]int64 // auth key id → user who passed the code step, needs 2FA
	codes    map[string]*pendingCode
	srp      map[[8]byte]*srpChallenge
	verifier map[int64]*big.Int
	faults   []*fault
	calls    map[string]int   // since Start or ResetCalls
	seq      map[string]int64 // calls of each method since Start (faults count from them)
	seqAll   int64
	sent     map[string]*SentCode   // phone → the last code sent to it
	tokens   map[string]*loginToken // QR login token → its state
}

// dataCenter is one DC the Server serves: its own listener and tgtest
// server, so its own auth keys; everything else is the Server's.
type dataCenter struct {
	id     int
	addr   netip.AddrPort
	served chan struct{} // closed when its tgtest server has stopped
}

type pendingCode struct {
	key     [8]byte
	phone   string
	user    int64
	expires time.Time
}

// codeTTL is how long a phone_code_hash stays valid.
const codeTTL = 5 * time.Minute

// Start starts a server listening on opts.Addr. It is listening when Start
// returns; Close stops it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Fixture == nil {
		opts.Fixture = DefaultFixture()
	}
	if opts.Fixture.idx == nil {
		return nil, errors.New("faketelegram: the fixture was not loaded with LoadFixture or ParseFixture")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.DC == 0 {
		opts.DC = 2
	}
	if opts.DC < 1 || opts.DC > 255 {
		return nil, fmt.Errorf("faketelegram: dc %d out of range 1..255", opts.DC)
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if err := checkLoopback(opts.Addr); err != nil {
		return nil, err
	}
	home, err := homeDCs(opts)
	if err != nil {
		return nil, err
	}
	key := opts.Key
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("faketelegram: rsa key: %w", err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("faketelegram: listen: %w", err)
	}

	s := &Server{
		fx:       opts.Fixture,
		w:        newWorld(opts.Fixture.idx),
		dc:       opts.DC,
		home:     home,
		dcs:      map[int]*dataCenter{},
		log:      opts.Logger,
		addr:     listenAddr(ln),
		key:      key,
		pubPEM:   pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}),
		closing:  make(chan struct{}),
		conns:    map[net.Conn]struct{}{},
		bound:    map[[8]byte]int64{},
		awaiting: map[[8]byte]int64{},
		codes:    map[string]*pendingCode{},
		srp:      map[[8]byte]*srpChallenge{},
		verifier: map[int64]*big.Int{},
		calls:    map[string]int{},
		seq:      map[string]int64{},
		sent:     map[string]*SentCode{},
		tokens:   map[string]*loginToken{},
	}
	s.dispat = s.newDispatcher()
	// tgtest logs "Starting key exchange" at debug level; the counting core
	// turns that into KeyExchanges and passes everything to opts.Logger.
	tlog := zap.New(&countingCore{Core: opts.Logger.Core(), n: &s.exchanges})
	sctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	lns := map[int]net.Listener{opts.DC: ln}
	for _, id := range otherDCs(home) {
		// The other DCs listen on the main DC's address, any port.
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(s.Host(), "0"))
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			cancel()
			return nil, fmt.Errorf("faketelegram: listen for dc %d: %w", id, err)
		}
		lns[id] = l
	}
	// Every DC is known before any serves: help.getConfig lists them all.
	for id, l := range lns {
		s.dcs[id] = &dataCenter{id: id, addr: listenAddr(l), served: make(chan struct{})}
	}
	for id, l := range lns {
		s.serveDC(sctx, s.dcs[id], l, tlog)
	}
	return s, nil
}

// serveDC serves d on ln with a tgtest server of its own, logging to tlog,
// until ctx is done.
func (s *Server) serveDC(ctx context.Context, d *dataCenter, ln net.Listener, tlog *zap.Logger) {
	id := d.id
	handler := tgtest.HandlerFunc(func(srv *tgtest.Server, req *tgtest.Request) error {
		return s.onMessage(id, srv, req)
	})
	srv := tgtest.NewServer(tgtest.NewPrivateKey(s.key), tgtest.UnpackInvoke(handler), tgtest.ServerOptions{
		DC:     id,
		Logger: tlog,
		Random: nonZeroRandom{},
	})
	go func() {
		defer close(d.served)
		if err := srv.Serve(ctx, transport.ListenCodec(nil, newListener(ln, s))); err != nil {
			s.log.Warn("serve", zap.Int("dc", id), zap.Error(err))
		}
	}()
	s.log.Info("fake telegram listening", zap.String("addr", d.addr.String()), zap.Int("dc", id))
}

func listenAddr(ln net.Listener) netip.AddrPort {
	a := ln.Addr().(*net.TCPAddr).AddrPort()
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// homeDCs checks opts.HomeDCs (or takes its default) and returns the users
// who live on another DC than opts.DC.
func homeDCs(opts Options) (map[int64]int, error) {
	home := map[int64]int{}
	if opts.HomeDCs == nil {
		for id, dc := range defaultHomeDCs {
			if _, ok := opts.Fixture.User(id); ok && dc != opts.DC {
				home[id] = dc
			}
		}
		return home, nil
	}
	for id, dc := range opts.HomeDCs {
		if _, ok := opts.Fixture.User(id); !ok {
			return nil, fmt.Errorf("faketelegram: HomeDCs: no fixture user %d", id)
		}
		if dc < 1 || dc > 255 {
			return nil, fmt.Errorf("faketelegram: HomeDCs: user %d: dc %d out of range 1..255", id, dc)
		}
		if dc != opts.DC {
			home[id] = dc
		}
	}
	return home, nil
}

// otherDCs returns the DCs of home, in order, once each.
func otherDCs(home map[int64]int) []int {
	var ids []int
	for _, dc := range home {
		if !slices.Contains(ids, dc) {
			ids = append(ids, dc)
		}
	}
	slices.Sort(ids)
	return ids
}

// homeDC returns the DC a user lives on.
func (s *Server) homeDC(user int64) int {
	if dc, ok := s.home[user]; ok {
		return dc
	}
	return s.dc
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("faketelegram: address %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("faketelegram: address %q is not a loopback IP address (the fake server only listens on loopback)", addr)
	}
	return nil
}

// Addr returns the main DC's listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host returns the listening IP address as text (every DC's).
func (s *Server) Host() string { return s.addr.Addr().String() }

// Port returns the main DC's listening TCP port.
func (s *Server) Port() int { return int(s.addr.Port()) }

// DC returns the main data center's id.
func (s *Server) DC() int { return s.dc }

// DCAddrs returns the address of every DC the server serves, the main one
// included: {2: "127.0.0.1:N", 4: "127.0.0.1:M"}.
func (s *Server) DCAddrs() map[int]string {
	out := make(map[int]string, len(s.dcs))
	for id, d := range s.dcs {
		out[id] = d.addr.String()
	}
	return out
}

// HomeDC returns the DC a fixture user lives on (see Options.HomeDCs): the
// main DC for users not listed there, and for ids the fixture does not have.
func (s *Server) HomeDC(userID int64) int { return s.homeDC(userID) }

// Fixture returns the fixture the server started from. PostMessage,
// EditMessage and DeleteMessages do not change it; Dialogs tells what the
// server serves now.
func (s *Server) Fixture() *Fixture { return s.fx }

// PublicKeyPEM returns the server's RSA public key as a PKCS#1 "RSA PUBLIC
// KEY" PEM block (x509.ParsePKCS1PublicKey reads it). Every DC has it.
func (s *Server) PublicKeyPEM() []byte { return slices.Clone(s.pubPEM) }

// PublicKey returns the server's RSA public key.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// KeyExchanges returns how many MTProto key exchanges clients started, on
// every DC.
func (s *Server) KeyExchanges() int { return int(s.exchanges.Load()) }

// ClientOptions returns options for a gotd client of this server: plain TCP
// to the main DC's address, its DC and public key (the other DCs in the DC
// list), no updates, and storage as the session storage (nil: a fresh
// in-memory one).
func (s *Server) ClientOptions(storage session.Storage) telegram.Options {
	return s.clientOptions(s.dc, storage)
}

// clientOptions is ClientOptions starting on DC dc.
func (s *Server) clientOptions(dc int, storage session.Storage) telegram.Options {
	if storage == nil {
		storage = new(session.StorageMemory)
	}
	return telegram.Options{
		PublicKeys:     []telegram.PublicKey{{RSA: s.PublicKey()}},
		DC:             dc,
		DCList:         dcs.List{Options: s.dcOptions()},
		Resolver:       dcs.Plain(dcs.PlainOptions{}),
		SessionStorage: storage,
		NoUpdates:      true,
		Logger:         zap.NewNop(),
	}
}

// dcOptions lists every DC served, in order of id.
func (s *Server) dcOptions() []tg.DCOption {
	out := make([]tg.DCOption, 0, len(s.dcs))
	for _, d := range s.dcs {
		out = append(out, tg.DCOption{ID: d.id, IPAddress: d.addr.Addr().String(), Port: int(d.addr.Port()), Ipv6: d.addr.Addr().Is6(), Static: true})
	}
	slices.SortFunc(out, func(a, b tg.DCOption) int { return a.ID - b.ID })
	return out
}

// Close stops every DC's listener and every connection and waits for the
// server's goroutines. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.closing)
		s.mu.Lock()
		s.closed = true
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		s.cancel()
		for _, d := range s.dcs {
			<-d.served
		}
		s.handlers.Wait()
	})
	return nil
}

// MintSession performs a real key exchange with the main DC, logs the new
// auth key in as the fixture user userID (wherever the user lives), and
// returns a GramJS string session (DC, the main DC's address and port, the
// key). The server accepts the key until Close or RevokeSession. It costs
// one key exchange (about a second natively, mostly the client's prime
// checks).
func (s *Server) MintSession(ctx context.Context, userID int64) (string, error) {
	return s.MintSessionOn(ctx, s.dc, userID)
}

// MintSessionOn is MintSession on DC dc, one of DCAddrs: the session names
// that DC and its address, and its key works there only (a DC has keys of
// its own).
func (s *Server) MintSessionOn(ctx context.Context, dc int, userID int64) (string, error) {
	if _, ok := s.fx.User(userID); !ok {
		return "", fmt.Errorf("faketelegram: mint: no fixture user %d", userID)
	}
	d, ok := s.dcs[dc]
	if !ok {
		return "", fmt.Errorf("faketelegram: mint: dc %d is not served here (DCAddrs)", dc)
	}
	storage := new(session.StorageMemory)
	client := telegram.NewClient(1, "faketelegram", s.clientOptions(dc, storage))
	if err := client.Run(ctx, func(context.Context) error { return nil }); err != nil {
		return "", fmt.Errorf("faketelegram: mint: key exchange: %w", err)
	}
	data, err := (&session.Loader{Storage: storage}).Load(ctx)
	if err != nil {
		return "", fmt.Errorf("faketelegram: mint: read key: %w", err)
	}
	data.DC, data.Addr = dc, d.addr.String()
	ss, err := tgclient.FromSessionData(data)
	clear(data.AuthKey)
	if err != nil {
		return "", fmt.Errorf("faketelegram: mint: %w", err)
	}
	s.mu.Lock()
	s.bound[ss.AuthKeyID()] = userID
	s.mu.Unlock()
	out := sessionstring.Encode(ss)
	clear(ss.AuthKey[:])
	return out, nil
}

// GotdSession converts a string session (GramJS or Telethon) into gotd's
// session.Data, to store with session.Loader for a gotd client.
func GotdSession(sessionString string) (*session.Data, error) {
	ss, _, err := sessionstring.Parse(sessionString)
	if err != nil {
		return nil, err
	}
	return tgclient.SessionData(ss), nil
}

// Endpoint is this server as the ingestor's Telegram endpoint (what
// EndpointVars configures), with the default timeout.
func (s *Server) Endpoint() tgclient.Endpoint {
	return tgclient.Endpoint{DC: s.dc, Addr: s.Addr(), Others: s.otherDCs(), PublicKeys: []*rsa.PublicKey{s.PublicKey()}, Timeout: tgclient.DefaultTimeout}
}

// otherDCs are the data centers this process serves besides the main one.
func (s *Server) otherDCs() map[int]string {
	others := s.DCAddrs()
	delete(others, s.dc)
	return others
}

// EndpointVars are the variables that point a worker at this server:
// TELEGRAM_DC_ID, TELEGRAM_DC_ADDR, TELEGRAM_PUBLIC_KEYS (the PEM on one
// line, newlines written as \n, as .dev.vars takes it) and, when it serves
// more than one data center, TELEGRAM_DC_OTHERS.
func (s *Server) EndpointVars() map[string]string {
	v := map[string]string{
		tgclient.EnvDCID:       strconv.Itoa(s.dc),
		tgclient.EnvDCAddr:     s.Addr(),
		tgclient.EnvPublicKeys: strings.ReplaceAll(string(s.pubPEM), "\n", `\n`),
	}
	if others := s.otherDCs(); len(others) > 0 {
		ids := slices.Sorted(maps.Keys(others))
		items := make([]string, len(ids))
		for i, id := range ids {
			items[i] = strconv.Itoa(id) + "=" + others[id]
		}
		v[tgclient.EnvDCOthers] = strings.Join(items, ",")
	}
	return v
}

// RevokeSession makes the server forget the login of a string session's
// auth key: later requests on it that need a login get 401
// AUTH_KEY_UNREGISTERED (the key itself still works for a new login, as with
// Telegram after auth.logOut).
func (s *Server) RevokeSession(sessionString string) error {
	ss, _, err := sessionstring.Parse(sessionString)
	if err != nil {
		return err
	}
	s.RevokeAuthKey(ss.AuthKeyID())
	return nil
}

// RevokeAuthKey is RevokeSession by auth key id (as MTProto sends it).
func (s *Server) RevokeAuthKey(id [8]byte) {
	s.mu.Lock()
	delete(s.bound, id)
	delete(s.awaiting, id)
	delete(s.srp, id)
	s.mu.Unlock()
}

// LoggedIn returns the user an auth key id is logged in as.
func (s *Server) LoggedIn(id [8]byte) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.bound[id]
	return u, ok
}

// Calls returns how many requests of a method (TL name, e.g.
// "users.getUsers", "messages.getHistory", "messages.getDialogs"; "*" for
// all) the server received since Start or ResetCalls, including those
// answered with an error or a fault (a request gotd sends again after a
// dropped connection counts again). invokeWithLayer and initConnection are
// unwrapped and not counted themselves.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method == "*" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[method]
}

// ResetCalls sets every count of Calls to zero. Faults waiting for their
// After calls keep counting from when they were added.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	clear(s.calls)
	s.mu.Unlock()
}

// Connections returns how many connections the server has accepted.
func (s *Server) Connections() int { return int(s.accepted.Load()) }

// nonZeroRandom is crypto/rand without zero bytes, the server's random
// source. gotd's server exchange turns server_nonce into a big integer
// before hashing it into the temporary AES key, which drops a leading zero
// byte: with such a nonce (1 in 256 exchanges) it derives another key than
// the protocol's, and a client that follows the protocol (package authkey)
// fails. Without zero bytes every nonce hashes as its 16 bytes. (A test
// server's randomness is a little less random: no matter.)
type nonZeroRandom struct{}

func (nonZeroRandom) Read(p []byte) (int, error) {
	if _, err := rand.Read(p); err != nil {
		return 0, err
	}
	for i := range p {
		for p[i] == 0 {
			var b [1]byte
			if _, err := rand.Read(b[:]); err != nil {
				return 0, err
			}
			p[i] = b[0]
		}
	}
	return len(p), nil
}

// countingCore counts tgtest's "Starting key exchange" debug entries.
type countingCore struct {
	zapcore.Core
	n *atomic.Int64
}

func (c *countingCore) Enabled(l zapcore.Level) bool {
	return l == zapcore.DebugLevel || c.Core.Enabled(l)
}

func (c *countingCore) With(f []zapcore.Field) zapcore.Core {
	return &countingCore{Core: c.Core.With(f), n: c.n}
}

func (c *countingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Message == "Starting key exchange" {
		c.n.Add(1)
	}
	if c.Core.Enabled(e.Level) {
		return c.Core.Check(e, ce)
	}
	return ce
}

// methodName returns the TL name of a constructor id ("users.getUsers").
func methodName(id uint32) string {
	name, ok := typeNames[id]
	if !ok {
		return "0x" + strconv.FormatUint(uint64(id), 16)
	}
	return name
}

var typeNames = func() map[uint32]string {
	m := map[uint32]string{}
	for id, n := range tg.TypesMap() {
		if i := strings.IndexByte(n, '#'); i >= 0 {
			n = n[:i]
		}
		m[id] = n
	}
	return m
}()

// publicMethods work on an auth key that is not logged in.
var publicMethods = map[string]bool{
	"help.getConfig": true, "help.getNearestDc": true, "auth.sendCode": true, "auth.signIn": true,
	"auth.checkPassword": true, "account.getPassword": true, "auth.logOut": true,
	"auth.resendCode": true, "auth.cancelCode": true, "auth.exportLoginToken": true, "auth.importLoginToken": true,
}

var errDropped = errors.New("faketelegram: connection dropped (fault)")

// onMessage receives every RPC request (after tgtest has handled pings,
// salts and containers and UnpackInvoke has removed invokeWithLayer and
// initConnection) on DC dc. Faults that drop the connection act here, on
// the connection's own goroutine; everything else runs on its own goroutine
// so a slow answer does not hold up the connection.
func (s *Server) onMessage(dc int, srv *tgtest.Server, req *tgtest.Request) error {
	id, err := req.Buf.PeekID()
	if err != nil {
		return err
	}
	name := methodName(id)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errDropped
	}
	s.calls[name]++
	s.seq[name]++
	s.seqAll++
	seq := callSeq{method: s.seq[name], all: s.seqAll}
	drop := s.takeFault(FaultDrop, name, seq)
	if drop == nil {
		s.handlers.Add(1)
	}
	s.mu.Unlock()
	if drop != nil {
		s.log.Info("fault: dropping connection", zap.String("method", name))
		srv.ForceDisconnect(req.Session)
		return errDropped
	}
	r := *req
	r.Buf = &bin.Buffer{Buf: slices.Clone(req.Buf.Buf)}
	go func() {
		defer s.handlers.Done()
		if err := s.answer(dc, srv, &r, name, seq); err != nil {
			s.log.Debug("answer", zap.String("method", name), zap.Error(err))
		}
	}()
	return nil
}

type reqInfo struct {
	dc   int // the DC the request came to
	key  [8]byte
	user int64 // 0: not logged in
	now  time.Time
}

type reqInfoKey struct{}

func info(ctx context.Context) reqInfo { return ctx.Value(reqInfoKey{}).(reqInfo) }

func (s *Server) answer(dc int, srv *tgtest.Server, req *tgtest.Request, name string, seq callSeq) error {
	s.mu.Lock()
	slow := s.takeFault(FaultSlow, name, seq)
	s.mu.Unlock()
	if slow != nil {
		t := time.NewTimer(slow.Delay)
		select {
		case <-t.C:
		case <-s.closing:
			t.Stop()
			return nil
		case <-req.RequestCtx.Done():
			t.Stop()
			return nil
		}
	}
	s.mu.Lock()
	flood := s.takeFault(FaultFloodWait, name, seq)
	key := req.Session.AuthKey.ID
	user, ok := s.bound[key]
	s.mu.Unlock()
	if flood != nil {
		return srv.SendErr(req, tgerr.New(420, "FLOOD_WAIT_"+strconv.Itoa(flood.Seconds)))
	}
	if !ok && !publicMethods[name] {
		return srv.SendErr(req, tgerr.New(401, "AUTH_KEY_UNREGISTERED"))
	}
	ctx := context.WithValue(req.RequestCtx, reqInfoKey{}, reqInfo{dc: dc, key: key, user: user, now: time.Now()})
	res, err := s.dispat.Handle(ctx, req.Buf)
	if err != nil {
		var rpcErr *tgerr.Error
		if errors.As(err, &rpcErr) {
			return srv.SendErr(req, rpcErr)
		}
		s.log.Info("bad request", zap.String("method", name), zap.Error(err))
		return srv.SendErr(req, tgerr.New(400, "INPUT_REQUEST_INVALID"))
	}
	return srv.SendResult(req, res)
}

func (s *Server) newDispatcher() *tg.ServerDispatcher {
	d := tg.NewServerDispatcher(func(ctx context.Context, b *bin.Buffer) (bin.Encoder, error) {
		return nil, tgerr.New(400, "INPUT_METHOD_INVALID")
	})
	d.OnHelpGetConfig(s.helpGetConfig)
	d.OnHelpGetNearestDC(func(ctx context.Context) (*tg.NearestDC, error) {
		dc := info(ctx).dc
		return &tg.NearestDC{Country: "SE", ThisDC: dc, NearestDC: dc}, nil
	})
	d.OnAuthSendCode(s.authSendCode)
	d.OnAuthResendCode(s.authResendCode)
	d.OnAuthCancelCode(s.authCancelCode)
	d.OnAuthSignIn(s.authSignIn)
	d.OnAuthExportLoginToken(s.authExportLoginToken)
	d.OnAuthImportLoginToken(s.authImportLoginToken)
	d.OnAccountGetPassword(s.accountGetPassword)
	d.OnAuthCheckPassword(s.authCheckPassword)
	d.OnAuthLogOut(func(ctx context.Context) (*tg.AuthLoggedOut, error) {
		s.RevokeAuthKey(info(ctx).key)
		return &tg.AuthLoggedOut{}, nil
	})
	d.OnUsersGetUsers(s.usersGetUsers)
	d.OnUpdatesGetState(s.updatesGetState)
	d.OnMessagesGetDialogs(s.messagesGetDialogs)
	d.OnMessagesGetHistory(s.messagesGetHistory)
	return d
}

// helpGetConfig names the DC asked and lists every DC served.
func (s *Server) helpGetConfig(ctx context.Context) (*tg.Config, error) {
	in := info(ctx)
	return &tg.Config{
		Date:                    int(in.now.Unix()),
		Expires:                 int(in.now.Add(time.Hour).Unix()),
		ThisDC:                  in.dc,
		DCOptions:               s.dcOptions(),
		DCTxtDomainName:         "faketelegram.invalid",
		ChatSizeMax:             200,
		MegagroupSizeMax:        200000,
		ForwardedCountMax:       100,
		OnlineUpdatePeriodMs:    210000,
		OfflineBlurTimeoutMs:    5000,
		OfflineIdleTimeoutMs:    30000,
		OnlineCloudTimeoutMs:    300000,
		NotifyCloudDelayMs:      30000,
		NotifyDefaultDelayMs:    1500,
		PushChatPeriodMs:        60000,
		PushChatLimit:           2,
		EditTimeLimit:           172800,
		RevokeTimeLimit:         2147483647,
		RevokePmTimeLimit:       2147483647,
		RatingEDecay:            2419200,
		StickersRecentLimit:     200,
		ChannelsReadMediaPeriod: 604800,
		CallReceiveTimeoutMs:    20000,
		CallRingTimeoutMs:       90000,
		CallConnectTimeoutMs:    30000,
		CallPacketTimeoutMs:     10000,
		MeURLPrefix:             "https://t.me/",
		CaptionLengthMax:        1024,
		MessageLengthMax:        4096,
		WebfileDCID:             s.dc,
	}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authSendCode answers 303 PHONE_MIGRATE_<dc> for a user who lives on
// another DC, as Telegram does.
func (s *Server) authSendCode(ctx context.Context, req *tg.AuthSendCodeRequest) (tg.AuthSentCodeClass, error) {
	in := info(ctx)
	u, ok := s.fx.UserByPhone(req.PhoneNumber)
	if !ok || u.Phone == "" {
		return nil, tgerr.New(400, "PHONE_NUMBER_INVALID")
	}
	if dc := s.homeDC(u.ID); dc != in.dc {
		return nil, tgerr.New(303, "PHONE_MIGRATE_"+strconv.Itoa(dc))
	}
	hash := randomHex(9)
	s.mu.Lock()
	for h, p := range s.codes {
		if in.now.After(p.expires) {
			delete(s.codes, h)
		}
	}
	s.codes[hash] = &pendingCode{key: in.key, phone: u.Phone, user: u.ID, expires: in.now.Add(codeTTL)}
	s.recordSend(u, CodeTypeApp, in.now)
	s.mu.Unlock()
	return &tg.AuthSentCode{
		Type:          &tg.AuthSentCodeTypeApp{Length: len(u.LoginCode)},
		PhoneCodeHash: hash,
		Timeout:       int(codeTTL / time.Second),
	}, nil
}

func (s *Server) authSignIn(ctx context.Context, req *tg.AuthSignInRequest) (tg.AuthAuthorizationClass, error) {
	in := info(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.codeFor(in, req.PhoneNumber, req.PhoneCodeHash)
	if err != nil {
		return nil, err
	}
	if req.PhoneCode == "" {
		return nil, tgerr.New(400, "PHONE_CODE_EMPTY")
	}
	u, _ := s.fx.User(p.user)
	if req.PhoneCode != u.LoginCode {
		return nil, tgerr.New(400, "PHONE_CODE_INVALID")
	}
	delete(s.codes, req.PhoneCodeHash)
	return s.logIn(in.key, u)
}

// logIn logs key in as u, who has passed the code step (or scanned a QR
// code): a user with 2FA gets 401 SESSION_PASSWORD_NEEDED, and the key
// waits for auth.checkPassword. s.mu must be held.
func (s *Server) logIn(key [8]byte, u FixtureUser) (*tg.AuthAuthorization, error) {
	if u.Password != "" {
		s.awaiting[key] = u.ID
		return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
	}
	s.bound[key] = u.ID
	delete(s.awaiting, key)
	return &tg.AuthAuthorization{User: s.tgUser(u, u.ID)}, nil
}

// passwordUser is the user whose 2FA password a key may check: the one
// waiting after the code step, or the one logged in.
func (s *Server) passwordUser(key [8]byte) (FixtureUser, bool) {
	id, ok := s.awaiting[key]
	if !ok {
		id, ok = s.bound[key]
	}
	if !ok {
		return FixtureUser{}, false
	}
	return s.fx.User(id)
}

func (s *Server) accountGetPassword(ctx context.Context) (*tg.AccountPassword, error) {
	in := info(ctx)
	s.mu.Lock()
	u, ok := s.passwordUser(in.key)
	s.mu.Unlock()
	newSalt := make([]byte, 32)
	secure := make([]byte, 8)
	random := make([]byte, 256)
	_, _ = rand.Read(newSalt)
	_, _ = rand.Read(secure)
	_, _ = rand.Read(random)
	newAlgo := srpAlgo(newSalt)
	out := &tg.AccountPassword{
		NewAlgo:       newAlgo,
		NewSecureAlgo: &tg.SecurePasswordKdfAlgoSHA512{Salt: secure},
		SecureRandom:  random,
	}
	if !ok || u.Password == "" {
		return out, nil
	}
	algo := srpAlgo(srpSaltFor(u))
	s.mu.Lock()
	v := s.verifier[u.ID]
	s.mu.Unlock()
	if v == nil {
		v = srpVerifier(u.Password, algo.Salt1, algo.Salt2) // ~0.1 s (PBKDF2)
		s.mu.Lock()
		s.verifier[u.ID] = v
		s.mu.Unlock()
	}
	ch, err := newSRPChallenge(u.ID, v, algo.Salt1, algo.Salt2)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.srp[in.key] = ch
	s.mu.Unlock()
	out.HasPassword = true
	out.CurrentAlgo = algo
	out.SRPB = ch.gb
	out.SRPID = ch.id
	out.Hint = u.PasswordHint
	return out, nil
}

func (s *Server) authCheckPassword(ctx context.Context, pw tg.InputCheckPasswordSRPClass) (tg.AuthAuthorizationClass, error) {
	in := info(ctx)
	s.mu.Lock()
	ch := s.srp[in.key]
	delete(s.srp, in.key) // one attempt per account.getPassword, as Telegram
	s.mu.Unlock()
	p, ok := pw.(*tg.InputCheckPasswordSRP)
	if !ok {
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
	if ch == nil || ch.id != p.SRPID {
		return nil, tgerr.New(400, "SRP_ID_INVALID")
	}
	if err := ch.verify(p.A, p.M1); err != nil {
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
	u, _ := s.fx.User(ch.userID)
	s.mu.Lock()
	s.bound[in.key] = u.ID
	delete(s.awaiting, in.key)
	s.mu.Unlock()
	return &tg.AuthAuthorization{User: s.tgUser(u, u.ID)}, nil
}

func (s *Server) usersGetUsers(ctx context.Context, ids []tg.InputUserClass) ([]tg.UserClass, error) {
	in := info(ctx)
	var out []tg.UserClass
	for _, id := range ids {
		switch id := id.(type) {
		case *tg.InputUserSelf:
			u, _ := s.fx.User(in.user)
			out = append(out, s.tgUser(u, in.user))
		case *tg.InputUser:
			u, ok := s.fx.User(id.UserID)
			if ok && u.AccessHash == id.AccessHash {
				out = append(out, s.tgUser(u, in.user))
			}
		}
	}
	if len(ids) > 0 && len(out) == 0 {
		return nil, tgerr.New(400, "USER_ID_INVALID")
	}
	return out, nil
}

func (s *Server) updatesGetState(ctx context.Context) (*tg.UpdatesState, error) {
	in := info(ctx)
	s.w.mu.RLock()
	pts := s.w.pts[in.user]
	s.w.mu.RUnlock()
	return &tg.UpdatesState{Pts: pts, Date: int(in.now.Unix())}, nil
}
