package faketelegram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"math/big"

	"github.com/communicator/communicator/mtproto/authkey"
	"github.com/gotd/td/tg"
)

// The server half of Telegram's 2FA Secure Remote Password check
// (https://core.telegram.org/api/srp), algorithm
// passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow.

// srpPrime is Telegram's 2048-bit safe prime; srpG its generator.
var srpPrime = authkey.TelegramPrime()

const srpG = 3

// srpAlgo returns the KDF parameters for a user's password: salts derived
// from salt (deterministic, so v can be cached), Telegram's prime and g.
func srpAlgo(salt []byte) *tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow {
	s1 := sha256.Sum256(append([]byte("salt1:"), salt...))
	s2 := sha256.Sum256(append([]byte("salt2:"), salt...))
	return &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
		Salt1: s1[:16], Salt2: s2[:16], G: srpG, P: pad256(srpPrime),
	}
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func pad256(x *big.Int) []byte { return x.FillBytes(make([]byte, 256)) }

// srpVerifier computes v = g^x mod p, x = PH2(password, salt1, salt2):
//
//	SH(data, salt) = H(salt | data | salt)
//	PH1 = SH(SH(password, salt1), salt2)
//	PH2 = SH(pbkdf2(sha512, PH1, salt1, 100000), salt2)
func srpVerifier(password string, salt1, salt2 []byte) *big.Int {
	sh := func(data, salt []byte) []byte { return sha(salt, data, salt) }
	ph1 := sh(sh([]byte(password), salt1), salt2)
	key, err := pbkdf2.Key(sha512.New, string(ph1), salt1, 100000, 64)
	if err != nil {
		panic(err) // only for invalid lengths
	}
	x := new(big.Int).SetBytes(sh(key, salt2))
	return new(big.Int).Exp(big.NewInt(srpG), x, srpPrime)
}

// srpChallenge is one account.getPassword answer waiting for its proof.
type srpChallenge struct {
	id     int64
	b      *big.Int // secret exponent
	gb     []byte   // B = (k*v + g^b) mod p, 256 bytes
	v      *big.Int
	salt1  []byte
	salt2  []byte
	userID int64
}

func srpK() *big.Int {
	g := pad256(big.NewInt(srpG))
	return new(big.Int).SetBytes(sha(pad256(srpPrime), g))
}

// newSRPChallenge picks b and computes B for verifier v.
func newSRPChallenge(userID int64, v *big.Int, salt1, salt2 []byte) (*srpChallenge, error) {
	var raw [256]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	b := new(big.Int).SetBytes(raw[:])
	gb := new(big.Int).Exp(big.NewInt(srpG), b, srpPrime)
	kv := new(big.Int).Mul(srpK(), v)
	gb.Add(gb, kv).Mod(gb, srpPrime)
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	return &srpChallenge{
		id: int64(new(big.Int).SetBytes(id[:]).Uint64() >> 1), b: b, gb: pad256(gb), v: v,
		salt1: salt1, salt2: salt2, userID: userID,
	}, nil
}

var errSRPProof = errors.New("srp: proof does not match")

// verify checks the client's A and M1:
//
//	u = H(A | B), S = (A * v^u)^b mod p, K = H(S)
//	M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | K)
func (c *srpChallenge) verify(aBytes, m1 []byte) error {
	p := srpPrime
	a := new(big.Int).SetBytes(aBytes)
	one := big.NewInt(1)
	if len(aBytes) > 256 || a.Cmp(one) <= 0 || a.Cmp(new(big.Int).Sub(p, one)) >= 0 {
		return errSRPProof
	}
	aPad := pad256(a)
	u := new(big.Int).SetBytes(sha(aPad, c.gb))
	if u.Sign() == 0 {
		return errSRPProof
	}
	s := new(big.Int).Exp(c.v, u, p)
	s.Mul(s, a).Mod(s, p)
	s.Exp(s, c.b, p)
	k := sha(pad256(s))
	hp, hg := sha(pad256(p)), sha(pad256(big.NewInt(srpG)))
	for i := range hp {
		hp[i] ^= hg[i]
	}
	want := sha(hp, sha(c.salt1), sha(c.salt2), aPad, c.gb, k)
	if !hmac.Equal(want, m1) {
		return errSRPProof
	}
	return nil
}

// srpSaltFor is the per-user salt seed: stable for a user and password.
func srpSaltFor(u FixtureUser) []byte {
	h := sha256.Sum256([]byte(hex.EncodeToString([]byte(u.Password)) + ":" + u.FirstName))
	return h[:]
}
