package httpapi

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/communicator/communicator/telegramauth"
)

// Health is a service's health report. It needs no authentication, so
// nothing in it may help an attacker: no secret, no secret's length or
// strength, no list of service ids, no addresses. A check's Detail names what
// is wrong (a variable, a dependency) and what to do; the specifics go to the
// logs.
type Health struct {
	Status  string           `json:"status"` // ok or degraded
	Service string           `json:"service"`
	Version string           `json:"version"`
	Checks  map[string]Check `json:"checks"`
	// Transport is how the service reaches the one it depends on (the
	// ingestor: binding or http), if it depends on one.
	Transport string `json:"transport,omitempty"`
}

// Check is the outcome of one health check.
type Check struct {
	Status string `json:"status"` // ok or fail
	Detail string `json:"detail,omitempty"`
}

// OK and Fail are the checks' outcomes.
func OK(detail string) Check   { return Check{Status: "ok", Detail: detail} }
func Fail(detail string) Check { return Check{Status: "fail", Detail: detail} }

// WriteHealth answers 200 with h when every check is ok, and 503 UNAVAILABLE
// (the same data, status "degraded", naming the failing checks) when one
// fails, so monitors can go by the status code.
func WriteHealth(w http.ResponseWriter, h Health) {
	var failed []string
	for name, c := range h.Checks {
		if c.Status != "ok" {
			failed = append(failed, name)
		}
	}
	if len(failed) == 0 {
		h.Status = "ok"
		WriteData(w, http.StatusOK, h)
		return
	}
	h.Status = "degraded"
	sort.Strings(failed)
	code := telegramauth.CodeUnavailable
	WriteJSON(w, code.HTTPStatus(), Envelope{
		Data:  h,
		Error: &ErrorBody{Code: string(code), Message: "degraded: failing checks: " + strings.Join(failed, ", ")},
	})
}

// ConfigCheck is the health check of a configuration: ok when err is nil,
// else failing with the names of the bad variables only (their values, and
// why they are bad, went to the logs when the isolate started). The
// variables come from err's Vars() []string if it has one, from each error
// errors.Join joined, or from the name every problem message starts with.
func ConfigCheck(err error) Check {
	if err == nil {
		return OK("")
	}
	vars := configVars(err, nil)
	if len(vars) == 0 {
		return Fail("unusable (the logs say why)")
	}
	return Fail(strings.Join(vars, ", ") + " unusable (the logs say why)")
}

func configVars(err error, vars []string) []string {
	add := func(v string) {
		if v != "" && !slices.Contains(vars, v) {
			vars = append(vars, v)
		}
	}
	switch e := err.(type) {
	case interface{ Vars() []string }:
		for _, v := range e.Vars() {
			add(v)
		}
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			vars = configVars(x, vars)
		}
	default:
		msg := err.Error()
		end := 0
		for end < len(msg) && (msg[end] >= 'A' && msg[end] <= 'Z' || msg[end] >= '0' && msg[end] <= '9' || msg[end] == '_') {
			end++
		}
		add(msg[:end])
	}
	return vars
}
