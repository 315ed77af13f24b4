package jsoncodec

// Eight bytes at a time: the string scanners skip words that hold no byte
// needing attention (a control character, '"', '\\' or a non-ASCII byte).
// This is about three times faster than a byte loop in WebAssembly.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special reports, in the high bit of each byte, which bytes of w are below
// 0x20, '"', '\\' or non-ASCII. (Bytes after a flagged one may be flagged
// falsely; callers only use it to find words without any.)
func special(w uint64) uint64 {
	quote := w ^ (lsb * '"')
	backslash := w ^ (lsb * '\\')
	return ((w - lsb*0x20) | (quote - lsb) | (backslash - lsb) | w) & msb
}

// plainPrefix returns the length of the longest prefix of s, in whole words,
// that holds only plain ASCII (as the plain table defines it).
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if special(w) != 0 {
			break
		}
	}
	return i
}

// plainPrefixBytes is plainPrefix for a byte slice.
func plainPrefixBytes(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		if special(w) != 0 {
			break
		}
	}
	return i
}
