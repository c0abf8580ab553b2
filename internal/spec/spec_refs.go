package spec

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

// MaxWarnings bounds Summary.Warnings; further ones are only counted.
const MaxWarnings = 20

// Warning is a problem Parse tolerated (a dangling $ref), small enough to be
// carried in a sync status and a version record.
type Warning struct {
	// Pointer is the JSON pointer of the offending member, e.g.
	// "/definitions/Order/properties/tip/$ref".
	Pointer string `json:"pointer"`
	// Line and Column are 1-based positions in the source's own bytes.
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// InertRefKey replaces the key of a $ref that libopenapi must not follow (a
// $ref inside example data, or a dangling one) in the node tree handed to
// libopenapi. It is an extension name, so libopenapi keeps the value as data.
const InertRefKey = "x-apilivesync-inert-ref"

// Keys whose mapping value is keyed by names (of schemas, properties, paths,
// media types, ...), not by keywords: a property called "example" or "$ref"
// is a schema, not example data or a reference.
var namedMaps = map[string]bool{
	"properties": true, "patternProperties": true, "definitions": true, "$defs": true,
	"dependentSchemas": true, "paths": true, "responses": true, "headers": true,
	"links": true, "callbacks": true, "encoding": true, "webhooks": true,
	"securityDefinitions": true, "securitySchemes": true, "schemas": true,
	"parameters": true, "requestBodies": true, "pathItems": true, "content": true,
	"variables": true, "scopes": true, "mapping": true,
}

// Keys whose value is data (JSON values), never spec structure. Extensions
// (x-...) are data too, which libopenapi is told to skip; examples are handled
// apart since an OpenAPI 3 examples map holds Example Objects (whose $ref is
// real) around the data.
var dataKeys = map[string]bool{"example": true, "default": true, "enum": true, "const": true}

// foundRef is a structural $ref: key and value nodes and the path of the
// $ref member, valid only during the callback. whole is set when the $ref
// stands for a whole map of names (components/schemas: {$ref: file}), which
// OpenAPI does not allow but published specs do: it is that map.
type foundRef struct {
	key, val *yaml.Node
	path     []string
	whole    *yaml.Node
}

// refString tells whether n is a string scalar (a $ref value).
func refString(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}

// pointer renders the path as a JSON pointer (only when a message needs it).
func (r foundRef) pointer() string { return jsonptr.Join(r.path) }

// refWalk visits the structure of one document and sorts its $refs: real
// references (refs) and $ref keys inside data (inert), which libopenapi must
// not resolve.
type refWalk struct {
	swagger2 bool
	path     []string
	onRef    func(foundRef)
	inert    []*yaml.Node
}

// walkRefs calls onRef for each structural $ref, in document order, and
// returns the $ref keys found inside data.
func walkRefs(root *yaml.Node, swagger2 bool, onRef func(foundRef)) []*yaml.Node {
	w := &refWalk{swagger2: swagger2, onRef: onRef}
	w.structure(root)
	return w.inert
}

func (w *refWalk) push(s string) { w.path = append(w.path, s) }
func (w *refWalk) pop()          { w.path = w.path[:len(w.path)-1] }

// structure walks spec objects (schemas, operations, ...). Aliases are not
// followed: their targets are walked where they are defined.
func (w *refWalk) structure(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.structure(c)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.push(strconv.Itoa(i))
			w.structure(c)
			w.pop()
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			w.push(key)
			switch {
			case key == "$ref":
				if v.Kind == yaml.ScalarNode {
					w.onRef(foundRef{key: k, val: v, path: w.path})
				}
			case strings.HasPrefix(key, "x-"):
				w.data(v) // an extension: data, whatever it holds
			case dataKeys[key]:
				w.data(v)
			case key == "examples":
				if v.Kind == yaml.MappingNode && !w.swagger2 {
					w.exampleMap(v)
				} else {
					w.data(v) // a JSON Schema examples list, or Swagger 2 mime-type → value
				}
			case namedMaps[key] && v.Kind == yaml.MappingNode:
				// Names are names, x- ones too (a header component called
				// x-signature), except where the map also takes extensions.
				// A string under the name $ref is a reference to the whole
				// map (a property called $ref would be a schema, an object),
				// except in maps whose values are strings anyway.
				ext := w.takesExtensions(key)
				whole := key != "mapping" && key != "scopes"
				for j := 0; j+1 < len(v.Content); j += 2 {
					name, val := v.Content[j].Value, v.Content[j+1]
					w.push(name)
					switch {
					case whole && name == "$ref" && refString(val):
						w.onRef(foundRef{key: v.Content[j], val: val, path: w.path, whole: v})
					case ext && strings.HasPrefix(name, "x-"):
						w.data(val)
					default:
						w.structure(val)
					}
					w.pop()
				}
			default:
				w.structure(v)
			}
			w.pop()
		}
	}
}

