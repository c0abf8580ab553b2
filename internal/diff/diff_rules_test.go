package diff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/stretchr/testify/require"
)

func parseFixture(t testing.TB, source string, data []byte) *spec.Document {
	t.Helper()
	doc, err := spec.Parse(source, data, spec.Options{})
	require.NoError(t, err)
	return doc
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// edit replaces text in the base fixture and fails when the text is absent.
func edit(t *testing.T, base string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, base, pairs[i], "edit target missing")
		base = strings.Replace(base, pairs[i], pairs[i+1], 1)
	}
	return base
}

// One minimal change per rule of DefaultRules (and one per libopenapi
// fallback we rely on). libBreaking is libopenapi's own verdict: where it
// differs from breaking, the comment says why we depart.
func TestDefaultRules(t *testing.T) {
	base := string(readFile(t, filepath.Join("testdata", "rules", "base.yaml")))
	tests := []struct {
		name        string
		edits       []string
		reverse     bool // compare edited → base (a removal)
		pointer     string
		kind        string
		object      string
		breaking    bool
		rule        string
		libBreaking bool
	}{
		{name: "path added", edits: []string{"components:\n", "  /owners:\n    get:\n      responses:\n        \"200\": {description: ok}\ncomponents:\n"},
			pointer: "/paths/~1owners", kind: KindAdded, object: ObjectPath, rule: "path.added"},
		{name: "path removed", reverse: true, edits: []string{"components:\n", "  /owners:\n    get:\n      responses:\n        \"200\": {description: ok}\ncomponents:\n"},
			pointer: "/paths/~1owners", kind: KindRemoved, object: ObjectPath, breaking: true, rule: "path.removed", libBreaking: true},
		{name: "operation added", edits: []string{"  /pets/{petId}:\n", "  /pets/{petId}:\n    delete:\n      responses:\n        \"204\": {description: gone}\n"},
			pointer: "/paths/~1pets~1{petId}/delete", kind: KindAdded, object: ObjectOperation, rule: "operation.added"},
		{name: "operation removed", reverse: true, edits: []string{"  /pets/{petId}:\n", "  /pets/{petId}:\n    delete:\n      responses:\n        \"204\": {description: gone}\n"},
			pointer: "/paths/~1pets~1{petId}/delete", kind: KindRemoved, object: ObjectOperation, breaking: true, rule: "operation.removed", libBreaking: true},
		{name: "parameter removed", reverse: true, edits: []string{"        - name: offset\n", "        - name: sort\n          in: query\n          schema: {type: string}\n        - name: offset\n"},
			pointer: "/paths/~1pets/get/parameters/1", kind: KindRemoved, object: ObjectParameter, breaking: true, rule: "parameter.removed", libBreaking: true},
		// departs: libopenapi treats `required: true` appearing as a harmless
		// added property, but every client that omits the parameter now fails.
		{name: "parameter becomes required by adding the flag", edits: []string{"        - name: limit\n          in: query\n", "        - name: limit\n          in: query\n          required: true\n"},
			pointer: "/paths/~1pets/get/parameters/0/required", kind: KindAdded, object: ObjectParameter, breaking: true, rule: "parameter.required.added=true", libBreaking: false},
		{name: "parameter becomes required", edits: []string{"          required: false\n", "          required: true\n"},
			pointer: "/paths/~1pets/get/parameters/1/required", kind: KindModified, object: ObjectParameter, breaking: true, rule: "parameter.required.modified=true", libBreaking: true},
		{name: "parameter becomes optional", edits: []string{"        - name: X-Trace\n          in: header\n          required: true\n", "        - name: X-Trace\n          in: header\n          required: false\n"},
			pointer: "/paths/~1pets/get/parameters/2/required", kind: KindModified, object: ObjectParameter, rule: "parameter.required.modified=false", libBreaking: true},
		{name: "response added", edits: []string{"        \"400\":\n", "        \"409\":\n          description: Conflict\n        \"400\":\n"},
			pointer: "/paths/~1pets/post/responses/409", kind: KindAdded, object: ObjectResponse, rule: "response.added"},
		{name: "response removed", reverse: true, edits: []string{"        \"400\":\n", "        \"409\":\n          description: Conflict\n        \"400\":\n"},
			pointer: "/paths/~1pets/post/responses/409", kind: KindRemoved, object: ObjectResponse, breaking: true, rule: "response.removed", libBreaking: true},
		{name: "request body added", edits: []string{"      operationId: showPet\n", "      operationId: showPet\n      requestBody:\n        content:\n          application/json:\n            schema: {type: object}\n"},
			pointer: "/paths/~1pets~1{petId}/get/requestBody", kind: KindAdded, object: ObjectRequestBody, breaking: true, rule: "requestBody.added", libBreaking: true},
		{name: "request body becomes required", edits: []string{"      requestBody:\n", "      requestBody:\n        required: true\n"},
			pointer: "/paths/~1pets/post/requestBody/required", kind: KindAdded, object: ObjectRequestBody, breaking: true, rule: "requestBody.required.added=true", libBreaking: true},
		{name: "schema property added", edits: []string{"        tag:\n", "        age:\n          type: integer\n        tag:\n"},
			pointer: "/components/schemas/Pet/properties/age", kind: KindAdded, object: ObjectSchemaProperty, rule: "schemaProperty.added"},
		{name: "schema property removed", reverse: true, edits: []string{"        tag:\n", "        age:\n          type: integer\n        tag:\n"},
			pointer: "/components/schemas/Pet/properties/age", kind: KindRemoved, object: ObjectSchemaProperty, breaking: true, rule: "schemaProperty.removed", libBreaking: true},
		{name: "schema added", edits: []string{"    Pet:\n", "    Owner:\n      type: object\n    Pet:\n"},
			pointer: "/components/schemas/Owner", kind: KindAdded, object: ObjectSchema, rule: "schema.added"},
		// departs: metadata never breaks a client.
		{name: "info version modified", edits: []string{"  version: 1.0.0\n", "  version: 2.0.0\n"},
			pointer: "/info/version", kind: KindModified, object: ObjectInfo, rule: "info.*.modified"},
		{name: "tag added", edits: []string{"  - name: pets\n", "  - name: pets\n  - name: owners\n"},
			pointer: "/tags/1", kind: KindAdded, object: ObjectTag, rule: "tag.added"},
		{name: "operation summary modified", edits: []string{"summary: List pets", "summary: List all pets"},
			pointer: "/paths/~1pets/get/summary", kind: KindModified, object: ObjectOperation, rule: "operation.summary.modified"},
		{name: "operation tag added", edits: []string{"tags: [pets]", "tags: [pets, animals]"},
			pointer: "/paths/~1pets/get/tags/1", kind: KindAdded, object: ObjectOperation, rule: "operation.tags.added"},
		{name: "operation deprecated", edits: []string{"      operationId: listPets\n", "      operationId: listPets\n      deprecated: true\n"},
			pointer: "/paths/~1pets/get/deprecated", kind: KindAdded, object: ObjectOperation, rule: "operation.deprecated.added"},
		// no rule of ours: libopenapi's verdict stands and is named as such.
		{name: "schema type modified (libopenapi)", edits: []string{"        name:\n          type: string\n", "        name:\n          type: integer\n"},
			pointer: "/components/schemas/Pet/properties/name/type", kind: KindModified, object: ObjectSchemaProperty, breaking: true, rule: "libopenapi:schemaProperty.type.modified", libBreaking: true},
		{name: "server added (libopenapi)", edits: []string{"tags:\n", "servers:\n  - url: https://api.example.com\ntags:\n"},
			pointer: "/servers", kind: KindAdded, object: ObjectServer, rule: "libopenapi:server.added"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := edit(t, base, tt.edits...)
			oldData, newData := base, edited
			if tt.reverse {
				oldData, newData = edited, base
			}
			rep, err := Compare(parseFixture(t, "old", []byte(oldData)), parseFixture(t, "new", []byte(newData)), DefaultRules())
			require.NoError(t, err)
			require.Equal(t, "default@libopenapi-"+LibOpenAPIVersion, rep.RuleSet)
			require.NotEmpty(t, rep.Changes)
			var got *Change
			for i := range rep.Changes {
				if rep.Changes[i].Pointer == tt.pointer && rep.Changes[i].Kind == tt.kind {
					got = &rep.Changes[i]
				}
			}
			require.NotNil(t, got, "no %s change at %s in %+v", tt.kind, tt.pointer, rep.Changes)
			require.Equal(t, tt.object, got.Object)
			require.Equal(t, tt.rule, got.Rule)
			require.Equal(t, tt.breaking, got.Breaking)
			require.Positive(t, got.Line)

			// libopenapi's own verdict, so departures are deliberate
			none, err := ParseRules("none", []byte("extends: none\n"))
			require.NoError(t, err)
			raw, err := Compare(parseFixture(t, "old", []byte(oldData)), parseFixture(t, "new", []byte(newData)), none)
			require.NoError(t, err)
			for _, c := range raw.Changes {
				if c.Pointer == tt.pointer && c.Kind == tt.kind {
					require.Equal(t, tt.libBreaking, c.Breaking, "libopenapi verdict for %s", tt.pointer)
					require.True(t, strings.HasPrefix(c.Rule, VerdictLibOpenAPI+":"), c.Rule)
				}
			}
		})
	}
}
