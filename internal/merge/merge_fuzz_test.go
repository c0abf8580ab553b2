package merge

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// deepCopy copies a decoded tree.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// containers lists every object and array of a tree in a fixed order.
func containers(v any, out []any) []any {
	switch x := v.(type) {
	case map[string]any:
		out = append(out, x)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = containers(x[k], out)
		}
	case []any:
		out = append(out, x)
		for _, e := range x {
			out = containers(e, out)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// mutate applies edit operations, three bytes each (what, where, value), to
// a copy of doc. Arrays are edited in place through their parent, so the
// walk re-lists containers after every edit.
func mutate(doc any, ops []byte) any {
	doc = deepCopy(doc)
	for i := 0; i+2 < len(ops) && i < 60; i += 3 {
		what, where, val := ops[i], int(ops[i+1]), int(ops[i+2])
		cs := containers(doc, nil)
		// Only maps are edited directly; arrays are edited through the map
		// or array that holds them so the new slice is stored back.
		parent, ok := cs[where%len(cs)].(map[string]any)
		if !ok {
			continue
		}
		keys := sortedKeys(parent)
		s := "v" + strconv.Itoa(val)
		switch what % 8 {
		case 0: // set a member to a string
			if len(keys) > 0 {
				parent[keys[val%len(keys)]] = s
			}
		case 1: // delete a member
			if len(keys) > 0 {
				delete(parent, keys[val%len(keys)])
			}
		case 2: // add a member
			parent["k"+strconv.Itoa(val%7)] = map[string]any{"description": s}
		case 3: // edit a description
			parent["description"] = s
		case 4, 5, 6, 7: // edit an array member
			var arrKeys []string
			for _, k := range keys {
				if _, ok := parent[k].([]any); ok {
					arrKeys = append(arrKeys, k)
				}
			}
			if len(arrKeys) == 0 {
				parent["tags"] = []any{s}
				continue
			}
			k := arrKeys[val%len(arrKeys)]
			a := parent[k].([]any)
			switch what % 8 {
			case 4: // reorder
				a = slices.Clone(a)
				slices.Reverse(a)
			case 5: // append
				var el any = s
				if k == "parameters" {
					el = map[string]any{"name": s, "in": "query"}
				} else if len(a) > 0 {
					if _, ok := a[0].(map[string]any); ok {
						el = map[string]any{"name": s, "url": s}
					}
				}
				a = append(slices.Clone(a), el)
			case 6: // remove
				if len(a) > 0 {
					a = slices.Delete(slices.Clone(a), val%len(a), val%len(a)+1)
				}
			case 7: // edit an element
				if len(a) > 0 {
					a = slices.Clone(a)
					if m, ok := a[val%len(a)].(map[string]any); ok {
						m["description"] = s
					} else {
						a[val%len(a)] = s
					}
				}
			}
			parent[k] = a
		}
	}
	return doc
}

// checkMergeProperties checks the merge identities, commutation of
// conflict-free merges, and that Apply accepts mechanical resolutions.
func checkMergeProperties(t *testing.T, base []byte, x, y any) {
	bx := spec.CanonicalJSON(x, true)
	by := spec.CanonicalJSON(y, true)

	res, err := ThreeWay(base, bx, base, Options{})
	require.NoError(t, err)
	require.Empty(t, res.Conflicts)
	require.Equal(t, string(bx), string(res.Merged), "merge(base, x, base) == x")

	res, err = ThreeWay(base, base, by, Options{})
	require.NoError(t, err)
	require.Empty(t, res.Conflicts)
	require.Equal(t, string(by), string(res.Merged), "merge(base, base, y) == y")

	xy, err := ThreeWay(base, bx, by, Options{})
	require.NoError(t, err)
	yx, err := ThreeWay(base, by, bx, Options{})
	require.NoError(t, err)
	require.Equal(t, len(xy.Conflicts) == 0, len(yx.Conflicts) == 0, "conflicts must be symmetric")
	if len(xy.Conflicts) == 0 {
		require.Equal(t, string(xy.Merged), string(yx.Merged), "conflict-free merges commute")
		return
	}
	for _, strategy := range []string{StrategyPreferLocal, StrategyPreferRemote} {
		rs, err := Resolve(xy.Conflicts, strategy)
		require.NoError(t, err)
		out, err := Apply(xy, rs)
		require.NoError(t, err, strategy)
		if strategy == StrategyPreferLocal {
			require.Equal(t, string(xy.Merged), string(out))
		}
	}
}

func TestMergePropertiesOnMutations(t *testing.T) {
	base := readFixture(t, "petstore", "base.json")
	doc, _, err := decodeDoc(base)
	require.NoError(t, err)
	// Deterministic pseudo-random edit scripts.
	state := uint32(12345)
	next := func() byte {
		state = state*1664525 + 1013904223
		return byte(state >> 24)
	}
	for i := range 300 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			opsX := make([]byte, 3*(1+i%5))
			opsY := make([]byte, 3*(1+i%4))
			for j := range opsX {
				opsX[j] = next()
			}
			for j := range opsY {
				opsY[j] = next()
			}
			checkMergeProperties(t, base, mutate(doc, opsX), mutate(doc, opsY))
		})
	}
}

func FuzzThreeWay(f *testing.F) {
	f.Add(readFixture(f, "petstore", "base.json"), []byte{3, 10, 1, 5, 40, 2}, []byte{0, 12, 3, 4, 40, 1})
	f.Add(readFixture(f, "petstore", "base.json"), []byte{1, 7, 0}, []byte{3, 7, 9})
	f.Add([]byte(`{"parameters":[{"name":"a","in":"query"},{"name":"b","in":"query"}],"tags":["x","y"]}`), []byte{4, 0, 0, 5, 0, 1}, []byte{7, 0, 1, 6, 0, 0})
	f.Fuzz(func(t *testing.T, base, opsX, opsY []byte) {
		// YAML input is covered by TestThreeWayYAMLInput; fuzz JSON objects.
		if !json.Valid(base) {
			t.Skip()
		}
		doc, ok, err := decodeDoc(base)
		if err != nil || !ok {
			t.Skip()
		}
		if _, isObj := doc.(map[string]any); !isObj {
			t.Skip()
		}
		checkMergeProperties(t, base, mutate(doc, opsX), mutate(doc, opsY))
	})
}
