package authkey

import (
	"crypto/aes"
	"errors"
)

// AES in infinite garble extension mode, as MTProto uses it: iv is 32 bytes,
// the first half the previous ciphertext block's stand-in, the second the
// previous plaintext block's.

func igeEncrypt(key, iv, src []byte) ([]byte, error) { return ige(key, iv, src, true) }
func igeDecrypt(key, iv, src []byte) ([]byte, error) { return ige(key, iv, src, false) }

func ige(key, iv, src []byte, encrypt bool) ([]byte, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	const bs = aes.BlockSize
	if len(iv) != 2*bs {
		return nil, errors.New("IGE needs a 32-byte iv")
	}
	if len(src)%bs != 0 {
		return nil, errors.New("IGE input is not a whole number of 16-byte blocks")
	}
	// prevIn is what is XORed into the input, prevOut into the output.
	var prevIn, prevOut [bs]byte
	if encrypt {
		copy(prevIn[:], iv[:bs])
		copy(prevOut[:], iv[bs:])
	} else {
		copy(prevIn[:], iv[bs:])
		copy(prevOut[:], iv[:bs])
	}
	dst := make([]byte, len(src))
	var buf [bs]byte
	for i := 0; i < len(src); i += bs {
		in := src[i : i+bs]
		for j := range buf {
			buf[j] = in[j] ^ prevIn[j]
		}
		if encrypt {
			c.Encrypt(buf[:], buf[:])
		} else {
			c.Decrypt(buf[:], buf[:])
		}
		out := dst[i : i+bs]
		for j := range buf {
			out[j] = buf[j] ^ prevOut[j]
		}
		copy(prevIn[:], out)
		copy(prevOut[:], in)
	}
	return dst, nil
}
