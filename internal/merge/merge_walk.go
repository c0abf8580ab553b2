package merge

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
	"github.com/apilivesync/apilivesync/internal/spec"
)

// merger walks base, local and remote together, building the merged tree.
// Unchanged subtrees are shared with the inputs, never copied.
type merger struct {
	path       []string
	conflicts  []Conflict
	autoMerged int
}

// merge merges one location. The *ok flags say whether the value exists on
// that side. data is set inside example/default/enum/const/value and x-
// subtrees, whose arrays are plain data and never keyed sets.
func (m *merger) merge(b, l, r any, bok, lok, rok, data bool) (any, bool) {
	if lok == rok && (!lok || equal(l, r)) {
		return l, lok
	}
	if lok && rok {
		switch lv := l.(type) {
		case map[string]any:
			if rv, ok := r.(map[string]any); ok {
				bv, _ := b.(map[string]any)
				return m.mergeObject(bv, lv, rv, data), true
			}
		case []any:
			if rv, ok := r.([]any); ok && !data && len(m.path) > 0 {
				if kf := keyFuncFor(m.path[len(m.path)-1]); kf != nil {
					bv, _ := b.([]any)
					if out, ok := m.mergeKeyed(bv, lv, rv, kf); ok {
						return out, true
					}
				}
			}
		}
	}
	if sameValue(b, l, bok, lok) {
		m.autoMerged++
		return r, rok
	}
	if sameValue(b, r, bok, rok) {
		return l, lok
	}
	m.conflict(b, l, r, bok, lok, rok)
	return l, lok
}

