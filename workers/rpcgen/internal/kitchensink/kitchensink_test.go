package kitchensink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/jsoncodec"
)

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2026, 11, 26, 22, 22, 44, 123e6, time.UTC)

// full has every field set (times at millisecond precision, slices non-nil),
// so that it survives a round trip through either codec unchanged.
func full() All {
	return All{
		S: "héllo \"world\" <&> \u2028 \x01", B: true, I: -42, I32: math.MinInt32, I64: 1<<53 - 1, U32: math.MaxUint32,
		F: 3.25, T: t0, PT: ptr(t0.Add(time.Hour)), Color: Green, Level: 7,
		Inner: Inner{Name: "in", N: 1}, PInner: &Inner{Name: "p", N: 2},
		Inners: []Inner{{Name: "a", N: 3}, {Name: "b", N: 4}}, PInners: []*Inner{{Name: "c"}, nil},
		Strs: []string{"x", ""}, Times: []time.Time{t0, t0.Add(-time.Millisecond)}, PTimes: []*time.Time{nil, ptr(t0)},
		Matrix: [][]int64{{1, 2}, {}, {3}}, PS: ptr("s"), PI64: ptr(int64(-9)), PF: ptr(0.5),
		Colors: []Color{Red, Green}, Node: &Node{Value: "root", Children: []*Node{{Value: "leaf", Children: []*Node{}}, nil}},
		Opt: "o", OptList: []string{"l"}, Escaped: "e",
	}
}

func TestRoundTrip(t *testing.T) {
	v := full()
	b := v.AppendJSON(nil)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	// encoding/json reads AppendJSON's output as the same value.
	var std All
	if err := json.Unmarshal(b, &std); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(std, v) {
		t.Errorf("encoding/json read\n%+v\nwant\n%+v", std, v)
	}
	// DecodeJSON reads it back.
	var got All
	d := jsoncodec.NewDecoder(b)
	if err := got.DecodeJSON(d); err != nil || d.End() != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Errorf("DecodeJSON read\n%+v\nwant\n%+v", got, v)
	}
	// DecodeJSON reads what encoding/json writes.
	stdOut, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var fromStd All
	if err := fromStd.DecodeJSON(jsoncodec.NewDecoder(stdOut)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromStd, v) {
		t.Errorf("DecodeJSON of encoding/json's output read\n%+v\nwant\n%+v", fromStd, v)
	}
}

