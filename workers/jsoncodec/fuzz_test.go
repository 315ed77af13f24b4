package jsoncodec

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func addSeeds(f *testing.F) {
	for _, s := range validityCases {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`42`, `-0`, `1e3`, `1.5`, `9007199254740993`, `9223372036854775808`, `"\ud83d\ude00"`, `"\ud800x"`,
		"\"\xff\"", `"2026-11-26T22:22:44.123Z"`, `{"a":[1,2,{"b":"c"}],"a":null}`, `[1e400]`, `1e-400`,
		`{"sessionString":"1AgAA","sessionId":"s1","userId":42,"expiresAt":"2026-11-26T22:22:44.123Z"}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecode checks the Decoder against encoding/json: Skip+End succeeds
// exactly for json.Valid input, and String, Int64, Float64, Time and a generic
// decode agree with encoding/json where both succeed (and succeed where it
// does, except for the documented extensions).
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		err := d.Skip()
		if err == nil {
			err = d.End()
		}
		valid := json.Valid(data)
		if valid != (err == nil) {
			t.Fatalf("Skip+End = %v, json.Valid = %v", err, valid)
		}
		if !valid {
			return
		}
		isNull := bytes.Equal(bytes.TrimSpace(data), []byte("null")) // encoding/json: a no-op for non-pointers

		d.Reset(data)
		s, err := d.String()
		if err == nil {
			err = d.End()
		}
		var std string
		stdErr := json.Unmarshal(data, &std)
		switch {
		case err == nil && stdErr == nil && s != std:
			t.Fatalf("String = %q, encoding/json = %q", s, std)
		case (err == nil) != (stdErr == nil) && !isNull:
			t.Fatalf("String err = %v, encoding/json err = %v", err, stdErr)
		}

		d.Reset(data)
		i, err := d.Int64()
		if err == nil {
			err = d.End()
		}
		var stdInt int64
		stdErr = json.Unmarshal(data, &stdInt)
		switch {
		case err == nil && stdErr == nil && i != stdInt:
			t.Fatalf("Int64 = %d, encoding/json = %d", i, stdInt)
		case stdErr == nil && err != nil && !isNull:
			t.Fatalf("Int64 failed (%v) where encoding/json read %d", err, stdInt)
		case err == nil && stdErr != nil:
			// An extension: a number in exponent or fraction form whose value
			// is an integer. It must be the float64 value too, where exact.
			var f float64
			if json.Unmarshal(data, &f) != nil || (math.Abs(f) < 1<<53 && f != float64(i)) {
				t.Fatalf("Int64 = %d, but the number is %v", i, f)
			}
		}

		d.Reset(data)
		fl, err := d.Float64()
		if err == nil {
			err = d.End()
		}
		var stdFl float64
		stdErr = json.Unmarshal(data, &stdFl)
		switch {
		case err == nil && stdErr == nil && fl != stdFl:
			t.Fatalf("Float64 = %v, encoding/json = %v", fl, stdFl)
		case (err == nil) != (stdErr == nil) && !isNull:
			t.Fatalf("Float64 err = %v, encoding/json err = %v", err, stdErr)
		}

		d.Reset(data)
		tm, err := d.Time()
		if err == nil {
			err = d.End()
		}
		var stdTm time.Time
		if stdErr = json.Unmarshal(data, &stdTm); err == nil && stdErr == nil && !tm.Equal(stdTm) {
			t.Fatalf("Time = %v, encoding/json = %v", tm, stdTm)
		}

		d.Reset(data)
		v, err := decodeAny(d)
		if err == nil {
			err = d.End()
		}
		var stdV any
		stdErr = json.Unmarshal(data, &stdV)
		switch {
		case (err == nil) != (stdErr == nil):
			t.Fatalf("decodeAny err = %v, encoding/json err = %v", err, stdErr)
		case err == nil && !reflect.DeepEqual(v, stdV):
			t.Fatalf("decodeAny = %#v, encoding/json = %#v", v, stdV)
		}
	})
}

// decodeAny decodes a value as encoding/json decodes into an `any`.
func decodeAny(d *Decoder) (any, error) {
	switch d.Peek() {
	case Null:
		return nil, d.Null()
	case Bool:
		return d.Bool()
	case Number:
		return d.Float64()
	case String:
		return d.String()
	case Array:
		a := []any{}
		err := d.Array(func() error {
			v, err := decodeAny(d)
			a = append(a, v)
			return err
		})
		return a, err
	case Object:
		m := map[string]any{}
		err := d.Object(func(key []byte) error {
			k := string(key)
			v, err := decodeAny(d)
			m[k] = v
			return err
		})
		return m, err
	}
	return nil, d.Skip()
}

// FuzzAppendString checks that AppendString writes valid JSON that reads back
// (with encoding/json and with Decoder) as s, each invalid UTF-8 byte replaced
// by U+FFFD, and writes what encoding/json writes without HTML escaping.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "\x00\x1f\"\\", "\u2028\u2029", "a\xffb", "\xed\xa0\x80", "😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString([]byte("x"), s)[1:]
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
		want := string([]rune(s)) // one U+FFFD per invalid byte
		var std string
		if err := json.Unmarshal(out, &std); err != nil || std != want {
			t.Fatalf("encoding/json reads %q as %q (%v), want %q", out, std, err, want)
		}
		got, err := NewDecoder(out).String()
		if err != nil || got != want {
			t.Fatalf("Decoder reads %q as %q (%v), want %q", out, got, err, want)
		}
		if stdOut := stdString(t, s); string(out) != stdOut {
			t.Fatalf("AppendString = %s, encoding/json = %s", out, stdOut)
		}
	})
}

// FuzzAppendFloat checks AppendFloat against encoding/json and Float64.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1.5, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		out := AppendFloat(nil, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if string(out) != "null" {
				t.Fatalf("AppendFloat(%v) = %s", v, out)
			}
			return
		}
		if v == 0 {
			v = 0 // -0 is written as 0
		}
		std, _ := json.Marshal(v)
		if !bytes.Equal(out, std) {
			t.Fatalf("AppendFloat(%v) = %s, encoding/json = %s", v, out, std)
		}
		back, err := NewDecoder(out).Float64()
		if err != nil || back != v {
			t.Fatalf("Float64(%s) = %v, %v", out, back, err)
		}
	})
}
