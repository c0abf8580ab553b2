package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/kind"
	"github.com/apilivesync/apilivesync/internal/spec"
)

func TestKindsOfFetchedAndStoredDocuments(t *testing.T) {
	sdl := []byte("type Query {\n  user(id: ID!): User\n}\n\ntype User {\n  id: ID!\n  name: String\n}\n")
	collection := []byte(`{"info": {"name": "P", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
		"item": [{"name": "Users", "item": [{"name": "Get user", "request": {"method": "GET", "url": "https://x/users/:id"}}]}]}`)
	doc, err := spec.Parse("petstore.yaml", petstore(t), spec.Options{})
	require.NoError(t, err)
	openapi := doc.Canonical

	for name, tc := range map[string]struct {
		data       []byte
		want       string
		refused    bool
		storedKind string
	}{
		"sdl":             {data: sdl, want: kind.GraphQL},
		"postman":         {data: collection, want: kind.Postman},
		"openapi-yaml":    {data: petstore(t), want: kind.OpenAPI},
		"openapi-json":    {data: openapi, want: kind.OpenAPI},
		"unknown-json":    {data: []byte(`{"hello": "world"}`), want: kind.OpenAPI},                // spec.Parse says why
		"html":            {data: []byte("<html><body>Sign in</body></html>"), want: kind.OpenAPI}, // idem
		"graphql+postman": {data: []byte(`{"__schema": {}, "info": {"_postman_id": "x"}}`), refused: true},
	} {
		t.Run(name, func(t *testing.T) {
			k, err := kind.SourceKind(tc.data)
			if tc.refused {
				require.ErrorContains(t, err, "ambiguous")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, k)
		})
	}

	// Stored (canonical) documents tell their kind; counts are documented.
	g, err := kind.Parse(kind.GraphQL, "g", sdl)
	require.NoError(t, err)
	require.Equal(t, kind.GraphQL, kind.StoredKind(g.Canonical))
	require.Equal(t, Counts{Kind: kind.GraphQL, Family: kind.GraphQL, Paths: 3, Operations: 1, Schemas: 2}, kind.CountsOf(g))
	p, err := kind.Parse(kind.Postman, "p", collection)
	require.NoError(t, err)
	require.Equal(t, kind.Postman, kind.StoredKind(p.Canonical))
	require.Equal(t, Counts{Kind: kind.Postman, Family: kind.Postman, Version: "2.1.0", Title: "P", Paths: 1, Operations: 1}, kind.CountsOf(p))
	require.Equal(t, kind.OpenAPI, kind.StoredKind(openapi))
}
