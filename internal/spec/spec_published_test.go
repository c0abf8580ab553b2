package spec_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// parseModel parses data and builds its model, failing the test on any error.
func parseModel(t *testing.T, name string, data string, opts spec.Options) *spec.Document {
	t.Helper()
	doc, err := spec.Parse(name, []byte(data), opts)
	require.NoError(t, err)
	_, err = doc.Model()
	require.NoError(t, err)
	return doc
}

// Names in components maps, headers and properties that start with x- are
// names, not extensions: references to them resolve wherever they are made.
func TestComponentNamesStartingWithX(t *testing.T) {
	const api = `openapi: 3.1.0
info: {title: hooks, version: "1"}
paths:
  /hook:
    post:
      parameters: [{$ref: '#/components/parameters/x-trace'}]
      responses:
        "200": {$ref: '#/components/responses/Accepted'}
        x-internal-note: {$ref: '#/components/responses/Nowhere'}
  x-unlisted: {$ref: '#/nowhere/at/all'}
components:
  headers:
    x-hook-signature:
      description: HMAC of the body
      schema: {type: string}
  parameters:
    x-trace: {name: x-trace, in: header, schema: {$ref: '#/components/schemas/x-token'}}
  schemas:
    x-token: {type: string, minLength: 8}
    Event:
      type: object
      properties:
        x-kind: {$ref: '#/components/schemas/x-token'}
  responses:
    Accepted:
      description: taken
      headers:
        x-hook-signature: {$ref: '#/components/headers/x-hook-signature'}
`
	doc := parseModel(t, "hooks", api, spec.Options{Strict: true})
	require.Empty(t, doc.Summary.Warnings)
	require.Equal(t, 1, doc.Summary.Paths, "x-unlisted is an extension of paths")
	require.Equal(t, 1, doc.Summary.Operations)
	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	h := m.Model.Components.Responses.GetOrZero("Accepted").Headers.GetOrZero("x-hook-signature")
	require.NotNil(t, h)
	require.Equal(t, "HMAC of the body", h.Description)
	p := m.Model.Components.Schemas.GetOrZero("Event").Schema().Properties.GetOrZero("x-kind").Schema()
	require.Equal(t, int64(8), *p.MinLength)

	// a name is still checked: a missing x- component is a dangling ref
	broken := `openapi: 3.0.3
info: {title: hooks, version: "1"}
paths: {}
components:
  responses:
    Accepted:
      description: taken
      headers:
        x-sig: {$ref: '#/components/headers/x-sig'}
`
	doc = parseModel(t, "hooks", broken, spec.Options{})
	require.Len(t, doc.Summary.Warnings, 1)
	require.Equal(t, "/components/responses/Accepted/headers/x-sig/$ref", doc.Summary.Warnings[0].Pointer)
}

// A $ref inside an x- extension is data: never resolved, never a warning,
// wherever the extension sits. A real $ref that points into an extension is
// checked like any other, through data $refs it lands on.
func TestExtensionRefsAreData(t *testing.T) {
	const api = `openapi: 3.0.3
info: {title: shop, version: "1"}
paths: {}
components:
  x-rules:
    catalog: {$ref: '../rules.yaml'}
    list:
      - {$ref: '#/components/x-rules/catalog/Resale'}
    Plain: {type: string, maxLength: 3}
    Alias: {$ref: '#/components/schemas/Count'}
    Lost: {$ref: '#/components/schemas/Gone'}
    Away: {$ref: 'elsewhere.yaml#/Thing'}
  schemas:
    Count:
      type: integer
      x-audit: {$ref: '#/components/schemas/NotThere'}
      x-rule-list: [{$ref: '#/components/x-rules/catalog/Resale'}]
    Code: {$ref: '#/components/x-rules/Plain'}
    Counted: {$ref: '#/components/x-rules/Alias'}
    Lost: {$ref: '#/components/x-rules/Lost'}
    Away: {$ref: '#/components/x-rules/Away'}
`
	doc := parseModel(t, "shop", api, spec.Options{})
	got := map[string]string{}
	for _, w := range doc.Summary.Warnings {
		got[w.Pointer] = w.Message
	}
	require.Len(t, got, 2, "warnings: %+v", doc.Summary.Warnings)
	require.Contains(t, got["/components/schemas/Lost/$ref"], "inside data")
	require.Contains(t, got["/components/schemas/Away/$ref"], "inside data")
	require.Contains(t, string(doc.Canonical), `"$ref": "#/components/schemas/NotThere"`, "canonical keeps the document as written")
	require.Contains(t, string(doc.Canonical), `"$ref": "#/components/x-rules/Alias"`)

	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	schemas := m.Model.Components.Schemas
	require.Equal(t, int64(3), *schemas.GetOrZero("Code").Schema().MaxLength, "a ref into an extension resolves")
	require.Equal(t, []string{"integer"}, schemas.GetOrZero("Counted").Schema().Type, "through the extension's own $ref")

	_, err = spec.Parse("shop", []byte(api), spec.Options{Strict: true})
	var se *spec.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindBrokenRef, se.Kind)

	// without the refs into it, the extension alone never fails, even strict
	const quiet = `openapi: 3.0.3
info: {title: shop, version: "1"}
paths: {}
components:
  x-rules:
    catalog: {$ref: '../rules.yaml'}
  schemas:
    Count:
      type: integer
      x-audit: {$ref: '#/components/schemas/NotThere'}
`
	doc = parseModel(t, "shop", quiet, spec.Options{Strict: true})
	require.Empty(t, doc.Summary.Warnings)
}

