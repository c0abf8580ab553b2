// Package postman loads Postman collections (v2.0 and v2.1), refuses v1 and
// anything else with a precise, typed Error, writes a canonical form keyed by
// folder path and request name, reports what changed between two
// collections, and merges three ways by request.
//
// # Canonical form
//
// Canonical JSON (sorted keys, two-space indent) of
//
//	{"info": {...}, "auth": ..., "event": ..., "variable": {key: ...},
//	 "folders": {"/Users": {...}},
//	 "requests": {"/Users/Get user": {"method", "url", "query", "pathVariables",
//	              "header", "body", "auth", "description", "event", "examples"}}}
//
// A request's path is its folders' names and its own, each with "~" written
// "~0" and "/" written "~1" (as in a JSON pointer), joined by "/"; a second
// item of the same name in one folder gets " [2]" appended, and so on. The
// URL is the raw URL without its query string; query parameters, path
// variables, headers and urlencoded or form-data body fields are objects
// keyed by name. `{{variables}}` stay as text. Auth is normalized to
// {"type": t, t: {key: value}} whichever of v2.0's and v2.1's shapes it came
// in. Item order, item ids and info._exporter_id are not part of the
// canonical form: reordering requests or exporting from another account is
// not a change. The same form is the merge tree.
package postman

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Collection schema URLs of the versions Parse accepts (info.schema).
const (
	SchemaV200 = "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"
	SchemaV210 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
)

// Limits applied by Parse when Options leave them zero.
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxDepth = 64      // folders nested in folders
	DefaultMaxItems = 100_000 // folders and requests
)

// Options bound what Parse accepts. Zero values take the Default* limits.
type Options struct {
	MaxBytes int64
	MaxDepth int
	MaxItems int
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxItems <= 0 {
		o.MaxItems = DefaultMaxItems
	}
	return o
}

// Summary is what a collection describes, small enough to cross workflow history.
type Summary struct {
	Version   string `json:"version"` // "2.0.0" or "2.1.0" as the input declared
	Name      string `json:"name"`
	Folders   int    `json:"folders"`
	Requests  int    `json:"requests"`
	Variables int    `json:"variables"`
}

// Document is a parsed collection. Callers must not modify it.
type Document struct {
	// Source names where the collection came from; it prefixes every error.
	Source string
	// Summary holds the version, name and counts.
	Summary Summary
	// Canonical is the canonical JSON (see the package comment).
	Canonical []byte

	c *canonical
}

// Hash is the hex SHA-256 of the canonical JSON.
func (d *Document) Hash() string {
	sum := sha256.Sum256(d.Canonical)
	return hex.EncodeToString(sum[:])
}

// Kinds of Error, stable strings callers may match on.
const (
	// KindNotJSON: the bytes are not JSON (or are HTML).
	KindNotJSON = "not-json"
	// KindNotCollection: JSON that is not a Postman collection.
	KindNotCollection = "not-a-postman-collection"
	// KindUnsupportedVersion: a collection of another version than 2.0 or 2.1 (v1 exports, ...).
	KindUnsupportedVersion = "unsupported-postman-version"
	// KindInvalid: a v2 collection with a member of the wrong shape.
	KindInvalid = "invalid-collection"
	// KindTooComplex: too large, folders nested too deep, or too many items.
	KindTooComplex = "too-complex"
	// KindInvalidUTF8: the bytes are not valid UTF-8.
	KindInvalidUTF8 = "invalid-utf8"
)

// Error is a classified problem with one collection. Line and Column are
// 1-based and zero when unknown; Path is the item path when known.
type Error struct {
	Source string
	Kind   string
	Line   int
	Column int
	Path   string
	Msg    string
	Err    error
}

// Error renders `postman collection "crm": line 3, column 5: not JSON: ...`.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "postman collection %q: ", e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		fmt.Fprintf(&b, "%s: ", e.Path)
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
	case KindNotJSON:
		return "not JSON"
	case KindNotCollection:
		return "not a Postman collection"
	case KindUnsupportedVersion:
		return "unsupported collection version"
	case KindInvalid:
		return "invalid collection"
	case KindTooComplex:
		return "too complex"
	case KindInvalidUTF8:
		return "invalid UTF-8"
	}
	return kind
}

