package diff

import (
	"os"
	"strings"
	"testing"

	"github.com/apilivesync/apilivesync/internal/spec"
	"github.com/stretchr/testify/require"
)

func parseFixture(t testing.TB, source string, data []byte) *spec.Document {
	t.Helper()
	doc, err := spec.Parse(source, data, spec.Options{})
	require.NoError(t, err)
	return doc
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// edit replaces text in the base fixture and fails when the text is absent.
func edit(t *testing.T, base string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, base, pairs[i], "edit target missing")
		base = strings.Replace(base, pairs[i], pairs[i+1], 1)
	}
	return base
}
