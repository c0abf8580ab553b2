package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func TestParseSummaries(t *testing.T) {
	tests := []struct {
		file string
		want Summary
	}{
		{"petstore.yaml", Summary{Family: FamilyOpenAPI30, Version: "3.0.3", Title: "Petstore", APIVersion: "1.0.0", Paths: 2, Operations: 3, Schemas: 2}},
		{"petstore-reordered.json", Summary{Family: FamilyOpenAPI30, Version: "3.0.3", Title: "Petstore", APIVersion: "1.0.0", Paths: 2, Operations: 3, Schemas: 2}},
		{"swagger.yaml", Summary{Family: FamilySwagger2, Version: "2.0", Title: "Legacy", APIVersion: "2.1", Paths: 1, Operations: 2, Schemas: 2}},
		{"circular.yaml", Summary{Family: FamilyOpenAPI31, Version: "3.1.0", Title: "Trees", APIVersion: "1", Paths: 1, Operations: 1, Schemas: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := Parse(tt.file, readFixture(t, tt.file), Options{})
			require.NoError(t, err)
			require.Equal(t, tt.want, doc.Summary)
			require.Equal(t, tt.file, doc.Source)
			lib, err := doc.Model()
			require.NoError(t, err)
			require.NotNil(t, lib)
		})
	}
}

// Swagger 2 stays Swagger 2: canonical output keeps the swagger key and definitions.
func TestSwaggerIsNotConverted(t *testing.T) {
	doc, err := Parse("legacy", readFixture(t, "swagger.yaml"), Options{})
	require.NoError(t, err)
	require.Contains(t, string(doc.Canonical), `"swagger": "2.0"`)
	require.Contains(t, string(doc.Canonical), `"definitions": {`)
	require.NotContains(t, string(doc.Canonical), `"openapi"`)
}

// Circular $refs are legal OpenAPI (recursive schemas): parse and model build succeed.
func TestCircularRefsAreAccepted(t *testing.T) {
	doc, err := Parse("trees", readFixture(t, "circular.yaml"), Options{})
	require.NoError(t, err)
	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	node := m.Model.Components.Schemas.GetOrZero("Node").Schema()
	require.NotNil(t, node)
	require.Equal(t, []string{"value", "parent"}, node.Required)
	// a second call reuses the built model
	lib2, err := doc.Model()
	require.NoError(t, err)
	require.Same(t, lib, lib2)
}

func TestNormalizeIsCanonical(t *testing.T) {
	want, err := normalize(readFixture(t, "petstore.yaml"))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(want), "}\n"))
	require.Contains(t, string(want), "\n  \"components\": {\n")
	require.Contains(t, string(want), `"example": 1.50`, "numbers are kept as written")
	require.Less(t, strings.Index(string(want), `"components"`), strings.Index(string(want), `"info"`))

	for _, file := range []string{"petstore.yaml", "petstore-reordered.json", "petstore-restyled.yaml"} {
		t.Run(file, func(t *testing.T) {
			data := readFixture(t, file)
			got, err := normalize(data)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
			doc, err := Parse(file, data, Options{})
			require.NoError(t, err)
			require.Equal(t, string(want), string(doc.Canonical))
		})
	}
}

