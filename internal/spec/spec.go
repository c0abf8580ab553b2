// Package spec loads API specs (Swagger 2.0, OpenAPI 3.0 and 3.1), refuses
// hostile or broken input with a precise, typed Error, normalizes documents to
// canonical JSON for hashing, and counts what they describe.
//
// Parsing is one YAML/JSON pass by libopenapi; every check here (depth, alias
// expansion, $ref policy, broken local refs) walks that node tree before
// libopenapi builds its model, which happens lazily on the first Model call.
package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/index"
	"github.com/pb33f/libopenapi/utils"
)

// Spec families.
const (
	FamilySwagger2  = "swagger2"
	FamilyOpenAPI30 = "openapi3.0"
	FamilyOpenAPI31 = "openapi3.1"
)

// Summary is what a document describes, small enough to cross workflow history.
type Summary struct {
	Family     string `json:"family"`
	Version    string `json:"version"`
	Title      string `json:"title"`
	APIVersion string `json:"apiVersion"`
	Paths      int    `json:"paths"`
	Operations int    `json:"operations"`
	Schemas    int    `json:"schemas"`
	// Warnings are the problems Parse tolerated (dangling $refs), at most
	// MaxWarnings; MoreWarnings counts the rest.
	Warnings     []Warning `json:"warnings,omitempty"`
	MoreWarnings int       `json:"moreWarnings,omitempty"`
}

// Options bound what Parse accepts. Zero values take the Default* limits;
// references to other documents are refused unless the source's location is
// given (BaseDir with AllowFileRefs for a file, BaseURL with Resolve for a URL).
//
// $refs inside data (example values, examples, default, enum, const and x-
// extensions such as x-ms-examples) are never resolved. A $ref that points to
// nothing is a Warning in Summary.Warnings, unless Strict refuses it.
type Options struct {
	// MaxBytes bounds the source, and the source with all the documents
	// it refers to.
	MaxBytes   int64
	MaxDepth   int
	MaxAliases int
	// AllowRemoteRefs lets libopenapi fetch absolute remote $refs itself
	// (no origin check): for trusted sources only. With BaseURL and Resolve
	// set, references are read through Resolve instead.
	AllowRemoteRefs bool
	// AllowFileRefs reads relative file $refs, under RefRoot only: paths
	// with .. or symlinks that leave it are refused.
	AllowFileRefs bool
	// BaseDir is the directory of a file source ("" means ".").
	BaseDir string
	// RefRoot is the directory file $refs must stay under ("" means
	// BaseDir, which must lie under it). The worker keeps the default: a
	// source reads nothing beside its own directory. A caller reading the
	// user's own files on their behalf may widen it (a spec in spec/ that
	// refers to ../common/Error.json).
	RefRoot string
	// BaseURL is the URL a fetched source came from. With Resolve, relative
	// $refs and absolute ones on the same origin (scheme and host) are read
	// through Resolve; other origins are refused.
	BaseURL string
	// Resolve fetches a referenced document; the worker passes its
	// SSRF-guarded fetcher.
	Resolve ResolveFunc
	// MaxRefDocs and MaxRefDepth bound the documents a source pulls in
	// (DefaultMaxRefDocs, DefaultMaxRefDepth when zero).
	MaxRefDocs  int
	MaxRefDepth int
	// Strict refuses a dangling $ref (KindBrokenRef) instead of warning.
	Strict bool
	// SkipCanonical leaves Document.Canonical nil, for callers that only
	// diff (starter diff): normalizing a large spec costs a good part of a parse.
	SkipCanonical bool
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxAliases <= 0 {
		o.MaxAliases = DefaultMaxAliases
	}
	if o.MaxRefDocs <= 0 {
		o.MaxRefDocs = DefaultMaxRefDocs
	}
	if o.MaxRefDepth <= 0 {
		o.MaxRefDepth = DefaultMaxRefDepth
	}
	return o
}

// Document is a parsed, checked spec. It is safe for concurrent use.
type Document struct {
	// Source names where the spec came from; it prefixes every error.
	Source string
	// Summary holds the family, titles and counts.
	Summary Summary
	// Canonical is the normalized JSON form: keys sorted, two-space
	// indent, a trailing newline, numbers kept as written (YAML-only number
	// forms such as 0x1F become their JSON decimal). Equivalent documents,
	// whatever their key order, whitespace or syntax, have the same
	// Canonical bytes.
	Canonical []byte

	lib      libopenapi.Document
	once     sync.Once
	buildErr error
}

// Root returns the YAML node tree libopenapi parsed (line and column numbers
// refer to the original bytes). Callers must not modify it. The key of a
// $ref libopenapi must not follow (inside example data or an x- extension,
// or dangling) reads "x-apilivesync-inert-ref" there, a $ref to a $ref
// inside an extension points to where that one leads, and with a RefRoot
// above the source's directory its file $refs are relative to RefRoot;
// Canonical keeps the document as written.
func (d *Document) Root() *yaml.Node {
	return d.lib.GetSpecInfo().RootNode
}

