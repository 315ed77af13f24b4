package jsoncodec

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// stdString is what encoding/json writes for s without HTML escaping.
func stdString(t testing.TB, s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{`a"b\c/`, `"a\"b\\c/"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"<a & b>", `"<a & b>"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"héllo, 世界 😀", `"héllo, 世界 😀"`},
		{"a\xffb", `"a\ufffdb"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // an encoded surrogate is invalid UTF-8
		{"\xe4\xb8", `"\ufffd\ufffd"`},           // a truncated sequence
	}
	for _, tt := range tests {
		got := string(AppendString(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if std := stdString(t, tt.in); got != std {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", tt.in, got, std)
		}
	}
	// Appends, and keeps what dst holds.
	if got := string(AppendString([]byte("x:"), "y")); got != `x:"y"` {
		t.Errorf("append to prefix: %s", got)
	}
}

func TestAppendScalars(t *testing.T) {
	tests := []struct{ got, want string }{
		{string(AppendInt(nil, 0)), "0"},
		{string(AppendInt(nil, -42)), "-42"},
		{string(AppendInt(nil, math.MinInt64)), "-9223372036854775808"},
		{string(AppendUint(nil, math.MaxUint64)), "18446744073709551615"},
		{string(AppendBool(nil, true)), "true"},
		{string(AppendBool(nil, false)), "false"},
		{string(AppendNull(nil)), "null"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	// Expected values are what JavaScript's JSON.stringify writes.
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1, "1"},
		{-1.5, "-1.5"},
		{0.1, "0.1"},
		{1e-6, "0.000001"},
		{1e-7, "1e-7"},
		{1.5e-10, "1.5e-10"},
		{123456789012345680000, "123456789012345680000"},
		{1e21, "1e+21"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{5e-324, "5e-324"},
		{9007199254740993, "9007199254740992"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
		{math.Inf(-1), "null"},
	}
	for _, tt := range tests {
		if got := string(AppendFloat(nil, tt.in)); got != tt.want {
			t.Errorf("AppendFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	vals := []float64{1, 0.5, 1e20, 1e21, 1e-6, 1e-7, 3.14159, -2.5e-8, 1e100, 123e-20, math.MaxFloat64, math.SmallestNonzeroFloat64}
	for i := 0; i < 2000; i++ {
		vals = append(vals, math.Float64frombits(uint64(i)*0x9E3779B97F4A7C15))
	}
	for _, f := range vals {
		if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
			continue
		}
		std, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendFloat(nil, f); !bytes.Equal(got, std) {
			t.Errorf("AppendFloat(%v) = %s, encoding/json writes %s", f, got, std)
		}
		back, err := NewDecoder(AppendFloat(nil, f)).Float64()
		if err != nil || back != f {
			t.Errorf("Float64(AppendFloat(%v)) = %v, %v", f, back, err)
		}
	}
}

func TestAppendTime(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 26, 22, 22, 44, 123456789, time.UTC), `"2026-11-26T22:22:44.123Z"`},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), `"2026-01-02T03:04:05.000Z"`},
		{time.Date(2026, 1, 1, 0, 30, 0, 999999999, berlin), `"2025-12-31T23:30:00.999Z"`},
		{time.Time{}, `"0001-01-01T00:00:00.000Z"`},
		{time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC), `"0000-03-01T00:00:00.000Z"`},
		{time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC), `"9999-12-31T23:59:59.999Z"`},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), `"+010000-01-01T00:00:00.000Z"`},
		{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), `"-000001-01-01T00:00:00.000Z"`},
		{time.Date(275760, 9, 13, 0, 0, 0, 0, time.UTC), `"+275760-09-13T00:00:00.000Z"`},
		{time.Date(1234567, 1, 1, 0, 0, 0, 0, time.UTC), `"+1234567-01-01T00:00:00.000Z"`},
	}
	for _, tt := range tests {
		got := string(AppendTime(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendTime(%v) = %s, want %s", tt.in, got, tt.want)
			continue
		}
		if tt.in.Year() > 275760 {
			continue // beyond JavaScript's Date: written, but not read back
		}
		back, err := NewDecoder([]byte(got)).Time()
		if want := tt.in.Truncate(time.Millisecond); err != nil || !back.Equal(want) {
			t.Errorf("Time(%s) = %v, %v; want %v", got, back, err, want)
		}
	}
}

func TestAppendTimeRoundTrip(t *testing.T) {
	// Years 0-9999 round trip through encoding/json's RFC 3339 parser too.
	for i := int64(0); i < 3000; i++ {
		sec := (i * 0x5DEECE66D) % (253402300799 + 62135596800) // 0001..9999
		tm := time.Unix(sec-62135596800, (i*7919)%1e9).UTC()
		b := AppendTime(nil, tm)
		var std time.Time
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("encoding/json cannot read %s: %v", b, err)
		}
		want := tm.Truncate(time.Millisecond)
		got, err := NewDecoder(b).Time()
		if err != nil || !got.Equal(want) || !std.Equal(want) {
			t.Fatalf("%v: wrote %s, read %v (%v), encoding/json read %v", tm, b, got, err, std)
		}
	}
}

// TestStringsWordBoundaries puts each kind of special byte at every position
// of strings around the 8-byte words the scanners skip.
func TestStringsWordBoundaries(t *testing.T) {
	specials := []string{"\x00", "\x1f", " ", "\"", "\\", "/", "\x7f", "\x80", "\xff", "é", "\u2028", "😀", "\xe2\x80"}
	for n := 0; n <= 26; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, sp := range specials {
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				out := AppendString(nil, s)
				if std := stdString(t, s); string(out) != std {
					t.Fatalf("AppendString(%q) = %s, encoding/json = %s", s, out, std)
				}
				got, err := NewDecoder(out).String()
				if want := string([]rune(s)); err != nil || got != want {
					t.Fatalf("String(%s) = %q, %v; want %q", out, got, err, want)
				}
				raw := []byte(`"` + s + `"`)
				var std string
				stdErr := json.Unmarshal(raw, &std)
				d := NewDecoder(raw)
				got, err = d.String()
				if err == nil {
					err = d.End()
				}
				if (err == nil) != (stdErr == nil) || err == nil && got != std {
					t.Fatalf("String(%q) = %q, %v; encoding/json %q, %v", raw, got, err, std, stdErr)
				}
			}
		}
	}
}
