package diff

import (
	"fmt"
	"github.com/apilivesync/apilivesync/internal/spec"
	"sort"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/orderedmap"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

// The walker compares two documents through a model both Swagger 2 and
// OpenAPI 3 map onto (diff_walk_v3.go, diff_walk_v2.go): paths and
// operations, parameters, request bodies and responses, security and
// servers. Schemas are compared in the direction the data flows
// (diff_schema.go). Every finding names a catalogue rule.

// direction of the data a schema describes.
type direction uint8

const (
	dirAny      direction = 0
	dirRequest  direction = 1
	dirResponse direction = 2
)

func (d direction) flip() direction {
	switch d {
	case dirRequest:
		return dirResponse
	case dirResponse:
		return dirRequest
	}
	return d
}

// loc is where a compared object is, in the old and in the new document.
type loc struct{ o, n []string }

func at(segs ...string) loc { return loc{segs, segs} }

func (l loc) at(seg string) loc { return loc{push(l.o, seg), push(l.n, seg)} }

func push(s []string, seg string) []string {
	out := make([]string, len(s)+1)
	copy(out, s)
	out[len(s)] = seg
	return out
}

// finding is one judged change, before rules-file levels apply.
type finding struct {
	rule     *rule
	dir      direction
	kind     string
	segs     []string
	old, new any
	// soft findings concern data the reader ignores (a readOnly property
	// in a request, a writeOnly one in a response): info at most
	soft bool
}

type memoKey struct {
	o, n  string
	dir   direction
	soft  bool
	param bool
}

type walker struct {
	findings         []finding
	memo             map[memoKey]bool
	depth            int
	soft             int // > 0 inside data its reader ignores
	inParam          int // > 0 inside a parameter's schema
	oldRoot, newRoot *yaml.Node
	same             map[string]int8 // $ref → sameYes, sameNo (diff_same.go)
	// named schemas by local $ref, to resolve a $ref with sibling keywords
	oldSchemas, newSchemas map[string]*base.SchemaProxy
	sameLog                []string
	renames                map[string]bool // "old\x00new" $ref → same but for the name (sameTarget)
}

func newWalker(oldRoot, newRoot *yaml.Node) *walker {
	return &walker{memo: map[memoKey]bool{}, oldRoot: oldRoot, newRoot: newRoot, same: map[string]int8{}}
}

// emit records a finding; removed changes are located in the old document.
func (w *walker) emit(r *rule, dir direction, kind string, l loc, old, new any) {
	segs := l.n
	if kind == KindRemoved {
		segs = l.o
	}
	w.findings = append(w.findings, finding{rule: r, dir: dir, kind: kind, segs: segs, old: old, new: new, soft: w.soft > 0})
}

// added, removed and modified are emit with the kind spelt out.
func (w *walker) added(r *rule, dir direction, l loc, v any) { w.emit(r, dir, KindAdded, l, nil, v) }
func (w *walker) removed(r *rule, dir direction, l loc, v any) {
	w.emit(r, dir, KindRemoved, l, v, nil)
}
func (w *walker) modified(r *rule, dir direction, l loc, o, n any) {
	w.emit(r, dir, KindModified, l, o, n)
}

// text compares an optional string property.
func (w *walker) text(r *rule, dir direction, l loc, key, o, n string) {
	switch {
	case o == n:
	case o == "":
		w.added(r, dir, l.at(key), n)
	case n == "":
		w.removed(r, dir, l.at(key), o)
	default:
		w.modified(r, dir, l.at(key), o, n)
	}
}

// node compares an optional YAML value (examples, defaults, extensions).
func (w *walker) node(r *rule, dir direction, l loc, key string, o, n *yaml.Node) {
	switch {
	case o == nil && n == nil:
	case o == nil:
		w.added(r, dir, l.at(key), nodeValue(n))
	case n == nil:
		w.removed(r, dir, l.at(key), nodeValue(o))
	case !nodesEqual(o, n):
		w.modified(r, dir, l.at(key), nodeValue(o), nodeValue(n))
	}
}

// extensions compares x- extensions, except those other rules judge.
func (w *walker) extensions(dir direction, l loc, o, n *orderedmap.Map[string, *yaml.Node], skip ...string) {
	if orderedmap.Len(o) == 0 && orderedmap.Len(n) == 0 {
		return
	}
	for k, ov := range o.FromOldest() {
		if contains(skip, k) {
			continue
		}
		nv, _ := get(n, k)
		if k == spec.InertRefKey {
			w.danglingRef(dir, l, ov, nv)
			continue
		}
		w.node(rExtensionChanged, dir, l, k, ov, nv)
	}
	for k, nv := range n.FromOldest() {
		if contains(skip, k) {
			continue
		}
		if _, ok := get(o, k); !ok {
			if k == spec.InertRefKey {
				w.danglingRef(dir, l, nil, nv)
				continue
			}
			w.node(rExtensionChanged, dir, l, k, nil, nv)
		}
	}
}

// danglingRef judges a $ref that points to nothing: internal/spec hands it
// to libopenapi as the extension spec.InertRefKey, which is ours, not the
// document's; people see the $ref.
func (w *walker) danglingRef(dir direction, l loc, o, n *yaml.Node) {
	switch {
	case o == nil && n == nil:
	case o == nil:
		w.added(rRefDangling, dir, l.at("$ref"), nodeValue(n))
	case n == nil:
		w.removed(rRefRepaired, dir, l.at("$ref"), nodeValue(o))
	case !nodesEqual(o, n):
		w.modified(rRefDangling, dir, l.at("$ref"), nodeValue(o), nodeValue(n))
	}
}

// get is a nil-safe lookup in an ordered map.
func get[V any](m *orderedmap.Map[string, V], k string) (V, bool) {
	if m == nil {
		var zero V
		return zero, false
	}
	return m.Get(k)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nodesEqual compares YAML values, not their positions or style.
func nodesEqual(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	for a.Kind == yaml.AliasNode && a.Alias != nil {
		a = a.Alias
	}
	for b.Kind == yaml.AliasNode && b.Alias != nil {
		b = b.Alias
	}
	if a.Kind == yaml.DocumentNode && len(a.Content) == 1 {
		a = a.Content[0]
	}
	if b.Kind == yaml.DocumentNode && len(b.Content) == 1 {
		b = b.Content[0]
	}
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.Value == b.Value
	case yaml.MappingNode:
		// keys in any order
		for i := 0; i+1 < len(a.Content); i += 2 {
			bv := mapValue(b, a.Content[i].Value)
			if bv == nil || !nodesEqual(a.Content[i+1], bv) {
				return false
			}
		}
		return true
	}
	for i := range a.Content {
		if !nodesEqual(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// nodeText renders a YAML value compactly and canonically (sorted keys).
func nodeText(n *yaml.Node) string {
	var b strings.Builder
	var write func(n *yaml.Node)
	write = func(n *yaml.Node) {
		if n == nil {
			b.WriteString("null")
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) > 0 {
				write(n.Content[0])
			}
		case yaml.AliasNode:
			write(n.Alias)
		case yaml.ScalarNode:
			if n.ShortTag() == "!!str" {
				fmt.Fprintf(&b, "%q", n.Value)
			} else {
				b.WriteString(n.Value)
			}
		case yaml.SequenceNode:
			b.WriteByte('[')
			for i, c := range n.Content {
				if i > 0 {
					b.WriteByte(',')
				}
				write(c)
			}
			b.WriteByte(']')
		case yaml.MappingNode:
			idx := make([]int, 0, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				idx = append(idx, i)
			}
			key := func(i int) string {
				if k := n.Content[i].Value; k != spec.InertRefKey {
					return k
				}
				return "$ref" // data the parser kept libopenapi from following
			}
			sort.Slice(idx, func(x, y int) bool { return key(idx[x]) < key(idx[y]) })
			b.WriteByte('{')
			for j, i := range idx {
				if j > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%q:", key(i))
				write(n.Content[i+1])
			}
			b.WriteByte('}')
		}
	}
	write(n)
	return b.String()
}

// nodeValue is a YAML value as a report shows it: scalars typed, the rest
// as compact text.
func nodeValue(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if v := typedValue(n.Value, n); v != nil {
			return v
		}
		return n.Value
	}
	return nodeText(n)
}

// refSegs turns a local reference into pointer segments (nil otherwise).
func refSegs(ref string) []string {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	return jsonptr.Tokens(ref[1:])
}

// proxyLoc is where a schema is described: its component when reached
// through a local $ref, else where it is used.
func proxyLoc(l loc, o, n *base.SchemaProxy) loc {
	if o != nil && pureRef(o) {
		if s := refSegs(o.GetReference()); s != nil {
			l.o = s
		}
	}
	if n != nil && pureRef(n) {
		if s := refSegs(n.GetReference()); s != nil {
			l.n = s
		}
	}
	return l
}

// pureRef reports whether a schema is a $ref and nothing else (OpenAPI 3.1
// allows keywords beside a $ref, which then apply together with it).
func pureRef(p *base.SchemaProxy) bool {
	if p.GetReference() == "" {
		return false
	}
	if p.IsTransformedRefWithSiblings() {
		return false
	}
	if n := p.GetReferenceNode(); n != nil && n.Kind == yaml.MappingNode {
		return len(n.Content) == 2
	}
	return true
}
