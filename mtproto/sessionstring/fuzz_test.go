package sessionstring

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var digitRuns = regexp.MustCompile(`[0-9]+`)

// quotesFixedText reports whether piece is part of the messages' fixed text,
// as is or with its digit runs read as verbs.
func quotesFixedText(fixed, piece string) bool {
	return strings.Contains(fixed, piece) || strings.Contains(fixed, digitRuns.ReplaceAllString(piece, "#"))
}

// messageText returns the fixed text of every error message in the package
// (the literals passed to errorf and &Error), with each verb as "#".
func messageText(t testing.TB) string {
	src, err := os.ReadFile("sessionstring.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range regexp.MustCompile(`(?:errorf\(|msg: )("(?:[^"\\]|\\.)*")`).FindAllSubmatch(src, -1) {
		lit, err := strconv.Unquote(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		lit = strings.NewReplacer("%d", "#", "%q", `"1"`).Replace(lit)
		b.WriteString("session string: " + lit + "\n")
	}
	return b.String()
}

// FuzzParse checks that Parse never panics, that whatever it accepts is valid
// and survives Encode→Parse unchanged, and that its errors carry no long piece
// of the input. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.in)
	}
	fixed := messageText(f)
	if !strings.Contains(fixed, "auth key is # bytes, want #") || !strings.Contains(fixed, `version prefix must be "1"`) {
		f.Fatalf("messageText did not find the messages")
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, format, err := Parse(in)
		if err != nil {
			if format != 0 || s != (Session{}) {
				t.Fatalf("Parse failed but returned %v %v", s, format)
			}
			// No piece of the input longer than 8 bytes appears in the message,
			// unless the input itself quotes the message's fixed text.
			if l := leak(err.Error(), in); l != "" && !quotesFixedText(fixed, l) {
				t.Fatalf("error %q contains %q from the input", err, l)
			}
			return
		}
		if format != FormatGramJS && format != FormatTelethon {
			t.Fatalf("format %v", format)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse returned a session Validate rejects: %v", err)
		}
		enc := Encode(s)
		s2, f2, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Encode(s)): %v", err)
		}
		if s2 != s || f2 != FormatGramJS {
			t.Fatalf("Encode→Parse changed the session: %v → %v (%v)", s, s2, f2)
		}
		if Encode(s2) != enc {
			t.Fatalf("Encode is not canonical")
		}
	})
}
