package sessionstring

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Keys of the vectors: k1 is 0x00..0xff, k2 is (7*i+3) mod 256.
func key1() (k [KeySize]byte) {
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func key2() (k [KeySize]byte) {
	for i := range k {
		k[i] = byte((7*i + 3) % 256)
	}
	return k
}

func randomKey(r *rand.Rand) (k [KeySize]byte) {
	for i := range k {
		k[i] = byte(r.UintN(256))
	}
	return k
}

// Vectors produced outside Go, with Python's struct and base64 modules using
// each format's own recipe: GramJS = b64encode(pack(">Bh", dc, len) + addr +
// pack(">h", port) + key); Telethon = urlsafe_b64encode(pack(">B{n}sH256s", ...)).
var vectors = []struct {
	name   string
	in     string
	format Format
	want   Session
}{
	{
		name:   "GramJS IPv4",
		in:     "1AgAOMTQ5LjE1NC4xNjcuNTEBuwABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=",
		format: FormatGramJS,
		want:   Session{DC: 2, Addr: "149.154.167.51", Port: 443, AuthKey: key1()},
	},
	{
		name:   "Telethon IPv4",
		in:     "1BJWap1sBuwMKERgfJi00O0JJUFdeZWxzeoGIj5adpKuyucDHztXc4-rx-P8GDRQbIikwNz5FTFNaYWhvdn2Ei5KZoKeutbzDytHY3-bt9PsCCRAXHiUsMzpBSE9WXWRrcnmAh46VnKOqsbi_xs3U2-Lp8Pf-BQwTGiEoLzY9REtSWWBnbnV8g4qRmJ-mrbS7wsnQ197l7PP6AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O_2_QQLEhkgJy41PENKUVhfZm10e4KJkJeepayzusHIz9bd5Ovy-QAHDhUcIyoxOD9GTVRbYmlwd36FjJOaoaivtr3Ey9LZ4Ofu9fw=",
		format: FormatTelethon,
		want:   Session{DC: 4, Addr: "149.154.167.91", Port: 443, AuthKey: key2()},
	},
	{
		name:   "Telethon IPv6",
		in:     "1AiABBnwE6PACAAAAAAAAAAoBuwMKERgfJi00O0JJUFdeZWxzeoGIj5adpKuyucDHztXc4-rx-P8GDRQbIikwNz5FTFNaYWhvdn2Ei5KZoKeutbzDytHY3-bt9PsCCRAXHiUsMzpBSE9WXWRrcnmAh46VnKOqsbi_xs3U2-Lp8Pf-BQwTGiEoLzY9REtSWWBnbnV8g4qRmJ-mrbS7wsnQ197l7PP6AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O_2_QQLEhkgJy41PENKUVhfZm10e4KJkJeepayzusHIz9bd5Ovy-QAHDhUcIyoxOD9GTVRbYmlwd36FjJOaoaivtr3Ey9LZ4Ofu9fw=",
		format: FormatTelethon,
		want:   Session{DC: 2, Addr: "2001:67c:4e8:f002::a", Port: 443, AuthKey: key2()},
	},
	{
		name:   "GramJS IPv6 text",
		in:     "1AgAUMjAwMTo2N2M6NGU4OmYwMDI6OmEAUAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=",
		format: FormatGramJS,
		want:   Session{DC: 2, Addr: "2001:67c:4e8:f002::a", Port: 80, AuthKey: key1()},
	},
	{
		name:   "GramJS host name",
		in:     "1AQAWcGx1dG8ud2ViLnRlbGVncmFtLm9yZwG7AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVMU1phaG92fYSLkpmgp661vMPK0djf5u30+wIJEBceJSwzOkFIT1ZdZGtyeYCHjpWco6qxuL/GzdTb4unw9/4FDBMaISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/oBCA8WHSQrMjlAR05VXGNqcXh/ho2Um6KpsLe+xczT2uHo7/b9BAsSGSAnLjU8Q0pRWF9mbXR7gomQl56lrLO6wcjP1t3k6/L5AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/A==",
		format: FormatGramJS,
		want:   Session{DC: 1, Addr: "pluto.web.telegram.org", Port: 443, AuthKey: key2()},
	},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, f, err := Parse(v.in)
			if err != nil {
				t.Fatal(err)
			}
			if f != v.format {
				t.Errorf("format %v, want %v", f, v.format)
			}
			if got != v.want {
				t.Errorf("got %v, want %v", got, v.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if v.format == FormatGramJS {
				if enc := Encode(got); enc != v.in {
					t.Errorf("Encode is not the canonical GramJS vector:\n got %s\nwant %s", enc, v.in)
				}
			} else {
				if enc, err := EncodeTelethon(got); err != nil || enc != v.in {
					t.Errorf("EncodeTelethon = %s, %v; want the vector", enc, err)
				}
			}
		})
	}
	// Telethon's IPv4 string is 353 characters, the length GramJS's loader keys on.
	if n := len(vectors[1].in); n != 353 {
		t.Errorf("Telethon IPv4 vector is %d characters, want 353", n)
	}
}

