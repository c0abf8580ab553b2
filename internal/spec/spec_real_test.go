package spec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/spec"
)

const patterns = "testdata/real-patterns"

// fileOptions are the options a file source gets: relative refs read under
// its own directory.
func fileOptions(file string) spec.Options {
	return spec.Options{AllowFileRefs: true, BaseDir: filepath.Dir(file)}
}

func parseFile(t *testing.T, file string, opts spec.Options) *spec.Document {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	doc, err := spec.Parse(filepath.Base(file), data, opts)
	require.NoError(t, err)
	_, err = doc.Model()
	require.NoError(t, err)
	return doc
}

// Published spec patterns that used to be refused parse, diff (through
// internal/diff, as sync does) and diff to nothing against themselves.
func TestRealPatternsParseAndDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		// warnings expected on the new version (pointer: message substring)
		warnings map[string]string
		// a change the diff must report, by pointer prefix
		change string
	}{
		{
			name: "github: $ref keys inside SCIM example payloads are data",
			old:  "github-scim-v1.yaml", new: "github-scim-v2.yaml",
			change: "/components/schemas/scim-enterprise-group/required",
		},
		{
			// libopenapi's diff does not follow an unchanged $ref into another
			// file, so only the root's own change shows.
			name: "azure: x-ms-examples files and definitions beside the spec",
			old:  "azure-v1/widgets.json", new: "azure-v2/widgets.json",
			change: "/info/version",
		},
		{
			name: "square: a dangling #/definitions ref is a warning, the rest diffs",
			old:  "square-dangling-v1.json", new: "square-dangling-v2.json",
			warnings: map[string]string{
				"/definitions/Tender/properties/card_details/$ref":       `"#/definitions/TenderCardDetails" points to nothing in this document`,
				"/definitions/Transaction/properties/refunds/items/$ref": `"#/definitions/Refund" points to nothing`,
			},
			change: "/definitions/CreateCheckoutRequest/properties/merchant_support_email",
		},
		{
			name: "openapi 3.1: schema examples, default and Example Object values are data",
			old:  "oas31-schema-examples.yaml", new: "oas31-schema-examples.yaml",
		},
		{
			name: "swagger 2: response examples are data",
			old:  "swagger2-response-examples.yaml", new: "swagger2-response-examples.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldFile, newFile := filepath.Join(patterns, tt.old), filepath.Join(patterns, tt.new)
			oldDoc := parseFile(t, oldFile, fileOptions(oldFile))
			newDoc := parseFile(t, newFile, fileOptions(newFile))

			got := map[string]string{}
			for _, w := range newDoc.Summary.Warnings {
				require.Positive(t, w.Line, "warning %+v has a line", w)
				got[w.Pointer] = w.Message
			}
			require.Len(t, got, len(tt.warnings), "warnings: %+v", newDoc.Summary.Warnings)
			for ptr, msg := range tt.warnings {
				require.Contains(t, got[ptr], msg, "warning at %s", ptr)
			}

			if strings.HasPrefix(tt.old, "azure") {
				// the definitions beside the spec are resolved into the model
				lib, err := newDoc.Model()
				require.NoError(t, err)
				m, err := lib.BuildV2Model()
				require.NoError(t, err)
				props := m.Model.Definitions // only the root's definitions
				require.Nil(t, props)
				op := m.Model.Paths.PathItems.GetOrZero("/subscriptions/{subscriptionId}/providers/Contoso.Widgets/widgets/{widgetName}").Get
				widget := op.Responses.Codes.GetOrZero("200").Schema.Schema()
				require.NotNil(t, widget)
				inner := widget.Properties.GetOrZero("properties").Schema()
				require.NotNil(t, inner)
				require.NotNil(t, inner.Properties.GetOrZero("weight"), "v2's new property is in the model")
			}
			rep, err := diff.Compare(oldDoc, newDoc, diff.DefaultRules())
			require.NoError(t, err)
			if tt.change != "" {
				require.True(t, hasChange(rep, tt.change), "no change under %s in %s", tt.change, pointers(rep))
			}
			same, err := diff.Compare(newDoc, parseFile(t, newFile, fileOptions(newFile)), diff.DefaultRules())
			require.NoError(t, err)
			require.Zero(t, same.Total, "diff(A, A) is empty: %s", pointers(same))
		})
	}
}

