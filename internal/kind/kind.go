// Package kind tells the kinds of API description apart (OpenAPI, GraphQL,
// Postman) and gives the pipeline one small interface over the GraphQL and
// Postman packages: Parse, Diff and Merge by kind. OpenAPI stays with
// internal/spec, internal/diff and internal/merge, which the pipeline calls
// directly; Parse, Diff and Merge here refuse it with ErrUseSpec.
package kind

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/graphql"
	"github.com/apilivesync/apilivesync/internal/merge"
	"github.com/apilivesync/apilivesync/internal/postman"
)

// The kinds of source (the config's `kind`).
const (
	OpenAPI = "openapi"
	GraphQL = "graphql"
	Postman = "postman"
)

// DetectError says why content's kind could not be told.
type DetectError struct {
	// Candidates lists the kinds the content looks like (two or more when
	// ambiguous, none when unknown).
	Candidates []string
	Msg        string
}

// Error says what was found and what to do.
func (e *DetectError) Error() string {
	if len(e.Candidates) > 1 {
		return fmt.Sprintf("detect kind: ambiguous: the document looks like %s; set `kind` on the source", strings.Join(e.Candidates, " and "))
	}
	return "detect kind: " + e.Msg + "; set `kind` on the source (openapi, graphql or postman)"
}

// anyLine says whether f holds for a line of t. Detection reads lines
// rather than running patterns over the whole text: a multi-line pattern
// took half a second on a 6 MB document, which every fetch parses.
func anyLine(t []byte, f func(line []byte) bool) bool {
	for len(t) > 0 {
		line := t
		if i := bytes.IndexByte(t, '\n'); i >= 0 {
			line, t = t[:i], t[i+1:]
		} else {
			t = nil
		}
		if f(line) {
			return true
		}
	}
	return false
}

// specKeyLine is a top-level openapi: or swagger: key in YAML (quoted or not).
func specKeyLine(line []byte) bool {
	line = unquote(line)
	for _, k := range []string{"openapi", "swagger"} {
		if rest, ok := bytes.CutPrefix(line, []byte(k)); ok {
			rest = bytes.TrimLeft(unquote(rest), " \t\r")
			return len(rest) > 0 && rest[0] == ':'
		}
	}
	return false
}

func unquote(b []byte) []byte {
	if len(b) > 0 && (b[0] == '"' || b[0] == '\'') {
		return b[1:]
	}
	return b
}

var sdlKeywords = []string{"schema", "type", "interface", "union", "enum", "input", "scalar", "directive"}

// sdlLine is a GraphQL type-system definition at the start of a line:
// [extend] keyword, then a name, a directive or a brace.
func sdlLine(line []byte) bool {
	line = bytes.TrimLeft(line, " \t\r\f\v")
	if rest, ok := bytes.CutPrefix(line, []byte("extend")); ok && len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		line = bytes.TrimLeft(rest, " \t")
	}
	for _, k := range sdlKeywords {
		rest, ok := bytes.CutPrefix(line, []byte(k))
		if !ok || (len(rest) > 0 && wordByte(rest[0])) {
			continue
		}
		rest = bytes.TrimLeft(rest, " \t\r")
		return len(rest) > 0 && (rest[0] == '@' || rest[0] == '{' || rest[0] == '_' || letter(rest[0]))
	}
	return false
}

func letter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func wordByte(c byte) bool { return letter(c) || c >= '0' && c <= '9' || c == '_' }

