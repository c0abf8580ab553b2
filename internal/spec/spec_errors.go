package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Kinds of Error, stable strings callers may match on (and that activities may
// use as non-retryable application error types).
const (
	// KindNotStructured: the bytes are neither YAML nor JSON (or only a bare scalar such as plain text or HTML).
	KindNotStructured = "not-yaml-or-json"
	// KindNotAPISpec: well-formed YAML/JSON without an `openapi` or `swagger` key.
	KindNotAPISpec = "not-an-api-spec"
	// KindInvalid: an API spec that libopenapi cannot model, or with an unsupported version.
	KindInvalid = "invalid-spec"
	// KindBrokenRef: a $ref that points to nothing.
	KindBrokenRef = "broken-ref"
	// KindTooComplex: too large, too deep, or too many alias expansions (billion laughs).
	KindTooComplex = "too-complex"
	// KindInvalidUTF8: the bytes are not valid UTF-8.
	KindInvalidUTF8 = "invalid-utf8"
	// KindRefNotAllowed: a $ref to a remote URL or a file while Options forbid it.
	KindRefNotAllowed = "ref-not-allowed"
)

// Error is a classified problem with one spec. Line and Column are 1-based and
// zero when unknown.
type Error struct {
	Source string
	Kind   string
	Line   int
	Column int
	Msg    string
	Err    error
}

// Error renders `spec "payments": line 3, column 5: not YAML or JSON: ...`.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "spec %q: ", e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(kindText(e.Kind))
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func kindText(kind string) string {
	switch kind {
	case KindNotStructured:
		return "not YAML or JSON"
	case KindNotAPISpec:
		return "not an OpenAPI or Swagger document"
	case KindInvalid:
		return "invalid spec"
	case KindBrokenRef:
		return "broken $ref"
	case KindTooComplex:
		return "too complex"
	case KindInvalidUTF8:
		return "invalid UTF-8"
	case KindRefNotAllowed:
		return "$ref not allowed"
	}
	return kind
}

var (
	lineColRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+)(?:, column (\d+))?`) })
	// go-yaml reports ranges as "at L2.C7-L3.C8"; the end is where parsing failed.
	rangeRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`L(\d+)\.C(\d+)`) })
)

// lineColumnFromMessage extracts the first "line N[, column M]" of a parser message.
func lineColumnFromMessage(msg string) (int, int) {
	if all := rangeRe().FindAllStringSubmatch(msg, -1); len(all) > 0 {
		last := all[len(all)-1]
		line, _ := strconv.Atoi(last[1])
		col, _ := strconv.Atoi(last[2])
		return line, col
	}
	m := lineColRe().FindStringSubmatch(msg)
	if m == nil {
		return 0, 0
	}
	line, _ := strconv.Atoi(m[1])
	col := 0
	if m[2] != "" {
		col, _ = strconv.Atoi(m[2])
	}
	return line, col
}

// lineColumnAt converts a byte offset into a 1-based line and column.
func lineColumnAt(data []byte, offset int) (int, int) {
	if offset > len(data) {
		offset = len(data)
	}
	line, col := 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