func TestNormalizeScalars(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"yaml hex and octal ints", "a: 0x1F\nb: 0o17\nc: -12\n", "{\n  \"a\": 31,\n  \"b\": 15,\n  \"c\": -12\n}\n"},
		{"floats kept or converted", "a: 1.50\nb: 1e3\nc: .5\nd: .inf\n", "{\n  \"a\": 1.50,\n  \"b\": 1e3,\n  \"c\": 0.5,\n  \"d\": \".inf\"\n}\n"},
		{"null bool and dates", "a: ~\nb: true\nc: 2024-01-02\nd: '0012'\n", "{\n  \"a\": null,\n  \"b\": true,\n  \"c\": \"2024-01-02\",\n  \"d\": \"0012\"\n}\n"},
		{"anchors and merge keys", "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "{\n  \"base\": {\n    \"x\": 1,\n    \"y\": 2\n  },\n  \"use\": {\n    \"x\": 1,\n    \"y\": 3\n  }\n}\n"},
		{"json numbers exact", `{"big": 12345678901234567890, "f": 1.000, "html": "<a>&"}`, "{\n  \"big\": 12345678901234567890,\n  \"f\": 1.000,\n  \"html\": \"<a>&\"\n}\n"},
		{"empty containers", "a: {}\nb: []\n", "{\n  \"a\": {},\n  \"b\": []\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalize([]byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestParseRefusals(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		opts    Options
		kind    string
		line    int
		contain string
	}{
		{"garbage", []byte("openapi: 3.0.0\ninfo: [unclosed\n  title: x: y\n"), Options{}, KindNotStructured, 3, "not YAML or JSON"},
		{"broken json", []byte("{\"openapi\": \"3.0.0\",\n \"info\": {,}\n}"), Options{}, KindNotStructured, 2, "invalid character"},
		{"plain text", []byte("<html><body>502 Bad Gateway</body></html>\n"), Options{}, KindNotStructured, 0, "plain text"},
		{"empty", []byte("  \n"), Options{}, KindNotStructured, 0, "empty"},
		{"yaml not a spec", []byte("name: my-service\nreplicas: 3\n"), Options{}, KindNotAPISpec, 1, "no top-level `openapi` or `swagger` key"},
		{"json list not a spec", []byte(`[{"openapi": "3.0.0"}]`), Options{}, KindNotAPISpec, 1, "not an OpenAPI or Swagger document"},
		{"openapi 2.0 mislabelled", []byte("openapi: 2.0\ninfo: {title: x, version: '1'}\npaths: {}\n"), Options{}, KindInvalid, 1, "swagger (2.0)"},
		{"unsupported 3.2", []byte("openapi: 3.2.0\ninfo: {title: x, version: '1'}\npaths: {}\n"), Options{}, KindInvalid, 1, `unsupported openapi version "3.2.0"`},
		{"duplicate keys", []byte("openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\npaths: {}\n"), Options{}, KindInvalid, 4, "already defined"},
		{"broken ref, strict", readFixture(t, "broken-ref.yaml"), Options{Strict: true}, KindBrokenRef, 14, `"#/components/schemas/Missing" points to nothing in this document at /paths/~1a/get/responses/200/content/application~1json/schema/$ref (strict mode`},
		{"billion laughs", readFixture(t, "billion-laughs.yaml"), Options{}, KindTooComplex, 10, "alias expansions"},
		{"too deep", readFixture(t, "deep.yaml"), Options{}, KindTooComplex, 4, "nesting deeper than 256 levels"},
		{"too big", readFixture(t, "petstore.yaml"), Options{MaxBytes: 100}, KindTooComplex, 0, "more than the 100 allowed"},
		{"invalid utf8", readFixture(t, "invalid-utf8.yaml"), Options{}, KindInvalidUTF8, 3, "byte 0xe9"},
		{"remote ref", readFixture(t, "remote-ref.yaml"), Options{}, KindRefNotAllowed, 8, "remote reference"},
		{"file ref", readFixture(t, "file-ref.yaml"), Options{}, KindRefNotAllowed, 5, `file reference "./paths/a.yaml"`},
		{"file ref allowed but missing, strict", readFixture(t, "file-ref.yaml"), Options{AllowFileRefs: true, BaseDir: t.TempDir(), Strict: true}, KindBrokenRef, 5, "paths/a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse("payments", tt.data, tt.opts)
			if err == nil {
				// some problems only show when libopenapi builds the model
				_, err = doc.Model()
			}
			require.Error(t, err)
			var se *Error
			require.True(t, errors.As(err, &se), "error %v is not a *spec.Error", err)
			require.Equal(t, tt.kind, se.Kind, "error: %v", err)
			require.Equal(t, "payments", se.Source)
			if tt.line > 0 {
				require.Equal(t, tt.line, se.Line, "error: %v", err)
			}
			require.Contains(t, err.Error(), tt.contain)
			require.True(t, strings.HasPrefix(err.Error(), `spec "payments": `), err.Error())
		})
	}
}

func TestErrorFormat(t *testing.T) {
	cause := errors.New("yaml: bad")
	err := &Error{Source: "payments", Kind: KindNotStructured, Line: 3, Column: 5, Msg: "did not find expected key", Err: cause}
	require.Equal(t, `spec "payments": line 3, column 5: not YAML or JSON: did not find expected key`, err.Error())
	require.ErrorIs(t, err, cause)
}

