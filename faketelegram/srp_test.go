package faketelegram

import (
	"testing"

	"github.com/gotd/td/telegram/auth"
)

// TestSRP checks the server half against gotd's client half
// (auth.PasswordHash), for a right and a wrong password.
func TestSRP(t *testing.T) {
	if !srpPrime.ProbablyPrime(20) || srpPrime.BitLen() != 2048 {
		t.Fatal("srpPrime is not a 2048-bit prime")
	}
	const pw = "sesame-🔑 öffne dich"
	algo := srpAlgo([]byte("seed"))
	v := srpVerifier(pw, algo.Salt1, algo.Salt2)
	for _, tc := range []struct {
		password string
		ok       bool
	}{{pw, true}, {"sesame", false}, {"", false}} {
		ch, err := newSRPChallenge(1, v, algo.Salt1, algo.Salt2)
		if err != nil {
			t.Fatal(err)
		}
		random := make([]byte, 256)
		for i := range random {
			random[i] = byte(i*7 + 1)
		}
		ans, err := auth.PasswordHash([]byte(tc.password), ch.id, ch.gb, random, algo)
		if err != nil {
			t.Fatal(err)
		}
		err = ch.verify(ans.A, ans.M1)
		if (err == nil) != tc.ok {
			t.Errorf("password %q: verify = %v, want ok=%v", tc.password, err, tc.ok)
		}
		if tc.ok {
			bad := append([]byte(nil), ans.M1...)
			bad[0] ^= 1
			if ch.verify(ans.A, bad) == nil {
				t.Error("a changed M1 was accepted")
			}
			if ch.verify([]byte{1}, ans.M1) == nil {
				t.Error("A = 1 was accepted")
			}
		}
	}
}
