package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConventionalKeepsTheDocumentAndOrdersItsKeys(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "specs", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			doc, err := Parse(f, raw, Options{})
			require.NoError(t, err)
			out, err := Conventional(doc.Canonical, false)
			require.NoError(t, err)
			var a, b any
			require.NoError(t, json.Unmarshal(doc.Canonical, &a))
			require.NoError(t, json.Unmarshal(out, &b))
			require.Equal(t, a, b, "the same document")
			again, err := Parse(f, out, Options{})
			require.NoError(t, err)
			require.Equal(t, doc.Canonical, again.Canonical, "it parses back to the same canonical form")
			first := strings.TrimSpace(strings.SplitN(string(out), "\n", 3)[1])
			require.True(t, strings.HasPrefix(first, `"openapi"`) || strings.HasPrefix(first, `"swagger"`), first)

			y, err := Conventional(doc.Canonical, true)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(y), "openapi:") || strings.HasPrefix(string(y), "swagger:"), string(y[:20]))
			fromYAML, err := Parse(f, y, Options{})
			require.NoError(t, err)
			require.Equal(t, doc.Canonical, fromYAML.Canonical)
		})
	}
}

func TestConventionalOrder(t *testing.T) {
	canonical := []byte(`{"components":{"schemas":{"Pet":{"properties":{"id":{"format":"int64","type":"integer"},"name":{"type":"string"}},"required":["id"],"type":"object"}}},"info":{"title":"T","version":"1"},"openapi":"3.0.3","paths":{"/pets":{"post":{"responses":{"201":{"description":"ok"}}},"get":{"responses":{"200":{"description":"ok"}},"operationId":"list"}}}}`)
	out, err := Conventional(canonical, true)
	require.NoError(t, err)
	s := string(out)
	idx := func(sub string) int { i := strings.Index(s, sub); require.GreaterOrEqual(t, i, 0, sub); return i }
	require.Less(t, idx("openapi:"), idx("info:"))
	require.Less(t, idx("info:"), idx("paths:"))
	require.Less(t, idx("paths:"), idx("components:"))
	require.Less(t, idx("title:"), idx("version:"))
	require.Less(t, idx("get:"), idx("post:"))
	require.Less(t, idx("operationId: list"), idx("\"200\":"))
	require.Less(t, idx("type: object"), idx("properties:"))
	require.Less(t, idx("id:"), idx("name:"), "names people chose stay sorted")
	require.Less(t, idx("type: integer"), idx("format: int64"))
}
