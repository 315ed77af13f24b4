package authkey

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/clock"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/transport"
	"go.uber.org/zap"
)

// The benchmarks of a client's key exchange (bench_test.go) time the
// client alone: its random source is seeded and its clock fixed, so it
// sends the same requests on every run, and a transport answers each with
// the answer the scripted server gave when the exchange was recorded. A
// request that is not the recorded one fails the run, so a client that
// changed is never timed on an error path.

var update = flag.Bool("update", false, "record testdata/transcript-*.json again from live exchanges with the scripted server")

// transcript is one key exchange as the client's transport saw it.
type transcript struct {
	// Client is the exchange's client, a key of clients.
	Client string
	// Seed seeds the client's random source (see seeded).
	Seed uint64
	// N and E are the server's RSA public key.
	N []byte
	E int
	// Messages are the client's requests and the server's answers, whole
	// unencrypted messages (auth_key_id, msg_id, length, body).
	Messages []message
	// Key is the auth key the server derived.
	Key []byte
}

type message struct{ Request, Answer []byte }

// transcriptTime is the client's clock during every recorded exchange.
var transcriptTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// transcriptSeed seeds the clients' random sources. gotd's client needs a
// new_nonce whose first byte is not zero (see readNewNonce): seed 1 gives
// one.
const transcriptSeed = 1

func (t *transcript) publicKey() *rsa.PublicKey {
	return &rsa.PublicKey{N: new(big.Int).SetBytes(t.N), E: t.E}
}

// check tells whether a client's result is the transcript's key.
func (t *transcript) check(r result) error {
	id := keyID(t.Key)
	if r.id != id {
		return fmt.Errorf("the %s client's key has id %x, the server's %x", t.Client, r.id, id)
	}
	if r.key != nil && !bytes.Equal(r.key, t.Key) {
		return fmt.Errorf("the %s client's key is not the server's", t.Client)
	}
	return nil
}

func keyID(key []byte) [8]byte {
	h := sha1.Sum(key)
	return [8]byte(h[12:20])
}

// result is what a client shows of the key it made.
type result struct {
	// key is the key itself; nil for gotd, whose key stays inside its client.
	key []byte
	// id is the key's id: for gotd, the auth_key_id of its first encrypted
	// message.
	id [8]byte
	// took is the client's time from its first request to the key.
	took time.Duration
}

// clients run one exchange over conn with a server whose key is pub, with
// a random source seeded with seed and the clock fixed at transcriptTime.
var clients = map[string]func(ctx context.Context, conn *scriptConn, pub *rsa.PublicKey, seed uint64) (result, error){
	"ours": runOurs,
	"gotd": runGotd,
}

func runOurs(ctx context.Context, conn *scriptConn, pub *rsa.PublicKey, seed uint64) (result, error) {
	key, err := Exchange(ctx, conn, Options{
		DC: 2, PublicKeys: []*rsa.PublicKey{pub}, Rand: seeded(seed),
		Now: func() time.Time { return transcriptTime },
	})
	took := time.Since(conn.started)
	if err != nil {
		return result{}, err
	}
	return result{key: key.Value[:], id: key.ID, took: took}, nil
}

// runGotd runs stock gotd's exchange. Its exchange package is internal to
// gotd, so it runs as gotd's client does it: a telegram.Client without a
// session dials (here: conn), makes a key and sends its first encrypted
// message, where the run ends. The client's Random and Clock make it
// deterministic; its timeouts are long because its exchange takes seconds
// of CPU in wasm.
func runGotd(ctx context.Context, conn *scriptConn, pub *rsa.PublicKey, seed uint64) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := telegram.NewClient(17349, "344583e45741c457fe1862106095a5eb", telegram.Options{
		PublicKeys:      []telegram.PublicKey{{RSA: pub}},
		DC:              2,
		Resolver:        oneConn{conn: conn, dialed: new(bool)},
		Random:          &lockedReader{r: seeded(seed)},
		Clock:           fixedClock{clock.System},
		NoUpdates:       true,
		DialTimeout:     time.Hour,
		ExchangeTimeout: time.Hour,
		Logger:          zap.NewNop(),
	})
	done := make(chan error, 1)
	go func() {
		done <- client.Run(ctx, func(context.Context) error { return errors.New("the session was never answered") })
	}()
	select {
	case k := <-conn.keyed:
		cancel()
		<-done
		return result{id: k.id, took: k.at.Sub(conn.started)}, nil
	case err := <-conn.failed:
		cancel()
		<-done
		return result{}, err
	case err := <-done:
		return result{}, fmt.Errorf("gotd's client stopped without a key: %v", err)
	}
}

// scriptConn is a transport.Conn whose server is a function: answer
// answers each unencrypted request. A client's first encrypted message
// (gotd's, once it has a key) is reported on keyed, not answered.
type scriptConn struct {
	answer  func(request []byte) ([]byte, error)
	answers chan []byte
	keyed   chan keyed
	failed  chan error
	started time.Time // the first request
	once    sync.Once
}

type keyed struct {
	id [8]byte
	at time.Time
}

func newScriptConn(answer func([]byte) ([]byte, error)) *scriptConn {
	return &scriptConn{answer: answer, answers: make(chan []byte, 8), keyed: make(chan keyed, 1), failed: make(chan error, 1)}
}

func (c *scriptConn) Send(ctx context.Context, b *bin.Buffer) error {
	msg := append([]byte(nil), b.Buf...)
	if len(msg) < 8 {
		return c.fail(errors.New("a message shorter than an auth_key_id"))
	}
	if id := [8]byte(msg[:8]); id != [8]byte{} {
		c.once.Do(func() { c.keyed <- keyed{id: id, at: time.Now()} })
		return nil
	}
	if c.started.IsZero() {
		c.started = time.Now()
	}
	answer, err := c.answer(msg)
	if err != nil {
		return c.fail(err)
	}
	select {
	case c.answers <- answer:
		return nil
	default:
		return c.fail(errors.New("requests without reading their answers"))
	}
}

