package kind

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
		err  string
	}{
		{"openapi json", `{"openapi":"3.1.0","info":{"title":"x"}}`, OpenAPI, ""},
		{"swagger yaml", "swagger: '2.0'\ninfo:\n  title: x\n", OpenAPI, ""},
		{"openapi yaml", "# c\nopenapi: 3.0.3\npaths: {}\n", OpenAPI, ""},
		{"postman v2.1", string(fixture(t, "../postman/testdata/crm.v21.json")), Postman, ""},
		{"postman by id", `{"info":{"_postman_id":"x","name":"n"},"item":[]}`, Postman, ""},
		{"postman v1 (refused later by postman.Parse)", string(fixture(t, "../postman/testdata/v1.json")), Postman, ""},
		{"sdl", string(fixture(t, "../graphql/testdata/base.graphql")), GraphQL, ""},
		{"sdl with description first", "\"\"\"Doc\"\"\"\ntype Query { a: Int }", GraphQL, ""},
		{"introspection", string(fixture(t, "../graphql/testdata/introspection.json")), GraphQL, ""},
		{"bare __schema", `{"__schema":{"types":[]}}`, GraphQL, ""},
		{"graphql errors", string(fixture(t, "../graphql/testdata/introspection_errors.json")), "", "GraphQL error answer"},
		{"html", "<!doctype html><p>hi", "", "HTML"},
		{"empty", "  \n", "", "empty"},
		{"unknown json", `{"a":1}`, "", "no openapi"},
		{"plain text", "hello world", "", "no openapi"},
		{"ambiguous json", `{"openapi":"3.0.0","info":{"_postman_id":"x"}}`, "", "ambiguous: the document looks like openapi and postman"},
		{"ambiguous text", "openapi: 3.0.0\ntype Query {\n", "", "ambiguous"},
		{"quoted yaml key, CRLF", "\"openapi\" : 3.0.0\r\ninfo: {title: x}\r\n", OpenAPI, ""},
		{"yaml with type and enum keys", "openapi: 3.1.0\ncomponents:\n  schemas:\n    A:\n      type: object\n      enum: [a]\n", OpenAPI, ""},
		{"indented openapi is not a top-level key", "info:\n  openapi: 3.0.0\n", "", "no openapi"},
		{"sdl extend and directive", "extend type Query @key(fields: \"id\") { b: Int }\ndirective @key on OBJECT\n", GraphQL, ""},
		{"sdl keyword prefix is not a keyword", "types Query {\n", "", "no openapi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect([]byte(tt.data))
			if tt.err != "" {
				var de *DetectError
				require.True(t, errors.As(err, &de), "got %v", err)
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseDiffMerge(t *testing.T) {
	sdl := fixture(t, "../graphql/testdata/base.graphql")
	p, err := Parse("", "users", sdl)
	require.NoError(t, err)
	require.Equal(t, GraphQL, p.Kind)
	require.Equal(t, 9, p.Summary.Types)
	require.Len(t, p.Hash, 64)

	// canonical form detects as its kind again and diffs empty against the original
	k, err := Detect(p.Canonical)
	require.NoError(t, err)
	require.Equal(t, GraphQL, k)
	rep, err := Diff("", sdl, p.Canonical)
	require.NoError(t, err)
	require.Zero(t, rep.Total)

	col := fixture(t, "../postman/testdata/crm.v21.json")
	pp, err := Parse("", "crm", col)
	require.NoError(t, err)
	require.Equal(t, Postman, pp.Kind)
	require.Equal(t, 4, pp.Summary.Requests)
	k, err = Detect(pp.Canonical)
	require.NoError(t, err)
	require.Equal(t, Postman, k)
	rep, err = Diff(Postman, col, pp.Canonical)
	require.NoError(t, err)
	require.Zero(t, rep.Total)

	_, err = Diff("", sdl, col)
	var me *MismatchError
	require.ErrorAs(t, err, &me)
	require.ErrorContains(t, err, "cannot compare a graphql document with a postman document")

	_, err = Parse(OpenAPI, "x", []byte(`{"openapi":"3.0.0"}`))
	require.ErrorIs(t, err, ErrUseSpec)

	for _, tc := range []struct {
		kind string
		data []byte
	}{{GraphQL, sdl}, {Postman, col}} {
		res, err := Merge(tc.kind, tc.data, tc.data, tc.data)
		require.NoError(t, err)
		require.Empty(t, res.Result.Conflicts)
		require.NoError(t, res.Invalid)
		doc, err := Document(tc.kind, res.Result.Merged)
		require.NoError(t, err)
		again, err := Parse(tc.kind, "merged", doc)
		require.NoError(t, err)
		orig, err := Parse(tc.kind, "orig", tc.data)
		require.NoError(t, err)
		require.Equal(t, orig.Hash, again.Hash)
		require.Equal(t, string(res.Merged), string(doc))
	}
}
