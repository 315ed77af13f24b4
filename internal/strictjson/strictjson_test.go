package strictjson

import (
	"errors"
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	m, err := Object([]byte(` {"a": 1, "b": {"a": 2, "a": 3}, "c": [1, 2]} `))
	if err != nil || len(m) != 3 || string(m["a"]) != "1" || string(m["c"]) != "[1, 2]" {
		t.Fatalf("Object = %v, %v", m, err)
	}
	bad := map[string]string{
		``:                        "empty",
		`{"a":1`:                  "not valid JSON",
		`[1]`:                     "not a JSON object",
		`"x"`:                     "not a JSON object",
		`{"a":1} {}`:              "data after the JSON object",
		`{"a":1}}`:                "data after the JSON object",
		`{"userId":1,"userId":2}`: `member "userId" appears more than once`,
		`{"a":1,"b":2,"a":1}`:     `member "a" appears more than once`,
		`{"` + strings.Repeat("k", 50) + `":1,"` + strings.Repeat("k", 50) + `":1}`: `kkk"... appears more than once`,
	}
	for in, want := range bad {
		_, err := Object([]byte(in))
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, want) {
			t.Errorf("Object(%q) = %v, want %q", in, err, want)
		}
	}
	_, err = Object([]byte(`{"x":1,"x":2}`))
	if e := (*Error)(nil); !errors.As(err, &e) || e.Key != "x" {
		t.Errorf("Key of a repeated member: %v", err)
	}
}
