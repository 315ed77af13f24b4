package jsoncodec

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestInt64(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		errWant string // substring of the error; "" for success
	}{
		{"42", 42, ""},
		{" \t\r\n-7 ", -7, ""},
		{"0", 0, ""},
		{"-0", 0, ""},
		{"1e3", 1000, ""},
		{"1E+3", 1000, ""},
		{"1000.0", 1000, ""},
		{"1.5e1", 15, ""},
		{"100e-2", 1, ""},
		{"0.000e5", 0, ""},
		{"0e999999999999999999999", 0, ""},
		{"9223372036854775807", math.MaxInt64, ""},
		{"-9223372036854775808", math.MinInt64, ""},
		{"9.223372036854775807e18", math.MaxInt64, ""},
		{"9007199254740993", 9007199254740993, ""},
		{"9223372036854775808", 0, "offset 0: integer out of range"},
		{"-9223372036854775809", 0, "integer out of range"},
		{"1e19", 0, "integer out of range"},
		{"18446744073709551616", 0, "integer out of range"},
		{"1e400", 0, "integer out of range"},
		{"1e99999999999999999999999", 0, "integer out of range"},
		{"1.5", 0, "expected an integer, found a number with a fraction"},
		{"1e-1", 0, "with a fraction"},
		{"1e-99999999999999999999999", 0, "with a fraction"},
		{`"42"`, 0, "offset 0: expected a number, found a string"},
		{"null", 0, "expected a number, found null"},
		{"nul", 0, "expected a number, found an invalid literal"},
		{"true", 0, "expected a number, found a boolean"},
		{"[1]", 0, "expected a number, found an array"},
		{"", 0, "expected a number, found the end of the input"},
		{"  x", 0, "offset 2: expected a number, found 'x'"},
		{"-", 0, "offset 1: invalid number: expected a digit"},
		{"-a", 0, "invalid number"},
		{"1.", 0, "offset 2: invalid number: expected a digit after '.'"},
		{"1e", 0, "invalid number: expected a digit in the exponent"},
		{"1e+", 0, "invalid number"},
	}
	for _, tt := range tests {
		got, err := NewDecoder([]byte(tt.in)).Int64()
		if tt.errWant == "" {
			if err != nil || got != tt.want {
				t.Errorf("Int64(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errWant) {
			t.Errorf("Int64(%q) = %d, %v; want an error containing %q", tt.in, got, err, tt.errWant)
		}
	}
}

func TestIntRanges(t *testing.T) {
	if v, err := NewDecoder([]byte("4294967295")).Uint32(); err != nil || v != math.MaxUint32 {
		t.Errorf("Uint32 max: %d, %v", v, err)
	}
	if v, err := NewDecoder([]byte("-0")).Uint32(); err != nil || v != 0 {
		t.Errorf("Uint32 -0: %d, %v", v, err)
	}
	for _, in := range []string{"4294967296", "-1"} {
		if _, err := NewDecoder([]byte(in)).Uint32(); err == nil {
			t.Errorf("Uint32(%s) succeeded", in)
		}
	}
	if v, err := NewDecoder([]byte("-2147483648")).Int32(); err != nil || v != math.MinInt32 {
		t.Errorf("Int32 min: %d, %v", v, err)
	}
	for _, in := range []string{"2147483648", "-2147483649"} {
		if _, err := NewDecoder([]byte(in)).Int32(); err == nil {
			t.Errorf("Int32(%s) succeeded", in)
		}
	}
	if v, err := NewDecoder([]byte("-12")).Int(); err != nil || v != -12 {
		t.Errorf("Int: %d, %v", v, err)
	}
}

func TestFloat64(t *testing.T) {
	tests := []string{
		"0", "-0", "1", "-1.5", "0.1", "1e22", "1e23", "123456789012345", "1234567890123456789",
		"1.7976931348623157e308", "5e-324", "1e-400", "-1e-400", "2.2250738585072011e-308",
		"0.30000000000000004", "1E+2", "9007199254740993",
	}
	for _, in := range tests {
		want, err := strconv.ParseFloat(in, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := NewDecoder([]byte(in)).Float64()
		if err != nil || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("Float64(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1e400", "-1e400", "1.8e308"} {
		if _, err := NewDecoder([]byte(in)).Float64(); err == nil || !strings.Contains(err.Error(), "number out of range") {
			t.Errorf("Float64(%s): %v, want out of range", in, err)
		}
	}
	if _, err := NewDecoder([]byte(`"1"`)).Float64(); err == nil || !strings.Contains(err.Error(), "expected a number, found a string") {
		t.Errorf("Float64 of a string: %v", err)
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want, errWant string }{
		{`""`, "", ""},
		{`"abc"`, "abc", ""},
		{` "héllo 世界" `, "héllo 世界", ""},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t", ""},
		{`"\u0041\u00e9\u4e16\u0000"`, "Aé世\x00", ""},
		{`"\ud83d\ude00"`, "😀", ""},
		{`"\uD83D\uDE00"`, "😀", ""},
		{`"\ud800"`, "\ufffd", ""},
		{`"\ude00x"`, "\ufffdx", ""},
		{`"\ud800\u0041"`, "\ufffdA", ""},
		{`"\ud800\ud800\udc00"`, "\ufffd𐀀", ""},
		{`"\ud800\n"`, "\ufffd\n", ""},
		{"\"a\xffb\"", "a\ufffdb", ""},
		{"\"\xed\xa0\x80\\n\"", "\ufffd\ufffd\ufffd\n", ""},
		{"\"\u2028\"", "\u2028", ""},
		{`"abc`, "", "offset 4: unterminated string"},
		{`"abc\`, "", "unterminated string"},
		{`"a\x"`, "", "offset 2: invalid escape in a string"},
		{`"a\u12G4"`, "", `invalid \u escape`},
		{`"a\u12"`, "", `invalid \u escape`},
		{"\"a\nb\"", "", "offset 2: control character in a string"},
		{"\"a\\n\x01\"", "", "control character in a string"},
		{"42", "", "expected a string, found a number"},
		{"{}", "", "expected a string, found an object"},
	}
	for _, tt := range tests {
		got, err := NewDecoder([]byte(tt.in)).String()
		if tt.errWant == "" {
			if err != nil || got != tt.want {
				t.Errorf("String(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			var std string
			if err := json.Unmarshal([]byte(tt.in), &std); err != nil || std != tt.want {
				t.Errorf("encoding/json reads %q as %q, %v", tt.in, std, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errWant) {
			t.Errorf("String(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.errWant)
		}
	}
}

func TestBoolNull(t *testing.T) {
	d := NewDecoder([]byte(`[true, false, null, nul, tru]`))
	var got []string
	err := d.Array(func() error {
		switch d.Peek() {
		case Bool:
			b, err := d.Bool()
			got = append(got, strconv.FormatBool(b))
			return err
		case Null:
			if d.IsNull() {
				got = append(got, "null")
				return nil
			}
			return d.Null()
		}
		return errors.New("unexpected kind")
	})
	if want := "true false null"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if err == nil || !strings.Contains(err.Error(), "offset 20: expected null, found an invalid literal") {
		t.Errorf("err = %v", err)
	}
	if _, err := NewDecoder([]byte("tru")).Bool(); err == nil || !strings.Contains(err.Error(), "expected a boolean, found an invalid literal") {
		t.Errorf("Bool(tru): %v", err)
	}
	if _, err := NewDecoder([]byte("1")).Bool(); err == nil || !strings.Contains(err.Error(), "expected a boolean, found a number") {
		t.Errorf("Bool(1): %v", err)
	}
	if d := NewDecoder([]byte(" 1")); d.IsNull() || d.Offset() != 1 {
		t.Errorf("IsNull on a number consumed input")
	}
}

func TestObject(t *testing.T) {
	in := `{"id": 7, "name":"x", "skip": {"a":[1,{"b":null}]}, "auto": [true], "n\u0061me": "y", "nested": {"id": 8}}`
	d := NewDecoder([]byte(in))
	var id, nestedID int64
	var names []string
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "id":
			id, err = d.Int64()
		case "name":
			var s string
			s, err = d.String()
			names = append(names, s)
		case "skip":
			err = d.Skip()
		case "nested":
			err = d.Object(func(key []byte) error {
				if string(key) == "id" {
					nestedID, err = d.Int64()
					return err
				}
				return nil
			})
		}
		return err // "auto" is skipped by Object
	})
	if err != nil || id != 7 || nestedID != 8 || strings.Join(names, ",") != "x,y" {
		t.Fatalf("id=%d nested=%d names=%v err=%v", id, nestedID, names, err)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	if err := NewDecoder([]byte("{}")).Object(func([]byte) error { t.Error("called for {}"); return nil }); err != nil {
		t.Error(err)
	}

	bad := []struct{ in, errWant string }{
		{`[]`, "offset 0: expected an object, found an array"},
		{`{"a":1,}`, "offset 7: expected a string (an object key), found '}'"},
		{`{"a" 1}`, "offset 5: expected ':' after an object key, found a number"},
		{`{1:1}`, "expected a string (an object key), found a number"},
		{`{"a":1 "b":2}`, "offset 7: expected ',' or '}' after an object member, found a string"},
		{`{"a":}`, "offset 5: expected a value, found '}'"},
		{`{"a":1`, "expected ',' or '}' after an object member, found the end of the input"},
	}
	for _, tt := range bad {
		err := NewDecoder([]byte(tt.in)).Object(func([]byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.errWant) {
			t.Errorf("Object(%s) = %v, want %q", tt.in, err, tt.errWant)
		}
	}
	// fn's error is returned unchanged.
	sentinel := errors.New("stop")
	if err := NewDecoder([]byte(`{"a":1}`)).Object(func([]byte) error { return sentinel }); err != sentinel {
		t.Errorf("got %v, want the callback's error", err)
	}
}

func TestArray(t *testing.T) {
	d := NewDecoder([]byte(` [1, 2 ,3,"skipped"] `))
	var sum int64
	n := 0
	err := d.Array(func() error {
		n++
		if n == 4 {
			return nil // skipped by Array
		}
		v, err := d.Int64()
		sum += v
		return err
	})
	if err != nil || sum != 6 || n != 4 {
		t.Fatalf("sum=%d n=%d err=%v", sum, n, err)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	bad := []struct{ in, errWant string }{
		{`{}`, "expected an array, found an object"},
		{`[1,]`, "offset 3: expected a value, found ']'"},
		{`[1 2]`, "offset 3: expected ',' or ']' after an array element, found a number"},
		{`[`, "expected a value, found the end of the input"},
	}
	for _, tt := range bad {
		err := NewDecoder([]byte(tt.in)).Array(func() error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.errWant) {
			t.Errorf("Array(%s) = %v, want %q", tt.in, err, tt.errWant)
		}
	}
}

var validityCases = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `nulll`, `True`, `0`, `-0`, `01`, `-01`, `1.`, `.1`, `1e5`, `1E-5`,
	`1e+`, `-`, `+1`, `0x10`, `1.5e3`, `""`, `"\u00"`, `"\q"`, "\"\x01\"", "\"\x7f\"", "\"\xff\"", `[]`, `[1,]`,
	`[,1]`, `[1 2]`, `{}`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{a:1}`, `{"a":1}}`, `[]]`, ` [ 1 , { "b" : [ ] } ] `,
	"\ufeff1", "1\x00", `NaN`, `Infinity`, `[1e400]`, `"\ud800"`, "1 2", "\v1",
}

func TestSkipMatchesValid(t *testing.T) {
	for _, in := range validityCases {
		checkValidity(t, []byte(in))
	}
	for _, n := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		checkValidity(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
		checkValidity(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)))
	}
}

func checkValidity(t *testing.T, in []byte) {
	t.Helper()
	d := NewDecoder(in)
	err := d.Skip()
	if err == nil {
		err = d.End()
	}
	if valid := json.Valid(in); valid != (err == nil) {
		shown := in
		if len(shown) > 40 {
			shown = shown[:40]
		}
		t.Errorf("Skip+End(%q...) = %v, json.Valid = %v", shown, err, valid)
	}
}

func TestEnd(t *testing.T) {
	d := NewDecoder([]byte(`1 x`))
	if _, err := d.Int64(); err != nil {
		t.Fatal(err)
	}
	if err := d.End(); err == nil || err.Error() != "jsoncodec: offset 2: expected the end of the input, found 'x'" {
		t.Errorf("End: %v", err)
	}
}

func TestErrorsDoNotLeakInput(t *testing.T) {
	secret := "1AgAAAAAAAAAAAAAAAAAAAAAAAAsecretsecret"
	inputs := []string{
		`{"sessionString": "` + secret + `"}`,
		`"` + secret,
		`"` + secret + `\q"`,
		secret,
	}
	for _, in := range inputs {
		d := NewDecoder([]byte(in))
		var errs []error
		_, err := d.Int64()
		errs = append(errs, err)
		d.Reset([]byte(in))
		_, err = d.Time()
		errs = append(errs, err)
		d.Reset([]byte(in))
		_, err = d.String()
		errs = append(errs, err)
		d.Reset([]byte(in))
		errs = append(errs, d.Skip(), d.Object(func([]byte) error { return d.Skip() }))
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks input: %v", err)
			}
		}
	}
}

func TestErrorPath(t *testing.T) {
	in := `{"expiresAt": 7}`
	d := NewDecoder([]byte(in))
	err := d.Object(func(key []byte) error {
		_, err := d.Time()
		return WithField(string(key), err)
	})
	want := "jsoncodec: offset 14: expiresAt: expected a string (a date-time), found a number"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	err = WithField("sessions", WithIndex(2, err))
	var e *Error
	if !errors.As(err, &e) || e.Path != "sessions[2].expiresAt" || e.Offset != 14 {
		t.Errorf("path: %+v", e)
	}
	if got := WithField("x", errors.New("plain")); got.Error() != "plain" {
		t.Errorf("WithField changed a foreign error: %v", got)
	}
	if got := WithIndex(0, NewError(3, "m")).Error(); got != "jsoncodec: offset 3: [0]: m" {
		t.Errorf("WithIndex: %s", got)
	}
	if got := WithIndex(1, WithIndex(0, NewError(3, "m"))).Error(); got != "jsoncodec: offset 3: [1][0]: m" {
		t.Errorf("WithIndex twice: %s", got)
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2026-11-26T22:22:44.123Z"`, time.Date(2026, 11, 26, 22, 22, 44, 123e6, time.UTC)},
		{`"2026-11-26T22:22:44Z"`, time.Date(2026, 11, 26, 22, 22, 44, 0, time.UTC)},
		{`"2026-11-26t22:22:44.5z"`, time.Date(2026, 11, 26, 22, 22, 44, 5e8, time.UTC)},
		{`"2026-11-26T22:22:44.123456789Z"`, time.Date(2026, 11, 26, 22, 22, 44, 123456789, time.UTC)},
		{`"2026-11-26T22:22:44.1234567891Z"`, time.Date(2026, 11, 26, 22, 22, 44, 123456789, time.UTC)},
		{`"2026-11-26T23:52:44+01:30"`, time.Date(2026, 11, 26, 22, 22, 44, 0, time.UTC)},
		{`"2026-11-26T20:22:44.1-02:00"`, time.Date(2026, 11, 26, 22, 22, 44, 1e8, time.UTC)},
		{`"2024-02-29T00:00:00Z"`, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{`"+010000-01-01T00:00:00.000Z"`, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`"-000001-01-01T00:00:00.000Z"`, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`"\u0032026-11-26T22:22:44.123Z"`, time.Date(2026, 11, 26, 22, 22, 44, 123e6, time.UTC)},
	}
	for _, tt := range tests {
		got, err := NewDecoder([]byte(tt.in)).Time()
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("Time(%s) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		`""`, `"2026-11-26"`, `"2026-11-26T22:22Z"`, `"2026-11-26T22:22:44"`, `"2026-11-26 22:22:44Z"`,
		`"2026-13-01T00:00:00Z"`, `"2026-00-01T00:00:00Z"`, `"2025-02-29T00:00:00Z"`, `"2026-04-31T00:00:00Z"`,
		`"2026-11-26T24:00:00Z"`, `"2026-11-26T23:60:00Z"`, `"2026-11-26T23:59:60Z"`, `"2026-11-26T22:22:44.Z"`,
		`"2026-11-26T22:22:44+0100"`, `"2026-11-26T22:22:44+24:00"`, `"2026-11-26T22:22:44Z "`, `"-000000-01-01T00:00:00Z"`,
		`"26-11-26T22:22:44Z"`, `"2026-1-26T22:22:44Z"`, `"١٢٣٤-11-26T22:22:44Z"`,
	}
	for _, in := range bad {
		if got, err := NewDecoder([]byte(in)).Time(); err == nil {
			t.Errorf("Time(%s) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "offset 0: expected an RFC 3339 date-time, found a string in another form") {
			t.Errorf("Time(%s): %v", in, err)
		}
	}
	if _, err := NewDecoder([]byte(`1`)).Time(); err == nil || !strings.Contains(err.Error(), "expected a string (a date-time), found a number") {
		t.Errorf("Time(1): %v", err)
	}
}

func TestArgs(t *testing.T) {
	params := []string{"userId", "sessionString"}
	tests := []struct {
		in, param, errWant string
	}{
		{`[7, "s"]`, "", ""},
		{` [ 7 , "s" ] `, "", ""},
		{`[]`, "", "offset 1: expected 2 arguments, found 0"},
		{`[7]`, "", "offset 2: expected 2 arguments, found 1"},
		{`[7, "s", 1]`, "", "offset 9: expected 2 arguments, found more"},
		{`["7", "s"]`, "userId", "offset 1: expected a number, found a string"},
		{`[7, 8]`, "sessionString", "offset 4: expected a string, found a number"},
		{`null`, "", "offset 0: expected an array, found null"},
		{`{}`, "", "expected an array, found an object"},
		{`[7, "s"] x`, "", "offset 9: expected the end of the input, found 'x'"},
		{`[7, "s"`, "", "expected ',' or ']' after an array element, found the end of the input"},
	}
	for _, tt := range tests {
		d := NewDecoder([]byte(tt.in))
		var id int64
		var s string
		param, err := d.Args(params, func(i int) (err error) {
			switch i {
			case 0:
				id, err = d.Int64()
			case 1:
				s, err = d.String()
			}
			return err
		})
		if tt.errWant == "" {
			if err != nil || id != 7 || s != "s" {
				t.Errorf("Args(%s) = %v; id=%d s=%q", tt.in, err, id, s)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errWant) || param != tt.param {
			t.Errorf("Args(%s) = %q, %v; want %q, %q", tt.in, param, err, tt.param, tt.errWant)
		}
	}
	if _, err := NewDecoder([]byte(`[1]`)).Args([]string{"a"}, func(int) error { return nil }); err != nil {
		t.Errorf("single argument: %v", err)
	}
	if _, err := NewDecoder([]byte(` [ ] `)).Args(nil, func(int) error { return nil }); err != nil {
		t.Errorf("no arguments: %v", err)
	}
	if _, err := NewDecoder([]byte(`[1]`)).Args(nil, func(int) error { return nil }); err == nil || !strings.Contains(err.Error(), "expected 0 arguments, found more") {
		t.Errorf("no arguments, given one: %v", err)
	}
}

func TestSkipDoesNotAllocate(t *testing.T) {
	doc := []byte(`{"a":[1,2.5e3,-0,true,false,null,"x\u00e9\"\ud83d\ude00"],"b\n":{"c":{"d":[[],{}]}},"e":"` +
		strings.Repeat("long string ", 50) + `"}`)
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset(doc)
		if err := d.Skip(); err != nil {
			t.Fatal(err)
		}
		if err := d.End(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Skip allocates %v times", allocs)
	}
	// Reading numbers, booleans, times and unknown members does not allocate either.
	doc = []byte(`{"n":42,"f":1.5,"b":true,"t":"2026-11-26T22:22:44.123Z","skip":{"x":[1,"y"]}}`)
	allocs = testing.AllocsPerRun(100, func() {
		d.Reset(doc)
		err := d.Object(func(key []byte) error {
			var err error
			switch string(key) {
			case "n":
				_, err = d.Int64()
			case "f":
				_, err = d.Float64()
			case "b":
				_, err = d.Bool()
			case "t":
				_, err = d.Time()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("decoding scalars allocates %v times", allocs)
	}
}