// Parse checks and loads a collection (v2.0 or v2.1 as exported, or this
// package's canonical form) with the default limits. Every refusal is an *Error.
func Parse(source string, data []byte) (*Document, error) {
	return ParseWithOptions(source, data, Options{})
}

// ParseWithOptions is Parse with explicit limits.
func ParseWithOptions(source string, data []byte, opts Options) (*Document, error) {
	opts = opts.withDefaults()
	fail := func(kind string, line, col int, msg string, err error) (*Document, error) {
		return nil, &Error{Source: source, Kind: kind, Line: line, Column: col, Msg: msg, Err: err}
	}
	if int64(len(data)) > opts.MaxBytes {
		return fail(KindTooComplex, 0, 0, fmt.Sprintf("%d bytes, more than the %d allowed", len(data), opts.MaxBytes), nil)
	}
	if !utf8.Valid(data) {
		return fail(KindInvalidUTF8, 0, 0, "", nil)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return fail(KindNotJSON, 1, 1, "the document is HTML (a login page, a proxy error or the wrong URL?)", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		line, col := 0, 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col = lineColumnAt(data, int(se.Offset))
		}
		return fail(KindNotJSON, line, col, err.Error(), err)
	}
	if _, err := dec.Token(); err == nil {
		return fail(KindNotJSON, 0, 0, "unexpected data after the document", nil)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return fail(KindNotCollection, 0, 0, "the document is not a JSON object", nil)
	}
	version, err := versionOf(top)
	if err != nil {
		return nil, &Error{Source: source, Kind: err.kind, Msg: err.msg}
	}
	n := &normalizer{opts: opts}
	c, nerr := n.collection(top, version)
	if nerr != nil {
		nerr.Source = source
		return nil, nerr
	}
	canon, jerr := encode(c)
	if jerr != nil {
		return fail(KindInvalid, 0, 0, jerr.Error(), jerr)
	}
	return &Document{Source: source, Summary: c.summary(version), Canonical: canon, c: c}, nil
}

type versionError struct{ kind, msg string }

// versionOf tells v2.0, v2.1 and the canonical form apart, and refuses the rest.
func versionOf(top map[string]any) (string, *versionError) {
	info, _ := top["info"].(map[string]any)
	if info == nil {
		if _, ok := top["requests"].([]any); ok {
			return "", &versionError{KindUnsupportedVersion, "a v1 collection (top-level \"requests\" and \"order\"): open it in Postman and export it as Collection v2.1"}
		}
		if _, ok := top["openapi"]; ok {
			return "", &versionError{KindNotCollection, "an OpenAPI document, not a Postman collection"}
		}
		return "", &versionError{KindNotCollection, `no "info" object`}
	}
	schema, _ := info["schema"].(string)
	switch {
	case strings.Contains(schema, "/v2.1.0/"):
		return "2.1.0", nil
	case strings.Contains(schema, "/v2.0.0/"):
		return "2.0.0", nil
	case schema == "":
		if _, ok := info["_postman_id"]; ok {
			return "", &versionError{KindUnsupportedVersion, `info has no "schema": export the collection as Collection v2.1`}
		}
		return "", &versionError{KindNotCollection, `info has neither "schema" nor "_postman_id"`}
	case strings.Contains(schema, "getpostman.com") || strings.Contains(schema, "postman.com"):
		return "", &versionError{KindUnsupportedVersion, fmt.Sprintf("schema %q: only v2.0.0 and v2.1.0 are supported; export the collection as Collection v2.1", schema)}
	}
	return "", &versionError{KindNotCollection, fmt.Sprintf("info.schema %q is not a Postman collection schema", schema)}
}

// encode writes canonical JSON: sorted keys, two-space indent, no HTML escaping.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

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