func TestAuthKeyID(t *testing.T) {
	// SHA-1 of the keys computed with Python's hashlib; bytes 12..19 of the digest.
	for _, c := range []struct {
		key  [KeySize]byte
		want string
	}{{key1(), "32d1586ea457dfc8"}, {key2(), "9ed6e6ef196cc931"}} {
		id := Session{AuthKey: c.key}.AuthKeyID()
		if got := hex.EncodeToString(id[:]); got != c.want {
			t.Errorf("AuthKeyID = %s, want %s", got, c.want)
		}
	}
}

// TestHandBuilt builds records byte by byte and checks every alphabet and
// padding variant.
func TestHandBuilt(t *testing.T) {
	k := key2()

	gram := []byte{3}               // dc 3
	gram = append(gram, 0x00, 0x0f) // address length 15
	gram = append(gram, "149.154.175.100"...)
	gram = append(gram, 0x22, 0xb8) // port 8888
	gram = append(gram, k[:]...)    // key
	if len(gram) != 1+2+15+2+256 {
		t.Fatal("bad hand-built record")
	}
	wantGram := Session{DC: 3, Addr: "149.154.175.100", Port: 8888, AuthKey: k}

	tele := []byte{5}                     // dc 5
	tele = append(tele, 91, 108, 56, 120) // 91.108.56.120
	tele = append(tele, 0xff, 0xff)       // port 65535 (Telethon's H is unsigned)
	tele = append(tele, k[:]...)
	wantTele := Session{DC: 5, Addr: "91.108.56.120", Port: 65535, AuthKey: k}

	tele6 := []byte{255}
	tele6 = append(tele6, 0x20, 0x01, 0x0b, 0x28, 0xf2, 0x3d, 0xf0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x0a)
	tele6 = append(tele6, 0x01, 0xbb)
	tele6 = append(tele6, k[:]...)
	wantTele6 := Session{DC: 255, Addr: "2001:b28:f23d:f001::a", Port: 443, AuthKey: k}

	encs := map[string]*base64.Encoding{
		"std padded": base64.StdEncoding, "std raw": base64.RawStdEncoding,
		"url padded": base64.URLEncoding, "url raw": base64.RawURLEncoding,
	}
	for _, c := range []struct {
		name   string
		rec    []byte
		want   Session
		format Format
	}{
		{"gramjs", gram, wantGram, FormatGramJS},
		{"telethon4", tele, wantTele, FormatTelethon},
		{"telethon6", tele6, wantTele6, FormatTelethon},
	} {
		for en, enc := range encs {
			in := "1" + enc.EncodeToString(c.rec)
			got, f, err := Parse(in)
			if err != nil {
				t.Errorf("%s/%s: %v", c.name, en, err)
				continue
			}
			if got != c.want || f != c.format {
				t.Errorf("%s/%s: got %v %v, want %v %v", c.name, en, got, f, c.want, c.format)
			}
			if in2 := "  " + in + "\r\n"; true {
				if got2, _, err := Parse(in2); err != nil || got2 != c.want {
					t.Errorf("%s/%s with surrounding white space: %v", c.name, en, err)
				}
			}
		}
	}
	// Encode writes exactly the hand-built record, standard alphabet, padded.
	if got, want := Encode(wantGram), "1"+base64.StdEncoding.EncodeToString(gram); got != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}

