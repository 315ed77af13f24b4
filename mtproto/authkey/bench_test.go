package authkey

import (
	"context"
	"encoding/binary"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/gotd/td/bin"
)

// BenchmarkKeyExchange times one key exchange's client work, ours and
// stock gotd's, replayed from testdata/transcript-*.json (see
// transcript_test.go): no server runs, and every iteration checks the key.
// Besides ns/op (for gotd, a telegram.Client built, run and stopped) it
// reports exchange-ns/op, the client's time from its first request to its
// key. gotd's exchange takes seconds in wasm: run it with -benchtime 1x
// there.
//
//	go test -run '^$' -bench 'KeyExchange$' ./mtproto/authkey/
//	GOOS=js GOARCH=wasm go test -exec $PWD/workers/js/go_js_wasm_exec -run '^$' -bench 'KeyExchange$/ours' ./mtproto/authkey/
func BenchmarkKeyExchange(b *testing.B) {
	for _, client := range []string{"ours", "gotd"} {
		b.Run(client, func(b *testing.B) {
			t := loadTranscript(b, client)
			var took time.Duration
			for b.Loop() {
				r, err := replay(context.Background(), t)
				if err != nil {
					b.Fatal(err)
				}
				took += r.took
			}
			b.ReportMetric(float64(took.Nanoseconds())/float64(b.N), "exchange-ns/op")
		})
	}
}

// BenchmarkKeyExchangeParts times, in each iteration, our whole exchange
// (replayed, as above) and then, each on its own with the exchange's
// sizes, the parts that cost the most: the two 2048-bit modular
// exponentiations modulo Telegram's prime (g^b with g = 3, and g_a^b),
// RSA_PAD (an RSA encryption with a 2048-bit key and e = 65537, with its
// AES-IGE and hashes), and factoring the transcript's pq. It reports each
// one's time per iteration (<part>-ns/op), so that a part's share of the
// whole comes from the same iterations.
func BenchmarkKeyExchangeParts(b *testing.B) {
	t := loadTranscript(b, "ours")
	rand := seeded(transcriptSeed)
	exponent := func() *big.Int {
		secret := make([]byte, 256)
		io.ReadFull(rand, secret)
		return new(big.Int).SetBytes(secret)
	}
	g := big.NewInt(3)
	gA := new(big.Int).Exp(g, exponent(), telegramPrime)
	secret := exponent()

	var data bin.Buffer
	inner := pqInnerDataDC{PQ: make([]byte, 8), P: make([]byte, 4), Q: make([]byte, 4), DC: 2}
	inner.encode(&data)
	key := t.publicKey()

	var m resPQ
	body, err := unencryptedBody(&bin.Buffer{Buf: t.Messages[0].Answer})
	if err == nil {
		err = m.decode(&bin.Buffer{Buf: body})
	}
	if err != nil {
		b.Fatal(err)
	}
	var pq [8]byte
	copy(pq[8-len(m.PQ):], m.PQ)
	n := binary.BigEndian.Uint64(pq[:])

	parts := []struct {
		name string
		run  func() error
	}{
		{"whole", func() error { _, err := replay(context.Background(), t); return err }},
		{"modexp_g_b", func() error { new(big.Int).Exp(g, secret, telegramPrime); return nil }},
		{"modexp_ga_b", func() error { new(big.Int).Exp(gA, secret, telegramPrime); return nil }},
		{"rsa_pad", func() error { _, err := rsaPad(data.Buf, key, rand); return err }},
		{"split_pq", func() error { _, _, err := splitPQ(n); return err }},
	}
	took := make([]time.Duration, len(parts))
	for b.Loop() {
		for i, p := range parts {
			start := time.Now()
			if err := p.run(); err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
			took[i] += time.Since(start)
		}
	}
	for i, p := range parts {
		b.ReportMetric(float64(took[i].Nanoseconds())/float64(b.N), p.name+"-ns/op")
	}
}