func (c *scriptConn) fail(err error) error {
	select {
	case c.failed <- err:
	default:
	}
	return err
}

func (c *scriptConn) Recv(ctx context.Context, b *bin.Buffer) error {
	select {
	case answer := <-c.answers:
		b.ResetTo(append([]byte(nil), answer...))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *scriptConn) Close() error { return nil }

// recording answers with srv and appends each request and answer to t.
func recording(srv *scriptedServer, t *transcript) func([]byte) ([]byte, error) {
	return func(request []byte) ([]byte, error) {
		body, err := unencryptedBody(&bin.Buffer{Buf: request})
		if err != nil {
			return nil, err
		}
		answer, err := srv.answer(body)
		if err != nil {
			return nil, fmt.Errorf("the scripted server: %w", err)
		}
		var b bin.Buffer
		b.PutLong(0)
		b.PutLong(transcriptTime.Unix()<<32 | int64(4*len(t.Messages)+1)) // a response's msg_id is 1 mod 4
		b.PutInt32(int32(len(answer)))
		b.Put(answer)
		t.Messages = append(t.Messages, message{Request: request, Answer: b.Buf})
		return b.Buf, nil
	}
}

// replaying answers with t's recorded answers, each only to its recorded
// request.
func replaying(t *transcript) func([]byte) ([]byte, error) {
	next := 0
	return func(request []byte) ([]byte, error) {
		if next == len(t.Messages) {
			return nil, fmt.Errorf("request %d: the transcript has %d", next+1, len(t.Messages))
		}
		m := t.Messages[next]
		next++
		if !bytes.Equal(request, m.Request) {
			return nil, fmt.Errorf("the %s client's request %d is not the recorded one (record again: go test -run TestTranscripts -update)", t.Client, next)
		}
		return m.Answer, nil
	}
}

// replay runs t's client against t's answers.
func replay(ctx context.Context, t *transcript) (result, error) {
	r, err := clients[t.Client](ctx, newScriptConn(replaying(t)), t.publicKey(), t.Seed)
	if err != nil {
		return r, err
	}
	return r, t.check(r)
}

// record runs a client against the scripted server and answers the
// transcript.
func record(tb testing.TB, client string) *transcript {
	srv := newScriptedServer(tb)
	t := &transcript{Client: client, Seed: transcriptSeed, N: srv.key.N.Bytes(), E: srv.key.E}
	r, err := clients[client](context.Background(), newScriptConn(recording(srv, t)), &srv.key.PublicKey, t.Seed)
	if err != nil {
		tb.Fatalf("%s against the scripted server: %v", client, err)
	}
	t.Key = append([]byte(nil), srv.authKey[:]...)
	if err := t.check(r); err != nil {
		tb.Fatal(err)
	}
	return t
}

func transcriptPath(client string) string {
	return filepath.Join("testdata", "transcript-"+client+".json")
}

func loadTranscript(tb testing.TB, client string) *transcript {
	b, err := os.ReadFile(transcriptPath(client))
	if err != nil {
		tb.Fatal(err)
	}
	var t transcript
	if err := json.Unmarshal(b, &t); err != nil {
		tb.Fatalf("%s: %v", transcriptPath(client), err)
	}
	if t.Client != client {
		tb.Fatalf("%s is %q's transcript", transcriptPath(client), t.Client)
	}
	return &t
}

// TestTranscripts checks that a replayed exchange makes the key of the
// live one it replays, for an exchange recorded now and for the recorded
// one the benchmarks replay; -update records the latter again.
func TestTranscripts(t *testing.T) {
	for _, client := range []string{"ours", "gotd"} {
		t.Run(client, func(t *testing.T) {
			if client == "gotd" && runtime.GOOS == "js" {
				t.Skip("gotd's exchange takes seconds of CPU in wasm; BenchmarkKeyExchange/gotd replays it there, checking its key")
			}
			live := record(t, client)
			if _, err := replay(context.Background(), live); err != nil {
				t.Fatalf("replaying a live exchange: %v", err)
			}
			if *update {
				b, err := json.MarshalIndent(live, "", "\t")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(transcriptPath(client), append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := replay(context.Background(), loadTranscript(t, client)); err != nil {
				t.Fatalf("replaying %s: %v", transcriptPath(client), err)
			}
		})
	}
}

// oneConn is a dcs.Resolver for gotd's client that hands out one
// connection, once: a second dial (gotd reconnecting after a failure)
// fails the run.
type oneConn struct {
	conn   *scriptConn
	dialed *bool
}

func (r oneConn) Primary(ctx context.Context, dc int, list dcs.List) (transport.Conn, error) {
	if *r.dialed {
		return nil, r.conn.fail(errors.New("gotd's client dialed again"))
	}
	*r.dialed = true
	return r.conn, nil
}

func (r oneConn) MediaOnly(ctx context.Context, dc int, list dcs.List) (transport.Conn, error) {
	return nil, errors.New("no media connections here")
}

func (r oneConn) CDN(ctx context.Context, dc int, list dcs.List) (transport.Conn, error) {
	return nil, errors.New("no CDN connections here")
}

// lockedReader is a random source gotd's goroutines may share.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// fixedClock is gotd's system clock (timers, tickers) with its time fixed
// at transcriptTime, so that gotd's message ids are the same on every run.
type fixedClock struct{ clock.Clock }

func (fixedClock) Now() time.Time { return transcriptTime }
