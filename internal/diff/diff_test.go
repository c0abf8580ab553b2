package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/apilivesync/apilivesync/internal/spec"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"bad-object.yaml", `rules "testdata/rules/bad-object.yaml": line 5: rules.endpoint: unknown object`},
		{"bad-value.yaml", `rules "testdata/rules/bad-value.yaml": line 4: rules.parameter.required.added=true: "sometimes" is not true, false or libopenapi`},
		{"bad-kind.yaml", `rules "testdata/rules/bad-kind.yaml": line 4: rules.schema.type.renamed: unknown kind`},
		{"bad-field.yaml", `rules "testdata/rules/bad-field.yaml": line 2: breaking: unknown field`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadRules(filepath.Join("testdata", "rules", tt.file))
			require.Error(t, err)
			var re *RulesError
			require.ErrorAs(t, err, &re)
			require.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := LoadRules(filepath.Join("testdata", "rules", "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), "missing.yaml")
}

func TestRulesID(t *testing.T) {
	require.Equal(t, "default@catalogue-"+catalogueHash(), DefaultRules().ID())
	same, err := ParseRules("empty", []byte("extends: default\n"))
	require.NoError(t, err)
	require.Equal(t, DefaultRules().ID(), same.ID(), "content, not the file, is the identity")

	strict, err := LoadRules(filepath.Join("testdata", "rules", "strict.yaml"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(strict.ID(), "sha256:"), strict.ID())
	relaid, err := ParseRules("relaid", []byte("rules: {operation: {summary: {modified: libopenapi}}, server: {added: true}}\nignore: {extensions: true, examples: true}\n"))
	require.NoError(t, err)
	require.Equal(t, strict.ID(), relaid.ID())
	require.Equal(t, Ignore{Examples: true, Extensions: true}, strict.Ignored())

	// a level set, or a rule turned off, is a different rule set
	louder, err := ParseRules("louder", []byte("levels: {response-enum-value-added: error}\n"))
	require.NoError(t, err)
	off, err := ParseRules("off", []byte("levels: {response-enum-value-added: off}\n"))
	require.NoError(t, err)
	require.NotEqual(t, DefaultRules().ID(), louder.ID())
	require.NotEqual(t, louder.ID(), off.ID())
	require.Equal(t, LevelError, louder.Level("response-enum-value-added"))
	require.Equal(t, LevelOff, off.Level("response-enum-value-added"))
	require.Equal(t, LevelWarning, DefaultRules().Level("response-enum-value-added"))
	none, err := ParseRules("none", []byte("extends: none\n"))
	require.NoError(t, err)
	require.Equal(t, LevelInfo, none.Level("path-removed"))

	_, err = ParseRules("typo", []byte("levels:\n  response-enum-value-addd: error\n"))
	require.EqualError(t, err, `rules "typo": line 2: levels.response-enum-value-addd: unknown rule (see `+"`starter rules`"+` or docs/RULES.md)`)
	_, err = ParseRules("bad", []byte("levels:\n  path-removed: fatal\n"))
	require.EqualError(t, err, `rules "bad": line 2: levels.path-removed: "fatal" is not error, warning, info or off`)
}

func TestCustomRulesAndIgnore(t *testing.T) {
	base := string(readFile(t, filepath.Join("testdata", "rules", "base.yaml")))
	edited := edit(t, base,
		"tags:\n", "servers:\n  - url: https://api.example.com\ntags:\n",
		"x-rate-limit: 100", "x-rate-limit: 50",
		"                name: Rex\n", "                name: Max\n",
		"      description: A pet.\n", "      description: A good pet.\n",
		"summary: List pets", "summary: List all pets",
	)
	oldDoc, newDoc := parseFixture(t, "old", []byte(base)), parseFixture(t, "new", []byte(edited))

	def, err := Compare(oldDoc, newDoc, nil)
	require.NoError(t, err)
	pointers := func(r *Report) map[string]Change {
		m := map[string]Change{}
		for _, c := range r.Changes {
			m[c.Pointer] = c
		}
		return m
	}
	got := pointers(def)
	require.Contains(t, got, "/paths/~1pets/get/x-rate-limit")
	require.Contains(t, got, "/components/schemas/Pet/description")
	require.Equal(t, LevelInfo, got["/servers/0"].Level)
	require.Equal(t, "server-added", got["/servers/0"].Rule)

	strict, err := LoadRules(filepath.Join("testdata", "rules", "strict.yaml"))
	require.NoError(t, err)
	rep, err := Compare(oldDoc, newDoc, strict)
	require.NoError(t, err)
	require.Equal(t, strict.ID(), rep.RuleSet)
	got = pointers(rep)
	require.NotContains(t, got, "/paths/~1pets/get/x-rate-limit", "extensions ignored")
	for p := range got {
		require.NotContains(t, p, "example", "examples ignored")
	}
	require.Contains(t, got, "/components/schemas/Pet/description", "descriptions kept")
	// the older object table still decides: `server: {added: true}`
	srv := got["/servers/0"]
	require.Equal(t, Change{Pointer: "/servers/0", Line: 7, Column: 5, Kind: KindAdded, Object: ObjectServer, Level: LevelError,
		Breaking: true, Rule: "server-added", Message: ruleByID["server-added"].Summary, New: "https://api.example.com"}, srv)
	require.Equal(t, "description-changed", got["/paths/~1pets/get/summary"].Rule)
	require.Less(t, rep.Total, def.Total)

	// levels: a rule turned off drops its findings, another is raised
	leveled, err := ParseRules("leveled", []byte("levels: {description-changed: off, server-added: warning}\n"))
	require.NoError(t, err)
	rep, err = Compare(oldDoc, newDoc, leveled)
	require.NoError(t, err)
	got = pointers(rep)
	require.NotContains(t, got, "/paths/~1pets/get/summary")
	require.Equal(t, LevelWarning, got["/servers/0"].Level)
	require.Equal(t, 1, rep.Warnings)
	require.Equal(t, leveled.ID(), rep.RuleSet)

	quiet, err := ParseRules("quiet", []byte("ignore: {descriptions: true}\n"))
	require.NoError(t, err)
	rep, err = Compare(oldDoc, newDoc, quiet)
	require.NoError(t, err)
	require.NotContains(t, pointers(rep), "/components/schemas/Pet/description")
}

func TestSameAPIDifferentTextHasNoChanges(t *testing.T) {
	a := parseFixture(t, "yaml", readFile(t, filepath.Join("..", "spec", "testdata", "petstore.yaml")))
	for _, f := range []string{"petstore-reordered.json", "petstore-restyled.yaml"} {
		t.Run(f, func(t *testing.T) {
			b := parseFixture(t, f, readFile(t, filepath.Join("..", "spec", "testdata", f)))
			rep, err := Compare(a, b, nil)
			require.NoError(t, err)
			require.Empty(t, rep.Changes)
			require.Zero(t, rep.Total)
			require.Equal(t, a.Canonical, b.Canonical)
		})
	}
}

// A document that moved from Swagger 2 to OpenAPI 3 diffs like any other
// pair: definitions/Pet is components/schemas/Pet, a collectionFormat is
// its style, and only what changed on the wire is reported.
func TestSwagger2AgainstOpenAPI3(t *testing.T) {
	v2 := parseFixture(t, "legacy", readFile(t, filepath.Join("testdata", "real", "oai-v2-petstore.yaml")))
	v3 := parseFixture(t, "modern", readFile(t, filepath.Join("testdata", "real", "oai-v3-petstore.json")))
	rep, err := Compare(v2, v3, nil)
	require.NoError(t, err)
	require.Equal(t, "swagger2", rep.OldFamily)
	require.Equal(t, "openapi3.0", rep.NewFamily)
	got := rulesIn(rep)
	require.NotContains(t, got, "component-schema-added", "same names: %+v", rep.Changes)
	require.NotContains(t, got, "component-schema-removed")
	require.NotContains(t, got, "request-parameter-style-changed")
	// what did change: showPetById returns one Pet, not Pets; POST /pets takes a body
	require.Contains(t, got, "response-type-changed")
	require.Contains(t, got, "request-body-added-required")

	same, err := Compare(v2, v2, nil)
	require.NoError(t, err)
	require.Zero(t, same.Total)
}

func TestReportFormats(t *testing.T) {
	base := string(readFile(t, filepath.Join("testdata", "rules", "base.yaml")))
	edited := edit(t, base, "  /pets/{petId}:\n", "  /pe|ts/{petId}:\n", "summary: List pets", "summary: List all pets")
	rep, err := Compare(parseFixture(t, "old", []byte(base)), parseFixture(t, "new", []byte(edited)), nil)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Total)
	require.Equal(t, 1, rep.Breaking)

	var js bytes.Buffer
	require.NoError(t, rep.Write(&js, FormatJSON))
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &decoded))
	require.EqualValues(t, 3, decoded["total"])
	require.EqualValues(t, 1, decoded["breaking"])
	first := decoded["changes"].([]any)[0].(map[string]any)
	keys := make([]string, 0, len(first))
	for k := range first {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"pointer", "line", "column", "kind", "object", "level", "breaking", "rule", "message", "old", "new"}, keys)

	var txt bytes.Buffer
	require.NoError(t, rep.Write(&txt, FormatText))
	require.Contains(t, txt.String(), "3 changes, 1 breaking, 0 warnings (rules default@catalogue-")
	require.Contains(t, txt.String(), "! removed  path           /paths/~1pets~1{petId} (line 51) [path-removed]")
	require.Contains(t, txt.String(), "List pets → List all pets")

	var md bytes.Buffer
	require.NoError(t, rep.Write(&md, FormatMarkdown))
	require.Contains(t, md.String(), "**3 changes, 1 breaking, 0 warnings**")
	require.Contains(t, md.String(), "| ⛔ breaking | removed | path | `/paths/~1pets~1{petId}` | 51 | `path-removed` |")
	require.Contains(t, md.String(), "`/paths/~1pe\\|ts~1{petId}`")

	require.ErrorContains(t, rep.Write(&md, "html"), `unknown format "html"`)
}

