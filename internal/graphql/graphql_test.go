package graphql

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apilivesync/apilivesync/internal/diff"
	"github.com/apilivesync/apilivesync/internal/merge"
	"github.com/stretchr/testify/require"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func mustParse(t testing.TB, name string, data []byte) *Document {
	t.Helper()
	d, err := Parse(name, data)
	require.NoError(t, err)
	return d
}

func TestParseFixtures(t *testing.T) {
	for _, name := range []string{"base.graphql", "introspection.graphql", "introspection.json", "github.schema.graphql"} {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, name, readFixture(t, name))
			// canonical form is a fixed point and diffs empty against itself
			again := mustParse(t, "canonical", d.Canonical)
			require.Equal(t, string(d.Canonical), string(again.Canonical))
			rep := Compare(d, d)
			require.Empty(t, rep.Changes)
			require.Zero(t, rep.Total)
			rep = Compare(d, again)
			require.Empty(t, rep.Changes)
		})
	}
}

func TestPublishedDuplicateFieldTolerated(t *testing.T) {
	d := mustParse(t, "github", readFixture(t, "github.schema.graphql"))
	require.Contains(t, d.Warnings, "line 15153: field EnterpriseOwnerInfo.repositoryDeployKeySetting is defined twice with the same type and arguments; the second definition is ignored")
	require.Greater(t, d.Summary.Types, 1000)

	_, err := Parse("dup", []byte("type Query { a: Int, a: String }"))
	require.ErrorContains(t, err, "can only be defined once")
}

func TestSummary(t *testing.T) {
	d := mustParse(t, "base", readFixture(t, "base.graphql"))
	require.Equal(t, Summary{Types: 9, Objects: 4, Interfaces: 1, Unions: 1, Enums: 1, InputObjects: 1, Scalars: 1,
		Directives: 1, Fields: 18, Queries: 3, Mutations: 1}, d.Summary)
	require.Len(t, d.Hash(), 64)
}

func TestCanonicalIgnoresFormattingAndOrder(t *testing.T) {
	a := mustParse(t, "a", []byte(`type Query { b: Int, a(y: Int, x: String): String }
enum E { B A }`))
	b := mustParse(t, "b", []byte(`
# a comment
enum E {
  A
  B
}
schema { query: Query }
type Query {
  a(x: String
    y: Int): String
  b: Int
}`))
	require.Equal(t, string(a.Canonical), string(b.Canonical))
	require.Equal(t, a.Hash(), b.Hash())
}

func TestIntrospectionMatchesSDL(t *testing.T) {
	intro := mustParse(t, "intro", readFixture(t, "introspection.json"))
	require.True(t, intro.FromIntrospection)
	sdl := mustParse(t, "sdl", readFixture(t, "introspection.graphql"))
	require.Equal(t, string(sdl.Canonical), string(intro.Canonical))

	built, err := FromIntrospection(readFixture(t, "introspection.json"))
	require.NoError(t, err)
	require.Equal(t, string(sdl.Canonical), built)
	require.Contains(t, IntrospectionQuery, "__schema")
}

func TestBadInput(t *testing.T) {
	deep := []byte("type Query { f(a: Int = " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "): Int }")
	deepJSON := []byte(`{"data":{"__schema":` + strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100) + "}}")
	var many bytes.Buffer
	many.WriteString("type Query { a: Int }\n")
	for i := range 200 {
		many.WriteString("scalar S" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "\n")
	}
	tests := []struct {
		name       string
		data       []byte
		opts       Options
		kind       string
		line, col  int
		msgContain string
	}{
		{"syntax error has its line", readFixture(t, "invalid_syntax.graphql"), Options{}, KindSyntax, 7, 8, "Expected :"},
		{"unknown type has its line", readFixture(t, "invalid_type.graphql"), Options{}, KindInvalid, 7, 11, "Person"},
		{"introspection errors", readFixture(t, "introspection_errors.json"), Options{}, KindIntrospection, 0, 0, "introspection is not allowed"},
		{"introspection HTML", readFixture(t, "introspection_html.json"), Options{}, KindIntrospection, 0, 0, "HTML"},
		{"JSON without __schema", []byte(`{"data":{"user":null}}`), Options{}, KindIntrospection, 0, 0, "__schema"},
		{"broken JSON", []byte("{\"data\":\n{\"__schema\": [}"), Options{}, KindIntrospection, 2, 16, "not JSON"},
		{"deep SDL", deep, Options{}, KindTooComplex, 1, 87, "64 levels"},
		{"deep JSON", deepJSON, Options{}, KindTooComplex, 1, 0, "64 levels"},
		{"too many definitions", many.Bytes(), Options{MaxDefinitions: 100}, KindTooComplex, 0, 0, "201 definitions"},
		{"too large", many.Bytes(), Options{MaxBytes: 100}, KindTooComplex, 0, 0, "bytes"},
		{"empty", []byte("# nothing\n"), Options{}, KindEmpty, 0, 0, ""},
		{"invalid UTF-8", []byte("type Query {\n  a: Int \xff }"), Options{}, KindInvalidUTF8, 2, 10, "0xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWithOptions("src", tt.data, tt.opts)
			var e *Error
			require.True(t, errors.As(err, &e), "got %v", err)
			require.Equal(t, tt.kind, e.Kind, err.Error())
			require.Equal(t, tt.line, e.Line, err.Error())
			if tt.col != 0 {
				require.Equal(t, tt.col, e.Column, err.Error())
			}
			require.Contains(t, err.Error(), tt.msgContain)
			require.Contains(t, err.Error(), `graphql schema "src"`)
		})
	}
}

