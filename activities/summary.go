package activities

import (
	"fmt"
	"strings"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

var methods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// changeSummary is a one-line description of a change for people:
// "breaking: removed operation GET /pets/{petId}".
func changeSummary(c diff.Change) string {
	where := humanPointer(c.Pointer)
	s := fmt.Sprintf("%s %s %s", c.Kind, c.Object, where)
	if c.Breaking {
		s = "breaking: " + s
	}
	return s
}

// humanPointer turns /paths/~1pets~1{id}/get/parameters/0 into
// "GET /pets/{id} parameters/0".
func humanPointer(p string) string {
	toks := jsonptr.Tokens(p)
	if len(toks) >= 2 && toks[0] == "paths" {
		head := toks[1]
		rest := toks[2:]
		if len(rest) > 0 && methods[rest[0]] {
			head = strings.ToUpper(rest[0]) + " " + head
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return head
		}
		return head + " " + strings.Join(rest, "/")
	}
	if p == "" {
		return "(document)"
	}
	return p
}