// Model returns the libopenapi document with its model built (BuildV2Model for
// Swagger 2, BuildV3Model otherwise). The model is built once and shared;
// circular $refs are legal and not reported as errors.
func (d *Document) Model() (libopenapi.Document, error) {
	d.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				d.buildErr = &Error{Source: d.Source, Kind: KindInvalid, Msg: fmt.Sprintf("libopenapi failed building the model (panic: %v)", r)}
			}
		}()
		var err error
		if d.Summary.Family == FamilySwagger2 {
			_, err = d.lib.BuildV2Model()
		} else {
			_, err = d.lib.BuildV3Model()
		}
		d.buildErr = d.modelError(err)
	})
	if d.buildErr != nil {
		return nil, d.buildErr
	}
	return d.lib, nil
}

// modelError drops circular-reference reports and classifies the rest.
func (d *Document) modelError(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range utils.UnwrapErrors(err) {
		var re *index.ResolvingError
		if errors.As(e, &re) {
			if re.CircularReference != nil {
				continue
			}
			se := &Error{Source: d.Source, Kind: KindBrokenRef, Msg: e.Error(), Err: err}
			if re.Node != nil {
				se.Line, se.Column = re.Node.Line, re.Node.Column
			}
			return se
		}
		var ie *index.IndexingError
		if errors.As(e, &ie) {
			se := &Error{Source: d.Source, Kind: KindBrokenRef, Msg: e.Error(), Err: err}
			if ie.Node != nil {
				se.Line, se.Column = ie.Node.Line, ie.Node.Column
			}
			return se
		}
		return &Error{Source: d.Source, Kind: KindInvalid, Msg: e.Error(), Err: err}
	}
	return nil
}

// Parse checks and loads one spec. Every refusal is an *Error naming the source,
// the kind of problem and, where known, its line and column.
func Parse(source string, data []byte, opts Options) (*Document, error) {
	return ParseContext(context.Background(), source, data, opts)
}

// ParseContext is Parse with a context for Options.Resolve.
func ParseContext(ctx context.Context, source string, data []byte, opts Options) (*Document, error) {
	opts = opts.withDefaults()
	fail := func(kind string, line, col int, msg string, err error) (*Document, error) {
		return nil, &Error{Source: source, Kind: kind, Line: line, Column: col, Msg: msg, Err: err}
	}
	if int64(len(data)) > opts.MaxBytes {
		return fail(KindTooComplex, 0, 0, fmt.Sprintf("%d bytes, more than the %d allowed", len(data), opts.MaxBytes), nil)
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		line, col := lineColumnAt(data, off)
		return fail(KindInvalidUTF8, line, col, fmt.Sprintf("byte 0x%02x at offset %d", data[off], off), nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail(KindNotStructured, 0, 0, "document is empty", nil)
	}

	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler)
	// $refs in extensions (x-ms-examples) are data, never followed: the
	// check below makes their keys inert. libopenapi's own filter would also
	// drop real refs under names that start with x- (a header x-signature).
	cfg.ExcludeExtensionRefs = false
	cfg.AllowRemoteReferences = opts.AllowRemoteRefs && opts.Resolve == nil
	// Our own pre-scan bounds alias expansion (MaxAliases), so libopenapi's
	// fixed alias guard must not refuse what we deliberately accept.
	cfg.AllowExcessiveAliases = true
	lib, err := libopenapi.NewDocumentWithConfiguration(data, cfg)
	if err != nil {
		return nil, classifyParseError(source, data, err)
	}
	info := lib.GetSpecInfo()
	root := info.RootNode

	lim := scanLimits{maxDepth: opts.MaxDepth, maxAliases: opts.MaxAliases}
	if tc := lim.check(root); tc != nil {
		return fail(KindTooComplex, tc.node.Line, tc.node.Column, tc.msg, nil)
	}

	family, err := familyOf(info)
	if err != nil {
		return fail(KindInvalid, versionLine(root), 0, err.Error(), nil)
	}
	check, err := newRefCheck(ctx, opts, len(data))
	if err != nil { // a malformed BaseURL, or a BaseDir outside RefRoot
		return fail(KindRefNotAllowed, 0, 0, err.Error(), err)
	}
	if check.ld != nil && check.ld.root != nil {
		defer check.ld.root.Close()
	}
	inert := check.document("", root, family == FamilySwagger2, 0)
	if ri := check.issue; ri != nil {
		return fail(ri.kind, ri.node.Line, ri.node.Column, ri.msg, nil)
	}
	check.configure(cfg)

	var canonical []byte
	switch {
	case opts.SkipCanonical:
	case info.SpecFileType == datamodel.JSONFileType:
		v, jerr := decodeJSON(data)
		if jerr != nil {
			return fail(KindNotStructured, 0, 0, jerr.Error(), jerr)
		}
		canonical = canonicalFromValue(v, len(data))
	default:
		canonical, err = canonicalFromNode(root, len(data))
	}
	if err != nil {
		return fail(KindInvalid, 0, 0, err.Error(), err)
	}

	// Only now, with the canonical form written, may the tree libopenapi
	// builds its model from change.
	inert.apply()
	dropNullLists(root)
	sum := summarize(root, family, info.Version, check.external)
	sum.Warnings, sum.MoreWarnings = check.warn.sorted(), check.warn.more
	return &Document{
		Source:    source,
		Summary:   sum,
		Canonical: canonical,
		lib:       lib,
	}, nil
}

