package main

import (
	"errors"

	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/jsoncodec"
)

// peerError is what Peer methods fail with.
type peerError struct{ code, msg string }

func (e *peerError) Error() string { return e.code + ": " + e.msg }

func rpcArgumentError(method, param string, err error) error {
	return &peerError{code: "INVALID_ARGUMENT", msg: method + " " + param + ": " + err.Error()}
}

func rpcAppendError(dst []byte, err error) []byte {
	e := &peerError{code: "INTERNAL", msg: "internal error"}
	errors.As(err, &e)
	dst = append(dst, `{"name":"PeerError","message":`...)
	dst = jsoncodec.AppendString(dst, e.Error())
	dst = append(dst, `,"code":`...)
	dst = jsoncodec.AppendString(dst, e.code)
	return append(dst, '}')
}

func rpcClientError(err error) error {
	var re *workers.RemoteError
	if errors.As(err, &re) && re.Name == "PeerError" {
		var p errorProps
		if decodeErrorPropsJSON(jsoncodec.NewDecoder(re.Props), &p) == nil {
			return &peerError{code: p.Code, msg: re.Message}
		}
	}
	return err
}