// A path item in its own file may carry file $refs in extensions (code
// samples): data, never read. Its operations count.
func TestPathItemFilesWithExtensionRefs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "api/openapi.yaml", `openapi: 3.1.0
info: {title: cafe, version: "1"}
paths:
  /menu:
    $ref: paths/menu.yaml
  /orders:
    $ref: paths/orders.yaml#/item
`)
	writeFile(t, dir, "api/paths/menu.yaml", `get:
  x-codeSamples:
    - lang: shell
      source: {$ref: ../samples/menu.sh}
    - lang: go
      source: {$ref: ../samples/missing.go}
  responses:
    "200": {description: the menu}
post:
  responses:
    "201": {description: added}
`)
	writeFile(t, dir, "api/paths/orders.yaml", `item:
  get:
    x-note: {$ref: '#/nowhere'}
    responses:
      "200": {description: orders}
`)
	writeFile(t, dir, "api/samples/menu.sh", "curl https://cafe.example/menu\n")
	file := filepath.Join(dir, "api", "openapi.yaml")
	doc := parseFile(t, file, fileOptions(file))
	require.Empty(t, doc.Summary.Warnings)
	require.Equal(t, 2, doc.Summary.Paths)
	require.Equal(t, 3, doc.Summary.Operations)
}

// Some published specs give a whole components map, a properties map or an
// examples map as a $ref to a file. That is not OpenAPI, but with file refs
// allowed the map is read from its file, whose own refs resolve there.
func TestWholeMapRefs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "openapi.yaml", `openapi: 3.1.0
info: {title: mail, version: "1"}
security: [{key: []}]
paths:
  /letters:
    post:
      requestBody: {$ref: '#/components/requestBodies/Letter'}
      responses:
        "200":
          description: sent
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Receipt'}
              examples: {$ref: './parts/examples.yaml'}
components:
  securitySchemes: {$ref: './parts/security.yaml'}
  schemas: {$ref: './parts/schemas.yaml'}
  requestBodies:
    $ref: './parts/bodies.yaml'
    Extra: {content: {text/plain: {schema: {type: string}}}}
`)
	writeFile(t, dir, "parts/security.yaml", "key: {type: apiKey, in: header, name: X-Key}\n")
	writeFile(t, dir, "parts/schemas.yaml", `Receipt:
  type: object
  properties:
    $ref: './fields.yaml#/receipt'
Letter:
  type: object
  properties:
    to: {$ref: '#/Address'}
Address: {type: string, format: email}
`)
	writeFile(t, dir, "parts/fields.yaml", "receipt:\n  id: {type: string, maxLength: 12}\n  at: {type: string, format: date-time}\n")
	writeFile(t, dir, "parts/bodies.yaml", "Letter:\n  content:\n    application/json:\n      schema: {$ref: './schemas.yaml#/Letter'}\n")
	writeFile(t, dir, "parts/examples.yaml", "short: {value: {id: abc}}\n")
	file := filepath.Join(dir, "openapi.yaml")
	doc := parseFile(t, file, spec.Options{AllowFileRefs: true, BaseDir: dir, Strict: true})
	require.Equal(t, 3, doc.Summary.Schemas)
	require.NotContains(t, string(doc.Canonical), "schemas.yaml#/Receipt", "canonical keeps the document as written")

	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	c := m.Model.Components
	require.Equal(t, "X-Key", c.SecuritySchemes.GetOrZero("key").Name)
	require.NotNil(t, c.RequestBodies.GetOrZero("Extra"))
	to := c.RequestBodies.GetOrZero("Letter").Content.GetOrZero("application/json").Schema.Schema().Properties.GetOrZero("to").Schema()
	require.Equal(t, "email", to.Format, "a ref inside the map's file resolves there")
	receipt := c.Schemas.GetOrZero("Receipt").Schema()
	require.Equal(t, int64(12), *receipt.Properties.GetOrZero("id").Schema().MaxLength, "properties read from their file")
	resp := m.Model.Paths.PathItems.GetOrZero("/letters").Post.Responses.Codes.GetOrZero("200").Content.GetOrZero("application/json")
	require.NotNil(t, resp.Examples.GetOrZero("short"))

	// without file refs, the refusal names the map
	_, err = spec.Parse("mail", readFile(t, dir, "openapi.yaml"), spec.Options{})
	var se *spec.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindRefNotAllowed, se.Kind)
	require.Equal(t, 14, se.Line)
	require.Contains(t, err.Error(), `stands for the whole examples map`)
	_, err = spec.Parse("mail", []byte("openapi: 3.0.3\ninfo: {title: m, version: '1'}\npaths: {}\ncomponents:\n  securitySchemes: {$ref: './parts/security.yaml'}\n"), spec.Options{})
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), `"./parts/security.yaml" at /components/securitySchemes/$ref stands for the whole securitySchemes map`)

	// a missing file, or one that is not a map, is a dangling ref
	writeFile(t, dir, "broken.yaml", `openapi: 3.0.3
info: {title: mail, version: "1"}
paths: {}
components:
  schemas: {$ref: './parts/nothing.yaml'}
  parameters: {$ref: './parts/fields.yaml#/receipt/id/type'}
`)
	doc = parseFile(t, filepath.Join(dir, "broken.yaml"), spec.Options{AllowFileRefs: true, BaseDir: dir})
	got := map[string]string{}
	for _, w := range doc.Summary.Warnings {
		got[w.Pointer] = w.Message
	}
	require.Len(t, got, 2, "warnings: %+v", doc.Summary.Warnings)
	require.Contains(t, got["/components/parameters/$ref"], "not one")
	require.Contains(t, got["/components/schemas/$ref"], "nothing.yaml")

	// a property called $ref is a property when its value is a schema
	doc = parseModel(t, "props", `openapi: 3.1.0
info: {title: p, version: "1"}
paths: {}
components:
  schemas:
    Odd: {type: object, properties: {$ref: {type: string}}}
`, spec.Options{Strict: true})
	require.Empty(t, doc.Summary.Warnings)
}

