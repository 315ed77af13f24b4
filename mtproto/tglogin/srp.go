package tglogin

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/big"

	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/mtproto/authkey"
	"github.com/communicator/communicator/workers"
)

// srpRounds are PBKDF2's rounds in Telegram's password algorithm.
const srpRounds = 100000

// srpAnswer computes the SRP proof of password for Telegram's 2FA
// (https://core.telegram.org/api/srp, the algorithm
// SHA256_SHA256_PBKDF2_HMAC_SHA512_iter100000_SHA256_ModPow). It is ours
// rather than gotd's for one reason: the PBKDF2 inside, 100,000 rounds of
// HMAC-SHA512, takes about 3 s of CPU in wasm with Go's SHA-512, and WebCrypto
// does it natively (workers.PBKDF2SHA512). The secret exponent a is the
// server's secure_random, as Telegram's clients use it.
//
// The modulus must be Telegram's 2048-bit prime (the one of the key
// exchange, recognised by value like there), and g_b must lie in (1, p-1).
func srpAnswer(ctx context.Context, password []byte, p *tg.AccountPassword) (*tg.InputCheckPasswordSRP, error) {
	algo, ok := p.CurrentAlgo.(*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow)
	if !ok {
		return nil, errors.New("Telegram asks for a password algorithm this client does not know")
	}
	prime := new(big.Int).SetBytes(algo.P)
	if prime.Cmp(authkey.TelegramPrime()) != 0 {
		return nil, errors.New("the password's modulus is not Telegram's prime")
	}
	if algo.G < 2 || algo.G > 7 {
		return nil, errors.New("the password's generator is out of range")
	}
	if len(p.SecureRandom) < 32 {
		return nil, errors.New("Telegram sent too little randomness for the password's proof")
	}
	g := big.NewInt(int64(algo.G))
	gB := new(big.Int).SetBytes(p.SRPB)
	pMinus1 := new(big.Int).Sub(prime, big.NewInt(1))
	if gB.Cmp(big.NewInt(1)) <= 0 || gB.Cmp(pMinus1) >= 0 {
		return nil, errors.New("Telegram's g_b is out of range")
	}

	// x = PH2(password, salt1, salt2), v = g^x.
	ph1 := saltHash(saltHash(password, algo.Salt1), algo.Salt2)
	slow, err := workers.PBKDF2SHA512(ctx, ph1, algo.Salt1, srpRounds, 64)
	if err != nil {
		return nil, err
	}
	x := new(big.Int).SetBytes(saltHash(slow, algo.Salt2))
	v := new(big.Int).Exp(g, x, prime)

	pBytes := pad256(prime)
	gBytes := pad256(g)
	k := new(big.Int).SetBytes(h(pBytes[:], gBytes[:]))
	a := new(big.Int).SetBytes(p.SecureRandom)
	gA := new(big.Int).Exp(g, a, prime)
	gABytes, gBBytes := pad256(gA), pad256(gB)
	u := new(big.Int).SetBytes(h(gABytes[:], gBBytes[:]))
	if u.Sign() == 0 {
		return nil, errors.New("the password's proof has u = 0")
	}

	// s_a = (g_b - k v)^(a + u x) mod p, k_a = H(s_a).
	kv := new(big.Int).Mul(k, v)
	kv.Mod(kv, prime)
	t := new(big.Int).Sub(gB, kv)
	t.Mod(t, prime) // non-negative: Go's Mod is Euclidean
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, a)
	sA := new(big.Int).Exp(t, exp, prime)
	sABytes := pad256(sA)
	kA := h(sABytes[:])

	// M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | g_a | g_b | k_a).
	hp, hg := sha256.Sum256(pBytes[:]), sha256.Sum256(gBytes[:])
	for i := range hp {
		hp[i] ^= hg[i]
	}
	s1, s2 := sha256.Sum256(algo.Salt1), sha256.Sum256(algo.Salt2)
	m1 := h(hp[:], s1[:], s2[:], gABytes[:], gBBytes[:], kA)
	return &tg.InputCheckPasswordSRP{SRPID: p.SRPID, A: gABytes[:], M1: m1}, nil
}

// h is SHA-256 of the parts, concatenated.
func h(parts ...[]byte) []byte {
	d := sha256.New()
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum(nil)
}

// saltHash is SH(data, salt) = H(salt | data | salt).
func saltHash(data, salt []byte) []byte { return h(salt, data, salt) }

// pad256 is x big-endian in 256 bytes.
func pad256(x *big.Int) [256]byte {
	var b [256]byte
	x.FillBytes(b[:])
	return b
}