// takesExtensions tells whether the named map at key (already pushed) may
// also hold x- extensions: the Paths Object and an operation's Responses
// Object do; components maps, properties, headers and the like hold names only.
func (w *refWalk) takesExtensions(key string) bool {
	switch key {
	case "paths":
		return len(w.path) == 1
	case "responses":
		// components/responses (OpenAPI 3) and top-level responses
		// (Swagger 2) are maps of names
		return len(w.path) > 2 || (len(w.path) == 2 && w.path[0] != "components")
	}
	return false
}

// exampleMap walks an OpenAPI 3 examples map: name → Example Object or Reference.
func (w *refWalk) exampleMap(n *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		ex := n.Content[i+1]
		w.push(n.Content[i].Value)
		if n.Content[i].Value == "$ref" && refString(ex) {
			w.onRef(foundRef{key: n.Content[i], val: ex, path: w.path, whole: n})
		} else if ex.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(ex.Content); j += 2 {
				k, v := ex.Content[j], ex.Content[j+1]
				w.push(k.Value)
				switch {
				case k.Value == "$ref" && v.Kind == yaml.ScalarNode:
					w.onRef(foundRef{key: k, val: v, path: w.path})
				case k.Value == "value", k.Value == "dataValue":
					w.data(v)
				}
				w.pop()
			}
		}
		w.pop()
	}
}

// data collects every $ref key inside a data value.
func (w *refWalk) data(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "$ref" {
				w.inert = append(w.inert, n.Content[i])
			}
		}
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			w.data(c)
		}
	}
}

// refKind classifies a $ref value.
type refKind int

const (
	refLocal  refKind = iota // #/json/pointer or #
	refAnchor                // #name ($anchor, OpenAPI 3.1): left to libopenapi
	refRemote                // absolute URL
	refFile                  // relative (or absolute) path
)

func kindOfRef(ref string) refKind {
	switch {
	case strings.HasPrefix(ref, "#/") || ref == "#":
		return refLocal
	case strings.HasPrefix(ref, "#"):
		return refAnchor
	case strings.Contains(ref, "://") || strings.HasPrefix(ref, "//"):
		return refRemote
	}
	return refFile
}

// warnings accumulates the bounded warning list of one parse. It keeps the
// MaxWarnings with the smallest pointers, so the same document gives the
// same warnings whatever its key order (as written, or its canonical form).
type warnings struct {
	list []Warning
	more int
}

func (ws *warnings) add(w Warning) {
	if len(ws.list) < MaxWarnings {
		ws.list = append(ws.list, w)
		return
	}
	ws.more++
	last := 0
	for i, x := range ws.list {
		if x.Pointer > ws.list[last].Pointer {
			last = i
		}
	}
	if w.Pointer < ws.list[last].Pointer {
		ws.list[last] = w
	}
}

// sorted is the list in pointer order.
func (ws *warnings) sorted() []Warning {
	slices.SortStableFunc(ws.list, func(a, b Warning) int { return strings.Compare(a.Pointer, b.Pointer) })
	return ws.list
}

func danglingMessage(ref, where string) string {
	return fmt.Sprintf("$ref %q points to nothing%s", ref, where)
}

// refCheck checks every structural $ref of a source and of the documents it
// pulls in: local pointers must resolve, other documents must lie under the
// source's own location and exist. A reference that points to nothing is a
// warning (made inert for libopenapi) unless Options.Strict refuses it.
type refCheck struct {
	opts    Options
	ld      *loader // nil: references to other documents are not followed
	warn    warnings
	issue   *refIssue
	visited map[string]bool
	// files holds the referenced documents handed to libopenapi, by key.
	files map[string][]byte
}

// refIssue is a $ref the check refuses.
type refIssue struct {
	node *yaml.Node
	kind string
	msg  string
}

// marks are the changes the node tree handed to libopenapi needs, applied
// once the canonical form is written: $ref keys it must not follow, and
// $ref values that skip a reference inside data.
type marks struct {
	inert    []*yaml.Node
	rewrites []rewrite
	expands  []expansion
}

// expansion replaces a $ref standing for a whole map (m, its key refKey)
// with one $ref per name of the map it points to (target), so libopenapi,
// which refuses the former, reads each member where it is defined.
type expansion struct {
	m, refKey, target *yaml.Node
	ref               string
}

