package errtext

import "testing"

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 8, `"abc"`},
		{"a\"b\\c\x00é", 16, `"a?b?c???"`}, // é is two bytes
		{"0123456789", 4, `"0123"...`},
		{"", 4, `""`},
	} {
		if got := Quote(tc.in, tc.max); got != tc.want {
			t.Errorf("Quote(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}
