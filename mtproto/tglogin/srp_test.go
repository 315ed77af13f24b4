//go:build !js

// Native only: in wasm, workers.PBKDF2SHA512 needs a request (its WebCrypto
// path is tested in package workers under Node).

package tglogin

import (
	"bytes"
	"context"
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"

	"github.com/communicator/communicator/mtproto/authkey"
)

func srpParams(t *testing.T) *tg.AccountPassword {
	t.Helper()
	prime := authkey.TelegramPrime()
	b, _ := rand.Int(rand.Reader, prime)
	gB := new(big.Int).Exp(big.NewInt(3), b, prime)
	secure := make([]byte, 256)
	salt1, salt2 := make([]byte, 40), make([]byte, 16)
	rand.Read(secure)
	rand.Read(salt1)
	rand.Read(salt2)
	return &tg.AccountPassword{
		SRPID: 77, SRPB: gB.Bytes(), SecureRandom: secure,
		CurrentAlgo: &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
			Salt1: salt1, Salt2: salt2, G: 3, P: prime.Bytes(),
		},
	}
}

// Our SRP proof is the one gotd computes for the same parameters (the
// local Telegram's SRP server accepts it too: TestLoginWithPassword).
func TestSRPAnswerIsGotds(t *testing.T) {
	for range 3 {
		p := srpParams(t)
		got, err := srpAnswer(context.Background(), []byte("correct horse battery staple"), p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := auth.PasswordHash([]byte("correct horse battery staple"), p.SRPID, p.SRPB, p.SecureRandom, p.CurrentAlgo)
		if err != nil {
			t.Fatal(err)
		}
		if got.SRPID != 77 || !bytes.Equal(got.A, want.A) || !bytes.Equal(got.M1, want.M1) {
			t.Fatalf("A or M1 differ from gotd's")
		}
	}
}

// Parameters the protocol does not allow are refused before any work.
func TestSRPAnswerRefuses(t *testing.T) {
	prime := authkey.TelegramPrime()
	for name, spoil := range map[string]func(p *tg.AccountPassword){
		"another algorithm": func(p *tg.AccountPassword) { p.CurrentAlgo = &tg.PasswordKdfAlgoUnknown{} },
		"another prime": func(p *tg.AccountPassword) {
			a := p.CurrentAlgo.(*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow)
			a.P = new(big.Int).Sub(prime, big.NewInt(2)).Bytes()
		},
		"g = 1": func(p *tg.AccountPassword) {
			p.CurrentAlgo.(*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow).G = 1
		},
		"g_b = 1":             func(p *tg.AccountPassword) { p.SRPB = []byte{1} },
		"g_b = p-1":           func(p *tg.AccountPassword) { p.SRPB = new(big.Int).Sub(prime, big.NewInt(1)).Bytes() },
		"g_b = p":             func(p *tg.AccountPassword) { p.SRPB = prime.Bytes() },
		"short secure random": func(p *tg.AccountPassword) { p.SecureRandom = p.SecureRandom[:8] },
	} {
		p := srpParams(t)
		spoil(p)
		if _, err := srpAnswer(context.Background(), []byte("pw"), p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