func TestGramJSVariants(t *testing.T) {
	k := key1()
	build := func(addr string, port uint16) string {
		b := []byte{2}
		b = binary.BigEndian.AppendUint16(b, uint16(len(addr)))
		b = append(b, addr...)
		b = binary.BigEndian.AppendUint16(b, port)
		b = append(b, k[:]...)
		return "1" + base64.StdEncoding.EncodeToString(b)
	}
	for _, c := range []struct{ addr, want string }{
		{"[2001:67c:4e8:f002::a]", "2001:67c:4e8:f002::a"}, // old GramJS default, bracketed
		{"2001:067c:04e8:f002:0000:0000:0000:000a", "2001:67c:4e8:f002::a"},
		{"::ffff:149.154.167.51", "::ffff:149.154.167.51"},
		{"Venus.Web.Telegram.ORG", "venus.web.telegram.org"},
		{"venus.web.telegram.org.", "venus.web.telegram.org"},
		{"localhost", "localhost"},
		{"x-1.example", "x-1.example"},
	} {
		s, f, err := Parse(build(c.addr, 443))
		if err != nil {
			t.Errorf("%q: %v", c.addr, err)
			continue
		}
		if s.Addr != c.want || f != FormatGramJS {
			t.Errorf("%q: Addr %q format %v, want %q", c.addr, s.Addr, f, c.want)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%q: Validate: %v", c.addr, err)
		}
	}
	// A port above 32767 (negative for GramJS's readInt16BE) reads as unsigned.
	s, _, err := Parse(build("1.2.3.4", 40000))
	if err != nil || s.Port != 40000 {
		t.Errorf("high port: %v %d", err, s.Port)
	}
	if s.HostPort() != "1.2.3.4:40000" {
		t.Errorf("HostPort = %s", s.HostPort())
	}
	if hp := (Session{Addr: "2001:db8::1", Port: 443}).HostPort(); hp != "[2001:db8::1]:443" {
		t.Errorf("HostPort = %s", hp)
	}
}

