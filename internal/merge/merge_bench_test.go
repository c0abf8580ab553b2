package merge

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// benchInputs are base, local and remote built from the Stripe spec.
type benchInputs struct {
	base, local, remote []byte
	conflicts           int // conflicts the generator planted
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

type opRef struct {
	path, method string
}

// generateBenchInputs makes a few hundred deterministic edits on each side
// of the Stripe spec: local rewords descriptions, adds extensions and edits
// schema docs; remote rewords other descriptions, adds paths and
// parameters, deletes properties and changes enums; a few operations get
// different summaries on both sides (conflicts).
func generateBenchInputs(t testing.TB) benchInputs {
	t.Helper()
	raw := readFixture(t, "stripe-spec3.json")
	doc, ok, err := decodeDoc(raw)
	require.NoError(t, err)
	require.True(t, ok)
	root := doc.(map[string]any)

	paths := root["paths"].(map[string]any)
	var ops []opRef
	for _, p := range sortedKeys(paths) {
		item := paths[p].(map[string]any)
		for _, m := range httpMethods {
			if _, ok := item[m]; ok {
				ops = append(ops, opRef{p, m})
			}
		}
	}
	schemas := root["components"].(map[string]any)["schemas"].(map[string]any)
	type propRef struct{ schema, prop string }
	var props []propRef
	var enums []propRef
	for _, s := range sortedKeys(schemas) {
		pm, _ := schemas[s].(map[string]any)["properties"].(map[string]any)
		for _, p := range sortedKeys(pm) {
			props = append(props, propRef{s, p})
			if _, ok := pm[p].(map[string]any)["enum"]; ok {
				enums = append(enums, propRef{s, p})
			}
		}
	}
	rng := rand.New(rand.NewPCG(2024, 7))
	rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
	rng.Shuffle(len(props), func(i, j int) { props[i], props[j] = props[j], props[i] })
	rng.Shuffle(len(enums), func(i, j int) { enums[i], enums[j] = enums[j], enums[i] })
	require.Greater(t, len(ops), 320)
	require.Greater(t, len(props), 600)
	require.Greater(t, len(enums), 40)

	op := func(d map[string]any, r opRef) map[string]any {
		return d["paths"].(map[string]any)[r.path].(map[string]any)[r.method].(map[string]any)
	}
	prop := func(d map[string]any, r propRef) (map[string]any, map[string]any) {
		pm := d["components"].(map[string]any)["schemas"].(map[string]any)[r.schema].(map[string]any)["properties"].(map[string]any)
		return pm, pm[r.prop].(map[string]any)
	}
	const planted = 10

	local := deepCopy(root).(map[string]any)
	for i, r := range ops[:150] {
		o := op(local, r)
		o["description"] = "Local wording " + strconv.Itoa(i) + ". " + asString(o["description"])
		if i%2 == 0 {
			o["x-local-owner"] = "team-" + strconv.Itoa(i%7)
		}
		if i < planted {
			o["summary"] = "Local summary " + strconv.Itoa(i)
		}
	}
	for i, r := range props[:100] {
		_, p := prop(local, r)
		p["description"] = "Local doc " + strconv.Itoa(i)
	}

	remote := deepCopy(root).(map[string]any)
	for i, r := range ops[150:300] {
		o := op(remote, r)
		o["description"] = "Remote wording " + strconv.Itoa(i)
	}
	for i, r := range ops[:planted] {
		op(remote, r)["summary"] = "Remote summary " + strconv.Itoa(i)
	}
	for i, r := range ops[300:] {
		o := op(remote, r)
		params, _ := o["parameters"].([]any)
		o["parameters"] = append(slices.Clone(params), map[string]any{
			"name": "trace_" + strconv.Itoa(i), "in": "query", "required": false,
			"schema": map[string]any{"type": "string"},
		})
	}
	rpaths := remote["paths"].(map[string]any)
	for i := range 50 {
		rpaths["/v1/generated/"+strconv.Itoa(i)] = map[string]any{
			"get": map[string]any{
				"operationId": "GetGenerated" + strconv.Itoa(i),
				"responses":   map[string]any{"200": map[string]any{"description": "ok"}},
			},
		}
	}
	for _, r := range props[100:160] {
		pm, _ := prop(remote, r)
		delete(pm, r.prop)
	}
	for _, r := range enums[:30] {
		if _, kept := remoteProps(remote, r.schema)[r.prop]; !kept {
			continue // deleted above
		}
		_, p := prop(remote, r)
		if e, ok := p["enum"].([]any); ok {
			p["enum"] = append(slices.Clone(e), "generated_value")
		}
	}
	return benchInputs{
		base:      raw,
		local:     spec.CanonicalJSON(local, true),
		remote:    spec.CanonicalJSON(remote, true),
		conflicts: planted,
	}
}

func remoteProps(d map[string]any, schema string) map[string]any {
	return d["components"].(map[string]any)["schemas"].(map[string]any)[schema].(map[string]any)["properties"].(map[string]any)
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func TestStripeMerge(t *testing.T) {
	in := generateBenchInputs(t)
	res, err := ThreeWay(in.base, in.local, in.remote, Options{})
	require.NoError(t, err)
	require.Len(t, res.Conflicts, in.conflicts)
	for _, c := range res.Conflicts {
		require.Equal(t, KindBothAdded, c.Kind, "Stripe operations have no summary in base")
		require.Regexp(t, `^/paths/.*/summary$`, c.Pointer)
	}
	require.Greater(t, res.AutoMerged, 300)
	// Resolving every conflict for remote lands every remote edit.
	rs, err := Resolve(res.Conflicts, StrategyPreferRemote)
	require.NoError(t, err)
	out, err := Apply(res, rs)
	require.NoError(t, err)
	again, err := ThreeWay(in.remote, out, in.remote, Options{})
	require.NoError(t, err)
	require.Empty(t, again.Conflicts)
	require.Equal(t, string(out), string(again.Merged))
}

func BenchmarkThreeWay(b *testing.B) {
	in := generateBenchInputs(b)
	b.SetBytes(int64(len(in.base) + len(in.local) + len(in.remote)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ThreeWay(in.base, in.local, in.remote, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Conflicts) != in.conflicts {
			b.Fatalf("got %d conflicts, want %d", len(res.Conflicts), in.conflicts)
		}
	}
}

// BenchmarkParseInputs parses the same three inputs with libopenapi, the
// yardstick for BenchmarkThreeWay (goal: merge ≤ 1.5× this).
func BenchmarkParseInputs(b *testing.B) {
	in := generateBenchInputs(b)
	b.SetBytes(int64(len(in.base) + len(in.local) + len(in.remote)))
	b.ReportAllocs()
	for b.Loop() {
		for _, spec := range [][]byte{in.base, in.local, in.remote} {
			doc, err := libopenapi.NewDocument(spec)
			if err != nil {
				b.Fatal(err)
			}
			model, err := doc.BuildV3Model()
			if model == nil {
				b.Fatal(err)
			}
		}
	}
}
