package authkey

import (
	"errors"
	"fmt"
	"math/big"
)

// telegramPrime is the 2048-bit safe prime Telegram's servers send as
// dh_prime (published in "Creating an Authorization Key" and unchanged
// since): recognised by value, so no primality test runs on the Worker.
var telegramPrime, _ = new(big.Int).SetString(""+
	"C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F"+
	"48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37"+
	"20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64"+
	"2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4"+
	"A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754"+
	"FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4"+
	"E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F"+
	"0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B", 16)

// errUnknownPrime: any other prime is refused rather than checked. Checking
// that a 2048-bit number is a safe prime takes two probabilistic primality
// tests, seconds of CPU in wasm, on every isolate that meets it (a Worker
// keeps nothing between isolates to remember the verdict in); a prime
// other than the published one would mean Telegram changed it, and this
// package should be updated with the new value after it is checked once,
// offline.
var errUnknownPrime = errors.New("the server's dh_prime is not Telegram's published 2048-bit prime; refused (a new prime must be checked and added to package authkey)")

// TelegramPrime returns Telegram's published 2048-bit safe prime (also the
// prime of its SRP 2FA), a copy the caller may change.
func TelegramPrime() *big.Int { return new(big.Int).Set(telegramPrime) }

var (
	one = big.NewInt(1)
	// safetyMin is 2^(2048-64): g_a and g_b must lie in
	// [2^(2048-64), dh_prime - 2^(2048-64)].
	safetyMin = new(big.Int).Lsh(one, 2048-64)
)

// checkPrimeAndG checks dh_prime and g as the protocol requires: a known
// safe prime, and g a generator of its subgroup of prime order
// (dh_prime-1)/2, which for each g in 2…7 is a condition on dh_prime
// modulo a small number.
func checkPrimeAndG(p *big.Int, g int) error {
	if p.Cmp(telegramPrime) != 0 {
		return errUnknownPrime
	}
	mod := func(m int64) int64 { return new(big.Int).Mod(p, big.NewInt(m)).Int64() }
	var ok bool
	switch g {
	case 2:
		ok = mod(8) == 7
	case 3:
		ok = mod(3) == 2
	case 4:
		ok = true
	case 5:
		r := mod(5)
		ok = r == 1 || r == 4
	case 6:
		r := mod(24)
		ok = r == 19 || r == 23
	case 7:
		r := mod(7)
		ok = r == 3 || r == 5 || r == 6
	default:
		return fmt.Errorf("g = %d, want 2 to 7", g)
	}
	if !ok {
		return fmt.Errorf("g = %d does not generate the prime-order subgroup of dh_prime", g)
	}
	return nil
}

// checkPublic checks a DH public value (g_a or g_b): 1 < x < dh_prime - 1,
// and 2^(2048-64) ≤ x ≤ dh_prime - 2^(2048-64).
func checkPublic(x, p *big.Int) bool {
	pMinusOne := new(big.Int).Sub(p, one)
	if x.Cmp(one) <= 0 || x.Cmp(pMinusOne) >= 0 {
		return false
	}
	return x.Cmp(safetyMin) >= 0 && x.Cmp(new(big.Int).Sub(p, safetyMin)) <= 0
}
