// Package jsonptr builds and splits RFC 6901 JSON pointers
// ("/paths/~1pets~1{id}/get"). Escaping a reference token ("~" as "~0", "/"
// as "~1") is github.com/go-openapi/jsonpointer's; this package adds joining,
// splitting, and a fast path that leaves a token needing no escape unchanged
// without allocating, since most tokens of a spec's pointers need none.
//
// Every pointer the project writes or reads goes through here, so that
// merge conflicts, diff changes and $ref targets agree on one spelling.
package jsonptr

import (
	"strings"

	"github.com/go-openapi/jsonpointer"
)

// Escape escapes one reference token: "a/b~c" is "a~1b~0c".
func Escape(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return jsonpointer.Escape(token)
}

// Unescape reverses Escape: "a~1b~0c" is "a/b~c", and "~01" is "~1".
func Unescape(token string) string {
	if !strings.Contains(token, "~") {
		return token
	}
	return jsonpointer.Unescape(token)
}

// Join returns the pointer to the given reference tokens, each escaped:
// Join([]string{"paths", "/pets"}) is "/paths/~1pets". No tokens is the
// root pointer, "".
func Join(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(Escape(t))
	}
	return b.String()
}

// Tokens splits pointer p into its unescaped reference tokens:
// Tokens("/paths/~1pets/get") is ["paths", "/pets", "get"]. The root
// pointer "" has none; "/" has one, the empty token. A missing leading "/"
// is tolerated ("paths/get" reads as "/paths/get"), for callers that turn
// pointers into text for people and would rather not fail.
func Tokens(p string) []string {
	if p == "" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, t := range toks {
		toks[i] = Unescape(t)
	}
	return toks
}