func (e expansion) apply() {
	doc, frag, _ := strings.Cut(e.ref, "#")
	pos := e.refKey
	out := make([]*yaml.Node, 0, len(e.m.Content)+2*len(e.target.Content))
	own := map[string]bool{}
	for i := 0; i+1 < len(e.m.Content); i += 2 {
		if e.m.Content[i] != e.refKey {
			own[e.m.Content[i].Value] = true
			out = append(out, e.m.Content[i], e.m.Content[i+1])
		}
	}
	scalar := func(v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: pos.Line, Column: pos.Column}
	}
	for _, en := range entries(e.target) {
		if own[en.key] || en.key == "$ref" || en.key == InertRefKey {
			continue // siblings of the $ref win, as a bundler has it
		}
		ref := doc + "#" + frag + "/" + jsonptr.Escape(en.key)
		val := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: pos.Line, Column: pos.Column,
			Content: []*yaml.Node{scalar("$ref"), scalar(ref)}}
		out = append(out, scalar(en.key), val)
	}
	e.m.Content = out
}

// rewrite points a $ref (val) past a $ref inside data to that data
// reference's own target (ref).
type rewrite struct {
	val *yaml.Node
	ref string
}

func (m marks) apply() {
	for _, k := range m.inert {
		k.Value = InertRefKey
	}
	for _, r := range m.rewrites {
		r.val.Value = r.ref
	}
	for _, e := range m.expands {
		e.apply()
	}
}

func (m marks) empty() bool {
	return len(m.inert) == 0 && len(m.rewrites) == 0 && len(m.expands) == 0
}

// refKey returns the key node of a mapping's $ref member, or nil.
func refKey(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "$ref" || k.Value == InertRefKey {
			return k
		}
	}
	return nil
}

// maxRefChain bounds how many data $refs one reference is followed through.
const maxRefChain = 32

