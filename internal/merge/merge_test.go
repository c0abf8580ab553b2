package merge

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// Set UPDATE_GOLDEN=1 to rewrite testdata/cases/*/merged.json.
var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

func readFixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	require.NoError(t, err)
	return b
}

// at returns the value at pointer p in a JSON document.
func at(t testing.TB, doc []byte, p string) (any, bool) {
	t.Helper()
	v, ok, err := decodeDoc(doc)
	require.NoError(t, err)
	require.True(t, ok)
	tokens, err := parsePointer(p)
	require.NoError(t, err)
	got, ok, _, err := lookup(v, tokens)
	if err != nil {
		return nil, false
	}
	return got, ok
}

// canon returns the canonical form of a JSON document.
func canon(t testing.TB, doc []byte) string {
	t.Helper()
	v, ok, err := decodeDoc(doc)
	require.NoError(t, err)
	require.True(t, ok)
	return string(spec.CanonicalJSON(v, true))
}

type wantConflict struct {
	pointer string
	kind    string
	// localAbsent / remoteAbsent say which side deleted the location.
	localAbsent, remoteAbsent bool
}

func TestThreeWayCases(t *testing.T) {
	base := readFixture(t, "petstore", "base.json")
	tests := []struct {
		name      string
		conflicts []wantConflict
		auto      int
		// values that must hold in the merged document
		want map[string]any
		// locations that must be absent from the merged document
		absent []string
	}{
		{
			name: "param-reorder",
			auto: 1,
			want: map[string]any{
				// local's order is kept and remote's edit lands on the right parameter
				"/paths/~1pets~1{petId}/get/parameters/0/name":        "X-Request-Id",
				"/paths/~1pets~1{petId}/get/parameters/1/name":        "verbose",
				"/paths/~1pets~1{petId}/get/parameters/1/description": "Return every field",
			},
		},
		{
			name: "same-change",
			want: map[string]any{
				"/paths/~1pets/get/summary":                        "List pets",
				"/components/schemas/Pet/properties/age/type":      "integer",
				"/paths/~1pets/get/description":                    "Returns every pet.",
				"/components/schemas/Pet/properties/name/example":  "Rex",
				"/components/schemas/Pet/properties/status/enum/2": "sold",
			},
		},
		{
			name: "local-edits-kept",
			auto: 4,
			want: map[string]any{
				"/paths/~1pets/get/description":                     "Returns every pet, newest first. Local wording.",
				"/paths/~1pets/get/x-internal-owner":                "team-pets",
				"/paths/~1pets/get/summary":                         "List pets",
				"/paths/~1pets/get/parameters/2/name":               "offset",
				"/paths/~1pets/put/operationId":                     "updatePets",
				"/components/schemas/Pet/properties/name/example":   "Fido",
				"/components/schemas/Pet/properties/name/maxLength": json.Number("64"),
			},
		},
		{
			name: "modify-delete",
			auto: 1,
			conflicts: []wantConflict{
				{pointer: "/components/schemas/Pet/properties/tag", kind: KindModifyDelete, localAbsent: true},
				{pointer: "/paths/~1pets~1{petId}/delete", kind: KindModifyDelete, remoteAbsent: true},
			},
			want: map[string]any{
				"/paths/~1pets~1{petId}/delete/description":       "Deletes a pet. Cannot be undone.",
				"/paths/~1pets~1{petId}/parameters/0/description": "Pet identifier",
			},
			absent: []string{"/components/schemas/Pet/properties/tag"},
		},
		{
			name: "both-added",
			conflicts: []wantConflict{
				{pointer: "/components/schemas/Pet/properties/status/enum", kind: KindBothModified},
				{pointer: "/paths/~1owners/get/summary", kind: KindBothAdded},
			},
			want: map[string]any{
				"/paths/~1owners/get/summary":                      "List owners",
				"/paths/~1owners/get/operationId":                  "listOwners",
				"/components/schemas/Pet/properties/status/enum/3": "lost",
			},
		},
		{
			name: "param-conflicts",
			conflicts: []wantConflict{
				// local deleted these parameters, remote edited them: they sit past the end
				{pointer: "/paths/~1pets/get/parameters/1", kind: KindModifyDelete, localAbsent: true},
				{pointer: "/paths/~1pets~1{petId}/get/parameters/0/description", kind: KindBothAdded},
				{pointer: "/paths/~1pets~1{petId}/get/parameters/1", kind: KindModifyDelete, localAbsent: true},
			},
			want: map[string]any{
				"/paths/~1pets/get/parameters/0/$ref":                 "#/components/parameters/TraceId",
				"/paths/~1pets~1{petId}/get/parameters/0/description": "Correlation id (local)",
			},
		},
		{
			name: "keyed-sets",
			auto: 6,
			want: map[string]any{
				"/tags/0/description":                  "Pets and their owners",
				"/tags/2/name":                         "owners",
				"/tags/3/name":                         "users",
				"/servers/0/url":                       "https://petstore.example.com/v1",
				"/servers/1/url":                       "http://localhost:8080",
				"/security/1/oauth/0":                  "read",
				"/components/schemas/Pet/required/0":   "id",
				"/components/schemas/Pet/required/1":   "status",
				"/paths/~1pets/get/tags/1":             "list",
				"/paths/~1pets/get/tags/2":             "read",
				"/paths/~1pets/get/parameters/0/name":  "sort",
				"/paths/~1pets/get/parameters/1/name":  "limit",
				"/paths/~1pets/get/parameters/2/$ref":  nil, // the $ref parameter remote deleted is gone
				"/components/schemas/Pet/required/2":   nil,
				"/servers/2/url":                       nil,
				"/paths/~1pets/get/tags/3":             nil,
				"/tags/4/name":                         nil,
				"/paths/~1pets/get/parameters/1/in":    "query",
				"/components/schemas/Error/required/1": "message",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			local := readFixture(t, "cases", tc.name, "local.json")
			remote := readFixture(t, "cases", tc.name, "remote.json")
			res, err := ThreeWay(base, local, remote, Options{})
			require.NoError(t, err)

			got := make([]wantConflict, 0, len(res.Conflicts))
			for _, c := range res.Conflicts {
				got = append(got, wantConflict{pointer: c.Pointer, kind: c.Kind, localAbsent: c.Local == nil, remoteAbsent: c.Remote == nil})
				require.Len(t, c.ID, 32)
				// The merged document holds local's value at every conflict.
				v, ok := at(t, res.Merged, c.Pointer)
				require.Equal(t, c.Local != nil, ok, c.Pointer)
				if ok {
					require.JSONEq(t, string(c.Local), string(spec.CanonicalJSON(v, false)), c.Pointer)
				}
			}
			if tc.conflicts == nil {
				tc.conflicts = []wantConflict{}
			}
			require.Equal(t, tc.conflicts, got)
			require.Equal(t, tc.auto, res.AutoMerged)
			for p, want := range tc.want {
				v, ok := at(t, res.Merged, p)
				if want == nil {
					require.False(t, ok, "%s should be absent, has %v", p, v)
					continue
				}
				require.True(t, ok, "%s missing", p)
				require.Equal(t, want, v, p)
			}
			for _, p := range tc.absent {
				_, ok := at(t, res.Merged, p)
				require.False(t, ok, p)
			}

			golden := filepath.Join("testdata", "cases", tc.name, "merged.json")
			if updateGolden {
				require.NoError(t, os.WriteFile(golden, res.Merged, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), string(res.Merged))
		})
	}
}

func TestThreeWayOwnership(t *testing.T) {
	local := readFixture(t, "ownership", "local.json")
	usersOwn := Options{Ownership: Ownership{PathPrefixes: []string{"/users"}, Components: []string{"schemas/User*"}}}
	petsOwn := Options{Ownership: Ownership{Paths: []string{"/pets", "/pets/{petId}", "/users"}, Components: []string{"schemas/Pet"}}}

	tests := []struct {
		name      string
		local     []byte // defaults to ownership/local.json
		base      []byte
		remote    []byte
		opts      Options
		conflicts []wantConflict
		ignored   []string
		want      map[string]any
	}{
		{
			name:    "users source updates only what it owns",
			base:    readFixture(t, "ownership", "users-base.json"),
			remote:  readFixture(t, "ownership", "users-remote.json"),
			opts:    usersOwn,
			ignored: []string{"/components/schemas/Pet", "/info", "/paths/~1health", "/paths/~1pets"},
			want: map[string]any{
				"/info/title":                                  "Company API",
				"/paths/~1users/get/summary":                   "List all users",
				"/paths/~1users/get/description":               "Every user of the company. Edited by the API team.",
				"/paths/~1users~1{id}":                         nil, // deleted by its owner
				"/paths/~1users~1{id}~1avatar/get/operationId": "getAvatar",
				"/paths/~1pets/get/operationId":                "listPets", // not the users source's /pets
				"/paths/~1pets~1{petId}/get/summary":           "Info for a specific pet",
				"/paths/~1health":                              nil,
				"/components/schemas/Pet/type":                 "object",
				"/components/schemas/UserAvatar/type":          "object",
				"/components/schemas/User/type":                "object",
			},
		},
		{
			name:   "pets source first sync claims /users too",
			remote: readFixture(t, "ownership", "pets-remote.json"),
			opts:   petsOwn,
			conflicts: []wantConflict{
				{pointer: "/paths/~1pets/get/summary", kind: KindBothAdded},
				{pointer: "/paths/~1users/get/summary", kind: KindBothAdded},
			},
			ignored: []string{"/info"},
			want: map[string]any{
				"/info/title":                "Company API",
				"/paths/~1users/get/summary": "List users",
				// added by local only (remote has none): kept without conflict
				"/paths/~1users/get/description":       "Every user of the company. Edited by the API team.",
				"/paths/~1users~1{id}/get/operationId": "getUser", // not owned, not deleted
				"/components/schemas/User/type":        "object",
			},
		},
		{
			name:    "swagger 2.0 definitions are owned as schemas",
			local:   readFixture(t, "ownership", "swagger2-local.json"),
			base:    readFixture(t, "ownership", "swagger2-local.json"),
			remote:  readFixture(t, "ownership", "swagger2-remote.json"),
			opts:    Options{Ownership: Ownership{Paths: []string{"/orders"}, Components: []string{"schemas/Order"}}},
			ignored: []string{"/definitions/Invoice", "/info"},
			want: map[string]any{
				"/paths/~1orders/get/summary":              "List orders",
				"/paths/~1invoices/get/operationId":        "listInvoices", // not owned: not deleted
				"/definitions/Order/properties/total/type": "number",
				"/definitions/Invoice/type":                "object",
				"/info/title":                              "Legacy API",
			},
		},
		{
			name:    "ownership of nothing the remote has changes nothing",
			remote:  readFixture(t, "ownership", "pets-remote.json"),
			opts:    Options{Ownership: Ownership{Paths: []string{"/nothing"}}},
			ignored: []string{"/info", "/paths/~1pets", "/paths/~1users"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			local := local
			if tc.local != nil {
				local = tc.local
			}
			res, err := ThreeWay(tc.base, local, tc.remote, tc.opts)
			require.NoError(t, err)
			got := make([]wantConflict, 0, len(res.Conflicts))
			for _, c := range res.Conflicts {
				got = append(got, wantConflict{pointer: c.Pointer, kind: c.Kind, localAbsent: c.Local == nil, remoteAbsent: c.Remote == nil})
			}
			if tc.conflicts == nil {
				tc.conflicts = []wantConflict{}
			}
			require.Equal(t, tc.conflicts, got)
			require.Equal(t, tc.ignored, res.Ignored)
			if tc.want == nil {
				require.Equal(t, canon(t, local), string(res.Merged))
			}
			for p, want := range tc.want {
				v, ok := at(t, res.Merged, p)
				if want == nil {
					require.False(t, ok, "%s should be absent, has %v", p, v)
					continue
				}
				require.True(t, ok, "%s missing", p)
				require.Equal(t, want, v, p)
			}
		})
	}
}

// variants are the fixture documents the identity properties run over.
func variants(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{"base": readFixture(t, "petstore", "base.json")}
	dirs, err := os.ReadDir(filepath.Join("testdata", "cases"))
	require.NoError(t, err)
	for _, d := range dirs {
		out[d.Name()+"/local"] = readFixture(t, "cases", d.Name(), "local.json")
		out[d.Name()+"/remote"] = readFixture(t, "cases", d.Name(), "remote.json")
	}
	return out
}

func TestThreeWayIdentities(t *testing.T) {
	base := readFixture(t, "petstore", "base.json")
	docs := variants(t)
	for name, x := range docs {
		t.Run(name, func(t *testing.T) {
			res, err := ThreeWay(base, x, base, Options{})
			require.NoError(t, err)
			require.Empty(t, res.Conflicts)
			require.Zero(t, res.AutoMerged)
			require.Equal(t, canon(t, x), string(res.Merged), "merge(base, x, base) == x")

			res, err = ThreeWay(base, base, x, Options{})
			require.NoError(t, err)
			require.Empty(t, res.Conflicts)
			require.Equal(t, canon(t, x), string(res.Merged), "merge(base, base, y) == y")

			res, err = ThreeWay(base, x, x, Options{})
			require.NoError(t, err)
			require.Empty(t, res.Conflicts)
			require.Equal(t, canon(t, x), string(res.Merged), "merge(base, x, x) == x")
		})
	}
}

func TestThreeWayCommutes(t *testing.T) {
	base := readFixture(t, "petstore", "base.json")
	docs := variants(t)
	pairs := 0
	for nx, x := range docs {
		for ny, y := range docs {
			xy, err := ThreeWay(base, x, y, Options{})
			require.NoError(t, err)
			if len(xy.Conflicts) > 0 {
				continue
			}
			yx, err := ThreeWay(base, y, x, Options{})
			require.NoError(t, err)
			require.Empty(t, yx.Conflicts, "%s vs %s: conflicts must be symmetric", nx, ny)
			require.Equal(t, string(xy.Merged), string(yx.Merged), "merge(base, %s, %s) != merge(base, %s, %s)", nx, ny, ny, nx)
			pairs++
		}
	}
	require.Greater(t, pairs, len(docs)*2, "too few conflict-free pairs to mean anything")
}

func TestThreeWayConflictSymmetry(t *testing.T) {
	// The same disagreement seen from the other side is at the same pointers.
	base := readFixture(t, "petstore", "base.json")
	for _, name := range []string{"modify-delete", "both-added"} {
		t.Run(name, func(t *testing.T) {
			l := readFixture(t, "cases", name, "local.json")
			r := readFixture(t, "cases", name, "remote.json")
			a, err := ThreeWay(base, l, r, Options{})
			require.NoError(t, err)
			b, err := ThreeWay(base, r, l, Options{})
			require.NoError(t, err)
			require.Len(t, b.Conflicts, len(a.Conflicts))
			for i := range a.Conflicts {
				require.Equal(t, a.Conflicts[i].Pointer, b.Conflicts[i].Pointer)
				require.Equal(t, a.Conflicts[i].Local, b.Conflicts[i].Remote)
				require.Equal(t, a.Conflicts[i].Remote, b.Conflicts[i].Local)
			}
		})
	}
}

func TestThreeWayFirstSync(t *testing.T) {
	local := readFixture(t, "cases", "local-edits-kept", "local.json")
	remote := readFixture(t, "cases", "local-edits-kept", "remote.json")
	for _, base := range [][]byte{nil, {}, []byte("  \n")} {
		res, err := ThreeWay(base, local, remote, Options{})
		require.NoError(t, err)
		got := map[string]string{}
		for _, c := range res.Conflicts {
			require.Equal(t, KindBothAdded, c.Kind)
			require.Nil(t, c.Base)
			got[c.Pointer] = string(c.Remote)
		}
		// Without a base, every difference is both-added; additions on one side merge cleanly.
		require.Equal(t, map[string]string{
			"/components/schemas/Pet/properties/name/example": `"Rex"`,
			"/paths/~1pets/get/description":                   `"Returns every pet."`,
			"/paths/~1pets/get/summary":                       `"List pets"`,
		}, got)
		for p, want := range map[string]any{
			"/paths/~1pets/put/operationId":       "updatePets",
			"/paths/~1pets/get/parameters/2/name": "offset",
			"/paths/~1pets/get/x-internal-owner":  "team-pets",
		} {
			v, ok := at(t, res.Merged, p)
			require.True(t, ok, p)
			require.Equal(t, want, v, p)
		}
	}
}

func TestThreeWayYAMLInput(t *testing.T) {
	base := []byte(`openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get:
      summary: A
      responses: {"200": {description: ok}}
components:
  schemas:
    N: {type: number, maximum: 1.5, minimum: 0x10, default: 1_000}
`)
	remote := []byte(`{"openapi":"3.0.3","info":{"title":"T","version":"1"},"paths":{"/a":{"get":{"summary":"A2","responses":{"200":{"description":"ok"}}}}},"components":{"schemas":{"N":{"type":"number","maximum":1.5,"minimum":16,"default":1000}}}}`)
	res, err := ThreeWay(base, base, remote, Options{})
	require.NoError(t, err)
	require.Empty(t, res.Conflicts)
	require.Equal(t, 1, res.AutoMerged, "YAML numbers must read as the same JSON numbers")
	require.Equal(t, canon(t, remote), string(res.Merged))
}

// yamlBomb is a small YAML document whose aliases expand to 10^9 values.
func yamlBomb() []byte {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 8 {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	return []byte(doc)
}

func TestThreeWayErrors(t *testing.T) {
	good := readFixture(t, "petstore", "base.json")
	tests := []struct {
		name                string
		base, local, remote []byte
		input               string
	}{
		{name: "bad base", base: []byte(`{"a":`), local: good, remote: good, input: "base"},
		{name: "empty local", local: nil, remote: good, input: "local"},
		{name: "bad remote", local: good, remote: []byte("{\"a\": 1} trailing"), input: "remote"},
		{name: "empty remote", local: good, remote: []byte(" "), input: "remote"},
		{name: "YAML alias bomb", local: good, remote: yamlBomb(), input: "remote"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ThreeWay(tc.base, tc.local, tc.remote, Options{})
			var ie *InputError
			require.True(t, errors.As(err, &ie), "got %v", err)
			require.Equal(t, tc.input, ie.Input)
			require.Contains(t, err.Error(), tc.input)
		})
	}
}

func TestCanonicalEncoding(t *testing.T) {
	in := []byte(`{"b":[1,{"z":null,"a":true}],"a":"<tag> & \"q\" \u2028 \u0001 é","c":{},"d":[],"n":1.50e3}`)
	res, err := ThreeWay(nil, in, in, Options{})
	require.NoError(t, err)
	want := "{\n  \"a\": \"<tag> & \\\"q\\\" \\u2028 \\u0001 é\",\n  \"b\": [\n    1,\n    {\n      \"a\": true,\n      \"z\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": [],\n  \"n\": 1.50e3\n}\n"
	require.Equal(t, want, string(res.Merged))
	var back any
	require.NoError(t, json.Unmarshal(res.Merged, &back))
}