// Detect tells the kind of an API description from its content: OpenAPI
// (an openapi or swagger key, JSON or YAML), Postman (a collection's info
// with _postman_id or a schema.getpostman.com schema, or a v1 collection,
// which postman.Parse then refuses clearly), GraphQL (an introspection
// answer with __schema, or SDL text with type-system definitions). A
// document that matches two kinds, or none, is a *DetectError.
func Detect(data []byte) (string, error) {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(t) == 0 {
		return "", &DetectError{Msg: "the document is empty"}
	}
	if t[0] == '<' {
		return "", &DetectError{Msg: "the document is HTML or XML, not an API description (a login page, a proxy error or the wrong URL?)"}
	}
	if t[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(t, &top); err == nil {
			return detectJSON(top)
		}
	}
	var found []string
	if anyLine(t, specKeyLine) {
		found = append(found, OpenAPI)
	}
	if anyLine(t, sdlLine) {
		found = append(found, GraphQL)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", &DetectError{Msg: "no openapi or swagger key, no Postman collection info and no GraphQL definition found"}
	}
	return "", &DetectError{Candidates: found}
}

func detectJSON(top map[string]json.RawMessage) (string, error) {
	var found []string
	if top["openapi"] != nil || top["swagger"] != nil {
		found = append(found, OpenAPI)
	}
	var info struct {
		PostmanID *string `json:"_postman_id"`
		Schema    string  `json:"schema"`
	}
	_ = json.Unmarshal(top["info"], &info)
	isPostmanV1 := top["requests"] != nil && top["order"] != nil && top["info"] == nil
	if info.PostmanID != nil || strings.Contains(info.Schema, "schema.getpostman.com") || strings.Contains(info.Schema, "schema.postman.com") || isPostmanV1 {
		found = append(found, Postman)
	}
	var data struct {
		Schema json.RawMessage `json:"__schema"`
	}
	_ = json.Unmarshal(top["data"], &data)
	if top["__schema"] != nil || data.Schema != nil {
		found = append(found, GraphQL)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if top["errors"] != nil {
			return "", &DetectError{Msg: "the document is a GraphQL error answer (introspection disabled, or credentials missing?)"}
		}
		return "", &DetectError{Msg: "a JSON object with no openapi or swagger key, no Postman collection info and no __schema"}
	}
	return "", &DetectError{Candidates: found}
}

// ErrUseSpec is returned for OpenAPI: internal/spec and internal/diff handle it.
var ErrUseSpec = errors.New("kind: OpenAPI is handled by internal/spec, internal/diff and internal/merge")

// Summary is the common, small summary of a parsed document; counts that
// do not apply to a kind are zero. It crosses workflow history.
type Summary struct {
	Kind     string `json:"kind"`
	Version  string `json:"version,omitempty"` // postman: 2.0.0 or 2.1.0
	Name     string `json:"name,omitempty"`    // postman: collection name
	Types    int    `json:"types,omitempty"`
	Fields   int    `json:"fields,omitempty"`
	Queries  int    `json:"queries,omitempty"`
	Mutation int    `json:"mutations,omitempty"`
	Folders  int    `json:"folders,omitempty"`
	Requests int    `json:"requests,omitempty"`
}

