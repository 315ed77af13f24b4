// Package wire is the binary framing of payloads that cross the Go/JavaScript
// boundary of the bridge (js/runtime.mjs has the JavaScript half). Everything is
// little endian: u8, u32, f64, and byte strings as a u32 length then the bytes.
// Plain numbers and one byte buffer per direction are what cross cheaply
// (docs/benchmarks.md); JavaScript objects never do.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
)

// Writer appends fields to Buf.
type Writer struct{ Buf []byte }

func (w *Writer) U8(v byte) { w.Buf = append(w.Buf, v) }

func (w *Writer) U32(v uint32) { w.Buf = binary.LittleEndian.AppendUint32(w.Buf, v) }

func (w *Writer) F64(v float64) {
	w.Buf = binary.LittleEndian.AppendUint64(w.Buf, math.Float64bits(v))
}

func (w *Writer) Bytes(b []byte) {
	w.U32(uint32(len(b)))
	w.Buf = append(w.Buf, b...)
}

func (w *Writer) String(s string) {
	w.U32(uint32(len(s)))
	w.Buf = append(w.Buf, s...)
}

// ErrShort is returned when a payload ends before a field does.
var ErrShort = errors.New("wire: payload too short")

// Reader reads fields from a payload. After the first error every read returns
// a zero value and Err reports the error.
type Reader struct {
	b   []byte
	err error
}

func NewReader(b []byte) *Reader { return &Reader{b: b} }

func (r *Reader) Err() error { return r.err }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) }

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = ErrShort
		r.b = nil
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *Reader) U8() byte {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *Reader) U32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (r *Reader) F64() float64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

// Bytes returns a field without copying: it aliases the payload.
func (r *Reader) Bytes() []byte { return r.take(int(r.U32())) }

func (r *Reader) String() string { return string(r.Bytes()) }

// Rest returns the unread bytes without copying.
func (r *Reader) Rest() []byte { return r.take(len(r.b)) }
