// Package graphql loads GraphQL schemas (SDL text or an introspection
// answer), refuses broken or hostile input with a precise, typed Error,
// writes a canonical SDL for hashing, reports what changed between two
// schemas with direction-aware breaking rules, and merges three ways by
// definition and field.
//
// # Canonical form
//
// The canonical SDL holds the schema definition (only when its root types
// are not the default Query, Mutation and Subscription, or it carries a
// description or directives), then directive definitions sorted by name,
// then type definitions sorted by kind (scalar, enum, input, interface,
// object, union) and then by name. Fields, arguments, input fields, enum
// values, union members and implemented interfaces are sorted by name too:
// their order means nothing to a GraphQL client, and sorting them makes an
// SDL file and the introspection answer of the same server hash the same.
// Applied directives keep their declared order (a repeatable directive may
// mean something by its order). Comments are dropped; descriptions are kept
// as block strings. Type extensions are folded into their type.
//
// # Merge tree
//
// Merge converts each schema into a JSON tree (schema, directives, types,
// each type's fields, arguments, values and members keyed by name), merges
// the trees with internal/merge and prints the result back as canonical SDL.
// Conflict pointers are translated into schema coordinates (Type.field(arg:)).
package graphql

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// Limits applied by Parse when Options leave them zero.
const (
	DefaultMaxBytes       = 64 << 20 // as internal/spec
	DefaultMaxDepth       = 64       // brackets, braces and parentheses in SDL; nesting in JSON
	DefaultMaxDefinitions = 100_000  // type and directive definitions
)

// Options bound what Parse accepts. Zero values take the Default* limits.
type Options struct {
	MaxBytes       int64
	MaxDepth       int
	MaxDefinitions int
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxDefinitions <= 0 {
		o.MaxDefinitions = DefaultMaxDefinitions
	}
	return o
}

// Summary is what a schema describes, small enough to cross workflow history.
type Summary struct {
	Types         int `json:"types"` // user-defined, builtins excluded
	Objects       int `json:"objects"`
	Interfaces    int `json:"interfaces"`
	Unions        int `json:"unions"`
	Enums         int `json:"enums"`
	InputObjects  int `json:"inputObjects"`
	Scalars       int `json:"scalars"`
	Directives    int `json:"directives"` // user-defined directive definitions
	Fields        int `json:"fields"`     // fields of objects, interfaces and input objects
	Queries       int `json:"queries"`
	Mutations     int `json:"mutations"`
	Subscriptions int `json:"subscriptions"`
}

// Document is a parsed, validated schema. It is safe for concurrent use
// once returned; callers must not modify it.
type Document struct {
	// Source names where the schema came from; it prefixes every error.
	Source string
	// Summary holds the counts.
	Summary Summary
	// Canonical is the canonical SDL (see the package comment).
	Canonical []byte
	// FromIntrospection is set when the input was an introspection answer;
	// lines in a Compare report then refer to the SDL built from it.
	FromIntrospection bool
	// Warnings lists what Parse tolerated, e.g. a field defined twice
	// identically (GitHub's published schema has some).
	Warnings []string

	tree *tree
}

// Hash is the hex SHA-256 of the canonical SDL.
func (d *Document) Hash() string {
	sum := sha256.Sum256(d.Canonical)
	return hex.EncodeToString(sum[:])
}

// Kinds of Error, stable strings callers may match on (and that activities
// may use as non-retryable application error types).
const (
	// KindSyntax: the SDL does not parse.
	KindSyntax = "graphql-syntax"
	// KindInvalid: the SDL parses but is not a valid schema (unknown type, duplicate, ...).
	KindInvalid = "graphql-invalid"
	// KindIntrospection: an introspection answer that carries errors, is HTML,
	// or is not shaped like an introspection result.
	KindIntrospection = "graphql-introspection"
	// KindTooComplex: too large, too deeply nested, or too many definitions.
	KindTooComplex = "too-complex"
	// KindInvalidUTF8: the bytes are not valid UTF-8.
	KindInvalidUTF8 = "invalid-utf8"
	// KindEmpty: nothing but white space and comments.
	KindEmpty = "empty"
)

// Error is a classified problem with one schema. Line and Column are 1-based
// and zero when unknown.
type Error struct {
	Source string
	Kind   string
	Line   int
	Column int
	Msg    string
	Err    error
}

// Error renders `graphql schema "users": line 3, column 5: invalid schema: ...`.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graphql schema %q: ", e.Source)
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
	case KindSyntax:
		return "SDL syntax error"
	case KindInvalid:
		return "invalid schema"
	case KindIntrospection:
		return "not a usable introspection answer"
	case KindTooComplex:
		return "too complex"
	case KindInvalidUTF8:
		return "invalid UTF-8"
	case KindEmpty:
		return "empty schema"
	}
	return kind
}