var (
	swagger2RE = regexp.MustCompile(`^2\.0$`)
	oas30RE    = regexp.MustCompile(`^3\.0(\.[0-9]+)?(-[0-9A-Za-z.-]+)?$`)
	oas31RE    = regexp.MustCompile(`^3\.1(\.[0-9]+)?(-[0-9A-Za-z.-]+)?$`)
)

func familyOf(info *datamodel.SpecInfo) (string, error) {
	switch {
	case info.SpecFormat == datamodel.OAS2 && swagger2RE.MatchString(info.Version):
		return FamilySwagger2, nil
	case info.SpecFormat == datamodel.OAS3 && oas30RE.MatchString(info.Version):
		return FamilyOpenAPI30, nil
	case info.SpecFormat == datamodel.OAS31 && oas31RE.MatchString(info.Version):
		return FamilyOpenAPI31, nil
	}
	return "", fmt.Errorf("unsupported %s version %q (supported: swagger 2.0, openapi 3.0 and 3.1)", info.SpecType, info.Version)
}

func versionLine(root *yaml.Node) int {
	r := docRoot(root)
	if r == nil || r.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(r.Content); i += 2 {
		if k := r.Content[i].Value; k == "openapi" || k == "swagger" {
			return r.Content[i].Line
		}
	}
	return 0
}

// classifyParseError re-reads input libopenapi refused (the rare path) to say
// precisely why: not YAML or JSON, not a spec, or a spec with a bad header.
func classifyParseError(source string, data []byte, libErr error) error {
	e := &Error{Source: source, Err: libErr}
	msg := libErr.Error()
	if strings.Contains(msg, "exceeded max depth") {
		e.Kind, e.Msg = KindTooComplex, msg
		e.Line, e.Column = lineColumnFromMessage(msg)
		return e
	}
	var root yaml.Node
	if looksLikeJSON(data) {
		if _, jerr := decodeJSON(data); jerr != nil {
			var se *json.SyntaxError
			if errors.As(jerr, &se) {
				e.Line, e.Column = lineColumnAt(data, int(se.Offset))
			}
			if yerr := yaml.Unmarshal(data, &root); yerr != nil {
				e.Kind, e.Msg, e.Err = KindNotStructured, jerr.Error(), jerr
				return e
			}
			e.Line, e.Column = 0, 0
		}
	}
	if root.Kind == 0 {
		if yerr := yaml.Unmarshal(data, &root); yerr != nil {
			e.Kind, e.Msg, e.Err = KindNotStructured, yerr.Error(), yerr
			e.Line, e.Column = lineColumnFromMessage(yerr.Error())
			if strings.Contains(yerr.Error(), "already defined") {
				e.Kind = KindInvalid // duplicate keys: structured, but ambiguous
			}
			return e
		}
	}
	top := docRoot(&root)
	if top == nil || top.Kind == yaml.ScalarNode {
		e.Kind, e.Msg = KindNotStructured, "the document is plain text, not a mapping or list"
		return e
	}
	if top.Kind != yaml.MappingNode || (lookup(top, "openapi") == nil && lookup(top, "swagger") == nil) {
		e.Kind, e.Msg = KindNotAPISpec, "no top-level `openapi` or `swagger` key"
		e.Line, e.Column = top.Line, top.Column
		return e
	}
	e.Kind, e.Msg = KindInvalid, msg
	e.Line, e.Column = lineColumnFromMessage(msg)
	if e.Line == 0 {
		e.Line = versionLine(&root)
	}
	return e
}

// listKeys are the lists of a path item or operation. Written empty
// (`parameters:` with nothing after it) they are null, which libopenapi
// cannot build: it logs the failure and leaves the whole path item out of
// the model (a diff would report its operations' responses removed). Null
// means none, so the keys are dropped from the tree the model is built
// from; the canonical form keeps them.
var (
	listKeys = map[string]bool{"parameters": true, "tags": true, "servers": true}
	methods  = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
)

func dropNullLists(root *yaml.Node) {
	paths := deref(lookup(docRoot(root), "paths"))
	if paths == nil || paths.Kind != yaml.MappingNode {
		return
	}
	for i := 1; i < len(paths.Content); i += 2 {
		item := deref(paths.Content[i])
		dropNullKeys(item)
		if item == nil || item.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			if methods[item.Content[j].Value] {
				dropNullKeys(deref(item.Content[j+1]))
			}
		}
	}
}

func dropNullKeys(m *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	out := m.Content[:0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if listKeys[k.Value] && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			continue
		}
		out = append(out, k, v)
	}
	m.Content = out
}
