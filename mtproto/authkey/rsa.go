package authkey

import (
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- MTProto's key fingerprint is defined with SHA-1
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/big"

	"github.com/gotd/td/bin"
)

// Fingerprint is Telegram's fingerprint of an RSA public key: the lower 64
// bits of SHA-1 of the key as TL (rsa_public_key n:bytes e:bytes).
func Fingerprint(k *rsa.PublicKey) int64 {
	var b bin.Buffer
	b.PutBytes(k.N.Bytes())
	b.PutBytes(big.NewInt(int64(k.E)).Bytes())
	h := sha1.Sum(b.Buf) // #nosec G401
	return int64(binary.LittleEndian.Uint64(h[12:20]))
}

// rsaPad encrypts data (at most 144 bytes: p_q_inner_data_dc) for the
// server with RSA_PAD, the scheme of MTProto 2.0's req_DH_params: the data
// padded to 192 bytes, reversed, hashed with a random temporary key,
// encrypted with it in AES-256-IGE, the key masked with the ciphertext's
// hash, and the 256 bytes raised to the key's exponent.
func rsaPad(data []byte, key *rsa.PublicKey, rand io.Reader) ([]byte, error) {
	const (
		padded  = 192
		size    = 256
		maxData = 144
	)
	if len(data) > maxData {
		return nil, errors.New("RSA_PAD data longer than 144 bytes")
	}
	if key.N.BitLen() != 2048 {
		return nil, errors.New("the server's RSA key is not 2048 bits")
	}
	withPadding := make([]byte, padded)
	copy(withPadding, data)
	if _, err := io.ReadFull(rand, withPadding[len(data):]); err != nil {
		return nil, err
	}
	reversed := make([]byte, padded)
	for i, c := range withPadding {
		reversed[padded-1-i] = c
	}
	e := big.NewInt(int64(key.E))
	for {
		tempKey := make([]byte, 32)
		if _, err := io.ReadFull(rand, tempKey); err != nil {
			return nil, err
		}
		h := sha256.New()
		h.Write(tempKey)
		h.Write(withPadding)
		withHash := h.Sum(reversed[:padded:padded]) // reversed + SHA256(temp_key + data_with_padding)
		encrypted, err := igeEncrypt(tempKey, make([]byte, 32), withHash)
		if err != nil {
			return nil, err
		}
		mask := sha256.Sum256(encrypted)
		block := make([]byte, 0, size)
		for i := range tempKey {
			block = append(block, tempKey[i]^mask[i])
		}
		block = append(block, encrypted...)
		x := new(big.Int).SetBytes(block)
		if x.Cmp(key.N) >= 0 { // about once in a few tries for a key just above 2^2047
			continue
		}
		return new(big.Int).Exp(x, e, key.N).FillBytes(make([]byte, size)), nil
	}
}