func hasChange(rep *diff.Report, prefix string) bool {
	for _, c := range rep.Changes {
		if strings.HasPrefix(c.Pointer, prefix) {
			return true
		}
	}
	return false
}

func pointers(rep *diff.Report) string {
	var ps []string
	for _, c := range rep.Changes {
		ps = append(ps, c.Kind+" "+c.Pointer)
	}
	return strings.Join(ps, ", ")
}

// The stored (canonical) form keeps every $ref as written, data or dangling.
func TestCanonicalKeepsDataRefs(t *testing.T) {
	file := filepath.Join(patterns, "github-scim-v1.yaml")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	doc, err := spec.Parse("github", data, spec.Options{})
	require.NoError(t, err)
	require.Contains(t, string(doc.Canonical), `"$ref": "https://api.github.localhost/scim/v2/Users/879d"`)
	require.NotContains(t, string(doc.Canonical), "inert")
	_, err = doc.Model()
	require.NoError(t, err)

	file = filepath.Join(patterns, "square-dangling-v1.json")
	data, err = os.ReadFile(file)
	require.NoError(t, err)
	doc, err = spec.Parse("square", data, spec.Options{})
	require.NoError(t, err)
	require.Contains(t, string(doc.Canonical), `"$ref": "#/definitions/TenderCardDetails"`)
	require.Equal(t, []spec.Warning{{
		Pointer: "/definitions/Tender/properties/card_details/$ref", Line: 55, Column: 34,
		Message: `$ref "#/definitions/TenderCardDetails" points to nothing in this document`,
	}}, doc.Summary.Warnings)
}

// Strict mode refuses a dangling reference, naming source, pointer and line.
func TestStrictRefusesDanglingRefs(t *testing.T) {
	file := filepath.Join(patterns, "square-dangling-v1.json")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	_, err = spec.Parse("square", data, spec.Options{Strict: true})
	var se *spec.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindBrokenRef, se.Kind)
	require.Equal(t, 55, se.Line)
	require.Equal(t, `spec "square": line 55, column 34: broken $ref: $ref "#/definitions/TenderCardDetails" points to nothing in this document at /definitions/Tender/properties/card_details/$ref (strict mode refuses dangling references)`, err.Error())

	// a referenced file that does not exist is dangling too
	dir := t.TempDir()
	writeFile(t, dir, "api.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: ./paths/a.yaml\n")
	_, err = spec.Parse("files", readFile(t, dir, "api.yaml"), spec.Options{AllowFileRefs: true, BaseDir: dir, Strict: true})
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindBrokenRef, se.Kind)
	require.Equal(t, 5, se.Line)
	doc, err := spec.Parse("files", readFile(t, dir, "api.yaml"), spec.Options{AllowFileRefs: true, BaseDir: dir})
	require.NoError(t, err)
	require.Len(t, doc.Summary.Warnings, 1)
	require.Equal(t, "/paths/~1a/$ref", doc.Summary.Warnings[0].Pointer)
	_, err = doc.Model()
	require.NoError(t, err)
}

// Warnings stay bounded whatever the number of dangling refs.
func TestWarningsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\ndefinitions:\n  A:\n    properties:\n")
	for i := range spec.MaxWarnings + 5 {
		fmt.Fprintf(&b, "      p%d: {$ref: '#/definitions/Missing%d'}\n", i, i)
	}
	doc, err := spec.Parse("many", []byte(b.String()), spec.Options{})
	require.NoError(t, err)
	require.Len(t, doc.Summary.Warnings, spec.MaxWarnings)
	require.Equal(t, 5, doc.Summary.MoreWarnings)
	_, err = doc.Model()
	require.NoError(t, err)
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return data
}

