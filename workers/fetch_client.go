package workers

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// Transport is an http.RoundTripper over the Workers fetch API: the global
// fetch, or a service binding's fetch when Binding is set. It runs in the
// request of the http.Request's context; request and response bodies are
// buffered whole.
//
// A worker sends with RoundTrip directly, not through an http.Client: a
// Client falls back to net/http's own Transport when it has none, so using
// one links that Transport and crypto/tls into the .wasm (0.85 MiB of the
// ingestor's upload, gzipped, which was 5.09 MiB), though neither can run in
// a worker. What a Client would add is lost: no redirect is followed and no
// cookie kept, which a call between services does not want anyway.
type Transport struct {
	Binding string // empty: the global fetch (the network)
}

// Network is the Transport to the network (the global fetch).
var Network = &Transport{}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	var w wire.Writer
	w.String(t.Binding)
	w.String(req.Method)
	w.String(req.URL.String())
	h := req.Header
	if req.Host != "" && req.Host != req.URL.Host {
		h = h.Clone()
		h.Set("Host", req.Host)
	}
	writeHeaders(&w, h)
	if body != nil || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		w.U8(1)
	} else {
		w.U8(0)
	}
	w.Bytes(body)
	rep, err := bridge.Do(req.Context(), bridge.OpFetch, w.Buf)
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(rep.Payload)
	if rep.Status != bridge.StatusOK {
		e := remoteError(rep.Payload)
		return nil, &FetchError{Message: e.Message}
	}
	status := int(r.U32())
	header := readHeaders(r)
	respBody := r.Bytes()
	if r.Err() != nil {
		return nil, errors.New("workers: malformed fetch response from JavaScript")
	}
	return &http.Response{
		Status:        http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(respBody)),
		ContentLength: int64(len(respBody)),
		Request:       req,
	}, nil
}

// FetchError is a failed fetch: the network, the binding, or the runtime
// refused it (for example "Network connection lost").
type FetchError struct{ Message string }

func (e *FetchError) Error() string { return "fetch failed: " + e.Message }
