package graphql

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// generateSDL writes a schema of n object types with fields each, plus an
// enum, an input and a union per ten types, all reachable from Query.
func generateSDL(n, fields int) []byte {
	var b bytes.Buffer
	b.WriteString("type Query {\n")
	for i := range n {
		fmt.Fprintf(&b, "  t%d(id: ID!, filter: Filter%d): T%d\n", i, i/10, i)
	}
	b.WriteString("}\n\n")
	for i := range n {
		fmt.Fprintf(&b, "\"\"\"\nType number %d, generated for the benchmark.\n\"\"\"\ntype T%d {\n  id: ID!\n", i, i)
		for f := range fields {
			fmt.Fprintf(&b, "  \"Field %d of T%d.\"\n  field%d(first: Int = 10, after: String): [String!]\n", f, i, f)
		}
		fmt.Fprintf(&b, "  status: Status%d\n}\n\n", i/10)
		if i%10 == 0 {
			fmt.Fprintf(&b, "enum Status%d { ACTIVE INACTIVE LEGACY @deprecated }\n\n", i/10)
			fmt.Fprintf(&b, "input Filter%d { status: Status%d, name: String, limit: Int = 20 }\n\n", i/10, i/10)
			fmt.Fprintf(&b, "union U%d = T%d\n\n", i/10, i)
		}
	}
	return b.Bytes()
}

// largeSchema returns the public GitHub schema when testdata holds it
// (see testdata/LICENSES.md), else a generated schema of about 1.5 MB.
func largeSchema(b *testing.B) (string, []byte) {
	if data, err := os.ReadFile(filepath.Join("testdata", "github.schema.graphql")); err == nil {
		return "github", data
	}
	return "generated", generateSDL(1500, 10)
}

// BenchmarkGqlparserParse is gqlparser's parser alone.
func BenchmarkGqlparserParse(b *testing.B) {
	name, data := largeSchema(b)
	b.Logf("%s schema: %d bytes", name, len(data))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parser.ParseSchema(&ast.Source{Name: name, Input: string(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGqlparserLoad is gqlparser's parse and validation with the
// prelude (plus the duplicate-field fix GitHub's schema needs), the floor
// under Parse.
func BenchmarkGqlparserLoad(b *testing.B) {
	name, data := largeSchema(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		doc, err := parser.ParseSchema(&ast.Source{Name: name, Input: string(data)})
		if err != nil {
			b.Fatal(err)
		}
		dropIdenticalFields(doc)
		prelude := validator.PreludeDocument()
		prelude.Merge(doc)
		if _, err := validator.ValidateSchemaDocument(prelude); err != nil {
			b.Fatal(err)
		}
	}
}

// changeSchema makes nullable String output fields non-null (safe) and
// non-null Boolean fields and arguments nullable (breaking for outputs).
func changeSchema(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte(": String\n"), []byte(": String!\n"))
	return bytes.ReplaceAll(data, []byte(": Boolean!\n"), []byte(": Boolean\n"))
}

// BenchmarkParse is Parse: gqlparser, the tree and the canonical SDL.
func BenchmarkParse(b *testing.B) {
	name, data := largeSchema(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(name, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompare diffs the large schema against a copy with changes
// throughout (parsing excluded).
func BenchmarkCompare(b *testing.B) {
	name, data := largeSchema(b)
	old, err := Parse(name, data)
	if err != nil {
		b.Fatal(err)
	}
	changed := changeSchema(data)
	new, err := Parse(name+"-changed", changed)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var rep int
	for b.Loop() {
		rep = Compare(old, new).Total
	}
	b.ReportMetric(float64(rep), "changes")
}

// BenchmarkParseAndCompare is what starter diff pays: two parses and a compare.
func BenchmarkParseAndCompare(b *testing.B) {
	name, data := largeSchema(b)
	changed := changeSchema(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		old, err := Parse(name, data)
		if err != nil {
			b.Fatal(err)
		}
		new, err := Parse(name, changed)
		if err != nil {
			b.Fatal(err)
		}
		_ = Compare(old, new)
	}
}
