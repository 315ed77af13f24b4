// Package accesspolicy says which services may do what: per permission (an
// action of auth-telegram, a route group of the ingestor), the service ids
// allowed. Both services read theirs from a JSON variable of the same shape
// (ACCESS_POLICY, INGESTOR_ACCESS_POLICY):
//
//	{"read": ["communicator", "operator"], "operate": ["operator"]}
//
// A permission that is missing, or lists nobody, is granted to nobody.
package accesspolicy

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/internal/strictjson"
	"github.com/communicator/communicator/telegramauth"
)

// Policy maps a permission to the service ids granted it.
type Policy map[string][]string

// Allows reports whether serviceID has permission. The empty id never has.
func (p Policy) Allows(permission, serviceID string) bool {
	return serviceID != "" && slices.Contains(p[permission], serviceID)
}

// Parse reads a policy from the JSON of the variable named variable (for
// error messages). known lists the permissions the service has; any other
// is an error, as are a member named twice, a value that is not a list of
// service ids, and a malformed service id. Errors name what is wrong and
// quote only short, sanitized pieces of the input.
func Parse(variable, s string, known []string) (Policy, error) {
	shape := variable + " must be a JSON object of permission to a list of service ids, such as " +
		`{"` + known[0] + `": ["some-service"]}`
	members, err := strictjson.Object([]byte(s))
	if err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) && se.Key != "" {
			return nil, errors.New(variable + ": " + se.Msg)
		}
		return nil, errors.New(shape)
	}
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	p := Policy{}
	for _, name := range names {
		if !slices.Contains(known, name) {
			return nil, errors.New(variable + ": unknown permission " + errtext.Quote(name, 40) + " (known: " + strings.Join(known, ", ") + ")")
		}
		var ids []string
		if err := json.Unmarshal(members[name], &ids); err != nil {
			return nil, errors.New(variable + ": " + name + " must be a list of service ids")
		}
		for _, id := range ids {
			if !telegramauth.ValidServiceID(id) {
				return nil, errors.New(variable + ": " + name + ": " + errtext.Quote(id, 40) + " is not a service id (" + telegramauth.ServiceIDRule + ")")
			}
		}
		p[name] = ids
	}
	return p, nil
}