func TestLargeSchemaRefusedWithoutBlowingMemory(t *testing.T) {
	sdl := generateSDL(2000, 5)
	_, err := ParseWithOptions("big", sdl, Options{MaxDefinitions: 1000})
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindTooComplex, e.Kind)
}

// base for the rule table: every rule changes it one way.
const ruleBase = `
directive @tag(name: String) repeatable on FIELD_DEFINITION | OBJECT
directive @auth on FIELD_DEFINITION
scalar Date
enum Color { RED GREEN OLD @deprecated }
input Filter { color: Color, name: String!, limit: Int = 10 }
interface Node { id: ID! }
type Item implements Node {
  id: ID!
  "The name."
  name: String
  price: Float!
  legacy: String @deprecated(reason: "gone soon")
  related(first: Int = 5, filter: Filter): [Item]
}
type Other { x: Int }
union Thing = Item | Other
type Query { items(filter: Filter, after: String): [Item!]! }
`

func TestRules(t *testing.T) {
	tests := []struct {
		name    string
		from    string // replaced in ruleBase
		to      string
		rule    string
		level   string
		pointer string
		line    int // 0: not checked
	}{
		{"type removed", "type Other { x: Int }\nunion Thing = Item | Other", "union Thing = Item", RuleTypeRemoved, diff.LevelError, "Other", 16},
		{"type added", "scalar Date", "scalar Date\nscalar Time", RuleTypeAdded, diff.LevelInfo, "Time", 5},
		{"type kind changed", "scalar Date", "enum Date { A }", RuleTypeKindChanged, diff.LevelError, "Date", 0},
		{"field removed", "  price: Float!\n", "", RuleFieldRemoved, diff.LevelError, "Item.price", 12},
		{"deprecated field removed", "  legacy: String @deprecated(reason: \"gone soon\")\n", "", RuleFieldDeprecatedRemoved, diff.LevelError, "Item.legacy", 13},
		{"field added", "price: Float!", "price: Float!\n  stock: Int", RuleFieldAdded, diff.LevelInfo, "Item.stock", 13},
		{"output made non-null is safe", "\"The name.\"\n  name: String", "\"The name.\"\n  name: String!", RuleFieldTypeNarrowed, diff.LevelInfo, "Item.name", 11},
		{"output made nullable breaks", "price: Float!", "price: Float", RuleFieldTypeChanged, diff.LevelError, "Item.price", 0},
		{"output list element non-null is safe", "[Item]", "[Item!]", RuleFieldTypeNarrowed, diff.LevelInfo, "Item.related", 0},
		{"output type renamed breaks", "price: Float!", "price: Int!", RuleFieldTypeChanged, diff.LevelError, "Item.price", 0},
		{"input field removed", "input Filter { color: Color,", "input Filter {", RuleInputFieldRemoved, diff.LevelError, "Filter.color", 0},
		{"required input field added", "limit: Int = 10 }", "limit: Int = 10, max: Int! }", RuleInputFieldAddedRequired, diff.LevelError, "Filter.max", 0},
		{"required input field with default is optional", "limit: Int = 10 }", "limit: Int = 10, max: Int! = 3 }", RuleInputFieldAddedOptional, diff.LevelInfo, "Filter.max", 0},
		{"optional input field added", "limit: Int = 10 }", "limit: Int = 10, max: Int }", RuleInputFieldAddedOptional, diff.LevelInfo, "Filter.max", 0},
		{"input made non-null breaks", "color: Color,", "color: Color!,", RuleInputFieldTypeChanged, diff.LevelError, "Filter.color", 0},
		{"input made nullable is safe", "name: String!", "name: String", RuleInputFieldTypeWidened, diff.LevelInfo, "Filter.name", 0},
		{"input default changed", "limit: Int = 10", "limit: Int = 20", RuleInputFieldDefault, diff.LevelWarning, "Filter.limit", 0},
		{"argument removed", "items(filter: Filter, after: String)", "items(filter: Filter)", RuleArgRemoved, diff.LevelError, "Query.items(after:)", 18},
		{"required argument added", "items(filter: Filter, after: String)", "items(filter: Filter, after: String, first: Int!)", RuleArgAddedRequired, diff.LevelError, "Query.items(first:)", 0},
		{"optional argument added", "items(filter: Filter, after: String)", "items(filter: Filter, after: String, first: Int)", RuleArgAddedOptional, diff.LevelInfo, "Query.items(first:)", 0},
		{"argument made non-null breaks", "after: String)", "after: String!)", RuleArgTypeChanged, diff.LevelError, "Query.items(after:)", 0},
		{"argument made nullable is safe", "related(first: Int = 5, filter: Filter)", "related(first: Int = 5, filter: Filter)", "", "", "", 0},
		{"argument default changed", "first: Int = 5", "first: Int = 6", RuleArgDefault, diff.LevelWarning, "Item.related(first:)", 0},
		{"argument default removed", "first: Int = 5", "first: Int", RuleArgDefault, diff.LevelWarning, "Item.related(first:)", 0},
		{"enum value removed", "enum Color { RED GREEN", "enum Color { RED", RuleEnumValueRemoved, diff.LevelError, "Color.GREEN", 0},
		{"deprecated enum value removed", " OLD @deprecated }", " }", RuleEnumValueDeprecatedGone, diff.LevelError, "Color.OLD", 0},
		{"enum value added", "enum Color { RED", "enum Color { BLUE RED", RuleEnumValueAdded, diff.LevelWarning, "Color.BLUE", 0},
		{"union member removed", "union Thing = Item | Other", "union Thing = Item", RuleUnionMemberRemoved, diff.LevelError, "Thing", 0},
		{"union member added", "type Other { x: Int }", "type Other { x: Int }\ntype More { y: Int }", RuleTypeAdded, diff.LevelInfo, "More", 0},
		{"union member added warns", "union Thing = Item | Other", "union Thing = Item | Other | Query", RuleUnionMemberAdded, diff.LevelWarning, "Thing", 0},
		{"interface removed", "type Item implements Node {", "type Item {", RuleInterfaceRemoved, diff.LevelError, "Item", 0},
		{"interface added", "type Other { x: Int }", "type Other implements Node { x: Int, id: ID! }", RuleInterfaceAdded, diff.LevelInfo, "Other", 0},
		{"directive removed", "directive @auth on FIELD_DEFINITION\n", "", RuleDirectiveRemoved, diff.LevelError, "@auth", 3},
		{"directive added", "scalar Date", "directive @cache on OBJECT\nscalar Date", RuleDirectiveAdded, diff.LevelInfo, "@cache", 0},
		{"directive location removed", "repeatable on FIELD_DEFINITION | OBJECT", "repeatable on OBJECT", RuleDirectiveLocationGone, diff.LevelError, "@tag", 0},
		{"directive location added", "directive @auth on FIELD_DEFINITION", "directive @auth on FIELD_DEFINITION | OBJECT", RuleDirectiveLocationAdded, diff.LevelInfo, "@auth", 0},
		{"directive no longer repeatable", "String) repeatable on", "String) on", RuleDirectiveRepeatableGone, diff.LevelError, "@tag", 0},
		{"directive argument made required", "@tag(name: String)", "@tag(name: String!)", RuleArgTypeChanged, diff.LevelError, "@tag(name:)", 0},
		{"directive applied", "price: Float!", "price: Float! @auth", RuleAppliedAdded, diff.LevelInfo, "Item.price", 0},
		{"deprecated added", "price: Float!", "price: Float! @deprecated", RuleDeprecatedAdded, diff.LevelWarning, "Item.price", 0},
		{"deprecated removed", "legacy: String @deprecated(reason: \"gone soon\")", "legacy: String", RuleDeprecatedRemoved, diff.LevelInfo, "Item.legacy", 0},
		{"deprecation reason changed", "gone soon", "gone later", RuleDeprecationReason, diff.LevelInfo, "Item.legacy", 0},
		{"description changed", `"The name."`, `"The full name."`, RuleDescription, diff.LevelInfo, "Item.name", 0},
		{"schema root changed", "type Query { items", "schema { query: Root }\ntype Root { items", RuleSchemaRootChanged, diff.LevelError, "schema.query", 0},
	}
	old := mustParse(t, "old", []byte(ruleBase))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, ruleBase, tt.from)
			new := mustParse(t, "new", []byte(strings.Replace(ruleBase, tt.from, tt.to, 1)))
			rep := Compare(old, new)
			if tt.rule == "" {
				require.Empty(t, rep.Changes)
				return
			}
			var got *diff.Change
			for i, c := range rep.Changes {
				if c.Rule == tt.rule {
					got = &rep.Changes[i]
				}
			}
			require.NotNil(t, got, "rule %s not among %+v", tt.rule, rep.Changes)
			require.Equal(t, tt.level, got.Level)
			require.Equal(t, tt.level == diff.LevelError, got.Breaking)
			require.Equal(t, tt.pointer, got.Pointer)
			if tt.line != 0 {
				require.Equal(t, tt.line, got.Line)
			}
			require.NotZero(t, got.Column)
			for _, c := range rep.Changes {
				require.NotEmpty(t, c.Level)
			}
			var buf bytes.Buffer
			for _, f := range []string{diff.FormatText, diff.FormatMarkdown, diff.FormatJSON} {
				require.NoError(t, rep.Write(&buf, f))
			}
			require.Contains(t, buf.String(), tt.pointer)
		})
	}
}

func TestCatalogueCoversRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalogue() {
		require.False(t, seen[r.ID], "duplicate %s", r.ID)
		seen[r.ID] = true
		require.Contains(t, []string{diff.LevelError, diff.LevelWarning, diff.LevelInfo}, r.Level)
		require.NotEmpty(t, r.Explanation)
		require.NotContains(t, r.Explanation, "\n")
	}
	require.Len(t, seen, len(levels))
}

func TestMerge(t *testing.T) {
	base := []byte(`type Query { user(id: ID!): User }
type User { id: ID!, name: String, email: String }`)
	tests := []struct {
		name        string
		local       string
		remote      string
		conflicts   []string // coordinates
		wantInSDL   []string
		wantInvalid bool
	}{
		{
			name:      "different fields merge cleanly",
			local:     `type Query { user(id: ID!): User } type User { id: ID!, name: String, email: String, age: Int }`,
			remote:    `type Query { user(id: ID!, active: Boolean): User } type User { id: ID!, name: String! , email: String }`,
			wantInSDL: []string{"age: Int", "name: String!", "user(active: Boolean, id: ID!): User"},
		},
		{
			name:      "same field conflicts at its coordinate",
			local:     `type Query { user(id: ID!): User } type User { id: ID!, name: String!, email: String }`,
			remote:    `type Query { user(id: ID!): User } type User { id: ID!, name: Int, email: String }`,
			conflicts: []string{"User.name"},
			wantInSDL: []string{"name: String!"}, // local held
		},
		{
			name:      "same argument conflicts at its coordinate",
			local:     `type Query { user(id: ID): User } type User { id: ID!, name: String, email: String }`,
			remote:    `type Query { user(id: String!): User } type User { id: ID!, name: String, email: String }`,
			conflicts: []string{"Query.user(id:)"},
		},
		{
			name:        "remote removes a type local still uses",
			local:       `type Query { user(id: ID!): User, me: User } type User { id: ID!, name: String, email: String }`,
			remote:      `type Query { user(id: ID!): Boolean } `,
			wantInvalid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Merge(base, []byte(tt.local), []byte(tt.remote))
			require.NoError(t, err)
			var coords []string
			for _, c := range res.Result.Conflicts {
				coords = append(coords, res.Coordinates[c.Pointer])
			}
			require.Equal(t, tt.conflicts, coords)
			for _, s := range tt.wantInSDL {
				require.Contains(t, string(res.Merged), s)
			}
			require.Equal(t, tt.wantInvalid, res.Invalid != nil, "%v", res.Invalid)
			if len(res.Result.Conflicts) > 0 {
				// deciding for remote yields the remote value
				rs, err := merge.Resolve(res.Result.Conflicts, merge.StrategyPreferRemote)
				require.NoError(t, err)
				tree, err := merge.Apply(res.Result, rs)
				require.NoError(t, err)
				sdl, err := FromTree(tree)
				require.NoError(t, err)
				_, err = Parse("resolved", sdl)
				require.NoError(t, err)
				remote := mustParse(t, "remote", []byte(tt.remote))
				require.Equal(t, string(remote.Canonical), string(sdl))
			}
		})
	}
}

func TestCoordinate(t *testing.T) {
	for p, want := range map[string]string{
		"/types/User/fields/orders/args/first/type": "User.orders(first:)",
		"/types/User/fields/orders/type":            "User.orders",
		"/types/Status/values/ACTIVE":               "Status.ACTIVE",
		"/types/Thing/members/Item":                 "Thing",
		"/directives/auth/args/role":                "@auth(role:)",
		"/schema/query":                             "schema",
		"/other":                                    "/other",
	} {
		require.Equal(t, want, Coordinate(p), p)
	}
}
