package activities

import (
	"strings"
	"testing"

	yaml "github.com/pb33f/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/apilivesync/apilivesync/internal/store"
)

// A stored document reads back from the bytes it was stored from (their
// lines), and from its canonical form when those bytes are gone or no
// longer parse to it.
func TestStoredDocumentLines(t *testing.T) {
	a := newActivities(t)
	ctx := t.Context()
	raw := petstore(t)
	doc, err := spec.Parse("src", raw, spec.Options{})
	require.NoError(t, err)
	h, err := a.Store.PutBlob(ctx, doc.Canonical)
	require.NoError(t, err)
	rawLine := pathsLine(doc)
	require.Positive(t, rawLine)

	canonicalDoc, err := spec.Parse(h, doc.Canonical, spec.Options{})
	require.NoError(t, err)
	canonicalLine := pathsLine(canonicalDoc)
	require.NotEqual(t, rawLine, canonicalLine, "the test needs the two forms' lines to differ")

	line := func() int {
		t.Helper()
		got, err := StoredDocument(ctx, a.Store, h, nil, spec.Options{})
		require.NoError(t, err)
		require.Equal(t, string(doc.Canonical), string(got.Canonical))
		return pathsLine(got)
	}
	require.Equal(t, canonicalLine, line(), "no note: the canonical form")

	rawHash, err := a.Store.PutBlob(ctx, raw)
	require.NoError(t, err)
	require.NoError(t, RecordLineSource(ctx, a.Store, h, rawHash))
	require.Equal(t, rawLine, line(), "the source's own lines")

	// A note whose bytes parse to another document is not believed.
	other := []byte(strings.Replace(string(raw), "Swagger Petstore", "Another Petstore", 1))
	otherHash, err := a.Store.PutBlob(ctx, other)
	require.NoError(t, err)
	require.NoError(t, RecordLineSource(ctx, a.Store, h, otherHash))
	require.Equal(t, canonicalLine, line())

	// Nor one whose bytes are missing.
	require.NoError(t, RecordLineSource(ctx, a.Store, h, store.Hash([]byte("gone"))))
	require.Equal(t, canonicalLine, line())
}

// pathsLine is the line of the document's "paths" key.
func pathsLine(d *spec.Document) int {
	root := d.Root()
	if root.Kind == yaml.DocumentNode {
		root = root.Content[0]
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "paths" {
			return root.Content[i].Line
		}
	}
	return 0
}
