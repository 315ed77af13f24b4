// Package jsoncodec is the JSON of the RPC hot path: append-style encoders and
// a pull decoder over a []byte, without reflection, fmt or encoding/json.
//
// encoding/json costs about 20 µs per call in WebAssembly for a small struct
// (reflection, measured under workerd); rpcgen generates append and decode
// functions on top of this package instead.
//
// # Encoding
//
// The Append functions append one JSON value to dst and return the extended
// slice, like strconv.AppendInt. Strings are escaped as JSON requires, plus
// U+2028 and U+2029 (so the output is also a valid JavaScript literal); '<', '>'
// and '&' are not escaped (nothing here is embedded in HTML). Invalid UTF-8 is
// replaced with U+FFFD, as encoding/json does. Non-finite floats are written as
// null, as JavaScript's JSON.stringify does. Times are written as JavaScript's
// Date.prototype.toISOString writes them: UTC, exactly three fractional digits.
//
// # Decoding
//
// A Decoder reads one value at a time. Each method skips leading whitespace,
// reads exactly one value of its kind, and fails with an *Error, which names the
// byte offset and what was expected and found, never the input itself (values
// may be secrets). After an error the Decoder's position is unspecified; Reset
// it before reuse. Skip validates what it skips as strictly as json.Valid, and
// nesting is limited to 10000 levels, as in encoding/json.
//
// Numbers: Int64 (and Int, Int32, Uint32) accept any JSON number whose value is
// an exact integer in range, such as 42, -0, 1e3, 1000.0 or 1.5e1, because
// JavaScript treats all of those as the same integer; they reject 1.5, 1e400
// and "42". Float64 rejects numbers beyond the float64 range (1e400), as
// encoding/json does, and rounds others to the nearest float64.
//
// Args reads the argument list of an RPC call: an array with exactly the
// declared number of elements and nothing after it, naming the parameter whose
// element does not decode.
//
// There are no object or array encoding helpers: generated code appends
// constant keys and punctuation itself ({"sessionId": as one literal).
//
// Strings are unescaped fully: surrogate pairs are combined, and a lone
// surrogate escape or invalid UTF-8 in the input becomes U+FFFD, as in
// encoding/json.
package jsoncodec