// Multi-file specs pull in hundreds of documents, some through long chains:
// the defaults take them; the byte limit stays the guard.
func TestManyReferencedDocuments(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: many, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n")
	for i := range 150 {
		fmt.Fprintf(&b, "    S%d: {$ref: './s/s%d.yaml'}\n", i, i)
		writeFile(t, dir, fmt.Sprintf("s/s%d.yaml", i), "type: string\n")
	}
	b.WriteString("    Chain: {$ref: './c/c0.yaml'}\n")
	for i := range 20 {
		writeFile(t, dir, fmt.Sprintf("c/c%d.yaml", i), fmt.Sprintf("type: object\nproperties:\n  next: {$ref: './c%d.yaml'}\n", i+1))
	}
	writeFile(t, dir, "c/c20.yaml", "type: string\n")
	writeFile(t, dir, "api.yaml", b.String())
	file := filepath.Join(dir, "api.yaml")
	doc := parseFile(t, file, fileOptions(file))
	require.Empty(t, doc.Summary.Warnings)

	var se *spec.Error
	_, err := spec.Parse("many", readFile(t, dir, "api.yaml"), spec.Options{AllowFileRefs: true, BaseDir: dir, MaxRefDocs: 100})
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "more than 100 referenced documents")
	_, err = spec.Parse("many", readFile(t, dir, "api.yaml"), spec.Options{AllowFileRefs: true, BaseDir: dir, MaxRefDepth: 10})
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "deeper than 10 documents")
	_, err = spec.Parse("many", readFile(t, dir, "api.yaml"), spec.Options{AllowFileRefs: true, BaseDir: dir, MaxBytes: int64(b.Len() + 500)})
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "exceed")
}

