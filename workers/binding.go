package workers

import (
	"context"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// Binding is a service binding of the worker (a [[services]] entry of
// wrangler.toml), named as on env.
type Binding struct{ name string }

// GetBinding returns the binding called name. It does not check that the
// binding exists; see HasBinding.
func GetBinding(name string) Binding { return Binding{name: name} }

// Name is the binding's name on env.
func (b Binding) Name() string { return b.name }

// Call calls an RPC method of the binding's entrypoint, in ctx's request, with
// args (the JSON array of arguments) and returns the JSON of the result. A
// JavaScript exception comes back as a *RemoteError.
func (b Binding) Call(ctx context.Context, method string, args []byte) ([]byte, error) {
	// JavaScript copies the payload when it is posted, so the buffer goes back
	// to the pool as soon as Do returns.
	bp := bufPool.Get().(*[]byte)
	w := wire.Writer{Buf: (*bp)[:0]}
	w.String(b.name)
	w.String(method)
	w.Buf = append(w.Buf, args...)
	rep, err := bridge.Do(ctx, bridge.OpRPC, w.Buf)
	*bp = w.Buf
	bufPool.Put(bp)
	if err != nil {
		return nil, err
	}
	if rep.Status != bridge.StatusOK {
		return nil, remoteError(rep.Payload)
	}
	return rep.Payload, nil
}

// Transport returns a Transport whose requests go to the binding's fetch
// handler (fetch over the service binding) instead of the network.
func (b Binding) Transport() *Transport { return &Transport{Binding: b.name} }

// remoteError decodes an error JavaScript encoded: name, message, and the JSON
// of its other own properties.
func remoteError(p []byte) *RemoteError {
	r := wire.NewReader(p)
	e := &RemoteError{Name: r.String(), Message: r.String(), Props: r.Bytes()}
	if r.Err() != nil {
		return &RemoteError{Name: "Error", Message: "workers: malformed error from JavaScript"}
	}
	if len(e.Props) == 0 {
		e.Props = nil
	}
	return e
}
