package wire

import (
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.U8(7)
	w.U32(math.MaxUint32)
	w.F64(-1.5)
	w.String("héllo")
	w.Bytes(nil)
	w.Bytes([]byte{0, 1, 2})
	r := NewReader(w.Buf)
	if r.U8() != 7 || r.U32() != math.MaxUint32 || r.F64() != -1.5 || r.String() != "héllo" ||
		len(r.Bytes()) != 0 || string(r.Bytes()) != "\x00\x01\x02" || r.Err() != nil || r.Len() != 0 {
		t.Fatal("round trip mismatch")
	}
}

func TestShortPayloadIsAnErrorNotAPanic(t *testing.T) {
	var w Writer
	w.String("abc")
	for n := 0; n < len(w.Buf); n++ {
		r := NewReader(w.Buf[:n])
		if s := r.String(); s != "" || r.Err() != ErrShort {
			t.Fatalf("n=%d: got %q, %v", n, s, r.Err())
		}
		if r.U32() != 0 || r.Err() != ErrShort {
			t.Fatal("reads after an error must keep failing")
		}
	}
	// A length prefix larger than the payload.
	r := NewReader([]byte{255, 255, 255, 255, 1})
	if r.Bytes() != nil || r.Err() != ErrShort {
		t.Fatal("oversized length accepted")
	}
}
