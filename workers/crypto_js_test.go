//go:build js && wasm

package workers

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha512"
	"testing"
)

// In a worker PBKDF2SHA512 is WebCrypto's; it must derive what Go does.
func TestPBKDF2SHA512IsWebCryptos(t *testing.T) {
	for _, c := range []struct {
		password, salt string
		iter, n        int
	}{
		{"correct horse battery staple", "salt-1", 1, 64},
		{"sesame-🔑 öffne dich", "\x00\x01\x02", 1000, 64},
		{"", "s", 3, 17},
	} {
		got, err := PBKDF2SHA512(testCtx(t), []byte(c.password), []byte(c.salt), c.iter, c.n)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := pbkdf2.Key(sha512.New, c.password, []byte(c.salt), c.iter, c.n)
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v: WebCrypto %x, Go %x", c, got, want)
		}
	}
	if _, err := PBKDF2SHA512(testCtx(t), []byte("p"), []byte("s"), 0, 64); err == nil {
		t.Fatal("zero rounds accepted")
	}
}
