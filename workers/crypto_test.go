//go:build !js

package workers

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"testing"
)

// Outside a worker PBKDF2SHA512 is Go's.
func TestPBKDF2SHA512Native(t *testing.T) {
	got, err := PBKDF2SHA512(context.Background(), []byte("password"), []byte("salt"), 2, 64)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pbkdf2.Key(sha512.New, "password", []byte("salt"), 2, 64)
	if !bytes.Equal(got, want) {
		t.Fatalf("%x", got)
	}
	for _, bad := range [][2]int{{0, 64}, {1, 0}, {1, 1 << 17}} {
		if _, err := PBKDF2SHA512(context.Background(), []byte("p"), []byte("s"), bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