// Parsed is a checked document of one kind in canonical form.
type Parsed struct {
	Kind      string   `json:"kind"`
	Canonical []byte   `json:"-"` // store it; never put it in workflow history
	Hash      string   `json:"hash"`
	Summary   Summary  `json:"summary"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Parse checks a GraphQL or Postman document ("" detects the kind) and
// returns its canonical form. Refusals are *graphql.Error or
// *postman.Error (stable Kind strings for non-retryable error types), or a
// *DetectError.
func Parse(kind, source string, data []byte) (*Parsed, error) {
	if kind == "" {
		k, err := Detect(data)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", source, err)
		}
		kind = k
	}
	switch kind {
	case GraphQL:
		d, err := graphql.Parse(source, data)
		if err != nil {
			return nil, err
		}
		s := d.Summary
		return &Parsed{Kind: kind, Canonical: d.Canonical, Hash: d.Hash(), Warnings: d.Warnings, Summary: Summary{
			Kind: kind, Types: s.Types, Fields: s.Fields, Queries: s.Queries, Mutation: s.Mutations}}, nil
	case Postman:
		d, err := postman.Parse(source, data)
		if err != nil {
			return nil, err
		}
		s := d.Summary
		return &Parsed{Kind: kind, Canonical: d.Canonical, Hash: d.Hash(), Summary: Summary{
			Kind: kind, Version: s.Version, Name: s.Name, Folders: s.Folders, Requests: s.Requests}}, nil
	case OpenAPI:
		return nil, ErrUseSpec
	}
	return nil, fmt.Errorf("kind: unknown kind %q (want openapi, graphql or postman)", kind)
}

// MismatchError refuses to diff or merge documents of two kinds.
type MismatchError struct{ Old, New string }

// Error says which kinds.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("cannot compare a %s document with a %s document: both sides must be of one kind", e.Old, e.New)
}

// Diff compares two documents of one kind (canonical or as published) and
// returns the same report OpenAPI diffs produce: Report.Write prints it as
// text, markdown or JSON, and Report.Breaking gates. kind "" detects it
// from both documents and refuses two different kinds with *MismatchError.
func Diff(kind string, old, new []byte) (*diff.Report, error) {
	kind, err := sameKind(kind, old, new)
	if err != nil {
		return nil, err
	}
	switch kind {
	case GraphQL:
		o, err := graphql.Parse("old", old)
		if err != nil {
			return nil, err
		}
		n, err := graphql.Parse("new", new)
		if err != nil {
			return nil, err
		}
		return graphql.Compare(o, n), nil
	case Postman:
		o, err := postman.Parse("old", old)
		if err != nil {
			return nil, err
		}
		n, err := postman.Parse("new", new)
		if err != nil {
			return nil, err
		}
		return postman.Compare(o, n), nil
	case OpenAPI:
		return nil, ErrUseSpec
	}
	return nil, fmt.Errorf("kind: unknown kind %q (want openapi, graphql or postman)", kind)
}

// MergeResult is a three-way merge of one kind.
type MergeResult struct {
	// Result is internal/merge's result; decide its conflicts with
	// merge.Apply and turn the outcome into a document with Document.
	Result *merge.Result
	// Merged is the merged document in canonical form (local values at conflicts).
	Merged []byte
	// Locations maps each conflict pointer to what people read:
	// a schema coordinate (User.email(arg:)) or a request path ("/Users/Get user#method").
	Locations map[string]string
	// Invalid is set when a merged GraphQL schema does not validate.
	Invalid error
}

// Merge merges local and remote against base (may be empty) three ways:
// GraphQL by definition and field, Postman by request.
func Merge(kind string, base, local, remote []byte) (*MergeResult, error) {
	switch kind {
	case GraphQL:
		r, err := graphql.Merge(base, local, remote)
		if err != nil {
			return nil, err
		}
		return &MergeResult{Result: r.Result, Merged: r.Merged, Locations: r.Coordinates, Invalid: r.Invalid}, nil
	case Postman:
		r, err := postman.Merge(base, local, remote)
		if err != nil {
			return nil, err
		}
		return &MergeResult{Result: r.Result, Merged: r.Merged, Locations: r.Locations}, nil
	case OpenAPI:
		return nil, ErrUseSpec
	}
	return nil, fmt.Errorf("kind: unknown kind %q (want openapi, graphql or postman)", kind)
}

// Document turns what merge.Apply returned for a MergeResult of this kind
// into the canonical document: SDL for GraphQL, canonical JSON for Postman.
func Document(kind string, applied []byte) ([]byte, error) {
	switch kind {
	case GraphQL:
		return graphql.FromTree(applied)
	case Postman:
		d, err := postman.Parse("merged", applied)
		if err != nil {
			return nil, err
		}
		return d.Canonical, nil
	}
	return nil, fmt.Errorf("kind: no merge document for kind %q", kind)
}

func sameKind(kind string, old, new []byte) (string, error) {
	if kind != "" {
		return kind, nil
	}
	ok, err := Detect(old)
	if err != nil {
		return "", fmt.Errorf("old document: %w", err)
	}
	nk, err := Detect(new)
	if err != nil {
		return "", fmt.Errorf("new document: %w", err)
	}
	if ok != nk {
		return "", &MismatchError{Old: ok, New: nk}
	}
	return ok, nil
}
