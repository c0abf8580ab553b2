package spec

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

// maxExpandedNodes bounds the size of the tree once aliases are expanded,
// whatever MaxAliases says: a few aliases to a huge anchor are also a bomb.
const maxExpandedNodes = 20_000_000

// scanLimits walks the node tree once, without expanding aliases, and refuses
// trees whose expansion would be too deep or too large. Alias targets are
// measured once each (memoized), so a billion-laughs document costs a few
// microseconds to refuse.
type scanLimits struct {
	maxDepth   int
	maxAliases int
	stats      map[*yaml.Node]*anchorStats
	aliases    int64
	nodes      int64
}

type anchorStats struct {
	height  int
	aliases int64
	nodes   int64
	busy    bool
}

// tooComplex reports a limit violation at node n.
type tooComplex struct {
	node *yaml.Node
	msg  string
}

func (s *scanLimits) check(root *yaml.Node) *tooComplex {
	s.stats = map[*yaml.Node]*anchorStats{}
	return s.walk(root, 1)
}

func (s *scanLimits) walk(n *yaml.Node, depth int) *tooComplex {
	if depth > s.maxDepth {
		return &tooComplex{n, fmt.Sprintf("nesting deeper than %d levels", s.maxDepth)}
	}
	s.nodes++
	if n.Kind == yaml.AliasNode {
		st, tc := s.measure(n.Alias)
		if tc != nil {
			return &tooComplex{n, tc.msg}
		}
		s.aliases += 1 + st.aliases
		s.nodes += st.nodes
		if depth+st.height-1 > s.maxDepth {
			return &tooComplex{n, fmt.Sprintf("alias *%s expands deeper than %d levels", n.Value, s.maxDepth)}
		}
		if s.aliases > int64(s.maxAliases) {
			return &tooComplex{n, fmt.Sprintf("more than %d alias expansions (alias bomb?)", s.maxAliases)}
		}
		if s.nodes > maxExpandedNodes {
			return &tooComplex{n, fmt.Sprintf("aliases expand to more than %d nodes", maxExpandedNodes)}
		}
		return nil
	}
	for _, c := range n.Content {
		if tc := s.walk(c, depth+1); tc != nil {
			return tc
		}
	}
	return nil
}

// measure returns the expanded height, alias count and node count of n.
func (s *scanLimits) measure(n *yaml.Node) (*anchorStats, *tooComplex) {
	if n == nil {
		return &anchorStats{}, nil
	}
	if st, ok := s.stats[n]; ok {
		if st.busy {
			return nil, &tooComplex{n, "alias refers to itself (recursive anchor)"}
		}
		return st, nil
	}
	st := &anchorStats{busy: true}
	s.stats[n] = st
	st.height, st.nodes = 1, 1
	if n.Kind == yaml.AliasNode {
		t, tc := s.measure(n.Alias)
		if tc != nil {
			return nil, tc
		}
		st.height, st.nodes, st.aliases = t.height, t.nodes, t.aliases+1
	}
	for _, c := range n.Content {
		t, tc := s.measure(c)
		if tc != nil {
			return nil, tc
		}
		st.height = max(st.height, t.height+1)
		st.aliases += t.aliases
		st.nodes += t.nodes
		if st.aliases > int64(s.maxAliases) || st.height > s.maxDepth || st.nodes > maxExpandedNodes {
			break // already over a limit: the caller reports it
		}
	}
	st.busy = false
	return st, nil
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// docRoot returns the top mapping of a document node.
func docRoot(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return deref(n.Content[0])
	}
	return n
}

// lookup returns the value for key in mapping m as entries reads it (the
// last one wins, as in JSON; merge keys fill in). It scans the mapping
// itself first: resolvePointer calls it per $ref segment, often on
// components/schemas, where building every entry each time would be
// quadratic; only a mapping with a merge key and no such key of its own
// goes through entries.
func lookup(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	merges := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := deref(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Tag == "!!merge" {
			merges = true
		} else if k.Value == key {
			v = m.Content[i+1]
		}
	}
	if v == nil && merges {
		for _, e := range entries(m) {
			if e.key == key {
				return deref(e.value)
			}
		}
	}
	return deref(v)
}

// resolvePointer resolves an RFC 6901 pointer given as a URI fragment.
func resolvePointer(root *yaml.Node, ptr string) *yaml.Node {
	return resolvePointerVia(root, ptr, nil)
}