// document checks the document at key ("" for the source itself) and
// returns what libopenapi must not follow.
func (c *refCheck) document(key string, root *yaml.Node, swagger2 bool, depth int) marks {
	var inert []*yaml.Node
	var rewrites []rewrite
	var expands []expansion
	// local refs whose target is itself a {$ref} mapping: judged once the
	// walk knows which $refs are data; local refs that point to nothing
	// yet, which may lead through a $ref standing for a whole map
	var chained, missing []foundRef
	where := func(r foundRef) string {
		if key == "" {
			return r.pointer()
		}
		return key + "#" + r.pointer()
	}
	dangling := func(r foundRef, why string) {
		msg := danglingMessage(r.val.Value, why)
		if c.opts.Strict {
			c.issue = &refIssue{r.val, KindBrokenRef, fmt.Sprintf("%s at %s (strict mode refuses dangling references)", msg, where(r))}
			return
		}
		c.warn.add(Warning{Pointer: where(r), Line: r.val.Line, Column: r.val.Column, Message: msg})
		inert = append(inert, r.key)
	}
	// whole checks the target of a $ref standing for a whole map.
	whole := func(r foundRef, t *yaml.Node, ref string) {
		if t.Kind != yaml.MappingNode {
			dangling(r, " (it stands for the whole map, and its target is not one)")
			return
		}
		expands = append(expands, expansion{m: r.whole, refKey: r.key, target: t, ref: ref})
	}
	inData := walkRefs(root, swagger2, func(r foundRef) {
		if c.issue != nil {
			return
		}
		ref := r.val.Value
		kind := kindOfRef(ref)
		switch {
		case kind == refLocal:
			t := resolvePointer(root, ref[1:])
			switch {
			case t == nil:
				r.path = slices.Clone(r.path)
				missing = append(missing, r)
			case r.whole != nil:
				whole(r, t, ref)
			case refKey(t) != nil:
				r.path = slices.Clone(r.path)
				chained = append(chained, r)
			}
			return
		case kind == refAnchor:
			return
		case c.ld == nil && kind == refRemote:
			if !c.opts.AllowRemoteRefs {
				c.issue = &refIssue{r.val, KindRefNotAllowed, fmt.Sprintf("remote reference %q (remote refs are disabled)", ref)}
			}
			return
		case c.ld == nil && r.whole != nil:
			c.issue = &refIssue{r.val, KindRefNotAllowed, fmt.Sprintf("file reference %q at %s stands for the whole %s map, which OpenAPI does not allow; such a map is read only when file refs are enabled (they are disabled)", ref, where(r), r.path[len(r.path)-2])}
			return
		case c.ld == nil:
			c.issue = &refIssue{r.val, KindRefNotAllowed, fmt.Sprintf("file reference %q (file refs are disabled)", ref)}
			return
		}
		tkey, frag, err := c.ld.target(key, ref)
		if err != nil {
			c.issue = &refIssue{r.val, KindRefNotAllowed, fmt.Sprintf("reference %q at %s: %v", ref, where(r), err)}
			return
		}
		if depth+1 > c.opts.MaxRefDepth {
			c.issue = &refIssue{r.val, KindTooComplex, fmt.Sprintf("reference %q at %s: references nest deeper than %d documents", ref, where(r), c.opts.MaxRefDepth)}
			return
		}
		d := c.ld.load(tkey)
		switch {
		case d.err != nil && errors.Is(d.err, errRefused):
			c.issue = &refIssue{r.val, KindRefNotAllowed, fmt.Sprintf("reference %q at %s: %v", ref, where(r), d.err)}
			return
		case d.err != nil:
			dangling(r, fmt.Sprintf(" (%v)", d.err))
			return
		}
		if !c.visited[tkey] {
			c.visited[tkey] = true
			sub := c.document(tkey, d.node, swagger2, depth+1)
			if c.issue != nil {
				return
			}
			data := d.data
			if !sub.empty() {
				sub.apply()
				if data, err = yaml.Marshal(d.node); err != nil {
					c.issue = &refIssue{r.val, KindInvalid, fmt.Sprintf("reference %q: %v", ref, err)}
					return
				}
			}
			c.files[tkey] = data
		}
		libRef := ref
		if key == "" && c.ld.rekey() {
			libRef = tkey
			if strings.Contains(ref, "#") {
				libRef += "#" + frag
			}
		}
		if frag != "" || r.whole != nil {
			t := resolvePointer(d.node, frag)
			switch {
			case t == nil:
				dangling(r, " in "+tkey)
			case r.whole != nil:
				whole(r, t, libRef)
			case refKey(t) != nil && refKey(t).Value == InertRefKey:
				dangling(r, " in "+tkey+" (its target is a $ref that is not followed)")
			default:
				if libRef != ref {
					rewrites = append(rewrites, rewrite{r.val, libRef})
				}
			}
		} else if libRef != ref {
			rewrites = append(rewrites, rewrite{r.val, libRef})
		}
	})
	if c.issue != nil {
		return marks{}
	}
	for _, r := range missing {
		if len(expands) == 0 || resolveThrough(root, r.val.Value[1:], expands) == nil {
			dangling(r, " in this document")
		}
		if c.issue != nil {
			return marks{}
		}
	}
	if len(chained) > 0 {
		data := make(map[*yaml.Node]bool, len(inData)+len(inert))
		for _, k := range inData {
			data[k] = true
		}
		for _, k := range inert {
			data[k] = true
		}
		for _, r := range chained {
			if to, ok := c.throughData(root, r.val.Value, data); !ok {
				dangling(r, " (its target is a $ref inside data, such as an x- extension, that leads nowhere)")
			} else if to != r.val.Value {
				rewrites = append(rewrites, rewrite{r.val, to})
			}
			if c.issue != nil {
				return marks{}
			}
		}
	}
	return marks{inert: append(inert, inData...), rewrites: rewrites, expands: expands}
}

// resolveThrough is resolvePointer for a document whose $refs standing for
// whole maps are not expanded yet: a name missing from such a map is looked
// up in the map it points to.
func resolveThrough(root *yaml.Node, ptr string, expands []expansion) *yaml.Node {
	via := make(map[*yaml.Node]*yaml.Node, len(expands))
	for _, e := range expands {
		via[e.m] = e.target
	}
	return resolvePointerVia(root, ptr, via)
}

// throughData follows a local ref through $refs inside data (never resolved
// there) and returns the first target that is not one, or false when the
// chain leaves the document, loops or points to nothing. A ref whose target
// is a structural $ref is returned as is: that $ref is checked on its own.
func (c *refCheck) throughData(root *yaml.Node, ref string, data map[*yaml.Node]bool) (string, bool) {
	to := ref
	for range maxRefChain {
		t := resolvePointer(root, to[1:])
		if t == nil {
			return "", false
		}
		k := refKey(t)
		if k == nil || !data[k] {
			return to, true
		}
		next := lookup(t, k.Value)
		if next == nil || next.Kind != yaml.ScalarNode || kindOfRef(next.Value) != refLocal {
			return "", false
		}
		to = next.Value
	}
	return "", false
}
