package workers

import (
	"net/http"

	"github.com/communicator/communicator/workers/internal/wire"
)

// Headers cross as a u32 count and (name, value) pairs; JavaScript's Headers
// iterate lower-cased names with repeated values joined, except Set-Cookie.

func writeHeaders(w *wire.Writer, h http.Header) {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	w.U32(uint32(n))
	for k, vs := range h {
		for _, v := range vs {
			w.String(k)
			w.String(v)
		}
	}
}

func readHeaders(r *wire.Reader) http.Header {
	n := r.U32()
	if r.Err() != nil || int(n) > r.Len()/8 {
		return http.Header{}
	}
	h := make(http.Header, n)
	for ; n > 0 && r.Err() == nil; n-- {
		k := r.String()
		h.Add(k, r.String())
	}
	return h
}
