package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// jsName turns a Go identifier into its JavaScript form: lower camel case,
// with the initialism ID written Id (GetSessionByUserID → getSessionByUserId,
// userID → userId, IDs → ids, HTTPStatus → httpStatus).
func jsName(goName string) string {
	r := []rune(goName)
	// "ID" is written "Id" where it ends a word: before an upper-case letter,
	// a digit, the end, or a plural "s" that ends a word.
	for i := 0; i+1 < len(r); i++ {
		if r[i] != 'I' || r[i+1] != 'D' {
			continue
		}
		if i > 0 && unicode.IsUpper(r[i-1]) && !(i+2 < len(r) && unicode.IsLower(r[i+2])) {
			continue // inside a longer initialism, such as "UUID"
		}
		next := i + 2
		if next < len(r) && r[next] == 's' && (next+1 == len(r) || !unicode.IsLower(r[next+1])) {
			next++
		}
		if next == len(r) || !unicode.IsLower(r[next]) {
			r[i+1] = 'd'
		}
	}
	// Lower the leading upper-case run, keeping the last letter of an
	// initialism upper when a lower-case letter follows (HTTPStatus → httpStatus).
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n > 1 && n < len(r) && unicode.IsLower(r[n]) {
		n-- // the last upper-case letter starts the next word
	}
	for i := 0; i < n; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// validJSIdent reports whether s is an ASCII JavaScript identifier that can
// name a binding (not a reserved word).
func validJSIdent(s string) bool { return validJSName(s) && !jsReserved[s] }

// validJSName reports whether s is an ASCII JavaScript identifier name, as
// a method or property may have (reserved words included).
func validJSName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '$' || c < utf8.RuneSelf && unicode.IsLetter(c):
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// tsParamName returns a parameter name usable in TypeScript.
func tsParamName(s string) string {
	if jsReserved[s] {
		return s + "_"
	}
	return s
}

var jsReserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`break case catch class const continue debugger default delete do else
		enum export extends false finally for function if import in instanceof new null return super switch
		this throw true try typeof var void while with yield let static implements interface package private
		protected public await arguments eval`) {
		jsReserved[w] = true
	}
}

// exportedName is name with its first letter in upper case: the codec
// functions of type errorProps are appendErrorPropsJSON and decodeErrorPropsJSON.
func exportedName(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[n:]
}

// lowerFirst is name with its first letter in lower case.
func lowerFirst(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToLower(r)) + name[n:]
}
