// Package authkey creates an MTProto 2.0 authorization key with a Telegram
// data center: req_pq_multi, RSA_PAD, req_DH_params, set_client_DH_params,
// dh_gen_ok, as "Creating an Authorization Key" specifies them.
//
// It exists for speed. gotd's own exchange factors pq and tests dh_prime
// with math/big: 7 to 14 s of CPU in wasm, beyond a Worker's budget. Here pq
// is factored on uint64 with math/bits (Pollard–Brent), and dh_prime is
// recognised by value as Telegram's published prime (any other is refused:
// see errUnknownPrime), leaving two 2048-bit modular exponentiations (g^b
// and g_a^b) as the bulk of the work. The key and server salt it answers
// are handed to gotd, which does everything after.
//
// Nothing here logs, and errors never carry key material.
package authkey

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- MTProto 2.0's key exchange is defined with SHA-1
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/transport"
)

// Options are what an exchange needs to know about the data center.
type Options struct {
	// DC is the data center's number as Telegram has the client write it in
	// p_q_inner_data_dc (a test data center's is 10000 more).
	DC int
	// PublicKeys are the server's RSA keys; one must match a fingerprint the
	// server offers.
	PublicKeys []*rsa.PublicKey
	// Rand is the source of nonces and secrets; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock for message ids; nil means time.Now.
	Now func() time.Time
}

// Key is a finished exchange's result.
type Key struct {
	// Value is the 2048-bit authorization key, big-endian.
	Value [256]byte
	// ID is the key's id: the lower 64 bits of SHA-1 of Value.
	ID [8]byte
	// Salt is the first server salt: new_nonce XOR server_nonce, 64 bits.
	Salt int64
	// ServerTime is the server's clock during the exchange.
	ServerTime time.Time
}

// Error is a failed exchange: the step (the message being handled) and why.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return "auth key exchange, " + e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// maxRetries bounds dh_gen_retry answers before the exchange gives up.
const maxRetries = 4

// Exchange creates an authorization key over conn, a connection to the data
// center with its transport codec in place (gotd's transport.Protocol
// Handshake makes one from a net.Conn). It sends three requests and reads
// three answers; ctx bounds each.
func Exchange(ctx context.Context, conn transport.Conn, opts Options) (Key, error) {
	c, err := newClient(opts)
	if err != nil {
		return Key{}, err
	}
	req := c.start()
	for {
		ans, err := c.roundTrip(ctx, conn, req)
		if err != nil {
			return Key{}, &Error{Step: c.step(), Err: err}
		}
		var done bool
		if req, done, err = c.next(ans); err != nil {
			return Key{}, &Error{Step: c.step(), Err: err}
		}
		if done {
			return c.key, nil
		}
	}
}

type state int

const (
	awaitResPQ state = iota
	awaitServerDH
	awaitDHGen
	finished
)

// client is one exchange as a state machine: start gives the first
// request, next takes each answer's body and gives the following request.
// It does no I/O, so a fuzz test can feed it any answer.
type client struct {
	opts  Options
	rand  io.Reader
	state state

	nonce, serverNonce bin.Int128
	newNonce           bin.Int256
	tmpKey, tmpIV      []byte
	g                  *big.Int
	gA, prime          *big.Int
	serverTime         int
	retries            int
	retryID            int64
	authKey            [256]byte
	key                Key

	lastMsgID int64
}