// Options.RefRoot widens where file refs may lead, for a spec that shares
// files with its neighbours (spec/api.json refers to ../common/Problem.json).
// Without it, refs stay under the source's own directory.
func TestRefRootWidensFileRefs(t *testing.T) {
	outer := t.TempDir()
	writeFile(t, outer, "common/Problem.json", `{"type": "object", "properties": {"code": {"$ref": "#/definitions/Code"}}, "definitions": {"Code": {"type": "integer", "maximum": 599}}}`)
	writeFile(t, outer, "spec/pieces.json", `{"limit": {"name": "limit", "in": "query", "type": "integer"}}`)
	writeFile(t, outer, "spec/items.json", `{"get": {"parameters": [{"$ref": "pieces.json#/limit"}], "responses": {"default": {"description": "failed", "schema": {"$ref": "../common/Problem.json"}}}}}`)
	writeFile(t, outer, "secret.yaml", "type: string\n")
	api := `{
  "swagger": "2.0",
  "info": {"title": "shelf", "version": "1"},
  "paths": {
    "/items": {"$ref": "items.json"},
    "/books": {
      "get": {
        "parameters": [{"$ref": "pieces.json#/limit"}],
        "responses": {"default": {"description": "failed", "schema": {"$ref": "../common/Problem.json"}}}
      }
    }
  }
}`
	writeFile(t, outer, "spec/api.json", api)
	dir := filepath.Join(outer, "spec")

	_, err := spec.Parse("shelf", []byte(api), spec.Options{AllowFileRefs: true, BaseDir: dir})
	var se *spec.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindRefNotAllowed, se.Kind)
	require.Contains(t, err.Error(), "leaves the source's directory")

	for _, root := range []string{outer, "/"} {
		doc := parseModel(t, "shelf", api, spec.Options{AllowFileRefs: true, BaseDir: dir, RefRoot: root})
		require.Empty(t, doc.Summary.Warnings)
		require.Equal(t, 2, doc.Summary.Operations, "the path item in items.json counts")
		require.NotContains(t, string(doc.Canonical), `"common/Problem.json"`, "canonical keeps the refs as written")
		lib, err := doc.Model()
		require.NoError(t, err)
		m, err := lib.BuildV2Model()
		require.NoError(t, err)
		for _, p := range []string{"/books", "/items"} {
			op := m.Model.Paths.PathItems.GetOrZero(p).Get
			require.Equal(t, "limit", op.Parameters[0].Name, p)
			code := op.Responses.Default.Schema.Schema().Properties.GetOrZero("code").Schema()
			require.Equal(t, 599.0, *code.Maximum, "%s: a ref inside the shared file resolves there", p)
		}
	}

	// still bounded by RefRoot
	escape := `{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}, "definitions": {"S": {"$ref": "../../secret.yaml"}}}`
	_, err = spec.Parse("shelf", []byte(escape), spec.Options{AllowFileRefs: true, BaseDir: dir, RefRoot: outer})
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindRefNotAllowed, se.Kind)
	require.Contains(t, err.Error(), "the directory file refs must stay under")
	_, err = spec.Parse("shelf", []byte(api), spec.Options{AllowFileRefs: true, BaseDir: outer, RefRoot: dir})
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "is not under RefRoot")

	// OpenAPI 3 the same way
	writeFile(t, outer, "v3/api.yaml", `openapi: 3.0.3
info: {title: shelf, version: "1"}
paths:
  /books:
    get:
      responses:
        default:
          description: failed
          content: {application/json: {schema: {$ref: '../common/Problem.json'}}}
`)
	file := filepath.Join(outer, "v3", "api.yaml")
	doc := parseFile(t, file, spec.Options{AllowFileRefs: true, BaseDir: filepath.Dir(file), RefRoot: outer})
	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	s := m.Model.Paths.PathItems.GetOrZero("/books").Get.Responses.Default.Content.GetOrZero("application/json").Schema.Schema()
	require.Equal(t, 599.0, *s.Properties.GetOrZero("code").Schema().Maximum)
}