func TestZeroValue(t *testing.T) {
	var v All
	b := v.AppendJSON(nil)
	want := `{"s":"","b":false,"i":0,"i32":0,"i64":0,"u32":0,"f":0,"t":"0001-01-01T00:00:00.000Z","pt":null,` +
		`"color":"","level":0,"inner":{"name":"","n":0},"pInner":null,"inners":[],"pInners":[],"strs":[],"times":[],` +
		`"pTimes":[],"matrix":[],"ps":null,"pi64":null,"pf":null,"colors":[],"node":null,"a<b>&c":""}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var std All
	if err := json.Unmarshal(b, &std); err != nil {
		t.Fatal(err)
	}
	var got All
	if err := got.DecodeJSON(jsoncodec.NewDecoder(b)); err != nil {
		t.Fatal(err)
	}
	// [] reads as an empty slice, as in encoding/json.
	if !reflect.DeepEqual(got, std) || got.Strs == nil {
		t.Errorf("DecodeJSON read %+v, encoding/json %+v", got, std)
	}
}

func TestOmitEmptyMatchesEncodingJSON(t *testing.T) {
	values := []any{
		&Optional{}, &Optional{A: "a"}, &Optional{B: 2, D: true}, &Optional{C: &Inner{Name: "c"}, E: 1.5},
		&Optional{A: "a", B: 1, C: &Inner{}, D: true, E: -1},
		&Mixed{}, &Mixed{A: "a"}, &Mixed{C: "c"}, &Mixed{A: "a", B: "b", C: "c"}, &Empty{}, &Inner{Name: "n", N: -1},
	}
	for _, v := range values {
		got := v.(interface{ AppendJSON([]byte) []byte }).AppendJSON(nil)
		want, _ := json.Marshal(v)
		if !bytes.Equal(got, want) {
			t.Errorf("%T: AppendJSON = %s, encoding/json = %s", v, got, want)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface().(interface {
			DecodeJSON(*jsoncodec.Decoder) error
		})
		if err := back.DecodeJSON(jsoncodec.NewDecoder(got)); err != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("%T: DecodeJSON(%s) = %+v, %v", v, got, back, err)
		}
	}
}

func TestDecodeSemantics(t *testing.T) {
	var v All
	in := `{"unknown":{"deep":[1,{"x":null}]},"S":"wrong case","s":"x","pt":null,"pInner":null,"inners":null,"f":null,` +
		`"opt":"present","i64":1e3,"t":"2026-11-26T23:22:44.123+01:00"}`
	if err := v.DecodeJSON(jsoncodec.NewDecoder([]byte(in))); err != nil {
		t.Fatal(err)
	}
	if v.S != "x" || v.PT != nil || v.PInner != nil || v.Inners != nil || !math.IsNaN(v.F) || v.Opt != "present" ||
		v.I64 != 1000 || !v.T.Equal(t0) {
		t.Errorf("decoded %+v", v)
	}
	// NaN is written as null.
	if b := (&All{F: math.NaN()}).AppendJSON(nil); !bytes.Contains(b, []byte(`"f":null`)) {
		t.Errorf("NaN: %s", b)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"s":null}`, "jsoncodec: offset 5: s: expected a string, found null"},
		{`{"t":null}`, "t: expected a string (a date-time), found null"},
		{`{"t":"yesterday"}`, "t: expected an RFC 3339 date-time, found a string in another form"},
		{`{"i":1.5}`, "i: expected an integer, found a number with a fraction"},
		{`{"i32":2147483648}`, "i32: integer out of range"},
		{`{"u32":-1}`, "u32: integer out of range"},
		{`{"b":"true"}`, "b: expected a boolean, found a string"},
		{`{"color":1}`, "color: expected a string, found a number"},
		{`{"inner":{"n":"x"}}`, "offset 14: inner.n: expected a number, found a string"},
		{`{"inner":null}`, "inner: expected an object, found null"},
		{`{"inners":[{"n":1},{"n":true}]}`, "inners[1].n: expected a number, found a boolean"},
		{`{"matrix":[[1],[2,"x"]]}`, "matrix[1][1]: expected a number, found a string"},
		{`{"node":{"children":[{"children":[{"value":7}]}]}}`, "node.children[0].children[0].value: expected a string, found a number"},
		{`{"pTimes":[null,5]}`, "pTimes[1]: expected a string (a date-time), found a number"},
		{`{"strs":{}}`, "strs: expected an array, found an object"},
		{`[]`, "offset 0: expected an object, found an array"},
		{`{"s":"x",}`, "expected a string (an object key), found '}'"},
	}
	for _, tt := range tests {
		var v All
		err := v.DecodeJSON(jsoncodec.NewDecoder([]byte(tt.in)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeJSON(%s) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// kitchen records its arguments and returns canned results.
type kitchen struct {
	args []any
	err  error
}

func (k *kitchen) Echo(ctx context.Context, all All) (All, error) {
	k.args = []any{all}
	return all, k.err
}

func (k *kitchen) Scalars(ctx context.Context, s string, b bool, i int, i32 int32, i64 int64, u32 uint32, f float64, t time.Time, c Color) (*All, error) {
	k.args = []any{s, b, i, i32, i64, u32, f, t, c}
	if s == "nil" {
		return nil, k.err
	}
	return &All{S: s, I64: i64, T: t, Color: c}, k.err
}

func (k *kitchen) Pointers(ctx context.Context, p *Inner, pt *time.Time, ps *string) ([]*Inner, error) {
	k.args = []any{p, pt, ps}
	return []*Inner{p, nil}, k.err
}

func (k *kitchen) Nothing(ctx context.Context) error {
	k.args = []any{}
	return k.err
}

func (k *kitchen) GetUserIDs(ctx context.Context, groupID string) ([][]int64, error) {
	k.args = []any{groupID}
	if groupID == "" {
		return nil, k.err
	}
	return [][]int64{{1, 2}, nil}, k.err
}

func (k *kitchen) Renamed(ctx context.Context, x string) (string, error) {
	k.args = []any{x}
	return x + "!", k.err
}

func (k *kitchen) Shapes(ctx context.Context, o Optional, m Mixed, e Empty) (Empty, error) {
	k.args = []any{o, m, e}
	return e, k.err
}

var rpcNames = []string{"echo", "scalars", "pointers", "nothing", "getUserIds", "customName", "shapes"}

func TestServeRPC(t *testing.T) {
	k := &kitchen{}
	h := NewKitchenHandler(k)
	ctx := context.Background()
	tests := []struct {
		method   int
		args     string
		wantArgs []any
		want     string
	}{
		{1, `["s", true, -1, 2, 3, 4, 1.5, "2026-11-26T22:22:44.123Z", "red"]`,
			[]any{"s", true, -1, int32(2), int64(3), uint32(4), 1.5, t0, Red},
			`{"s":"s","b":false,"i":0,"i32":0,"i64":3,"u32":0,"f":0,"t":"2026-11-26T22:22:44.123Z","pt":null,"color":"red",` +
				`"level":0,"inner":{"name":"","n":0},"pInner":null,"inners":[],"pInners":[],"strs":[],"times":[],"pTimes":[],` +
				`"matrix":[],"ps":null,"pi64":null,"pf":null,"colors":[],"node":null,"a<b>&c":""}`},
		{1, `["nil", false, 0, 0, 0, 0, null, "2026-11-26T22:22:44.123Z", "x"]`, nil, `null`},
		{2, `[{"name":"p","n":1}, "2026-11-26T22:22:44.123Z", "s"]`, []any{&Inner{Name: "p", N: 1}, &t0, ptr("s")}, `[{"name":"p","n":1},null]`},
		{2, `[null, null, null]`, []any{(*Inner)(nil), (*time.Time)(nil), (*string)(nil)}, `[null,null]`},
		{3, `[]`, []any{}, `null`},
		{3, " [ ] \n", []any{}, `null`},
		{4, `["g"]`, []any{"g"}, `[[1,2],[]]`},
		{4, `[""]`, []any{""}, `[]`},
		{5, `["x"]`, []any{"x"}, `"x!"`},
		{6, `[{"b":1},{"b":"b"},{}]`, []any{Optional{B: 1}, Mixed{B: "b"}, Empty{}}, `{}`},
	}
	for _, tt := range tests {
		k.args = nil
		out, err := h.ServeRPC(ctx, tt.method, []byte(tt.args), []byte("prefix:"))
		if err != nil {
			t.Errorf("%s(%s): %v", rpcNames[tt.method], tt.args, err)
			continue
		}
		if want := "prefix:" + tt.want; string(out) != want {
			t.Errorf("%s(%s) = %s, want %s", rpcNames[tt.method], tt.args, out, want)
		}
		if tt.wantArgs != nil && !reflect.DeepEqual(k.args, tt.wantArgs) {
			t.Errorf("%s(%s): impl got %#v, want %#v", rpcNames[tt.method], tt.args, k.args, tt.wantArgs)
		}
	}

	// Echo round-trips the full value.
	v := full()
	out, err := h.ServeRPC(ctx, 0, append(append([]byte("["), v.AppendJSON(nil)...), ']'), nil)
	if err != nil || !bytes.Equal(out, v.AppendJSON(nil)) || !reflect.DeepEqual(k.args, []any{v}) {
		t.Errorf("echo: %s, %v", out, err)
	}
}

func TestServeRPCArgumentErrors(t *testing.T) {
	h := NewKitchenHandler(&kitchen{})
	tests := []struct {
		method      int
		args        string
		param, want string
	}{
		{0, `[]`, "", "offset 1: expected 1 argument, found 0"},
		{0, `[{}, {}]`, "", "offset 5: expected 1 argument, found more"},
		{0, `null`, "", "expected an array, found null"},
		{0, `[{}] x`, "", "expected the end of the input, found 'x'"},
		{0, `[{}`, "", "expected ',' or ']' after an array element"},
		{0, `[{"inner":{"n":1.5}}]`, "all", "inner.n: expected an integer, found a number with a fraction"},
		{1, `["s"]`, "", "expected 9 arguments, found 1"},
		{1, `["s", 1, 0, 0, 0, 0, 0, "2026-11-26T22:22:44Z", "red"]`, "b", "expected a boolean, found a number"},
		{1, `["s", true, 0, 0, 0, 0, 0, "2026-11-26", "red"]`, "t", "expected an RFC 3339 date-time"},
		{1, `["s", true, 0, 0, 0, -1, 0, "2026-11-26T22:22:44Z", "red"]`, "u32", "integer out of range"},
		{1, `["s", true, 0, 0, 0, 0, 1e400, "2026-11-26T22:22:44Z", "red"]`, "f", "number out of range"},
		{2, `[1, null, null]`, "p", "expected an object, found a number"},
		{3, `[null]`, "", "expected 0 arguments, found more"},
		{4, `[null]`, "groupId", "expected a string, found null"},
	}
	for _, tt := range tests {
		_, err := h.ServeRPC(context.Background(), tt.method, []byte(tt.args), nil)
		var ae *ArgumentError
		if !errors.As(err, &ae) || ae.Method != rpcNames[tt.method] || ae.Param != tt.param ||
			!strings.Contains(ae.Err.Error(), tt.want) {
			t.Errorf("%s(%s) = %v, want param %q and %q", rpcNames[tt.method], tt.args, err, tt.param, tt.want)
		}
		var je *jsoncodec.Error
		if !errors.As(err, &je) {
			t.Errorf("%s(%s): the hook did not get a *jsoncodec.Error", rpcNames[tt.method], tt.args)
		}
	}
	if _, err := h.ServeRPC(context.Background(), len(rpcNames), []byte(`[]`), nil); err == nil {
		t.Error("an unknown method index did not fail")
	}
}

func TestServeRPCErrors(t *testing.T) {
	k := &kitchen{err: &CodedError{Code: "NOPE", Detail: "d"}}
	h := NewKitchenHandler(k)
	out, err := h.ServeRPC(context.Background(), 5, []byte(`["x"]`), []byte("keep"))
	if string(out) != "keep" || err != k.err {
		t.Fatalf("got %q, %v", out, err)
	}
	if got := string(h.AppendError(nil, err)); got != `{"name":"KitchenError","message":"NOPE","code":"NOPE","detail":"d"}` {
		t.Errorf("AppendError = %s", got)
	}
	if got := string(h.AppendError(nil, &workers.PanicError{Value: "boom"})); got != `{"name":"KitchenError","message":"INTERNAL","code":"INTERNAL"}` {
		t.Errorf("AppendError(panic) = %s", got)
	}
}

// loopback is a binding whose calls go to a handler, as through JavaScript:
// errors come back as a *workers.RemoteError.
type loopback struct {
	h     workers.RPCHandler
	calls *[]string
}

func (l loopback) Call(ctx context.Context, method string, args []byte) ([]byte, error) {
	*l.calls = append(*l.calls, method+string(args))
	for i, n := range rpcNames {
		if n == method {
			out, err := l.h.ServeRPC(ctx, i, args, nil)
			if err != nil {
				var o struct {
					Name, Message string
				}
				b := l.h.AppendError(nil, err)
				_ = json.Unmarshal(b, &o)
				return nil, &workers.RemoteError{Name: o.Name, Message: o.Message, Props: b}
			}
			return out, nil
		}
	}
	return nil, errors.New("no such method")
}

func TestClient(t *testing.T) {
	k := &kitchen{}
	var calls []string
	c := KitchenClientOf[loopback]{Binding: loopback{h: NewKitchenHandler(k), calls: &calls}}
	var _ Kitchen = c
	ctx := context.Background()

	v := full()
	got, err := c.Echo(ctx, v)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Errorf("Echo = %+v, %v", got, err)
	}
	p, err := c.Scalars(ctx, "s", true, -1, 2, 3, 4, 1.5, t0, Red)
	if err != nil || p.S != "s" || p.I64 != 3 || !p.T.Equal(t0) || p.Color != Red {
		t.Errorf("Scalars = %+v, %v", p, err)
	}
	if want := []any{"s", true, -1, int32(2), int64(3), uint32(4), 1.5, t0, Red}; !reflect.DeepEqual(k.args, want) {
		t.Errorf("Scalars passed %#v", k.args)
	}
	if p, err := c.Scalars(ctx, "nil", false, 0, 0, 0, 0, math.NaN(), time.Time{}, ""); err != nil || p != nil || !math.IsNaN(k.args[6].(float64)) {
		t.Errorf("Scalars(nil) = %+v, %v (%v)", p, err, k.args)
	}
	ps, err := c.Pointers(ctx, &Inner{Name: "x"}, nil, ptr("y"))
	if err != nil || len(ps) != 2 || ps[0].Name != "x" || ps[1] != nil || k.args[1].(*time.Time) != nil || *k.args[2].(*string) != "y" {
		t.Errorf("Pointers = %v, %v", ps, err)
	}
	if err := c.Nothing(ctx); err != nil {
		t.Errorf("Nothing: %v", err)
	}
	ids, err := c.GetUserIDs(ctx, "g")
	if err != nil || !reflect.DeepEqual(ids, [][]int64{{1, 2}, {}}) {
		t.Errorf("GetUserIDs = %v, %v", ids, err)
	}
	s, err := c.Renamed(ctx, "a\"b")
	if err != nil || s != "a\"b!" {
		t.Errorf("Renamed = %q, %v", s, err)
	}
	if _, err := c.Shapes(ctx, Optional{D: true}, Mixed{}, Empty{}); err != nil || !reflect.DeepEqual(k.args, []any{Optional{D: true}, Mixed{}, Empty{}}) {
		t.Errorf("Shapes: %v, %v", err, k.args)
	}
	wantCalls := []string{
		`scalars["s",true,-1,2,3,4,1.5,"2026-11-26T22:22:44.123Z","red"]`,
		`nothing[]`,
		`getUserIds["g"]`,
		`customName["a\"b"]`,
		`shapes[{"d":true},{"b":""},{}]`,
	}
	for _, w := range wantCalls {
		found := false
		for _, c := range calls {
			found = found || c == w
		}
		if !found {
			t.Errorf("no call %s in %q", w, calls)
		}
	}

	// Errors go through rpcClientError.
	k.err = &CodedError{Code: "GONE"}
	_, err = c.Renamed(ctx, "x")
	var ce *ClientError
	var re *workers.RemoteError
	if !errors.As(err, &ce) || !errors.As(err, &re) || re.Name != "KitchenError" || re.Message != "GONE" {
		t.Errorf("Renamed with an error: %v", err)
	}
}

// fixed is a binding that answers every call with res, err.
type fixed struct {
	res []byte
	err error
}

func (f fixed) Call(context.Context, string, []byte) ([]byte, error) { return f.res, f.err }

func TestClientResultErrors(t *testing.T) {
	ctx := context.Background()
	for _, res := range []string{`{"name":1}`, `{"name":"x"} trailing`, `null`, ``, `[{"name":"x"}]`} {
		_, err := KitchenClientOf[fixed]{Binding: fixed{res: []byte(res)}}.Pointers(ctx, nil, nil, nil)
		if res == "null" {
			if err != nil {
				t.Errorf("Pointers → null: %v", err)
			}
			continue
		}
		var ce *ClientError
		var je *jsoncodec.Error
		if res == `[{"name":"x"}]` {
			if err != nil {
				t.Errorf("Pointers → %s: %v", res, err)
			}
			continue
		}
		if !errors.As(err, &ce) || !errors.As(err, &je) {
			t.Errorf("Pointers → %s: %v, want a ClientError wrapping a *jsoncodec.Error", res, err)
		}
	}
	for _, res := range []string{`{"s":1}`, `{"s":"x"} trailing`, `null`} {
		_, err := KitchenClientOf[fixed]{Binding: fixed{res: []byte(res)}}.Echo(ctx, All{})
		if !strings.Contains(fmtErr(err), "jsoncodec") {
			t.Errorf("Echo → %s: %v", res, err)
		}
	}
	cause := errors.New("network down")
	if _, err := (KitchenClientOf[fixed]{Binding: fixed{err: cause}}).Echo(ctx, All{}); !errors.Is(err, cause) {
		t.Errorf("binding error: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// The codec functions as methods, for the tests below (test-only).
func (v *All) AppendJSON(dst []byte) []byte               { return appendAllJSON(dst, v) }
func (v *All) DecodeJSON(d *jsoncodec.Decoder) error      { return decodeAllJSON(d, v) }
func (v *Inner) AppendJSON(dst []byte) []byte             { return appendInnerJSON(dst, v) }
func (v *Inner) DecodeJSON(d *jsoncodec.Decoder) error    { return decodeInnerJSON(d, v) }
func (v *Node) AppendJSON(dst []byte) []byte              { return appendNodeJSON(dst, v) }
func (v *Node) DecodeJSON(d *jsoncodec.Decoder) error     { return decodeNodeJSON(d, v) }
func (v *Optional) AppendJSON(dst []byte) []byte          { return appendOptionalJSON(dst, v) }
func (v *Optional) DecodeJSON(d *jsoncodec.Decoder) error { return decodeOptionalJSON(d, v) }
func (v *Mixed) AppendJSON(dst []byte) []byte             { return appendMixedJSON(dst, v) }
func (v *Mixed) DecodeJSON(d *jsoncodec.Decoder) error    { return decodeMixedJSON(d, v) }
func (v *Empty) AppendJSON(dst []byte) []byte             { return appendEmptyJSON(dst, v) }
func (v *Empty) DecodeJSON(d *jsoncodec.Decoder) error    { return decodeEmptyJSON(d, v) }

// TestSyncMethods: only Echo is marked //rpc:sync, in Go and in the entry
// module.
func TestSyncMethods(t *testing.T) {
	h, ok := NewKitchenHandler(&kitchen{}).(workers.SyncRPCHandler)
	if !ok {
		t.Fatal("the handler of an interface with //rpc:sync methods is not a workers.SyncRPCHandler")
	}
	for i := 0; KitchenMethod(i) != ""; i++ {
		if got, want := h.SyncMethod(i), KitchenMethod(i) == "echo"; got != want {
			t.Errorf("SyncMethod(%d) (%s) = %v", i, KitchenMethod(i), got)
		}
	}
	js, err := os.ReadFile("kitchensink.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("echo(...args) { return runtime.call(0, args, this.env, this.ctx, 0, true); }")) ||
		bytes.Count(js, []byte(", true)")) != 1 {
		t.Errorf("kitchensink.mjs does not pass sync for echo alone:\n%s", js)
	}
}
