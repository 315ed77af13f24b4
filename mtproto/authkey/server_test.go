package authkey

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
)

// scriptedServer is the server side of the exchange, written from the
// protocol's text for these tests: it lets a test change any answer.
type scriptedServer struct {
	key         *rsa.PrivateKey
	dc          int
	nonce       bin.Int128
	serverNonce bin.Int128
	newNonce    bin.Int256
	a           *big.Int
	tmpKey      []byte
	tmpIV       []byte
	authKey     [256]byte
}

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// serverKey is one 2048-bit RSA key for the package's tests.
func serverKey(t testing.TB) *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

// seeded is a deterministic random source.
func seeded(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return mrand.NewChaCha8(s)
}

func newScriptedServer(t testing.TB) *scriptedServer {
	srv := &scriptedServer{key: serverKey(t), dc: 2, a: new(big.Int).SetBytes(bytes.Repeat([]byte{0x5a}, 256))}
	copy(srv.serverNonce[:], "server nonce 16b")
	return srv
}

// answer answers one request body, as the server would.
func (s *scriptedServer) answer(req []byte) ([]byte, error) {
	b := &bin.Buffer{Buf: req}
	id, err := b.ID()
	if err != nil {
		return nil, err
	}
	var out bin.Buffer
	switch id {
	case idReqPQMulti:
		if s.nonce, err = b.Int128(); err != nil {
			return nil, err
		}
		out.PutID(idResPQ)
		out.PutInt128(s.nonce)
		out.PutInt128(s.serverNonce)
		out.PutBytes([]byte{0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81})
		out.PutID(idVector)
		out.PutInt(2)
		out.PutLong(12345)
		out.PutLong(Fingerprint(&s.key.PublicKey))
	case idReqDHParams:
		b.Skip(16 + 16)
		for range 2 { // p, q
			if _, err := b.Bytes(); err != nil {
				return nil, err
			}
		}
		if fp, _ := b.Long(); fp != Fingerprint(&s.key.PublicKey) {
			return nil, errors.New("wrong fingerprint")
		}
		encrypted, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		data, err := s.decodeRSAPad(encrypted)
		if err != nil {
			return nil, err
		}
		ib := &bin.Buffer{Buf: data}
		if err := ib.ConsumeID(idPQInnerDataDC); err != nil {
			return nil, err
		}
		for range 3 {
			if _, err := ib.Bytes(); err != nil {
				return nil, err
			}
		}
		ib.Skip(32)
		if s.newNonce, err = ib.Int256(); err != nil {
			return nil, err
		}
		if dc, _ := ib.Int(); dc != s.dc {
			return nil, fmt.Errorf("dc %d", dc)
		}
		s.tmpKey, s.tmpIV = tempAESKeys(s.newNonce, s.serverNonce)
		var inner bin.Buffer
		inner.PutID(idServerDHInnerData)
		inner.PutInt128(s.nonce)
		inner.PutInt128(s.serverNonce)
		inner.PutInt(3)
		inner.PutBytes(telegramPrime.Bytes())
		inner.PutBytes(new(big.Int).Exp(big.NewInt(3), s.a, telegramPrime).Bytes())
		inner.PutInt(int(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Unix()))
		h := sha1.Sum(inner.Buf)
		plain := append(h[:], inner.Buf...)
		plain = append(plain, make([]byte, (16-len(plain)%16)%16)...)
		enc, err := igeEncrypt(s.tmpKey, s.tmpIV, plain)
		if err != nil {
			return nil, err
		}
		out.PutID(idServerDHParamsOK)
		out.PutInt128(s.nonce)
		out.PutInt128(s.serverNonce)
		out.PutBytes(enc)
	case idSetClientDHParams:
		b.Skip(32)
		enc, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		plain, err := igeDecrypt(s.tmpKey, s.tmpIV, enc)
		if err != nil {
			return nil, err
		}
		ib := &bin.Buffer{Buf: plain[20:]}
		if err := ib.ConsumeID(idClientDHInnerData); err != nil {
			return nil, err
		}
		ib.Skip(32 + 8)
		gb, err := ib.Bytes()
		if err != nil {
			return nil, err
		}
		new(big.Int).Exp(new(big.Int).SetBytes(gb), s.a, telegramPrime).FillBytes(s.authKey[:])
		kh := sha1.Sum(s.authKey[:])
		nh := sha1.Sum(append(append(s.newNonce[:], 1), kh[:8]...))
		out.PutID(idDHGenOK)
		out.PutInt128(s.nonce)
		out.PutInt128(s.serverNonce)
		out.Put(nh[4:20])
	default:
		return nil, bin.NewUnexpectedID(id)
	}
	return out.Buf, nil
}

