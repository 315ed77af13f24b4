package authkey

import (
	"math/rand/v2"
	"testing"
)

func TestSplitPQ(t *testing.T) {
	// The example of Telegram's "Creating an Authorization Key".
	p, q, err := splitPQ(0x17ED48941A08F981)
	if err != nil || p != 0x494C553B || q != 0x53911073 {
		t.Fatalf("docs' pq: %x %x %v", p, q, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prime := func() uint64 {
		for {
			if n := uint64(rng.Uint32()) | 1<<31 | 1; isPrime(n) {
				return n
			}
		}
	}
	for range 200 {
		a, b := prime(), prime()
		if a == b {
			continue
		}
		p, q, err := splitPQ(a * b)
		if err != nil || p != min(a, b) || q != max(a, b) {
			t.Fatalf("%d × %d: got %d, %d, %v", a, b, p, q, err)
		}
	}
}

func TestSplitPQRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		pq   uint64
	}{
		{"zero", 0},
		{"a prime", 0xFFFFFFFFFFFFFFC5},
		{"a square", 4294967291 * 4294967291},
		{"three primes", 1000003 * 1000033 * 1009},
		{"a factor above 2^32", 3 * 0x1FFFFFFFFFFFFFFF},
		{"even, not 2·prime", 2 * 2 * 1000003},
	} {
		if p, q, err := splitPQ(c.pq); err == nil {
			t.Errorf("%s (%d): accepted as %d × %d", c.name, c.pq, p, q)
		}
	}
}

func TestIsPrime(t *testing.T) {
	for n, want := range map[uint64]bool{0: false, 1: false, 2: true, 3: true, 4: false, 561: false, 4294967291: true,
		4294967297: false, 0xFFFFFFFFFFFFFFC5: true, 3215031751: false, 1000000007: true} {
		if isPrime(n) != want {
			t.Errorf("isPrime(%d) != %v", n, want)
		}
	}
}

func BenchmarkSplitPQ(b *testing.B) {
	for b.Loop() {
		if _, _, err := splitPQ(0x17ED48941A08F981); err != nil {
			b.Fatal(err)
		}
	}
}
