// Command rpcgen generates the RPC plumbing of a worker from its Go
// declaration. The RPC surface is declared once, as a Go interface; rpcgen
// writes everything else from it. Run it with go generate in the package that
// declares the interface:
//
//	//go:generate go run ../workers/rpcgen -type Service -go rpc_gen.go -js ../services/x/entry/worker.mjs -dts ../services/x/entry/x.d.ts -js-class XWorker -service x
//
// Flags (paths are relative to the working directory, which go generate sets
// to the package's directory):
//
//	-type NAME        the interface; without it, only -js is written, with no RPC methods
//	-go FILE          Go: JSON codecs of every struct used, New<NAME>Handler and <NAME>Client
//	-js FILE          the worker's JavaScript entry module, a WorkerEntrypoint named -js-class
//	-dts FILE         a TypeScript declaration of the methods, as <js-class>Rpc
//	-js-class NAME    the entry class (default "Worker")
//	-service LABEL    the service's label, passed to the runtime
//	-queue            -js gives the default class a queue handler: the worker
//	                  consumes queues (workers.Handlers.Queue); named
//	                  entrypoints never get one
//	-error-name NAME  the JavaScript name of the errors the methods throw (for -dts,
//	                  and the runtime's errorName in -js)
//	-error-type TYPE  a struct of the package whose fields are the thrown error's own
//	                  properties besides name and message (for -dts; gets codecs too)
//	-pkg-dir DIR      the package's directory (default ".")
//	-contract DIR     the package that declares the interface and its types, when
//	                  it is not the package itself: the Go output refers to them by
//	                  that package's name, and the contract stays free of the bridge
//	-entrypoints VAR  a variable of the package declaring the interface that lists
//	                  named entrypoints, one per trusted caller:
//
//	                      var Entrypoints = []Entrypoint{{Name: "IngestorEntrypoint", ServiceID: "ingestor-service"}}
//
//	                  -js adds an exported WorkerEntrypoint class of each name with the
//	                  same methods (and fetch), whose calls reach Go with the
//	                  entrypoint's number (workers.Entrypoint: 1 for the first, 0 for
//	                  the default class); -dts names the classes
//
// # The interface
//
// Each method takes a context.Context and then the arguments, and returns
// (T, error) or error. Parameters must be named: their names, in lower camel
// case with ID written Id (userID → userId), are the JavaScript names. A
// method's RPC name is its Go name in lower camel case (GetSessionByUserID →
// getSessionByUserId), or the name given by a line "//rpc:name NAME" in its doc
// comment. Method i of the JavaScript class is method i of the interface.
//
// A line "//rpc:sync" in a method's doc comment lets the runtime answer the
// method within the JavaScript call that delivers it, without resuming Go's
// scheduler (workers.SyncRPCHandler): for methods that compute their answer
// from their arguments and memory. If such a method asks for I/O, the I/O
// fails, its answer is discarded and it runs again as any other method, so it
// must do nothing that matters before its first I/O, and it must never sleep or
// wait on a channel or a lock.
//
// Supported types: string, bool, int, int32, int64, uint32, float64, named
// types of the package with one of those underlying types, time.Time (an ISO
// 8601 string), structs of the package (every exported field needs a json tag;
// the only option is omitempty), slices and pointers of those (a pointer is
// null when nil). A named string type with typed constants becomes a union of
// string literals in TypeScript. Anything else is an error naming the type and
// where it is used.
//
// # Wire format
//
// Times are written as JavaScript's toISOString writes them (UTC, milliseconds)
// and read in any RFC 3339 form. A nil slice is written as [], not null (the
// TypeScript type is T[]). Non-finite floats are written as null, and null reads
// back into a float64 as NaN, as in JavaScript. Otherwise null is accepted only
// for pointers and slices: null for a string, number, bool, time or struct is
// an error naming the field, as is any value of the wrong type. Unknown keys
// are skipped, keys are matched case-sensitively, and missing keys leave the
// field unchanged (zero in a new value).
//
// # Codecs
//
// Each struct T gets two functions in the Go output, appendTJSON(dst []byte, v
// *T) []byte and decodeTJSON(d *jsoncodec.Decoder, v *T) error (T with its
// first letter in upper case), so the types may live in another package
// (-contract).
//
// # Hooks
//
// The generated Go code calls three functions the package declares by hand
// (in the package itself, also with -contract):
//
//	func rpcArgumentError(method, param string, err error) error
//
// returns the error for arguments that do not decode: method is the RPC name,
// param the JavaScript name of the offending parameter or "" when the argument
// list itself is wrong (not an array, a wrong count, trailing data), and err a
// *jsoncodec.Error whose Msg is safe to show.
//
//	func rpcAppendError(dst []byte, err error) []byte
//
// appends the JSON object JavaScript receives as the thrown Error for err
// (err may be a *workers.PanicError); it is the handler's AppendError.
//
//	func rpcClientError(err error) error
//
// maps the client's errors: the error of Binding.Call (a *workers.RemoteError
// for an exception in the callee) or a *jsoncodec.Error for a result that does
// not decode.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

