package kitchensink

import (
	"errors"

	"github.com/communicator/communicator/workers/jsoncodec"
)

// The hooks rpcgen requires, kept simple: they expose what the generated code
// passes them, for the tests.

// errorProps are the own properties of a thrown KitchenError.
type errorProps struct {
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// ArgumentError is what rpcArgumentError returns.
type ArgumentError struct {
	Method, Param string
	Err           error
}

func (e *ArgumentError) Error() string { return e.Method + " " + e.Param + ": " + e.Err.Error() }
func (e *ArgumentError) Unwrap() error { return e.Err }

func rpcArgumentError(method, param string, err error) error {
	return &ArgumentError{Method: method, Param: param, Err: err}
}

// CodedError is an error with a code, thrown to JavaScript as a KitchenError.
type CodedError struct{ Code, Detail string }

func (e *CodedError) Error() string { return e.Code }

func rpcAppendError(dst []byte, err error) []byte {
	props := errorProps{Code: "INTERNAL"}
	var ce *CodedError
	if errors.As(err, &ce) {
		props = errorProps{Code: ce.Code, Detail: ce.Detail}
	}
	dst = append(dst, `{"name":"KitchenError","message":`...)
	dst = jsoncodec.AppendString(dst, props.Code)
	start := len(dst)
	dst = appendErrorPropsJSON(dst, &props)
	dst[start] = ','
	return dst
}

// ClientError is what rpcClientError returns.
type ClientError struct{ Err error }

func (e *ClientError) Error() string { return "client: " + e.Err.Error() }
func (e *ClientError) Unwrap() error { return e.Err }

func rpcClientError(err error) error { return &ClientError{Err: err} }