func newClient(opts Options) (*client, error) {
	if len(opts.PublicKeys) == 0 {
		return nil, errors.New("auth key exchange: no server public keys")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &client{opts: opts, rand: opts.Rand}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	return c, nil
}

func (c *client) step() string {
	switch c.state {
	case awaitResPQ:
		return "req_pq_multi"
	case awaitServerDH:
		return "req_DH_params"
	case awaitDHGen:
		return "set_client_DH_params"
	}
	return "done"
}

func (c *client) start() []byte {
	c.state = awaitResPQ
	if _, err := io.ReadFull(c.rand, c.nonce[:]); err != nil {
		panic("auth key exchange: the random source failed: " + err.Error())
	}
	var b bin.Buffer
	b.PutID(idReqPQMulti)
	b.PutInt128(c.nonce)
	return b.Buf
}

// next handles the answer to the last request.
func (c *client) next(answer []byte) (req []byte, done bool, err error) {
	b := &bin.Buffer{Buf: answer}
	switch c.state {
	case awaitResPQ:
		req, err = c.onResPQ(b)
	case awaitServerDH:
		req, err = c.onServerDH(b)
	case awaitDHGen:
		req, done, err = c.onDHGen(b)
	default:
		err = errors.New("the exchange is over")
	}
	return req, done, err
}

func (c *client) onResPQ(b *bin.Buffer) ([]byte, error) {
	var m resPQ
	if err := m.decode(b); err != nil {
		return nil, fmt.Errorf("reading resPQ: %w", err)
	}
	if m.Nonce != c.nonce {
		return nil, errors.New("resPQ answers another nonce")
	}
	if len(m.PQ) == 0 || len(m.PQ) > 8 {
		return nil, fmt.Errorf("pq is %d bytes, want 1 to 8", len(m.PQ))
	}
	var key *rsa.PublicKey
	var fingerprint int64
	for _, k := range c.opts.PublicKeys {
		fp := Fingerprint(k)
		for _, f := range m.Fingerprints {
			if f == fp && key == nil {
				key, fingerprint = k, fp
			}
		}
	}
	if key == nil {
		return nil, fmt.Errorf("none of the server's %d key fingerprints is a known key's", len(m.Fingerprints))
	}
	var pq [8]byte
	copy(pq[8-len(m.PQ):], m.PQ)
	p, q, err := splitPQ(binary.BigEndian.Uint64(pq[:]))
	if err != nil {
		return nil, err
	}
	c.serverNonce = m.ServerNonce
	if err := c.readNewNonce(); err != nil {
		return nil, err
	}
	inner := pqInnerDataDC{
		PQ: m.PQ, P: beBytes(p), Q: beBytes(q),
		Nonce: c.nonce, ServerNonce: c.serverNonce, NewNonce: c.newNonce, DC: c.opts.DC,
	}
	var data bin.Buffer
	inner.encode(&data)
	encrypted, err := rsaPad(data.Buf, key, c.rand)
	if err != nil {
		return nil, err
	}
	var req bin.Buffer
	req.PutID(idReqDHParams)
	req.PutInt128(c.nonce)
	req.PutInt128(c.serverNonce)
	req.PutBytes(inner.P)
	req.PutBytes(inner.Q)
	req.PutLong(fingerprint)
	req.PutBytes(encrypted)
	c.tmpKey, c.tmpIV = tempAESKeys(c.newNonce, c.serverNonce)
	c.state = awaitServerDH
	return req.Buf, nil
}

// readNewNonce draws new_nonce with a first byte that is not zero (0.006
// bits less entropy of 256): servers that read nonces as big integers,
// gotd's tgtest among them, drop a leading zero byte from the hashes the
// temporary keys come from, and would not agree with the protocol's keys.
func (c *client) readNewNonce() error {
	for {
		if _, err := io.ReadFull(c.rand, c.newNonce[:]); err != nil {
			return err
		}
		if c.newNonce[0] != 0 {
			return nil
		}
	}
}

func (c *client) onServerDH(b *bin.Buffer) ([]byte, error) {
	var m serverDHParams
	if err := m.decode(b); err != nil {
		return nil, fmt.Errorf("reading Server_DH_Params: %w", err)
	}
	if m.Nonce != c.nonce || m.ServerNonce != c.serverNonce {
		return nil, errors.New("Server_DH_Params answers other nonces")
	}
	if m.Failed {
		h := sha1.Sum(c.newNonce[:]) // #nosec G401
		if !bytes.Equal(h[4:20], m.NewNonceHash[:]) {
			return nil, errors.New("server_DH_params_fail with a wrong new_nonce_hash")
		}
		return nil, errors.New("the server refused the key exchange (server_DH_params_fail)")
	}
	if len(m.EncryptedAnswer) < 32 || len(m.EncryptedAnswer)%16 != 0 {
		return nil, fmt.Errorf("encrypted_answer is %d bytes, not a whole number of blocks", len(m.EncryptedAnswer))
	}
	answer, err := igeDecrypt(c.tmpKey, c.tmpIV, m.EncryptedAnswer)
	if err != nil {
		return nil, err
	}
	ib := &bin.Buffer{Buf: answer[sha1.Size:]}
	var inner serverDHInnerData
	if err := inner.decode(ib); err != nil {
		return nil, fmt.Errorf("reading server_DH_inner_data: %w", err)
	}
	innerLen := len(answer) - sha1.Size - ib.Len()
	if ib.Len() >= 16 {
		return nil, fmt.Errorf("encrypted_answer has %d bytes of padding, want fewer than 16", ib.Len())
	}
	if h := sha1.Sum(answer[sha1.Size : sha1.Size+innerLen]); !bytes.Equal(h[:], answer[:sha1.Size]) { // #nosec G401
		return nil, errors.New("server_DH_inner_data does not match its hash (wrong temporary key?)")
	}
	if inner.Nonce != c.nonce || inner.ServerNonce != c.serverNonce {
		return nil, errors.New("server_DH_inner_data answers other nonces")
	}
	c.prime = new(big.Int).SetBytes(inner.DHPrime)
	if err := checkPrimeAndG(c.prime, inner.G); err != nil {
		return nil, err
	}
	c.g = big.NewInt(int64(inner.G))
	c.gA = new(big.Int).SetBytes(inner.GA)
	if !checkPublic(c.gA, c.prime) {
		return nil, errors.New("g_a is outside the range the protocol allows")
	}
	c.serverTime = inner.ServerTime
	return c.clientDHParams()
}

// clientDHParams draws b and answers set_client_DH_params with g_b.
func (c *client) clientDHParams() ([]byte, error) {
	var gB, authKey *big.Int
	secret := make([]byte, 256)
	for {
		if _, err := io.ReadFull(c.rand, secret); err != nil {
			return nil, err
		}
		bInt := new(big.Int).SetBytes(secret)
		gB = new(big.Int).Exp(c.g, bInt, c.prime)
		if !checkPublic(gB, c.prime) {
			continue // once in about 2^64 draws
		}
		authKey = new(big.Int).Exp(c.gA, bInt, c.prime)
		break
	}
	clear(secret)
	authKey.FillBytes(c.authKey[:])
	inner := clientDHInnerData{Nonce: c.nonce, ServerNonce: c.serverNonce, RetryID: c.retryID, GB: gB.Bytes()}
	var data bin.Buffer
	inner.encode(&data)
	h := sha1.Sum(data.Buf) // #nosec G401
	withHash := append(h[:], data.Buf...)
	pad := (16 - len(withHash)%16) % 16
	padding := make([]byte, pad)
	if _, err := io.ReadFull(c.rand, padding); err != nil {
		return nil, err
	}
	encrypted, err := igeEncrypt(c.tmpKey, c.tmpIV, append(withHash, padding...))
	if err != nil {
		return nil, err
	}
	var req bin.Buffer
	req.PutID(idSetClientDHParams)
	req.PutInt128(c.nonce)
	req.PutInt128(c.serverNonce)
	req.PutBytes(encrypted)
	c.state = awaitDHGen
	return req.Buf, nil
}

func (c *client) onDHGen(b *bin.Buffer) ([]byte, bool, error) {
	var m dhGen
	if err := m.decode(b); err != nil {
		return nil, false, fmt.Errorf("reading Set_client_DH_params_answer: %w", err)
	}
	if m.Nonce != c.nonce || m.ServerNonce != c.serverNonce {
		return nil, false, errors.New("Set_client_DH_params_answer answers other nonces")
	}
	keyHash := sha1.Sum(c.authKey[:]) // #nosec G401
	aux := keyHash[:8]
	nonceHash := func(n byte) []byte {
		h := sha1.Sum(append(append(c.newNonce[:], n), aux...)) // #nosec G401
		return h[4:20]
	}
	switch m.ID {
	case idDHGenOK:
		if !bytes.Equal(m.Hash[:], nonceHash(1)) {
			return nil, false, errors.New("dh_gen_ok with a wrong new_nonce_hash1")
		}
	case idDHGenRetry:
		if !bytes.Equal(m.Hash[:], nonceHash(2)) {
			return nil, false, errors.New("dh_gen_retry with a wrong new_nonce_hash2")
		}
		if c.retries++; c.retries > maxRetries {
			return nil, false, fmt.Errorf("the server asked to retry %d times", c.retries)
		}
		c.retryID = int64(binary.LittleEndian.Uint64(aux))
		req, err := c.clientDHParams()
		return req, false, err
	default:
		if !bytes.Equal(m.Hash[:], nonceHash(3)) {
			return nil, false, errors.New("dh_gen_fail with a wrong new_nonce_hash3")
		}
		return nil, false, errors.New("the server refused the key (dh_gen_fail)")
	}
	c.key = Key{Value: c.authKey, ServerTime: time.Unix(int64(c.serverTime), 0)}
	copy(c.key.ID[:], keyHash[12:20])
	var salt [8]byte
	for i := range salt {
		salt[i] = c.newNonce[i] ^ c.serverNonce[i]
	}
	c.key.Salt = int64(binary.LittleEndian.Uint64(salt[:]))
	c.state = finished
	return nil, true, nil
}

// tempAESKeys derives tmp_aes_key and tmp_aes_iv from the nonces' bytes:
//
//	key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0:12]
//	iv  = SHA1(server_nonce + new_nonce)[12:20] + SHA1(new_nonce + new_nonce) + new_nonce[0:4]
func tempAESKeys(newNonce bin.Int256, serverNonce bin.Int128) (key, iv []byte) {
	sum := func(a, b []byte) []byte {
		h := sha1.Sum(append(append([]byte{}, a...), b...)) // #nosec G401
		return h[:]
	}
	nsn := sum(newNonce[:], serverNonce[:])
	snn := sum(serverNonce[:], newNonce[:])
	nn := sum(newNonce[:], newNonce[:])
	key = append(append(key, nsn...), snn[:12]...)
	iv = append(append(append(iv, snn[12:20]...), nn...), newNonce[:4]...)
	return key, iv
}

// beBytes is n as TL writes p and q: big-endian, no leading zeros.
func beBytes(n uint64) []byte { return new(big.Int).SetUint64(n).Bytes() }

// roundTrip sends req as an unencrypted message and answers the body of
// the unencrypted message that comes back.
func (c *client) roundTrip(ctx context.Context, conn transport.Conn, req []byte) ([]byte, error) {
	id := c.opts.Now().UnixNano()
	id = (id/1e9)<<32 | (id%1e9)&^3
	if id <= c.lastMsgID {
		id = c.lastMsgID + 4
	}
	c.lastMsgID = id
	var b bin.Buffer
	b.PutLong(0) // auth_key_id 0: unencrypted
	b.PutLong(id)
	b.PutInt32(int32(len(req)))
	b.Put(req)
	if err := conn.Send(ctx, &b); err != nil {
		return nil, fmt.Errorf("sending: %w", err)
	}
	b.Reset()
	if err := conn.Recv(ctx, &b); err != nil {
		return nil, fmt.Errorf("receiving: %w", err)
	}
	return unencryptedBody(&b)
}

// unencryptedBody reads an unencrypted message: auth_key_id 0, message id,
// length, body.
func unencryptedBody(b *bin.Buffer) ([]byte, error) {
	keyID, err := b.Long()
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if keyID != 0 {
		return nil, errors.New("the answer is not an unencrypted message")
	}
	if _, err := b.Long(); err != nil {
		return nil, fmt.Errorf("reading the answer's message id: %w", err)
	}
	n, err := b.Int32()
	if err != nil {
		return nil, fmt.Errorf("reading the answer's length: %w", err)
	}
	if n < 0 || int(n) > b.Len() {
		return nil, fmt.Errorf("the answer says %d bytes and has %d", n, b.Len())
	}
	return b.Buf[:n], nil
}