// TestNoAmbiguousRecord: records of Telethon's size whose bytes 1..2 are a
// plausible GramJS address length read one way only.
func TestNoAmbiguousRecord(t *testing.T) {
	k := key1()
	// GramJS address length 2, address "ab": as Telethon it would be 0.2.97.98.
	rec := append([]byte{2, 0, 2, 'a', 'b', 0x01, 0xbb}, k[:]...)
	s, f, err := Parse("1" + base64.URLEncoding.EncodeToString(rec))
	if err != nil || f != FormatGramJS || s.Addr != "ab" {
		t.Errorf("got %v %v %v, want GramJS address ab", s, f, err)
	}
	// Same size, but the 2-byte "address" is not text, and 0.2.167.51 is in 0.0.0.0/8.
	rec = append([]byte{2, 0, 2, 167, 51, 0x01, 0xbb}, k[:]...)
	if _, _, err = Parse("1" + base64.URLEncoding.EncodeToString(rec)); err == nil {
		t.Errorf("accepted a record that is neither format")
	}
	// GramJS IPv4 text of 14 bytes is 275 bytes, Telethon IPv6's size; as
	// Telethon it would be e:3134:... in ::/8.
	rec = gramRecord(2, 14, "149.154.167.51", 443, k[:])
	if s, f, err := Parse("1" + base64.StdEncoding.EncodeToString(rec)); err != nil || f != FormatGramJS {
		t.Errorf("got %v %v %v, want GramJS", s, f, err)
	}
	// Telethon ::1 and ::ffff:a.b.c.d (addresses in ::/8 that are allowed) read
	// as Telethon: their GramJS address length is 0.
	for _, addr := range []string{"::1", "::ffff:149.154.167.51"} {
		want := Session{DC: 2, Addr: addr, Port: 443, AuthKey: k}
		enc, err := EncodeTelethon(want)
		if err != nil {
			t.Fatal(err)
		}
		if s, f, err := Parse(enc); err != nil || f != FormatTelethon || s != want {
			t.Errorf("%s: got %v %v %v", addr, s, f, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	addrs := []string{"149.154.167.51", "91.108.4.1", "2001:67c:4e8:f002::a", "::ffff:1.2.3.4", "venus.web.telegram.org", "a"}
	for i := 0; i < 500; i++ {
		s := Session{
			DC:      1 + r.IntN(255),
			Addr:    addrs[r.IntN(len(addrs))],
			Port:    1 + r.IntN(65535),
			AuthKey: randomKey(r),
		}
		got, f, err := Parse(Encode(s))
		if err != nil {
			t.Fatalf("Parse(Encode(%v)): %v", s, err)
		}
		if got != s || f != FormatGramJS {
			t.Fatalf("round trip: got %v %v, want %v", got, f, s)
		}
		if _, ok := s.IP(); !ok {
			if _, err := EncodeTelethon(s); err == nil {
				t.Fatalf("EncodeTelethon accepted a host name")
			}
			continue
		}
		tel, err := EncodeTelethon(s)
		if err != nil {
			t.Fatal(err)
		}
		got, f, err = Parse(tel)
		if err != nil || got != s || f != FormatTelethon {
			t.Fatalf("Telethon round trip of %v: %v %v %v", s, got, f, err)
		}
	}
}

func TestValidate(t *testing.T) {
	k := key1()
	ok := Session{DC: 2, Addr: "1.2.3.4", Port: 443, AuthKey: k}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mut  func(*Session)
		want string
	}{
		{func(s *Session) { s.DC = 0 }, "dc id 0 out of range 1..255"},
		{func(s *Session) { s.DC = 256 }, "dc id 256 out of range 1..255"},
		{func(s *Session) { s.Port = 0 }, "port 0 out of range 1..65535"},
		{func(s *Session) { s.Port = 65536 }, "port 65536 out of range"},
		{func(s *Session) { s.Addr = "" }, "address is empty"},
		{func(s *Session) { s.Addr = "Venus.org" }, "not in canonical form"},
		{func(s *Session) { s.Addr = "[::1]" }, "not in canonical form"},
		{func(s *Session) { s.AuthKey = [KeySize]byte{} }, "auth key is all zeros"},
	} {
		s := ok
		c.mut(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%v) = %v, want %q", s, err, c.want)
		}
		if _, _, err := Parse(Encode(s)); err == nil && c.want != "not in canonical form" {
			t.Errorf("Parse(Encode(invalid %v)) succeeded", s)
		}
	}
}

// gramRecord builds a GramJS record with the given parts.
func gramRecord(dc byte, addrLen int, addr string, port uint16, key []byte) []byte {
	b := []byte{dc}
	b = binary.BigEndian.AppendUint16(b, uint16(addrLen))
	b = append(b, addr...)
	b = binary.BigEndian.AppendUint16(b, port)
	return append(b, key...)
}

func TestErrors(t *testing.T) {
	k := key1()
	std := func(b []byte) string { return "1" + base64.StdEncoding.EncodeToString(b) }
	valid := std(gramRecord(2, 14, "149.154.167.51", 443, k[:]))
	zero := make([]byte, KeySize)
	tele := append(append([]byte{2, 149, 154, 167, 51}, 0x01, 0xbb), k[:]...)

	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "session string: empty"},
		{"blank", " \n\t", "session string: empty"},
		{"version", "2" + valid[1:], `session string: version prefix must be "1"`},
		{"no version", valid[1:], `version prefix must be "1"`},
		{"only version", "1", "no data after the version prefix"},
		{"bad char", valid[:50] + "*" + valid[51:], "invalid base64 character at offset 50"},
		{"inner space", valid[:50] + " " + valid[51:], "invalid base64 character at offset 50"},
		{"inner newline", valid[:60] + "\n" + valid[60:], "invalid base64 character at offset 60"},
		{"non-ASCII", valid[:10] + "é" + valid[10:], "invalid base64 character at offset 10"},
		{"padding inside", valid[:40] + "=" + valid[41:], "base64 padding '=' inside the data at offset 40"},
		{"mixed alphabets", "1" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(gramRecord(2, 7, "1.2.3.4", 443, append([]byte{0xfb, 0xff}, k[2:]...))), "+", "-"), "mixes the standard"},
		{"impossible length", strings.TrimRight(valid, "=") + "AA", "impossible length"},
		{"bad padding", strings.TrimRight(valid, "=") + "===", "base64 padding is wrong"},
		{"short key", std(gramRecord(2, 14, "149.154.167.51", 443, k[:200])), "auth key is 200 bytes, want 256"},
		{"long key", std(gramRecord(2, 14, "149.154.167.51", 443, append(k[:], 1, 2, 3))), "auth key is 259 bytes, want 256"},
		{"port 0", std(gramRecord(2, 14, "149.154.167.51", 0, k[:])), "port 0 out of range 1..65535"},
		{"dc 0", std(gramRecord(0, 14, "149.154.167.51", 443, k[:])), "dc id 0 out of range 1..255"},
		{"zero key", std(gramRecord(2, 14, "149.154.167.51", 443, zero)), "auth key is all zeros"},
		{"empty address", std(gramRecord(2, 0, "", 443, k[:])), "address is empty"},
		{"address too long for its length", std(gramRecord(2, 20, "149.154.167.51", 443, k[:])), "auth key is 250 bytes, want 256"},
		{"address text bad", std(gramRecord(2, 14, "149.154.167.5!", 443, k[:])), "address is not an IP address or host name"},
		{"numeric non-IP", std(gramRecord(2, 11, "149.154.167", 443, k[:])), "neither a valid IPv4 address nor a host name"},
		{"bad IPv6", std(gramRecord(2, 6, "1::2::", 443, k[:])), "not an IPv6 address"},
		{"IPv6 zone", std(gramRecord(2, 9, "fe80::1%x", 443, k[:])), "has a zone"},
		{"bad brackets", std(gramRecord(2, 8, "[1.2.3.4", 443, k[:])), "bracketed address is not an IPv6 address"},
		{"unspecified text", std(gramRecord(2, 7, "0.0.0.0", 443, k[:])), "address is in 0.0.0.0/8 or ::/8"},
		{"this-network IPv6 text", std(gramRecord(2, 4, "e::1", 443, k[:])), "address is in 0.0.0.0/8 or ::/8"},
		{"mapped this-network", std(gramRecord(2, 14, "::ffff:0.1.2.3", 443, k[:])), "address is in 0.0.0.0/8 or ::/8"},
		{"tiny", std([]byte{2}), "decoded data is 1 bytes"},
		{"truncated", std(gramRecord(2, 14, "149.154.1", 443, nil)), "data ends inside the address or port"},
		{"telethon short key", "1" + base64.URLEncoding.EncodeToString(tele[:262]), "decoded data is 262 bytes"},
		{"telethon dc 0", "1" + base64.URLEncoding.EncodeToString(append([]byte{0}, tele[1:]...)), "dc id 0 out of range"},
		{"telethon port 0", "1" + base64.URLEncoding.EncodeToString(append(append([]byte{}, tele[:5]...), append([]byte{0, 0}, k[:]...)...)), "port 0 out of range"},
		{"telethon unspecified", "1" + base64.URLEncoding.EncodeToString(append([]byte{2, 0, 0, 0, 0, 1, 187}, k[:]...)), "address is in 0.0.0.0/8 or ::/8"},
	}
	for _, c := range cases {
		_, _, err := Parse(c.in)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to contain %q", c.name, err, c.want)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error is %T, want *Error", c.name, err)
		}
		if !strings.HasPrefix(err.Error(), "session string: ") {
			t.Errorf("%s: error %q lacks the prefix", c.name, err)
		}
	}
}

