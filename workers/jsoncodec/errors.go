package jsoncodec

import "strconv"

// Error is a decoding error. It never contains the input: Msg says what was
// expected and what kind of value was found.
type Error struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Path locates the value in the document when the caller knows it, such
	// as "sessions[2].expiresAt" (see WithField and WithIndex); it may be empty.
	Path string
	// Msg describes the problem without the offset and path, e.g.
	// "expected a number, found a string". It is safe to show to a caller.
	Msg string
}

// Error returns "jsoncodec: offset N: [path: ]msg".
func (e *Error) Error() string {
	s := "jsoncodec: offset " + strconv.Itoa(e.Offset) + ": "
	if e.Path != "" {
		s += e.Path + ": "
	}
	return s + e.Msg
}

// WithField prefixes the path of err, if it is an *Error, with the object key
// name, and returns err (nil for nil). Generated decoders wrap the error of
// each field.
func WithField(name string, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	switch {
	case e.Path == "":
		e.Path = name
	case e.Path[0] == '[':
		e.Path = name + e.Path
	default:
		e.Path = name + "." + e.Path
	}
	return err
}

// WithIndex prefixes the path of err, if it is an *Error, with the array index
// i, and returns err (nil for nil).
func WithIndex(i int, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	idx := "[" + strconv.Itoa(i) + "]"
	switch {
	case e.Path == "":
		e.Path = idx
	case e.Path[0] == '[':
		e.Path = idx + e.Path
	default:
		e.Path = idx + "." + e.Path
	}
	return err
}

// NewError returns an *Error at offset with message msg. msg must not contain
// input data.
func NewError(offset int, msg string) *Error { return &Error{Offset: offset, Msg: msg} }