// decodeRSAPad undoes rsaPad with the private key.
func (s *scriptedServer) decodeRSAPad(c []byte) ([]byte, error) {
	x := new(big.Int).Exp(new(big.Int).SetBytes(c), s.key.D, s.key.N).FillBytes(make([]byte, 256))
	encrypted := x[32:]
	mask := sha256.Sum256(encrypted)
	tempKey := make([]byte, 32)
	for i := range tempKey {
		tempKey[i] = x[i] ^ mask[i]
	}
	withHash, err := igeDecrypt(tempKey, make([]byte, 32), encrypted)
	if err != nil {
		return nil, err
	}
	data := make([]byte, 192)
	for i := range data {
		data[i] = withHash[191-i]
	}
	h := sha256.Sum256(append(append([]byte{}, tempKey...), data...))
	if !bytes.Equal(h[:], withHash[192:]) {
		return nil, errors.New("RSA_PAD hash mismatch")
	}
	return data, nil
}

// run drives a client with the server's answers, each passed through
// change (step 0, 1, 2) first.
func run(t testing.TB, seed uint64, change func(step int, answer []byte) []byte) (Key, *scriptedServer, error) {
	srv := newScriptedServer(t)
	c, err := newClient(Options{DC: 2, PublicKeys: []*rsa.PublicKey{&srv.key.PublicKey}, Rand: seeded(seed)})
	if err != nil {
		return Key{}, nil, err
	}
	req := c.start()
	for step := 0; ; step++ {
		ans, err := srv.answer(req)
		if err != nil {
			return Key{}, nil, fmt.Errorf("the scripted server: %w", err)
		}
		if change != nil {
			ans = change(step, ans)
		}
		var done bool
		if req, done, err = c.next(ans); err != nil {
			return Key{}, srv, &Error{Step: c.step(), Err: err}
		}
		if done {
			return c.key, srv, nil
		}
	}
}

func TestExchangeScripted(t *testing.T) {
	key, srv, err := run(t, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key.Value != srv.authKey {
		t.Fatal("the client and the server hold different keys")
	}
	kh := sha1.Sum(key.Value[:])
	if !bytes.Equal(key.ID[:], kh[12:20]) {
		t.Error("key id is not SHA-1(key)[12:20]")
	}
	var salt [8]byte
	for i := range salt {
		salt[i] = srv.newNonce[i] ^ srv.serverNonce[i]
	}
	if want := int64(uint64(salt[0]) | uint64(salt[1])<<8 | uint64(salt[2])<<16 | uint64(salt[3])<<24 |
		uint64(salt[4])<<32 | uint64(salt[5])<<40 | uint64(salt[6])<<48 | uint64(salt[7])<<56); key.Salt != want {
		t.Errorf("salt %x, want %x", key.Salt, want)
	}
	if !key.ServerTime.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("server time %v", key.ServerTime)
	}
}