type config struct {
	typeName, goOut, jsOut, dtsOut, jsClass, service, pkgDir, errName, errType string
	contract, entrypoints                                                      string
	queue                                                                      bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("rpcgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.typeName, "type", "", "the `interface` declaring the RPC methods (none: a worker without RPC methods)")
	fs.StringVar(&c.goOut, "go", "", "write the Go code to `file`")
	fs.StringVar(&c.jsOut, "js", "", "write the JavaScript entry module to `file`")
	fs.StringVar(&c.dtsOut, "dts", "", "write the TypeScript declaration to `file`")
	fs.StringVar(&c.jsClass, "js-class", "Worker", "the `name` of the JavaScript entry class")
	fs.StringVar(&c.service, "service", "", "the service's `label`, passed to the runtime")
	fs.StringVar(&c.pkgDir, "pkg-dir", ".", "the `directory` of the package")
	fs.StringVar(&c.errName, "error-name", "", "the JavaScript `name` of the errors the methods throw")
	fs.StringVar(&c.errType, "error-type", "", "the `struct` whose fields are the thrown error's own properties")
	fs.StringVar(&c.contract, "contract", "", "the `directory` of the package declaring the interface, if not this one")
	fs.StringVar(&c.entrypoints, "entrypoints", "", "the `variable` listing the named entrypoints")
	fs.BoolVar(&c.queue, "queue", false, "give the default class a queue handler (a queue consumer)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, errors.New("unexpected arguments: " + fmt.Sprint(fs.Args()))
	}
	switch {
	case c.jsOut == "" && c.goOut == "" && c.dtsOut == "":
		return c, errors.New("nothing to write: give -go, -js or -dts")
	case c.queue && c.jsOut == "":
		return c, errors.New("-queue needs -js")
	case c.typeName == "" && (c.goOut != "" || c.dtsOut != ""):
		return c, errors.New("-go and -dts need -type")
	case !validJSIdent(c.jsClass):
		return c, errors.New("-js-class " + c.jsClass + " is not a JavaScript identifier")
	case c.errType != "" && c.errName == "":
		return c, errors.New("-error-type needs -error-name")
	case c.errName != "" && !validJSIdent(c.errName):
		return c, errors.New("-error-name " + c.errName + " is not a JavaScript identifier")
	case (c.contract != "" || c.entrypoints != "") && c.typeName == "":
		return c, errors.New("-contract and -entrypoints need -type")
	}
	return c, nil
}

// generate returns the contents of each output file, by path.
func generate(c config) (map[string][]byte, error) {
	m, err := load(".", c)
	if err != nil {
		return nil, err
	}
	return render(m, c)
}

// render returns the outputs c asks for, by path.
func render(m *model, c config) (map[string][]byte, error) {
	out := map[string][]byte{}
	if c.goOut != "" {
		src, err := genGo(m)
		if err != nil {
			return nil, err
		}
		out[c.goOut] = src
	}
	if c.jsOut != "" {
		out[c.jsOut] = genJS(m, c.jsClass, c.service, c.errName, c.queue)
	}
	if c.dtsOut != "" {
		out[c.dtsOut] = genDTS(m, c.jsClass, c.service, c.errName)
	}
	return out, nil
}

func run(c config) error {
	files, err := generate(c)
	if err != nil {
		return err
	}
	for path, data := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if err == nil {
		err = run(c)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rpcgen:", err)
		os.Exit(1)
	}
}