func TestAliasLimitIsConfigurable(t *testing.T) {
	data := []byte("openapi: 3.0.3\ninfo: {title: a, version: '1'}\npaths: {}\nx-a: &a {k: v}\nx-b: [*a, *a, *a]\n")
	_, err := Parse("aliases", data, Options{MaxAliases: 2})
	var se *Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, KindTooComplex, se.Kind)
	doc, err := Parse("aliases", data, Options{})
	require.NoError(t, err)
	require.Contains(t, string(doc.Canonical), "\"x-b\": [\n    {\n      \"k\": \"v\"\n    },")
}

// The direct canonical writer must produce exactly what encoding/json
// produces for the same values (sorted keys, indent, escaping).
func TestCanonicalMatchesEncodingJSON(t *testing.T) {
	for _, file := range []string{"petstore.yaml", filepath.Join("..", "..", "diff", "testdata", "real", "stripe-2021-06-16.yaml")} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data := readFixture(t, file)
			doc, err := Parse(file, data, Options{})
			require.NoError(t, err)
			v, err := nodeValue(doc.Root())
			require.NoError(t, err)
			v = restoreRefKeys(v) // Root marks data refs inert; Canonical keeps them
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(v))
			require.Equal(t, want.String(), string(doc.Canonical))
		})
	}
	got, err := normalize([]byte("s: \"tab\\t quote\\\" ctrl\\u0001 ls\\u2028 <&>\"\n"))
	require.NoError(t, err)
	require.Equal(t, "{\n  \"s\": \"tab\\t quote\\\" ctrl\\u0001 ls\\u2028 <&>\"\n}\n", string(got))
}

// restoreRefKeys undoes InertRefKey in a decoded value.
func restoreRefKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k == InertRefKey {
				k = "$ref"
			}
			out[k] = restoreRefKeys(x)
		}
		return out
	case []any:
		for i, x := range v {
			v[i] = restoreRefKeys(x)
		}
	}
	return v
}

func TestCanonicalJSON(t *testing.T) {
	v := map[string]any{
		"b": []any{json.Number("1.50"), true, nil},
		"a": map[string]any{"z": "x", "y": map[string]any{}},
		"s": "<&> \"q\" \\ \n\t\x01 \x7f \u0085 \u2028 \ufeff",
	}
	escaped := `"<&> \"q\" \\ \n\t\u0001 \u007f \u0085 \u2028 \ufeff"`
	require.Equal(t, `{"a":{"y":{},"z":"x"},"b":[1.50,true,null],"s":`+escaped+`}`, string(CanonicalJSON(v, false)))

	indented := CanonicalJSON(v, true)
	require.Equal(t, "{\n  \"a\": {\n    \"y\": {},\n    \"z\": \"x\"\n  },\n  \"b\": [\n    1.50,\n    true,\n    null\n  ],\n  \"s\": "+escaped+"\n}\n", string(indented))
	normalized, err := normalize(CanonicalJSON(v, false))
	require.NoError(t, err)
	require.Equal(t, string(indented), string(normalized), "one encoder: normalize writes what CanonicalJSON writes")
	require.Equal(t, `"a\ufffdb"`, string(CanonicalJSON("a\xffb", false)), "invalid UTF-8")
}

// An empty list written as `parameters:` (null) means none: the model keeps
// the operation's responses, which libopenapi would drop with the whole path
// item, and the canonical form keeps the document as written.
func TestNullListsReadAsNone(t *testing.T) {
	src := "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /pets:\n    parameters:\n    get:\n      parameters:\n      tags:\n      security:\n      responses:\n        \"200\": {description: ok}\n"
	doc, err := Parse("nulls", []byte(src), Options{})
	require.NoError(t, err)
	require.Contains(t, string(doc.Canonical), `"parameters": null`)
	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	get := m.Model.Paths.PathItems.GetOrZero("/pets").Get
	require.NotNil(t, get)
	require.NotNil(t, get.Responses)
	require.NotNil(t, get.Responses.Codes.GetOrZero("200"))
	require.Empty(t, get.Parameters)
}
