package authkey

import (
	"errors"
	"math/bits"
)

// splitPQ factors the server's pq, a product of two distinct primes below
// 2^32, into p < q: Pollard's rho with Brent's cycle detection, on uint64
// with math/bits (no math/big). Telegram's pq has 63 bits at most, so
// a factor turns up after about 2^16 steps, a few milliseconds even in wasm.
func splitPQ(pq uint64) (p, q uint64, err error) {
	if pq < 6 || isPrime(pq) {
		return 0, 0, errors.New("pq is not a product of two primes")
	}
	d := pq
	if pq%2 == 0 {
		d = 2
	} else {
		// A few starting points: rho fails (d == pq) for some of them.
		for c := uint64(1); c <= 8 && (d == pq || d == 1); c++ {
			d = brent(pq, 2, c)
		}
	}
	if d == pq || d == 1 {
		return 0, 0, errors.New("pq has no factor that Pollard–Brent finds (is it prime?)")
	}
	p, q = d, pq/d
	if p > q {
		p, q = q, p
	}
	if p == q || p>>32 != 0 || q>>32 != 0 || !isPrime(p) || !isPrime(q) {
		return 0, 0, errors.New("pq is not a product of two distinct primes below 2^32")
	}
	return p, q, nil
}

// maxRho bounds one run of brent: a composite below 2^64 has a factor
// below 2^32, which rho finds after about 2^16 steps; 2^21 leaves a wide
// margin while bounding what a hostile pq can cost.
const maxRho = 1 << 21

// brent runs Pollard's rho with f(x) = x² + c mod n from x0, and answers
// a divisor of n: a proper one, or n itself when this run found none.
func brent(n, x0, c uint64) uint64 {
	const batch = 128 // steps whose differences are multiplied before one gcd
	y, r, g := x0, uint64(1), uint64(1)
	var x, ys uint64
	acc := uint64(1)
	for g == 1 {
		x = y
		for i := uint64(0); i < r; i++ {
			y = step(y, c, n)
		}
		for k := uint64(0); k < r && g == 1; k += batch {
			ys = y
			for i := uint64(0); i < min(batch, r-k); i++ {
				y = step(y, c, n)
				acc = mulMod(acc, absDiff(x, y), n)
			}
			g = gcd(acc, n)
		}
		r *= 2
		if r > maxRho { // far beyond what a factor below 2^32 needs: give up
			return n
		}
	}
	if g == n { // the batch overshot: redo it one step at a time
		for {
			ys = step(ys, c, n)
			if g = gcd(absDiff(x, ys), n); g > 1 {
				break
			}
		}
	}
	return g
}

func step(y, c, n uint64) uint64 { return addMod(mulMod(y, y, n), c, n) }

func mulMod(a, b, n uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, rem := bits.Div64(hi%n, lo, n)
	return rem
}

func addMod(a, b, n uint64) uint64 {
	s, carry := bits.Add64(a, b%n, 0)
	if carry != 0 || s >= n {
		s -= n
	}
	return s
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// isPrime is a deterministic Miller–Rabin test for n < 2^64.
func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for _, p := range []uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37} {
		if n%p == 0 {
			return n == p
		}
	}
	d, s := n-1, 0
	for d%2 == 0 {
		d, s = d/2, s+1
	}
	for _, a := range []uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37} {
		x := powMod(a, d, n)
		if x == 1 || x == n-1 {
			continue
		}
		composite := true
		for i := 1; i < s; i++ {
			x = mulMod(x, x, n)
			if x == n-1 {
				composite = false
				break
			}
		}
		if composite {
			return false
		}
	}
	return true
}

func powMod(a, e, n uint64) uint64 {
	r := uint64(1)
	a %= n
	for e > 0 {
		if e&1 == 1 {
			r = mulMod(r, a, n)
		}
		a = mulMod(a, a, n)
		e >>= 1
	}
	return r
}