func (m *merger) mergeObject(b, l, r map[string]any, data bool) map[string]any {
	keys := make([]string, 0, len(l)+len(r)/8+1)
	for k := range l {
		keys = append(keys, k)
	}
	for k := range r {
		if _, ok := l[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k := range b {
		_, inL := l[k]
		_, inR := r[k]
		if !inL && !inR {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make(map[string]any, len(l)+1)
	for _, k := range keys {
		bv, bok := b[k]
		lv, lok := l[k]
		rv, rok := r[k]
		m.path = append(m.path, k)
		v, ok := m.merge(bv, lv, rv, bok, lok, rok, data || isDataKey(k))
		m.path = m.path[:len(m.path)-1]
		if ok {
			out[k] = v
		}
	}
	return out
}

// isDataKey reports whether the member k holds plain data (examples,
// defaults, enums, extensions) rather than spec structure.
func isDataKey(k string) bool {
	switch k {
	case "example", "default", "enum", "const", "value":
		return true
	}
	return strings.HasPrefix(k, "x-")
}

// keyFunc returns the identity of one element of a keyed-set array.
type keyFunc func(el any) (string, bool)

// keyFuncFor returns how to key the elements of an array held by member
// name, or nil if such arrays are atomic values.
func keyFuncFor(name string) keyFunc {
	switch name {
	case "parameters":
		return parameterKey
	case "tags":
		return tagKey
	case "servers":
		return fieldKey("url")
	case "security":
		return securityKey
	case "required":
		return stringKey
	}
	return nil
}

// parameterKey keys a parameter by (in, name), or a $ref parameter by its ref.
func parameterKey(el any) (string, bool) {
	o, ok := el.(map[string]any)
	if !ok {
		return "", false
	}
	if ref, ok := o["$ref"].(string); ok {
		return "$ref\x00" + ref, true
	}
	name, ok1 := o["name"].(string)
	in, ok2 := o["in"].(string)
	if !ok1 || !ok2 {
		return "", false
	}
	return in + "\x00" + name, true
}

// tagKey keys a tag object by name; operation tags are plain strings.
func tagKey(el any) (string, bool) {
	if s, ok := el.(string); ok {
		return s, true
	}
	return fieldKey("name")(el)
}

func fieldKey(field string) keyFunc {
	return func(el any) (string, bool) {
		o, ok := el.(map[string]any)
		if !ok {
			return "", false
		}
		s, ok := o[field].(string)
		return s, ok
	}
}

// securityKey keys a security requirement by its whole canonical value, so a
// requirement list merges as a set.
func securityKey(el any) (string, bool) {
	if _, ok := el.(map[string]any); !ok {
		return "", false
	}
	return string(spec.CanonicalJSON(el, false)), true
}

func stringKey(el any) (string, bool) {
	s, ok := el.(string)
	return s, ok
}

// keyedSeq is an array seen as an ordered set of keyed elements.
type keyedSeq struct {
	keys []string
	vals map[string]any
	pos  map[string]int
}

func toKeyed(a []any, kf keyFunc) (keyedSeq, bool) {
	s := keyedSeq{keys: make([]string, 0, len(a)), vals: make(map[string]any, len(a)), pos: make(map[string]int, len(a))}
	for i, el := range a {
		k, ok := kf(el)
		if !ok {
			return s, false
		}
		if _, dup := s.vals[k]; dup {
			return s, false
		}
		s.keys = append(s.keys, k)
		s.vals[k] = el
		s.pos[k] = i
	}
	return s, true
}

// reordered reports whether side lists the keys it shares with base in an
// order different from base's.
func reordered(base, side keyedSeq) bool {
	last := -1
	for _, k := range side.keys {
		if p, ok := base.pos[k]; ok {
			if p < last {
				return true
			}
			last = p
		}
	}
	return false
}

// sameOrder reports whether a and b list their common keys in the same order.
func sameOrder(a, b keyedSeq) bool {
	last := -1
	for _, k := range a.keys {
		if p, ok := b.pos[k]; ok {
			if p < last {
				return false
			}
			last = p
		}
	}
	return true
}

// mergeKeyed merges arrays that are sets of keyed elements. ok is false when
// some array has an element without a key or a duplicate key; the caller
// then treats the arrays as atomic values.
//
// The order is symmetric in local and remote, so merges without conflicts
// commute: the elements base kept come in base's order unless exactly one
// side reordered them (or both identically), and each added element follows
// the element it follows on the side that added it.
func (m *merger) mergeKeyed(ba, la, ra []any, kf keyFunc) ([]any, bool) {
	B, ok := toKeyed(ba, kf)
	if !ok {
		return nil, false
	}
	L, ok := toKeyed(la, kf)
	if !ok {
		return nil, false
	}
	R, ok := toKeyed(ra, kf)
	if !ok {
		return nil, false
	}

	// Which keys the merged array holds (conflicts keep local's presence),
	// and which elements local deleted while remote modified them.
	inResult := make(map[string]bool, len(L.keys)+len(R.keys))
	var absent []string
	consider := func(k string) {
		if _, seen := inResult[k]; seen {
			return
		}
		bv, bok := B.vals[k]
		lv, lok := L.vals[k]
		rv, rok := R.vals[k]
		var p bool
		switch {
		case !bok:
			p = lok || rok
		case !lok:
			p = false
			if rok && !equal(bv, rv) {
				absent = append(absent, k)
			}
		case !rok:
			p = !equal(bv, lv)
			if !p {
				m.autoMerged++ // remote deleted an element local left alone
			}
		default:
			p = true
		}
		inResult[k] = p
	}
	for _, k := range L.keys {
		consider(k)
	}
	for _, k := range R.keys {
		consider(k)
	}
	for _, k := range B.keys {
		consider(k)
	}

	// The skeleton: kept base elements in the agreed order.
	orderBy := B
	lr, rr := reordered(B, L), reordered(B, R)
	switch {
	case lr && !rr:
		orderBy = L
	case rr && !lr:
		orderBy = R
	case lr && rr && sameOrder(L, R) && sameOrder(R, L):
		orderBy = L
	}
	skeleton := make([]string, 0, len(orderBy.keys))
	skelPos := make(map[string]int, len(orderBy.keys))
	for _, k := range orderBy.keys {
		if _, inBase := B.vals[k]; inBase && inResult[k] {
			skelPos[k] = len(skeleton)
			skeleton = append(skeleton, k)
		}
	}

	// Everything else in the result follows its predecessor on its side.
	type added struct {
		anchor int
		sides  uint8
		order  int
	}
	adds := map[string]*added{}
	var addOrder []string
	walk := func(s keyedSeq, side uint8) {
		anchor := -1
		for _, k := range s.keys {
			if p, ok := skelPos[k]; ok {
				anchor = p
				continue
			}
			if !inResult[k] {
				continue
			}
			if a, ok := adds[k]; ok {
				a.sides |= side
				a.anchor = min(a.anchor, anchor)
				continue
			}
			adds[k] = &added{anchor: anchor, sides: side, order: len(addOrder)}
			addOrder = append(addOrder, k)
		}
	}
	walk(L, 1)
	walk(R, 2)
	groups := make(map[int][]string, len(adds))
	for _, k := range addOrder {
		a := adds[k]
		groups[a.anchor] = append(groups[a.anchor], k)
	}
	for anchor, g := range groups {
		sides := uint8(0)
		for _, k := range g {
			sides |= adds[k].sides
		}
		if sides == 3 {
			slices.Sort(g)
			groups[anchor] = g
		}
	}
	final := make([]string, 0, len(skeleton)+len(addOrder))
	final = append(final, groups[-1]...)
	for i, k := range skeleton {
		final = append(final, k)
		final = append(final, groups[i]...)
	}

	out := make([]any, 0, len(final))
	for i, k := range final {
		bv, bok := B.vals[k]
		lv, lok := L.vals[k]
		rv, rok := R.vals[k]
		m.path = append(m.path, strconv.Itoa(i))
		v, ok := m.merge(bv, lv, rv, bok, lok, rok, false)
		m.path = m.path[:len(m.path)-1]
		if ok {
			out = append(out, v)
		}
	}
	for j, k := range absent {
		m.path = append(m.path, strconv.Itoa(len(out)+j))
		m.merge(B.vals[k], nil, R.vals[k], true, false, true, false)
		m.path = m.path[:len(m.path)-1]
	}
	return out, true
}

// conflict records a conflict at the current path.
func (m *merger) conflict(b, l, r any, bok, lok, rok bool) {
	c := Conflict{Pointer: jsonptr.Join(m.path)}
	switch {
	case !bok:
		c.Kind = KindBothAdded
	case !lok || !rok:
		c.Kind = KindModifyDelete
	default:
		c.Kind = KindBothModified
	}
	if bok {
		c.Base = spec.CanonicalJSON(b, false)
	}
	if lok {
		c.Local = spec.CanonicalJSON(l, false)
	}
	if rok {
		c.Remote = spec.CanonicalJSON(r, false)
	}
	c.ID = conflictID(c)
	m.conflicts = append(m.conflicts, c)
}

// conflictID hashes the pointer, kind and values of a conflict.
func conflictID(c Conflict) string {
	h := sha256.New()
	h.Write([]byte(c.Pointer))
	h.Write([]byte{0})
	h.Write([]byte(c.Kind))
	for _, v := range [][]byte{c.Base, c.Local, c.Remote} {
		if v == nil {
			h.Write([]byte{0, 'a'})
			continue
		}
		h.Write([]byte{0, 'v'})
		h.Write([]byte(strconv.Itoa(len(v))))
		h.Write([]byte{':'})
		h.Write(v)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
