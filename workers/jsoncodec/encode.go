package jsoncodec

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain[b] is true for the ASCII bytes a JSON string can hold unescaped.
var plain = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string. Control characters, '"' and '\\'
// are escaped, as are U+2028 and U+2029; each byte of invalid UTF-8 becomes
// U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, to be copied verbatim
	for i := 0; i < len(s); {
		i += plainPrefix(s[i:])
		// Byte by byte up to the end of the word that needs attention.
		for end := min(i+8, len(s)); i < end; {
			c := s[i]
			if c < utf8.RuneSelf {
				if plain[c] {
					i++
					continue
				}
				dst = append(dst, s[start:i]...)
				switch c {
				case '"', '\\':
					dst = append(dst, '\\', c)
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				case '\b':
					dst = append(dst, '\\', 'b')
				case '\f':
					dst = append(dst, '\\', 'f')
				default:
					dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				}
				i++
				start = i
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			default:
				i += size
				continue
			}
			i += size
			start = i
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendInt appends v as a JSON number.
func AppendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// AppendUint appends v as a JSON number.
func AppendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// AppendBool appends true or false.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// AppendNull appends null.
func AppendNull(dst []byte) []byte { return append(dst, "null"...) }

// AppendFloat appends f as a JSON number in the shortest form that reads back
// as f, in the notation JavaScript's Number.prototype.toString chooses (an
// exponent below 1e-6 and from 1e21 on). NaN and ±Inf, which JSON cannot hold,
// are written as null, as JSON.stringify writes them.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return AppendNull(dst)
	}
	if f == 0 {
		return append(dst, '0') // also -0, as JavaScript writes it
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// strconv writes at least two exponent digits ("1e-07"); JavaScript
	// writes no leading zeros ("1e-7").
	e := n
	for dst[e] != 'e' {
		e++
	}
	digits := e + 2 // after "e+" or "e-"
	z := digits
	for z < len(dst)-1 && dst[z] == '0' {
		z++
	}
	if z > digits {
		dst = append(dst[:digits], dst[z:]...)
	}
	return dst
}

// AppendTime appends t as a JSON string in the form of JavaScript's
// Date.prototype.toISOString: UTC with exactly three fractional digits,
// "2026-11-26T22:22:44.123Z". Sub-millisecond digits are dropped (truncated,
// as a JavaScript Date holds milliseconds). Years outside 0000-9999 are
// written with a sign and six digits, "+012345-01-01T00:00:00.000Z", as
// JavaScript does (beyond JavaScript's range of ±275760 years, with more
// digits, which neither JavaScript nor Decoder.Time reads).
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6

	dst = append(dst, '"')
	if year >= 0 && year <= 9999 {
		dst = appendDigits(dst, year, 4)
	} else {
		y := year
		if y < 0 {
			dst = append(dst, '-')
			y = -y
		} else {
			dst = append(dst, '+')
		}
		dst = appendDigits(dst, y, 6)
	}
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, min, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, ms, 3)
	return append(dst, 'Z', '"')
}

// appendDigits appends v >= 0 in decimal, zero-padded to at least width digits.
func appendDigits(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}
