package resolve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadConflicts reads testdata/conflicts.json and fills in the IDs.
func loadConflicts(t testing.TB) []Conflict {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "conflicts.json"))
	require.NoError(t, err)
	var cs []Conflict
	require.NoError(t, json.Unmarshal(raw, &cs))
	for i := range cs {
		cs[i].ID = conflictID(cs[i])
	}
	return cs
}

func TestLRUCache(t *testing.T) {
	c := NewLRUCache(2)
	a, b, d := Decision{ID: "a"}, Decision{ID: "b"}, Decision{ID: "d"}
	c.Put("a", a)
	c.Put("b", b)
	got, ok := c.Get("a") // a is now the most recently used
	require.True(t, ok)
	require.Equal(t, a, got)
	c.Put("d", d) // evicts b
	_, ok = c.Get("b")
	require.False(t, ok, "least recently used entry evicted")
	for _, k := range []string{"a", "d"} {
		_, ok := c.Get(k)
		require.True(t, ok, k)
	}
	require.Equal(t, 2, c.Len())
	c.Put("a", Decision{ID: "a", Reason: "updated"})
	got, _ = c.Get("a")
	require.Equal(t, "updated", got.Reason)
	require.Equal(t, 2, c.Len())
}
