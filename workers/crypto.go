package workers

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"errors"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// PBKDF2SHA512 derives keyLen bytes from password and salt with PBKDF2-HMAC-
// SHA512 (RFC 8018) and iter rounds. In a worker it asks WebCrypto
// (crypto.subtle.deriveBits, native code) in ctx's request: Go's SHA-512 in
// wasm is about 50 times slower, which matters for Telegram's 2FA (100,000
// rounds, seconds of CPU). Elsewhere it is Go's crypto/pbkdf2.
func PBKDF2SHA512(ctx context.Context, password, salt []byte, iter, keyLen int) ([]byte, error) {
	if iter < 1 || keyLen < 1 || keyLen > 1<<16 {
		return nil, errors.New("workers: PBKDF2 needs at least one round and 1 to 65536 bytes")
	}
	w := wire.Writer{}
	w.String("SHA-512")
	w.Bytes(password)
	w.Bytes(salt)
	w.U32(uint32(iter))
	w.U32(uint32(keyLen * 8))
	rep, err := bridge.Do(ctx, bridge.OpPBKDF2, w.Buf)
	if errors.Is(err, bridge.ErrNotWorker) {
		return pbkdf2.Key(sha512.New, string(password), salt, iter, keyLen)
	}
	if err != nil {
		return nil, err
	}
	if rep.Status != bridge.StatusOK {
		return nil, remoteError(rep.Payload)
	}
	if len(rep.Payload) != keyLen {
		return nil, errors.New("workers: PBKDF2 answered a key of the wrong length")
	}
	return rep.Payload, nil
}
