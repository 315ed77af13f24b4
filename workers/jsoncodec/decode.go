package jsoncodec

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a Decoder accepts, the
// same limit as encoding/json's.
const MaxDepth = 10000

// Kind is the kind of a JSON value, as told by its first byte.
type Kind uint8

// The kinds of values. Invalid means the next byte starts no value (or the
// input has ended).
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// Decoder reads JSON values from a byte slice. The zero Decoder reads an empty
// input; use Reset or NewDecoder. A Decoder never retains the slices it
// returns beyond the documented lifetime and does not modify its input.
type Decoder struct {
	data    []byte
	pos     int
	depth   int
	scratch []byte // unescaped strings; reused
}

// NewDecoder returns a Decoder that reads data.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// Reset makes d read data from its start, keeping its scratch buffer.
func (d *Decoder) Reset(data []byte) {
	d.data = data
	d.pos = 0
	d.depth = 0
}

// Offset returns the byte offset of the next unread byte.
func (d *Decoder) Offset() int { return d.pos }

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next skips whitespace and returns the next byte, or 0 at the end.
func (d *Decoder) next() byte {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// Peek returns the kind of the next value without reading it.
func (d *Decoder) Peek() Kind {
	switch c := d.next(); {
	case c == 'n':
		return Null
	case c == 't' || c == 'f':
		return Bool
	case c == '-' || c >= '0' && c <= '9':
		return Number
	case c == '"':
		return String
	case c == '[':
		return Array
	case c == '{':
		return Object
	}
	return Invalid
}

// found describes the next value (after whitespace) for an error message.
func (d *Decoder) found() string {
	if d.pos >= len(d.data) {
		return "the end of the input"
	}
	switch c := d.data[d.pos]; {
	case c == 'n':
		return d.foundLiteral("null", "null")
	case c == 't':
		return d.foundLiteral("true", "a boolean")
	case c == 'f':
		return d.foundLiteral("false", "a boolean")
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c == '"':
		return "a string"
	case c == '[':
		return "an array"
	case c == '{':
		return "an object"
	case c > ' ' && c < utf8.RuneSelf:
		// One punctuation character is no secret and helps to find the fault.
		return "'" + string(rune(c)) + "'"
	default:
		return "an invalid character"
	}
}

func (d *Decoder) foundLiteral(lit, what string) string {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		return what
	}
	return "an invalid literal"
}

func (d *Decoder) errorf(msg string) *Error { return &Error{Offset: d.pos, Msg: msg} }

// expected returns the error for a next value that is not what was expected
// (what is "a number", "an object", ...).
func (d *Decoder) expected(what string) *Error {
	return d.errorf("expected " + what + ", found " + d.found())
}

func (d *Decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return d.errorf("nesting deeper than " + strconv.Itoa(MaxDepth) + " levels")
	}
	return nil
}

// Object reads an object, calling fn for each member with its key, unescaped.
// fn should read the member's value with one Decoder call (or Skip it); if fn
// returns nil without having read the value, Object skips it. key is valid
// only until fn reads a value. Keys are matched by the caller exactly (case
// sensitively); if a key repeats, fn sees it twice.
func (d *Decoder) Object(fn func(key []byte) error) error {
	if d.next() != '{' {
		return d.expected("an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	if d.next() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if d.next() != '"' {
			return d.expected("a string (an object key)")
		}
		key, err := d.readString()
		if err != nil {
			return err
		}
		if d.next() != ':' {
			return d.expected("':' after an object key")
		}
		d.pos++
		d.skipSpace()
		start := d.pos
		if err := fn(key); err != nil {
			return err
		}
		if d.pos == start {
			if err := d.Skip(); err != nil {
				return err
			}
		}
		switch d.next() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.expected("',' or '}' after an object member")
		}
	}
}

// Array reads an array, calling fn once per element. fn should read the
// element with one Decoder call (or Skip it); if fn returns nil without having
// read it, Array skips it.
func (d *Decoder) Array(fn func() error) error {
	if d.next() != '[' {
		return d.expected("an array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	if d.next() == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		d.skipSpace()
		start := d.pos
		if err := fn(); err != nil {
			return err
		}
		if d.pos == start {
			if err := d.Skip(); err != nil {
				return err
			}
		}
		switch d.next() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.expected("',' or ']' after an array element")
		}
	}
}

