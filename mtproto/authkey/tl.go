package authkey

import (
	"fmt"

	"github.com/gotd/td/bin"
)

// The TL constructors of the key exchange (MTProto's mtproto.tl). gotd's
// own types for them are internal to gotd; these are written on its public
// bin package.
const (
	idReqPQMulti        = 0xbe7e8ef1
	idResPQ             = 0x05162463
	idPQInnerDataDC     = 0xa9f55f95
	idReqDHParams       = 0xd712e4be
	idServerDHParamsOK  = 0xd0e8075c
	idServerDHParamsErr = 0x79cb045d // server_DH_params_fail
	idServerDHInnerData = 0xb5890dba
	idClientDHInnerData = 0x6643b654
	idSetClientDHParams = 0xf5045f1f
	idDHGenOK           = 0x3bcbf734
	idDHGenRetry        = 0x46dc1fb9
	idDHGenFail         = 0xa69dae02
	idVector            = 0x1cb5c415
)

// maxFingerprints bounds the vector of key fingerprints read from resPQ.
const maxFingerprints = 64

type resPQ struct {
	Nonce, ServerNonce bin.Int128
	PQ                 []byte
	Fingerprints       []int64
}

func (m *resPQ) decode(b *bin.Buffer) error {
	if err := b.ConsumeID(idResPQ); err != nil {
		return err
	}
	var err error
	if m.Nonce, err = b.Int128(); err != nil {
		return err
	}
	if m.ServerNonce, err = b.Int128(); err != nil {
		return err
	}
	if m.PQ, err = b.Bytes(); err != nil {
		return err
	}
	if err := b.ConsumeID(idVector); err != nil {
		return err
	}
	n, err := b.Int()
	if err != nil {
		return err
	}
	if n < 0 || n > maxFingerprints {
		return fmt.Errorf("%d key fingerprints", n)
	}
	m.Fingerprints = make([]int64, n)
	for i := range m.Fingerprints {
		if m.Fingerprints[i], err = b.Long(); err != nil {
			return err
		}
	}
	return nil
}

type pqInnerDataDC struct {
	PQ, P, Q           []byte
	Nonce, ServerNonce bin.Int128
	NewNonce           bin.Int256
	DC                 int
}

func (m *pqInnerDataDC) encode(b *bin.Buffer) {
	b.PutID(idPQInnerDataDC)
	b.PutBytes(m.PQ)
	b.PutBytes(m.P)
	b.PutBytes(m.Q)
	b.PutInt128(m.Nonce)
	b.PutInt128(m.ServerNonce)
	b.PutInt256(m.NewNonce)
	b.PutInt(m.DC)
}

// serverDHParams is server_DH_params_ok, or server_DH_params_fail when
// Failed (then NewNonceHash is set, EncryptedAnswer not).
type serverDHParams struct {
	Failed             bool
	Nonce, ServerNonce bin.Int128
	NewNonceHash       bin.Int128
	EncryptedAnswer    []byte
}

func (m *serverDHParams) decode(b *bin.Buffer) error {
	id, err := b.ID()
	if err != nil {
		return err
	}
	switch id {
	case idServerDHParamsOK, idServerDHParamsErr:
	default:
		return bin.NewUnexpectedID(id)
	}
	m.Failed = id == idServerDHParamsErr
	if m.Nonce, err = b.Int128(); err != nil {
		return err
	}
	if m.ServerNonce, err = b.Int128(); err != nil {
		return err
	}
	if m.Failed {
		m.NewNonceHash, err = b.Int128()
		return err
	}
	m.EncryptedAnswer, err = b.Bytes()
	return err
}

type serverDHInnerData struct {
	Nonce, ServerNonce bin.Int128
	G                  int
	DHPrime, GA        []byte
	ServerTime         int
}

func (m *serverDHInnerData) decode(b *bin.Buffer) error {
	if err := b.ConsumeID(idServerDHInnerData); err != nil {
		return err
	}
	var err error
	if m.Nonce, err = b.Int128(); err != nil {
		return err
	}
	if m.ServerNonce, err = b.Int128(); err != nil {
		return err
	}
	if m.G, err = b.Int(); err != nil {
		return err
	}
	if m.DHPrime, err = b.Bytes(); err != nil {
		return err
	}
	if m.GA, err = b.Bytes(); err != nil {
		return err
	}
	m.ServerTime, err = b.Int()
	return err
}

type clientDHInnerData struct {
	Nonce, ServerNonce bin.Int128
	RetryID            int64
	GB                 []byte
}

func (m *clientDHInnerData) encode(b *bin.Buffer) {
	b.PutID(idClientDHInnerData)
	b.PutInt128(m.Nonce)
	b.PutInt128(m.ServerNonce)
	b.PutLong(m.RetryID)
	b.PutBytes(m.GB)
}

// dhGen is dh_gen_ok, dh_gen_retry or dh_gen_fail: ID says which, Hash is
// new_nonce_hash1, 2 or 3.
type dhGen struct {
	ID                 uint32
	Nonce, ServerNonce bin.Int128
	Hash               bin.Int128
}

func (m *dhGen) decode(b *bin.Buffer) error {
	id, err := b.ID()
	if err != nil {
		return err
	}
	switch id {
	case idDHGenOK, idDHGenRetry, idDHGenFail:
	default:
		return bin.NewUnexpectedID(id)
	}
	m.ID = id
	if m.Nonce, err = b.Int128(); err != nil {
		return err
	}
	if m.ServerNonce, err = b.Int128(); err != nil {
		return err
	}
	m.Hash, err = b.Int128()
	return err
}