func TestEmptyReportJSON(t *testing.T) {
	doc := parseFixture(t, "a", readFile(t, filepath.Join("testdata", "rules", "base.yaml")))
	rep, err := Compare(doc, doc, nil)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, rep.Write(&b, FormatJSON))
	require.Contains(t, b.String(), `"changes": [],`)
}

// Compare may run concurrently on shared documents and rules.
func TestCompareConcurrently(t *testing.T) {
	base := string(readFile(t, filepath.Join("testdata", "rules", "base.yaml")))
	oldDoc := parseFixture(t, "old", []byte(base))
	newDoc := parseFixture(t, "new", []byte(edit(t, base, "        tag:\n", "        age:\n          type: integer\n        tag:\n")))
	strict, err := LoadRules(filepath.Join("testdata", "rules", "strict.yaml"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rules := DefaultRules()
			if i%2 == 1 {
				rules = strict
			}
			rep, err := Compare(oldDoc, newDoc, rules)
			if err == nil && (rep.Total != 1 || rep.Changes[0].Pointer != "/components/schemas/Pet/properties/age") {
				err = errors.New("unexpected report")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// A response whose $ref switches to another component both documents have
// is reported where it switched: neither component changed.
func TestRefSwitchIsReportedWhereItSwitched(t *testing.T) {
	doc := func(ref string) string {
		return "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /rollback:\n    post:\n      responses:\n        \"200\":\n          description: ok\n" +
			"          content:\n            application/json:\n              schema: {$ref: \"#/components/schemas/" + ref + "\"}\n" +
			"components:\n  schemas:\n    DeploymentStatus: {type: object, properties: {replicas: {type: integer}}}\n" +
			"    Status: {type: object, properties: {code: {type: integer}}}\n"
	}
	rep := compareText(t, doc("DeploymentStatus"), doc("Status"))
	require.NotEmpty(t, rep.Changes)
	for _, c := range rep.Changes {
		require.True(t, strings.HasPrefix(c.Pointer, "/paths/~1rollback/post/responses/200/content/application~1json/schema"), "%s %s", c.Rule, c.Pointer)
	}
	require.Contains(t, rulesIn(rep), "response-optional-property-removed")
}

// A $ref inside example data is shown as the document has it, not as the
// key the parser hides it under from libopenapi.
func TestExampleRefsShowAsWritten(t *testing.T) {
	doc := func(target string) string {
		return "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /users:\n    post:\n      requestBody:\n        content:\n          application/scim+json:\n" +
			"            schema: {type: object}\n            example: {schemas: [urn], meta: {$ref: \"" + target + "\"}}\n" +
			"      responses:\n        \"204\": {description: ok}\n"
	}
	rep := compareText(t, doc("https://example.com/v2/Users/1"), doc("https://example.com/v2/Users/2"))
	ch := rulesIn(rep)["example-changed"]
	require.Contains(t, fmt.Sprint(ch.New), `"$ref":"https://example.com/v2/Users/2"`, "%+v", rep.Changes)
	require.NotContains(t, fmt.Sprint(ch.New), spec.InertRefKey)
}