// String reads a string.
func (d *Decoder) String() (string, error) {
	if d.next() != '"' {
		return "", d.expected("a string")
	}
	b, err := d.readString()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// StringBytes reads a string and returns it unescaped, either as a slice of
// the input or of an internal buffer that is valid until the next call to d.
func (d *Decoder) StringBytes() ([]byte, error) {
	if d.next() != '"' {
		return nil, d.expected("a string")
	}
	return d.readString()
}

// readString reads the string at d.pos (a '"'). Without escapes and with
// valid UTF-8 it returns a slice of the input, else of d.scratch.
func (d *Decoder) readString() ([]byte, error) {
	start := d.pos + 1
	ascii := true
	for i := start; i < len(d.data); {
		i += plainPrefixBytes(d.data[i:])
		for end := min(i+8, len(d.data)); i < end; i++ {
			switch c := d.data[i]; {
			case c == '"':
				s := d.data[start:i]
				if ascii || utf8.Valid(s) {
					d.pos = i + 1
					return s, nil
				}
				return d.unescape(start)
			case c == '\\':
				return d.unescape(start)
			case c < ' ':
				d.pos = i
				return nil, d.errorf("control character in a string")
			case c >= utf8.RuneSelf:
				ascii = false
			}
		}
	}
	d.pos = len(d.data)
	return nil, d.errorf("unterminated string")
}

// unescape decodes the string whose content starts at start into d.scratch.
func (d *Decoder) unescape(start int) ([]byte, error) {
	buf := d.scratch[:0]
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = buf
			return buf, nil
		case c < ' ':
			d.pos = i
			return nil, d.errorf("control character in a string")
		case c < utf8.RuneSelf && c != '\\':
			buf = append(buf, c)
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, d.data[i:i+size]...)
			}
			i += size
		default: // backslash
			if i+1 >= len(d.data) {
				d.pos = len(d.data)
				return nil, d.errorf("unterminated string")
			}
			e := d.data[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(d.data, i)
				if !ok {
					d.pos = i - 2
					return nil, d.errorf(`invalid \u escape in a string`)
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair is two escapes; anything else leaves a lone
					// surrogate, which becomes U+FFFD.
					r2, ok := rune(0), false
					if i+1 < len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
						r2, ok = hex4(d.data, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				d.pos = i - 2
				return nil, d.errorf("invalid escape in a string")
			}
		}
	}
	d.pos = len(d.data)
	return nil, d.errorf("unterminated string")
}

// hex4 decodes the four hex digits at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipString validates the string at d.pos (a '"') without decoding it.
func (d *Decoder) skipString() error {
	i := d.pos + 1
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return nil
		case c < ' ':
			d.pos = i
			return d.errorf("control character in a string")
		case c == '\\':
			if i+1 >= len(d.data) {
				d.pos = len(d.data)
				return d.errorf("unterminated string")
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(d.data, i+2); !ok {
					d.pos = i
					return d.errorf(`invalid \u escape in a string`)
				}
				i += 6
			default:
				d.pos = i
				return d.errorf("invalid escape in a string")
			}
		default:
			i++
		}
	}
	d.pos = len(d.data)
	return d.errorf("unterminated string")
}

// number is the syntax of a JSON number: -?int(.frac)?([eE][+-]?exp)?
type number struct {
	neg   bool
	ipart []byte // at least one digit, no leading zero unless "0"
	fpart []byte // digits after '.', possibly none
	exp   int64  // the exponent, saturated at ±maxExp
}

const maxExp = 1 << 40 // far beyond any input length