// File sources read references under their own directory only.
func TestFileRefsStayUnderTheSourceDirectory(t *testing.T) {
	outer := t.TempDir()
	dir := filepath.Join(outer, "api")
	writeFile(t, outer, "secret.yaml", "type: string\n")
	writeFile(t, dir, "schemas/pet.yaml", "type: object\nproperties:\n  name: {type: string}\n  tag: {$ref: '../common.yaml#/Tag'}\n")
	writeFile(t, dir, "common.yaml", "Tag: {type: string}\n")
	require.NoError(t, os.Symlink(filepath.Join(outer, "secret.yaml"), filepath.Join(dir, "link.yaml")))
	head := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: "

	tests := []struct {
		name, ref, kind, contain string
	}{
		{"nested relative refs", "./schemas/pet.yaml", "", ""},
		{"dot-dot escape", "../secret.yaml", spec.KindRefNotAllowed, "leaves the source's directory"},
		{"symlink out", "./link.yaml", spec.KindRefNotAllowed, "link.yaml"},
		{"absolute path", filepath.Join(outer, "secret.yaml"), spec.KindRefNotAllowed, "absolute path"},
		{"url from a file source", "https://example.com/pet.yaml", spec.KindRefNotAllowed, "files beside it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(head + tt.ref + "\n")
			doc, err := spec.Parse("pets", data, spec.Options{AllowFileRefs: true, BaseDir: dir})
			if tt.kind == "" {
				require.NoError(t, err)
				require.Empty(t, doc.Summary.Warnings)
				lib, err := doc.Model()
				require.NoError(t, err)
				m, err := lib.BuildV3Model()
				require.NoError(t, err)
				op := m.Model.Paths.PathItems.GetOrZero("/pets").Get
				schema := op.Responses.Codes.GetOrZero("200").Content.GetOrZero("application/json").Schema.Schema()
				require.NotNil(t, schema)
				require.NotNil(t, schema.Properties.GetOrZero("tag").Schema())
				return
			}
			var se *spec.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.kind, se.Kind, "error: %v", err)
			require.Equal(t, 12, se.Line)
			require.Contains(t, err.Error(), tt.contain)
		})
	}
}

// URL sources read references on their own origin, through the injected
// resolver, within count and size limits.
func TestURLRefsThroughResolver(t *testing.T) {
	served := map[string]string{
		"https://api.example.com/v1/schemas/pet.yaml":   "type: object\nproperties:\n  owner: {$ref: 'owner.yaml'}\n",
		"https://api.example.com/v1/schemas/owner.yaml": "type: object\nproperties:\n  name: {type: string}\n",
	}
	var asked []string
	resolve := func(_ context.Context, u string) ([]byte, error) {
		asked = append(asked, u)
		if s, ok := served[u]; ok {
			return []byte(s), nil
		}
		return nil, errors.New("404 Not Found")
	}
	head := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: "
	opts := spec.Options{BaseURL: "https://api.example.com/v1/openapi.yaml", Resolve: resolve}

	doc, err := spec.ParseContext(t.Context(), "pets", []byte(head+"./schemas/pet.yaml\n"), opts)
	require.NoError(t, err)
	require.Empty(t, doc.Summary.Warnings)
	require.Equal(t, []string{"https://api.example.com/v1/schemas/pet.yaml", "https://api.example.com/v1/schemas/owner.yaml"}, asked)
	lib, err := doc.Model()
	require.NoError(t, err)
	m, err := lib.BuildV3Model()
	require.NoError(t, err)
	schema := m.Model.Paths.PathItems.GetOrZero("/pets").Get.Responses.Codes.GetOrZero("200").Content.GetOrZero("application/json").Schema.Schema()
	require.NotNil(t, schema.Properties.GetOrZero("owner").Schema())

	_, err = spec.Parse("pets", []byte(head+"https://evil.example.net/pet.yaml\n"), opts)
	var se *spec.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, spec.KindRefNotAllowed, se.Kind)
	require.Contains(t, err.Error(), "not on the source's origin https://api.example.com")

	limited := opts
	limited.MaxRefDocs = 1
	_, err = spec.Parse("pets", []byte(head+"./schemas/pet.yaml\n"), limited)
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "more than 1 referenced documents")

	small := opts
	source := []byte(head + "./schemas/pet.yaml\n")
	small.MaxBytes = int64(len(source) + 100) // pet.yaml fits, owner.yaml does not
	_, err = spec.Parse("pets", source, small)
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "exceed")

	doc, err = spec.Parse("pets", []byte(head+"./schemas/gone.yaml\n"), opts)
	require.NoError(t, err)
	require.Len(t, doc.Summary.Warnings, 1)
	require.Contains(t, doc.Summary.Warnings[0].Message, "404 Not Found")
}