// secretsOf lists the texts an error must never contain pieces of: the input
// and the key in every encoding.
func secretsOf(in string, key []byte) []string {
	return []string{
		in, string(key), hex.EncodeToString(key),
		base64.StdEncoding.EncodeToString(key), base64.URLEncoding.EncodeToString(key),
		// The key's base64 at each of the three alignments it can have in a record.
		base64.StdEncoding.EncodeToString(append([]byte{0}, key...)),
		base64.StdEncoding.EncodeToString(append([]byte{0, 0}, key...)),
	}
}

// leak returns a substring longer than 8 bytes that msg shares with secret.
func leak(msg, secret string) string {
	const n = 9
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(msg, secret[i:i+n]) {
			return secret[i : i+n]
		}
	}
	return ""
}

func TestErrorsNeverLeak(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var inputs []string
	var keys [][]byte
	add := func(in string, key []byte) { inputs = append(inputs, in); keys = append(keys, key) }

	for round := 0; round < 20; round++ {
		k := randomKey(r)
		valid := Encode(Session{DC: 2, Addr: "149.154.167.51", Port: 443, AuthKey: k})
		tel, _ := EncodeTelethon(Session{DC: 2, Addr: "2001:67c:4e8:f002::a", Port: 443, AuthKey: k})
		for _, v := range []string{valid, tel} {
			// Every truncation.
			for i := 0; i < len(v); i += 7 {
				add(v[:i], k[:])
			}
			// Bad characters, spaces and padding at random places.
			for _, bad := range []string{"*", " ", "=", "\x00", "é", "\"", "%", "\n"} {
				p := 1 + r.IntN(len(v)-1)
				add(v[:p]+bad+v[p:], k[:])
			}
			// Wrong prefixes and alphabets.
			add("0"+v[1:], k[:])
			add(v[1:], k[:])
			add(strings.ToUpper(v), k[:])
			add(v+v, k[:])
			add(v+"AAAA", k[:])
		}
		// Structural faults with the key inside.
		for _, rec := range [][]byte{
			gramRecord(2, 14, "149.154.167.51", 443, k[:r.IntN(256)]),
			gramRecord(0, 14, "149.154.167.51", 443, k[:]),
			gramRecord(2, 14, "149.154.167.51", 0, k[:]),
			gramRecord(2, 14, "149.154.167.5\x01", 443, k[:]),
			gramRecord(2, 99, "149.154.167.51", 443, k[:]),
			gramRecord(2, 14, string(k[:14]), 443, k[:]),
			append([]byte{9}, k[:]...),
			append(append([]byte{1}, k[:18]...), k[:]...),
		} {
			add("1"+base64.StdEncoding.EncodeToString(rec), k[:])
			add("1"+base64.RawURLEncoding.EncodeToString(rec), k[:])
		}
		// Random garbage after "1".
		for i := 0; i < 20; i++ {
			g := make([]byte, r.IntN(400))
			for j := range g {
				g[j] = byte(r.UintN(256))
			}
			add("1"+base64.StdEncoding.EncodeToString(g), g)
			add("1"+string(g), g)
		}
	}

	failures := 0
	for i, in := range inputs {
		_, _, err := Parse(in)
		if err == nil {
			continue
		}
		failures++
		for _, s := range secretsOf(in, keys[i]) {
			if l := leak(err.Error(), s); l != "" {
				t.Fatalf("error %q contains %q from a secret", err, l)
			}
		}
	}
	if failures < len(inputs)/2 {
		t.Fatalf("only %d of %d malformed inputs failed", failures, len(inputs))
	}
}

func TestFormattingRedactsKey(t *testing.T) {
	k := key2()
	s := Session{DC: 2, Addr: "1.2.3.4", Port: 443, AuthKey: k}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%T"} {
		out := fmt.Sprintf(verb, s)
		for _, sec := range secretsOf(Encode(s), k[:]) {
			if l := leak(out, sec); l != "" {
				t.Errorf("%s prints %q", verb, l)
			}
		}
		if strings.Contains(out, fmt.Sprint(k[:16])[1:20]) {
			t.Errorf("%s prints key bytes: %s", verb, out)
		}
	}
	// Pointer and nested values too.
	out := fmt.Sprintf("%v %+v", &s, struct{ S Session }{s})
	if l := leak(out, hex.EncodeToString(k[:])); l != "" || strings.Contains(out, "3 10 17 24 31") {
		t.Errorf("nested formatting prints the key: %s", out)
	}
}