// Parse checks and loads one schema with the default limits. data is SDL,
// or an introspection answer as JSON ({"data":{"__schema":...}} or
// {"__schema":...}). Every refusal is an *Error.
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
		off := invalidUTF8Offset(data)
		line, col := lineColumnAt(data, off)
		return fail(KindInvalidUTF8, line, col, fmt.Sprintf("byte 0x%02x at offset %d", data[off], off), nil)
	}
	trimmed := bytes.TrimSpace(data)
	fromIntro := false
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '<') {
		sdl, err := fromIntrospection(source, data, opts)
		if err != nil {
			return nil, err
		}
		data, fromIntro = []byte(sdl), true
	} else if line, col, ok := tooDeep(data, opts.MaxDepth); !ok {
		return fail(KindTooComplex, line, col, fmt.Sprintf("nested more than %d levels deep", opts.MaxDepth), nil)
	}
	t, warnings, err := load(source, string(data), opts)
	if err != nil {
		return nil, err
	}
	return &Document{
		Source:            source,
		Summary:           t.summary(),
		Canonical:         t.print(),
		FromIntrospection: fromIntro,
		Warnings:          warnings,
		tree:              t,
	}, nil
}

// load parses and validates SDL and converts it to a tree.
func load(source, sdl string, opts Options) (*tree, []string, error) {
	src := &ast.Source{Name: source, Input: sdl}
	doc, err := parser.ParseSchema(src)
	if err != nil {
		return nil, nil, gqlError(source, KindSyntax, err)
	}
	if n := len(doc.Definitions) + len(doc.Extensions) + len(doc.Directives); n > opts.MaxDefinitions {
		return nil, nil, &Error{Source: source, Kind: KindTooComplex, Msg: fmt.Sprintf("%d definitions, more than the %d allowed", n, opts.MaxDefinitions)}
	}
	if len(doc.Definitions)+len(doc.Directives)+len(doc.Schema) == 0 {
		return nil, nil, &Error{Source: source, Kind: KindEmpty, Msg: "no type, directive or schema definition"}
	}
	warnings := dropIdenticalFields(doc)
	prelude := validator.PreludeDocument()
	prelude.Merge(doc)
	schema, err := validator.ValidateSchemaDocument(prelude)
	if err != nil {
		return nil, nil, gqlError(source, KindInvalid, err)
	}
	return fromSchema(schema), warnings, nil
}

// dropIdenticalFields removes the second copy of a field defined twice in
// one type definition with the same type, arguments, defaults and
// directives (descriptions may differ; the first one is kept). Published
// schemas have them: GitHub's defines EnterpriseOwnerInfo.
// repositoryDeployKeySetting twice, the copy with another field's
// description. Copies that differ otherwise stay, and the validator refuses
// them.
func dropIdenticalFields(doc *ast.SchemaDocument) []string {
	var warnings []string
	for _, d := range doc.Definitions {
		if len(d.Fields) < 2 {
			continue
		}
		seen := make(map[string]string, len(d.Fields))
		kept := d.Fields[:0]
		for _, f := range d.Fields {
			sig := fieldSignature(f)
			if prev, ok := seen[f.Name]; ok && prev == sig {
				line := 0
				if f.Position != nil {
					line = f.Position.Line
				}
				warnings = append(warnings, fmt.Sprintf("line %d: field %s.%s is defined twice with the same type and arguments; the second definition is ignored", line, d.Name, f.Name))
				continue
			} else if !ok {
				seen[f.Name] = sig
			}
			kept = append(kept, f)
		}
		d.Fields = kept
	}
	return warnings
}

func fieldSignature(f *ast.FieldDefinition) string {
	var b strings.Builder
	b.WriteString(f.Type.String() + "\x00" + value(f.DefaultValue) + "\x00")
	b.WriteString(strings.Join(applied(f.Directives), " "))
	for _, a := range f.Arguments {
		b.WriteString("\x00" + a.Name + ":" + a.Type.String() + "=" + value(a.DefaultValue) + " " + strings.Join(applied(a.Directives), " "))
	}
	return b.String()
}

// gqlError turns a gqlparser error into an *Error with its position.
func gqlError(source, kind string, err error) error {
	e := &Error{Source: source, Kind: kind, Msg: err.Error(), Err: err}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		e.Msg = ge.Message
		if len(ge.Locations) > 0 {
			e.Line, e.Column = ge.Locations[0].Line, ge.Locations[0].Column
		}
	}
	return e
}

func invalidUTF8Offset(data []byte) int {
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	return off
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

// tooDeep scans SDL for brackets, braces and parentheses nested deeper than
// max, skipping comments and strings. It reports where the limit was crossed.
func tooDeep(data []byte, max int) (line, col int, ok bool) {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case '"':
			if i+2 < len(data) && data[i+1] == '"' && data[i+2] == '"' {
				end := bytes.Index(data[i+3:], []byte(`"""`))
				if end < 0 {
					return 0, 0, true // the parser reports the open string
				}
				i += 3 + end + 2
				continue
			}
			for i++; i < len(data) && data[i] != '"' && data[i] != '\n'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '[', '{', '(':
			depth++
			if depth > max {
				l, c := lineColumnAt(data, i)
				return l, c, false
			}
		case ']', '}', ')':
			depth--
		}
	}
	return 0, 0, true
}
