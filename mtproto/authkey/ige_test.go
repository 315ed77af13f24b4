package authkey

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The AES-IGE test vectors published with OpenSSL's IGE implementation
// (AES-128 keys; IGE itself does not depend on the key size).
func TestIGEVectors(t *testing.T) {
	for _, v := range []struct{ key, iv, plain, cipher string }{
		{
			"000102030405060708090a0b0c0d0e0f",
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			"0000000000000000000000000000000000000000000000000000000000000000",
			"1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb",
		},
		{
			"5468697320697320616e20696d706c65",
			"6d656e746174696f6e206f6620494745206d6f646520666f72204f70656e5353",
			"99706487a1cde613bc6de0b6f24b1c7aa448c8b9c3403e3467a8cad89340f53b",
			"4c2e204c6574277320686f70652042656e20676f74206974207269676874210a",
		},
	} {
		key, iv, plain, cipher := unhex(t, v.key), unhex(t, v.iv), unhex(t, v.plain), unhex(t, v.cipher)
		got, err := igeEncrypt(key, iv, plain)
		if err != nil || !bytes.Equal(got, cipher) {
			t.Errorf("encrypt: %x %v, want %x", got, err, cipher)
		}
		got, err = igeDecrypt(key, iv, cipher)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("decrypt: %x %v, want %x", got, err, plain)
		}
	}
}

func TestIGERefuses(t *testing.T) {
	key := make([]byte, 32)
	if _, err := igeEncrypt(key, make([]byte, 16), make([]byte, 16)); err == nil {
		t.Error("a 16-byte iv was accepted")
	}
	if _, err := igeDecrypt(key, make([]byte, 32), make([]byte, 17)); err == nil {
		t.Error("17 bytes were accepted")
	}
}
