// Package strictjson reads a JSON object the way a request body or a
// configuration variable should be read: exactly one object, each member
// named once. encoding/json lets a repeated member silently replace the
// first, so {"userId": 1, "userId": 2} would mean whatever the last one says.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/communicator/communicator/internal/errtext"
)

// Error says what is wrong with the input without quoting it, but for a
// repeated member's name (Key), which is quoted, cut to a few characters.
type Error struct {
	Msg string
	Key string // the member named twice, if that is the fault
}

func (e *Error) Error() string { return e.Msg }

// Object reads data as one JSON object and returns its members' raw values.
// It fails if data is not exactly one object, or names a member twice.
func Object(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "empty: expected a JSON object"}
		}
		return nil, &Error{Msg: "not valid JSON"}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &Error{Msg: "not a JSON object"}
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &Error{Msg: "not valid JSON"}
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &Error{Msg: "not valid JSON"}
		}
		if _, dup := members[key]; dup {
			return nil, &Error{Msg: "member " + errtext.Quote(key, 40) + " appears more than once", Key: key}
		}
		members[key] = raw
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, &Error{Msg: "not valid JSON"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Error{Msg: "data after the JSON object"}
	}
	return members, nil
}
