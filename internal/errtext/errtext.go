// Package errtext quotes input for error messages: a message may say what was
// wrong with a value without carrying the value whole (it may be long, binary,
// or half a secret).
package errtext

import (
	"strings"
	"unicode/utf8"
)

// Quote quotes at most max bytes of s: printable ASCII but for quotes and
// backslashes is kept, everything else becomes '?', and a cut is marked
// with "...".
func Quote(s string, max int) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s) && i < max; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			c = '?'
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	if len(s) > max {
		b.WriteString("...")
	}
	return b.String()
}

// Clip shortens s to at most n bytes of valid UTF-8 (invalid bytes become
// U+FFFD first): for caller-supplied text kept in a log or a database.
func Clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
