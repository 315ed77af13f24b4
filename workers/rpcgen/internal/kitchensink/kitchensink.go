// Package kitchensink is rpcgen's test package: an RPC interface that uses
// every supported type, so that the generated code for each is compiled and
// tested (kitchensink_test.go) and kept up to date (rpcgen's staleness test).
package kitchensink

//go:generate go run ../.. -type Kitchen -go rpc_gen.go -js kitchensink.mjs -dts kitchensink.d.ts -js-class KitchenWorker -service kitchen -error-name KitchenError -error-type errorProps

import (
	"context"
	"time"
)

// Kitchen is an RPC surface with every supported type.
type Kitchen interface {
	// Echo returns its argument.
	//
	//rpc:sync
	Echo(ctx context.Context, all All) (All, error)
	// Scalars takes one argument of each scalar type.
	Scalars(ctx context.Context, s string, b bool, i int, i32 int32, i64 int64, u32 uint32, f float64, t time.Time, c Color) (*All, error)
	// Pointers takes pointers and returns a slice of pointers.
	Pointers(ctx context.Context, p *Inner, pt *time.Time, ps *string) ([]*Inner, error)
	// Nothing has neither arguments nor a result.
	Nothing(ctx context.Context) error
	// GetUserIDs has a result that is a slice of slices.
	GetUserIDs(ctx context.Context, groupID string) ([][]int64, error)
	// Renamed has its RPC name set by a directive.
	//
	//rpc:name customName
	Renamed(ctx context.Context, x string) (string, error)
	// Shapes takes structs with omitempty fields and an empty struct.
	Shapes(ctx context.Context, o Optional, m Mixed, e Empty) (Empty, error)
}

// Color is a named string type with constants: a union in TypeScript.
type Color string

// The colors.
const (
	Red   Color = "red"
	Green Color = "green"
)

// Level is a named int type.
type Level int32

// All has a field of every supported type.
type All struct {
	S   string  `json:"s"`
	B   bool    `json:"b"`
	I   int     `json:"i"`
	I32 int32   `json:"i32"`
	I64 int64   `json:"i64"`
	U32 uint32  `json:"u32"`
	F   float64 `json:"f"`
	// T is a time.
	T      time.Time  `json:"t"`
	PT     *time.Time `json:"pt"`
	Color  Color      `json:"color"`
	Level  Level      `json:"level"`
	Inner  Inner      `json:"inner"`
	PInner *Inner     `json:"pInner"`
	// Inners is a slice of structs.
	Inners  []Inner      `json:"inners"`
	PInners []*Inner     `json:"pInners"`
	Strs    []string     `json:"strs"`
	Times   []time.Time  `json:"times"`
	PTimes  []*time.Time `json:"pTimes"`
	Matrix  [][]int64    `json:"matrix"`
	PS      *string      `json:"ps"`
	PI64    *int64       `json:"pi64"`
	PF      *float64     `json:"pf"`
	Colors  []Color      `json:"colors"`
	Node    *Node        `json:"node"`
	Opt     string       `json:"opt,omitempty"`
	OptList []string     `json:"optList,omitempty"`
	Escaped string       `json:"a<b>&c"`
	Ignored string       `json:"-"`
	private string
}

// Inner is a nested struct.
type Inner struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

// Node is a recursive struct.
type Node struct {
	Value    string  `json:"value"`
	Children []*Node `json:"children"`
}

// Optional has only omitempty fields.
type Optional struct {
	A string  `json:"a,omitempty"`
	B int64   `json:"b,omitempty"`
	C *Inner  `json:"c,omitempty"`
	D bool    `json:"d,omitempty"`
	E float64 `json:"e,omitempty"`
}

// Mixed has an omitempty field first and a plain one after it.
type Mixed struct {
	A string `json:"a,omitempty"`
	B string `json:"b"`
	C string `json:"c,omitempty"`
}

// Empty has no fields.
type Empty struct{}