// Every answer that is not what the protocol allows ends the exchange with
// an error that names the step and the fault.
func TestExchangeRefusesBadAnswers(t *testing.T) {
	at := func(step int, f func(b []byte) []byte) func(int, []byte) []byte {
		return func(s int, b []byte) []byte {
			if s == step {
				return f(append([]byte(nil), b...))
			}
			return b
		}
	}
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 1
			return b
		}
	}
	// Offsets: every answer starts with its id (4 bytes), nonce (16),
	// server_nonce (16).
	for _, c := range []struct {
		name, want string
		change     func(int, []byte) []byte
	}{
		{"resPQ for another nonce", "req_pq_multi: resPQ answers another nonce", at(0, flip(4))},
		{"resPQ without a known key", "none of the server's 2 key fingerprints", at(0, flip(-1))},
		{"resPQ whose pq is prime", "pq is not a product of two primes", at(0, func(b []byte) []byte {
			copy(b[37:45], []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC5})
			return b
		})},
		{"resPQ cut short", "reading resPQ", at(0, func(b []byte) []byte { return b[:30] })},
		{"another answer for resPQ", "reading resPQ", at(0, func(b []byte) []byte { b[0] ^= 0xff; return b })},
		{"Server_DH_Params for another server nonce", "answers other nonces", at(1, flip(20))},
		{"an encrypted answer tampered with", "does not match its hash", at(1, flip(-1))},
		{"dh_gen_ok with a wrong hash", "dh_gen_ok with a wrong new_nonce_hash1", at(2, flip(-1))},
		{"dh_gen_ok for another nonce", "answers other nonces", at(2, flip(4))},
	} {
		_, _, err := run(t, 1, c.change)
		var e *Error
		if !errors.As(err, &e) || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestCheckPrimeAndG(t *testing.T) {
	if err := checkPrimeAndG(telegramPrime, 3); err != nil {
		t.Errorf("Telegram's prime with g = 3: %v", err)
	}
	other := new(big.Int).Add(telegramPrime, big.NewInt(2))
	if err := checkPrimeAndG(other, 3); !errors.Is(err, errUnknownPrime) {
		t.Errorf("another prime: %v", err)
	}
	for _, g := range []int{0, 1, 8, -3} {
		if err := checkPrimeAndG(telegramPrime, g); err == nil {
			t.Errorf("g = %d accepted", g)
		}
	}
	// Which g generate the prime-order subgroup depends on the prime.
	var ok []int
	for g := 2; g <= 7; g++ {
		if checkPrimeAndG(telegramPrime, g) == nil {
			ok = append(ok, g)
		}
	}
	if fmt.Sprint(ok) != "[3 4 7]" { // Telegram's servers send 3 or 7
		t.Errorf("g accepted with Telegram's prime: %v", ok)
	}
}

func TestCheckPublic(t *testing.T) {
	p := telegramPrime
	for _, c := range []struct {
		name string
		x    *big.Int
		want bool
	}{
		{"1", big.NewInt(1), false},
		{"2", big.NewInt(2), false},
		{"2^1984 - 1", new(big.Int).Sub(safetyMin, one), false},
		{"2^1984", safetyMin, true},
		{"p - 2^1984", new(big.Int).Sub(p, safetyMin), true},
		{"p - 2^1984 + 1", new(big.Int).Add(new(big.Int).Sub(p, safetyMin), one), false},
		{"p - 1", new(big.Int).Sub(p, one), false},
		{"p", p, false},
	} {
		if got := checkPublic(c.x, p); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzServerAnswers feeds the client any answer at any step, after real
// answers to the steps before it: it must refuse or finish, never panic,
// and never finish with a key the server does not hold.
func FuzzServerAnswers(f *testing.F) {
	for step := range 3 {
		srv := newScriptedServer(f)
		c, _ := newClient(Options{DC: 2, PublicKeys: []*rsa.PublicKey{&srv.key.PublicKey}, Rand: seeded(7)})
		req := c.start()
		for s := 0; ; s++ {
			ans, err := srv.answer(req)
			if err != nil {
				f.Fatal(err)
			}
			if s == step {
				f.Add(uint8(step), ans)
				break
			}
			if req, _, err = c.next(ans); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, step uint8, answer []byte) {
		step %= 3
		key, srv, err := run(t, 7, func(s int, b []byte) []byte {
			if s == int(step) {
				return answer
			}
			return b
		})
		if err == nil && key.Value != srv.authKey {
			t.Fatal("the exchange finished with a key the server does not hold")
		}
	})
}

func BenchmarkExchangeScripted(b *testing.B) {
	serverKey(b)
	for b.Loop() {
		if _, _, err := run(b, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}