// readNumber reads the number at d.pos, whose first byte is '-' or a digit.
func (d *Decoder) readNumber() (n number, err error) {
	i := d.pos
	data := d.data
	if data[i] == '-' {
		n.neg = true
		i++
	}
	start := i
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return n, d.errorf("invalid number: expected a digit")
	}
	n.ipart = data[start:i]
	if i < len(data) && data[i] == '.' {
		i++
		start = i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == start {
			d.pos = i
			return n, d.errorf("invalid number: expected a digit after '.'")
		}
		n.fpart = data[start:i]
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		neg := false
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			neg = data[i] == '-'
			i++
		}
		start = i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			if n.exp < maxExp {
				n.exp = n.exp*10 + int64(data[i]-'0')
			}
			i++
		}
		if i == start {
			d.pos = i
			return n, d.errorf("invalid number: expected a digit in the exponent")
		}
		if n.exp > maxExp {
			n.exp = maxExp
		}
		if neg {
			n.exp = -n.exp
		}
	}
	d.pos = i
	return n, nil
}

const errFraction = "expected an integer, found a number with a fraction"

// integer returns the magnitude of n if n is an exact integer no larger than
// max. ok is false with a message otherwise.
func (n *number) integer(max uint64) (uint64, string) {
	// The value is digits(int ++ frac) * 10^scale.
	digits := func(k int) byte { // k-th digit of int ++ frac
		if k < len(n.ipart) {
			return n.ipart[k]
		}
		return n.fpart[k-len(n.ipart)]
	}
	total := len(n.ipart) + len(n.fpart)
	first := 0 // first nonzero digit
	for first < total && digits(first) == '0' {
		first++
	}
	if first == total {
		return 0, "" // zero, whatever the exponent
	}
	last := total // one past the last nonzero digit
	for digits(last-1) == '0' {
		last--
	}
	scale := n.exp - int64(len(n.fpart)) + int64(total-last)
	if scale < 0 {
		return 0, errFraction
	}
	if int64(last-first)+scale > 20 {
		return 0, "integer out of range"
	}
	var v uint64
	for k := first; k < last; k++ {
		c := uint64(digits(k) - '0')
		if v > (math.MaxUint64-c)/10 {
			return 0, "integer out of range"
		}
		v = v*10 + c
	}
	for ; scale > 0; scale-- {
		if v > math.MaxUint64/10 {
			return 0, "integer out of range"
		}
		v *= 10
	}
	if v > max {
		return 0, "integer out of range"
	}
	return v, ""
}

// intRange reads a number that must be an exact integer in [min, max].
func (d *Decoder) intRange(min int64, max uint64) (int64, error) {
	c := d.next()
	if c != '-' && (c < '0' || c > '9') {
		return 0, d.expected("a number")
	}
	start := d.pos
	n, err := d.readNumber()
	if err != nil {
		return 0, err
	}
	limit := max
	if n.neg {
		limit = uint64(-(min + 1)) + 1 // |min| without overflow
	}
	v, msg := n.integer(limit)
	if msg != "" {
		d.pos = start
		return 0, d.errorf(msg)
	}
	if n.neg {
		return -int64(v-1) - 1, nil // -v without overflow for min
	}
	return int64(v), nil
}

// Int64 reads a number that is an exact int64 integer (see the package
// documentation for the accepted forms).
func (d *Decoder) Int64() (int64, error) { return d.intRange(math.MinInt64, math.MaxInt64) }

// Int reads a number that is an exact integer in the range of int.
func (d *Decoder) Int() (int, error) {
	v, err := d.intRange(math.MinInt, math.MaxInt)
	return int(v), err
}

// Int32 reads a number that is an exact integer in the range of int32.
func (d *Decoder) Int32() (int32, error) {
	v, err := d.intRange(math.MinInt32, math.MaxInt32)
	return int32(v), err
}

