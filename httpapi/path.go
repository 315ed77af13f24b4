package httpapi

import (
	"net/http"
	"strings"
)

// RefuseEncodedSlashes answers 400 INVALID_ARGUMENT for a path with an
// encoded slash (%2F) or backslash (%5C) and passes every other request to
// next. Routes match the path segment by segment; a parameter that decodes
// to "a/b" would let /sessions%2Fuser%2F1001 reach a route its raw path does
// not name.
func RefuseEncodedSlashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := strings.ToUpper(r.URL.EscapedPath())
		if strings.Contains(raw, "%2F") || strings.Contains(raw, "%5C") {
			WriteError(w, http.StatusBadRequest, Invalid("the path has an encoded slash (%2F or %5C); no route takes one"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
