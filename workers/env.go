package workers

import (
	"sort"
	"sync"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// The environment is read once per Go instance: a worker's vars, secrets and
// bindings do not change during an isolate's life (a new deployment starts new
// isolates).
var env = sync.OnceValue(func() environment {
	e := environment{vars: map[string]string{}, bindings: map[string]bool{}}
	r := wire.NewReader(bridge.Env())
	for n := r.U32(); n > 0 && r.Err() == nil; n-- {
		k := r.String()
		e.vars[k] = r.String()
	}
	for n := r.U32(); n > 0 && r.Err() == nil; n-- {
		e.bindings[r.String()] = true
	}
	return e
})

type environment struct {
	vars     map[string]string
	bindings map[string]bool
}

// LookupEnv returns the value of a var or secret of the worker (a string-valued
// property of env: [vars], secrets, .dev.vars).
func LookupEnv(name string) (string, bool) {
	v, ok := env().vars[name]
	return v, ok
}

// Getenv returns the value of a var or secret, or "" when it is not set.
func Getenv(name string) string { return env().vars[name] }

// HasBinding reports whether env has a non-string property of that name: a
// service binding, a D1 database, or another binding.
func HasBinding(name string) bool { return env().bindings[name] }

// Bindings lists the names of the worker's bindings, sorted.
func Bindings() []string {
	var names []string
	for k := range env().bindings {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
