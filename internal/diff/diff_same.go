package diff

import (
	"strconv"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// Most of a large spec does not change between versions. Before building
// and comparing schemas, the walker checks the source text: a schema whose
// YAML is the same on both sides, and whose every local $ref leads to YAML
// that is the same (transitively), cannot differ, and is skipped.

const (
	sameUnknown int8 = iota
	sameYes          // also: being decided (optimistic through cycles)
	sameNo
)

// unchangedRef reports whether a local reference leads to the same YAML in
// both documents, following the references inside it.
func (w *walker) unchangedRef(ref string) bool {
	switch w.same[ref] {
	case sameYes:
		return true
	case sameNo:
		return false
	}
	segs := refSegs(ref)
	if segs == nil {
		w.same[ref] = sameNo
		return false
	}
	o, n := nodeAtSegs(w.oldRoot, segs), nodeAtSegs(w.newRoot, segs)
	if o == nil || n == nil {
		w.same[ref] = sameNo
		return false
	}
	mark := len(w.sameLog)
	w.same[ref] = sameYes
	w.sameLog = append(w.sameLog, ref)
	var refs []string
	ok := sameTree(o, n, &refs) && w.allUnchanged(refs)
	if !ok {
		// verdicts reached while assuming this one was the same are void
		for _, r := range w.sameLog[mark+1:] {
			if w.same[r] == sameYes {
				delete(w.same, r)
			}
		}
		w.sameLog = w.sameLog[:mark]
		w.same[ref] = sameNo
	}
	return ok
}

func (w *walker) allUnchanged(refs []string) bool {
	for _, r := range refs {
		if !w.unchangedRef(r) {
			return false
		}
	}
	return true
}

// unchangedSchema reports whether two schemas are certainly the same.
func (w *walker) unchangedSchema(o, n *base.SchemaProxy) bool {
	lo, ln := o.GoLow(), n.GoLow()
	if lo == nil || ln == nil {
		return false
	}
	on, nn := lo.GetValueNode(), ln.GetValueNode()
	if on == nil || nn == nil {
		return false
	}
	var refs []string
	return sameTree(on, nn, &refs) && w.allUnchanged(refs)
}

// sameTree is nodesEqual that also collects the $ref values it passes.
func sameTree(a, b *yaml.Node, refs *[]string) bool {
	return sameTreeAs(a, b, refs, nil)
}

// sameTreeAs is sameTree where renamed (when not nil) says whether two
// different $ref values, or scalars, stand for the same thing; such $refs
// are not collected.
func sameTreeAs(a, b *yaml.Node, refs *[]string, renamed func(a, b string) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	for a.Kind == yaml.AliasNode && a.Alias != nil {
		a = a.Alias
	}
	for b.Kind == yaml.AliasNode && b.Alias != nil {
		b = b.Alias
	}
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.Value == b.Value || (renamed != nil && renamed(a.Value, b.Value))
	case yaml.MappingNode:
		for i := 0; i+1 < len(a.Content); i += 2 {
			k := a.Content[i].Value
			bv := b.Content[i+1]
			if b.Content[i].Value != k { // same keys, another order
				if bv = mapValue(b, k); bv == nil {
					return false
				}
			}
			av := a.Content[i+1]
			if k == "$ref" && av.Kind == yaml.ScalarNode {
				if bv.Kind != yaml.ScalarNode {
					return false
				}
				if av.Value != bv.Value {
					if renamed == nil || !renamed(av.Value, bv.Value) {
						return false
					}
					continue
				}
				*refs = append(*refs, av.Value)
				continue
			}
			if !sameTreeAs(av, bv, refs, renamed) {
				return false
			}
		}
		return true
	}
	for i := range a.Content {
		if !sameTreeAs(a.Content[i], b.Content[i], refs, renamed) {
			return false
		}
	}
	return true
}

// sameTarget reports whether the schema the old document names with the
// local $ref o and the one the new document names with n are the same but
// for that name: a renamed component, which is not on the wire. The
// schemas they lead to may refer back to the renamed one (Pet's oneOf
// lists Dog, Dog's allOf includes Pet): every reference is followed with
// the rename assumed.
func (w *walker) sameTarget(o, n string) bool {
	if o == n {
		return w.unchangedRef(o)
	}
	key := o + "\x00" + n
	if v, ok := w.renames[key]; ok {
		return v
	}
	segsO, segsN := refSegs(o), refSegs(n)
	var on, nn *yaml.Node
	if segsO != nil && segsN != nil {
		on, nn = nodeAtSegs(w.oldRoot, segsO), nodeAtSegs(w.newRoot, segsN)
	}
	ok := on != nil && nn != nil
	if ok {
		oName, nName := segsO[len(segsO)-1], segsN[len(segsN)-1]
		renamed := func(a, b string) bool { return (a == o && b == n) || (a == oName && b == nName) }
		seen := map[string]bool{}
		var same func(a, b *yaml.Node) bool
		same = func(a, b *yaml.Node) bool {
			var refs []string
			if !sameTreeAs(a, b, &refs, renamed) {
				return false
			}
			for _, r := range refs {
				if seen[r] {
					continue // being compared (a cycle) or compared already
				}
				seen[r] = true
				segs := refSegs(r)
				if segs == nil {
					return false
				}
				ra, rb := nodeAtSegs(w.oldRoot, segs), nodeAtSegs(w.newRoot, segs)
				if ra == nil || rb == nil || !same(ra, rb) {
					return false
				}
			}
			return true
		}
		ok = same(on, nn)
	}
	if w.renames == nil {
		w.renames = map[string]bool{}
	}
	w.renames[key] = ok
	return ok
}

// nodeAtSegs follows pointer segments from a document root.
func nodeAtSegs(root *yaml.Node, segs []string) *yaml.Node {
	n := docMap(root)
	for _, s := range segs {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			n = mapValue(n, s)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return n
}