// Uint32 reads a number that is an exact integer in the range of uint32.
func (d *Decoder) Uint32() (uint32, error) {
	v, err := d.intRange(0, math.MaxUint32)
	return uint32(v), err
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// Float64 reads a number as the nearest float64. Numbers beyond the float64
// range are an error; numbers too small for it read as zero.
func (d *Decoder) Float64() (float64, error) {
	c := d.next()
	if c != '-' && (c < '0' || c > '9') {
		return 0, d.expected("a number")
	}
	start := d.pos
	n, err := d.readNumber()
	if err != nil {
		return 0, err
	}
	// Fast path: an integer mantissa below 2^53 times or divided by an exact
	// power of ten is correctly rounded by one float operation.
	if total := len(n.ipart) + len(n.fpart); total <= 15 && n.exp >= -22 && n.exp <= 22 {
		var m uint64
		for _, c := range n.ipart {
			m = m*10 + uint64(c-'0')
		}
		for _, c := range n.fpart {
			m = m*10 + uint64(c-'0')
		}
		scale := n.exp - int64(len(n.fpart))
		if scale >= -22 && scale <= 22 {
			f := float64(m)
			if scale >= 0 {
				f *= pow10[scale]
			} else {
				f /= pow10[-scale]
			}
			if n.neg {
				f = -f
			}
			return f, nil
		}
	}
	f, err := strconv.ParseFloat(string(d.data[start:d.pos]), 64)
	if err != nil {
		d.pos = start
		return 0, d.errorf("number out of range")
	}
	return f, nil
}

// Bool reads true or false.
func (d *Decoder) Bool() (bool, error) {
	if d.next() == 't' {
		if d.literal("true") {
			return true, nil
		}
	} else if d.next() == 'f' {
		if d.literal("false") {
			return false, nil
		}
	}
	return false, d.expected("a boolean")
}

// literal consumes lit if the input continues with it.
func (d *Decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// IsNull reports whether the next value is null and, if it is, reads it.
// Otherwise it reads nothing.
func (d *Decoder) IsNull() bool {
	return d.next() == 'n' && d.literal("null")
}

// Null reads null.
func (d *Decoder) Null() error {
	if d.IsNull() {
		return nil
	}
	return d.expected("null")
}

// Skip reads any one value, validating it as strictly as json.Valid does.
func (d *Decoder) Skip() error {
	switch c := d.next(); {
	case c == '"':
		return d.skipString()
	case c == '{':
		if err := d.enter(); err != nil {
			return err
		}
		d.pos++
		if d.next() == '}' {
			d.pos++
			d.depth--
			return nil
		}
		for {
			if d.next() != '"' {
				return d.expected("a string (an object key)")
			}
			if err := d.skipString(); err != nil {
				return err
			}
			if d.next() != ':' {
				return d.expected("':' after an object key")
			}
			d.pos++
			if err := d.Skip(); err != nil {
				return err
			}
			switch d.next() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				d.depth--
				return nil
			default:
				return d.expected("',' or '}' after an object member")
			}
		}
	case c == '[':
		if err := d.enter(); err != nil {
			return err
		}
		d.pos++
		if d.next() == ']' {
			d.pos++
			d.depth--
			return nil
		}
		for {
			if err := d.Skip(); err != nil {
				return err
			}
			switch d.next() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				d.depth--
				return nil
			default:
				return d.expected("',' or ']' after an array element")
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.readNumber()
		return err
	case c == 't':
		if d.literal("true") {
			return nil
		}
	case c == 'f':
		if d.literal("false") {
			return nil
		}
	case c == 'n':
		if d.literal("null") {
			return nil
		}
	}
	return d.expected("a value")
}

// End reports an error unless only whitespace remains.
func (d *Decoder) End() error {
	if d.skipSpace(); d.pos < len(d.data) {
		return d.expected("the end of the input")
	}
	return nil
}

// Args reads the argument list of a call: a JSON array with exactly one
// element per name in params, and nothing after it. fn(i) reads the i-th
// element (as Array's fn does). If fn fails, Args returns params[i] and fn's
// error; if the list itself is malformed or has the wrong length, it returns
// "" and an *Error.
func (d *Decoder) Args(params []string, fn func(i int) error) (param string, err error) {
	n := 0
	err = d.Array(func() error {
		if n == len(params) {
			return d.errorf("expected " + arguments(len(params)) + ", found more")
		}
		if err := fn(n); err != nil {
			param = params[n]
			return err
		}
		n++
		return nil
	})
	if err == nil && n < len(params) {
		err = &Error{Offset: d.pos - 1, Msg: "expected " + arguments(len(params)) + ", found " + strconv.Itoa(n)}
	}
	if err == nil {
		err = d.End()
	}
	return param, err
}

func arguments(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return strconv.Itoa(n) + " arguments"
}