// resolvePointerVia is resolvePointer where a mapping in via that lacks a
// token is searched in the mapping via gives for it.
func resolvePointerVia(root *yaml.Node, ptr string, via map[*yaml.Node]*yaml.Node) *yaml.Node {
	n := docRoot(root)
	if ptr == "" {
		return n
	}
	if un, err := url.PathUnescape(ptr); err == nil {
		ptr = un
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = jsonptr.Unescape(tok)
		n = deref(n)
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			m := n
			n = lookup(m, tok)
			if n == nil && via[m] != nil {
				n = lookup(via[m], tok)
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return deref(n)
}

// httpMethods are the operation keys of a path item.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// scalarText is a scalar as its JSON value reads ("" for null and for
// non-scalars), so the summary of a document and of its canonical form agree.
func scalarText(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	v, err := scalarValue(n)
	if err != nil || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// summarize counts paths, operations and schemas. A path item given by $ref
// is counted where it points: in this document, or
// in another one the check loaded (external, nil when there is none).
func summarize(root *yaml.Node, family, version string, external func(ref string) *yaml.Node) Summary {
	r := docRoot(root)
	s := Summary{Family: family, Version: version}
	if info := lookup(r, "info"); info != nil {
		s.Title = scalarText(lookup(info, "title"))
		s.APIVersion = scalarText(lookup(info, "version"))
	}
	if paths := lookup(r, "paths"); paths != nil && paths.Kind == yaml.MappingNode {
		for _, e := range entries(paths) {
			if strings.HasPrefix(e.key, "x-") {
				continue
			}
			s.Paths++
			item := deref(e.value)
			if ref := lookup(item, "$ref"); ref != nil && ref.Kind == yaml.ScalarNode {
				switch {
				case strings.HasPrefix(ref.Value, "#"):
					item = resolvePointer(root, ref.Value[1:])
				case external != nil:
					item = external(ref.Value)
				}
			}
			if item == nil || item.Kind != yaml.MappingNode {
				continue
			}
			for _, op := range entries(item) {
				if httpMethods[op.key] {
					s.Operations++
				}
			}
		}
	}
	var schemas *yaml.Node
	if family == FamilySwagger2 {
		schemas = lookup(r, "definitions")
	} else {
		schemas = lookup(lookup(r, "components"), "schemas")
	}
	if schemas != nil && schemas.Kind == yaml.MappingNode {
		s.Schemas = len(entries(schemas))
	}
	return s
}

// entry is one key of a mapping as its JSON form has it.
type entry struct {
	key   string
	value *yaml.Node
}

// entries returns the effective keys of mapping m the way nodeValue reads
// them: aliases followed, a repeated key's last value wins, and merge keys
// (<<) fill in what the mapping does not set itself. Counting over entries
// keeps a document's summary equal to its canonical form's.
func entries(m *yaml.Node) []entry {
	out, _ := mappingEntries(m) // documents counted here normalized already
	return out
}

// mappingEntries is entries with what makes a mapping unreadable as JSON:
// a key that is not a scalar, a merge of something that is not a mapping.
// nodeValue (the canonical form) reads mappings through it too.
func mappingEntries(m *yaml.Node) ([]entry, error) {
	var out []entry
	err := collectEntries(deref(m), &out, map[string]int{}, 0)
	return out, err
}

func collectEntries(m *yaml.Node, out *[]entry, index map[string]int, depth int) error {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if depth > 64 {
		return fmt.Errorf("line %d: merge keys nested too deep", m.Line)
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := deref(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: mapping key is not a scalar", m.Content[i].Line)
		}
		if k.Tag == "!!merge" {
			merges = append(merges, deref(m.Content[i+1]))
			continue
		}
		if j, ok := index[k.Value]; ok {
			(*out)[j].value = m.Content[i+1]
			continue
		}
		index[k.Value] = len(*out)
		*out = append(*out, entry{k.Value, m.Content[i+1]})
	}
	// merged keys never override: collect them into their own set and add
	// the ones this mapping did not set.
	for _, src := range merges {
		srcs := []*yaml.Node{src}
		if src != nil && src.Kind == yaml.SequenceNode {
			srcs = src.Content
		}
		for _, s := range srcs {
			s = deref(s)
			if s == nil || s.Kind != yaml.MappingNode {
				line := m.Line
				if s != nil {
					line = s.Line
				}
				return fmt.Errorf("line %d: merge key needs a mapping", line)
			}
			var merged []entry
			if err := collectEntries(s, &merged, map[string]int{}, depth+1); err != nil {
				return err
			}
			for _, e := range merged {
				if _, ok := index[e.key]; !ok {
					index[e.key] = len(*out)
					*out = append(*out, e)
				}
			}
		}
	}
	return nil
}
