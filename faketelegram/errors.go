package faketelegram

import "fmt"

// InputError is a request to change the server (a fault, a message) that
// it refused; Field names the input at fault, as the control API's JSON
// names it. Nothing was changed.
type InputError struct {
	Field string
	Msg   string
	err   error // the cause, if one of the package's Err values
}

// Unwrap returns the cause, for errors.Is (ErrLoginTokenInvalid, …).
func (e *InputError) Unwrap() error { return e.err }

func (e *InputError) Error() string {
	if e.Field == "" {
		return "faketelegram: " + e.Msg
	}
	return "faketelegram: " + e.Field + ": " + e.Msg
}

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
