package merge

import (
	"slices"
	"strings"

	"github.com/apilivesync/apilivesync/internal/jsonptr"
)

// owner answers whether a source owns a path or a component.
type owner struct {
	prefixes   []string
	paths      map[string]bool
	components []string
}

func newOwner(o Ownership) owner {
	w := owner{prefixes: o.PathPrefixes, paths: make(map[string]bool, len(o.Paths)), components: o.Components}
	for _, p := range o.Paths {
		w.paths[p] = true
	}
	return w
}

func (w owner) ownsPath(p string) bool {
	if w.paths[p] {
		return true
	}
	for _, pre := range w.prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// ownsComponent matches "type/name" against the owned component patterns.
func (w owner) ownsComponent(name string) bool {
	for _, c := range w.components {
		if pre, ok := strings.CutSuffix(c, "*"); ok {
			if strings.HasPrefix(name, pre) {
				return true
			}
		} else if c == name {
			return true
		}
	}
	return false
}

// swaggerSections maps Swagger 2.0 top-level sections to component types.
var swaggerSections = map[string]string{
	"definitions":         "schemas",
	"parameters":          "parameters",
	"responses":           "responses",
	"securityDefinitions": "securitySchemes",
}

// restrict returns a base and a remote in which every member the source
// does not own holds local's value (or is absent where local lacks it), so
// the merge takes local's value there: remote's unowned parts are ignored
// and local's unowned parts are never deleted. ignored lists the pointers
// of remote members that were dropped because they differ from local.
// Inputs are not modified; shared subtrees are not copied.
func restrict(b, l, r map[string]any, w owner) (nb, nr map[string]any, ignored []string) {
	nb = make(map[string]any, len(l))
	nr = make(map[string]any, len(l))
	for _, k := range unionKeys(b, l, r) {
		var owns func(string) bool
		switch {
		case k == "paths":
			owns = w.ownsPath
		case k == "webhooks":
			owns = func(n string) bool { return w.ownsComponent("webhooks/" + n) }
		case swaggerSections[k] != "":
			t := swaggerSections[k]
			owns = func(n string) bool { return w.ownsComponent(t + "/" + n) }
		case k == "components":
			restrictComponents(k, b, l, r, nb, nr, w, &ignored)
			continue
		}
		if owns == nil {
			takeLocal(k, l, nb, nr, r, []string{k}, &ignored)
			continue
		}
		restrictSection(k, b, l, r, nb, nr, owns, []string{k}, &ignored)
	}
	slices.Sort(ignored)
	return nb, nr, ignored
}

// restrictComponents applies ownership to components/<type>/<name>.
func restrictComponents(k string, b, l, r, nb, nr map[string]any, w owner, ignored *[]string) {
	bc, bIsObj := b[k].(map[string]any)
	lc, lIsObj := l[k].(map[string]any)
	rc, rIsObj := r[k].(map[string]any)
	_, bHas := b[k]
	_, lHas := l[k]
	_, rHas := r[k]
	if (bHas && !bIsObj) || (lHas && !lIsObj) || (rHas && !rIsObj) {
		takeLocal(k, l, nb, nr, r, []string{k}, ignored)
		return
	}
	cb := make(map[string]any, len(lc))
	cr := make(map[string]any, len(lc))
	for _, t := range unionKeys(bc, lc, rc) {
		owns := func(n string) bool { return w.ownsComponent(t + "/" + n) }
		restrictSection(t, bc, lc, rc, cb, cr, owns, []string{k, t}, ignored)
	}
	if bHas || len(cb) > 0 {
		nb[k] = cb
	}
	if rHas || len(cr) > 0 {
		nr[k] = cr
	}
}

// restrictSection applies ownership to the named members of section k.
func restrictSection(k string, b, l, r, nb, nr map[string]any, owns func(string) bool, path []string, ignored *[]string) {
	bs, bIsObj := b[k].(map[string]any)
	ls, lIsObj := l[k].(map[string]any)
	rs, rIsObj := r[k].(map[string]any)
	_, bHas := b[k]
	_, lHas := l[k]
	_, rHas := r[k]
	if (bHas && !bIsObj) || (lHas && !lIsObj) || (rHas && !rIsObj) {
		// Not a map of named members: nobody can own part of it.
		takeLocal(k, l, nb, nr, r, path, ignored)
		return
	}
	sb := make(map[string]any, len(ls))
	sr := make(map[string]any, len(ls))
	for _, n := range unionKeys(bs, ls, rs) {
		if owns(n) {
			if v, ok := bs[n]; ok {
				sb[n] = v
			}
			if v, ok := rs[n]; ok {
				sr[n] = v
			}
			continue
		}
		takeLocal(n, ls, sb, sr, rs, append(slices.Clip(path), n), ignored)
	}
	// Keep the section absent where it was absent and nothing owned is in it.
	if bHas || len(sb) > 0 {
		nb[k] = sb
	}
	if rHas || len(sr) > 0 {
		nr[k] = sr
	}
}

// takeLocal makes member k of the new base and remote equal to local's, and
// records k as ignored if remote had something different there.
func takeLocal(k string, l, nb, nr, r map[string]any, path []string, ignored *[]string) {
	lv, lok := l[k]
	rv, rok := r[k]
	if lok {
		nb[k] = lv
		nr[k] = lv
	}
	if rok && !sameValue(lv, rv, lok, rok) {
		*ignored = append(*ignored, jsonptr.Join(path))
	}
}

// unionKeys returns the sorted union of the maps' keys.
func unionKeys(ms ...map[string]any) []string {
	n := 0
	for _, m := range ms {
		n = max(n, len(m))
	}
	seen := make(map[string]struct{}, n)
	keys := make([]string, 0, n)
	for _, m := range ms {
		for k := range m {
			if _, ok := seen[k]; !ok {
				seen[k] = struct{}{}
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}
