package source

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidIDMatchesItsPattern keeps the written-out ID check equal to the
// pattern it replaces (^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$).
func TestValidIDMatchesItsPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	for _, id := range []string{
		"", "a", "Z", "9", "pets", "pets-v2.prod_1", ".a", "_a", "-a", "a.", "a b", "a/b", "../x",
		"a\n", "é", "a\x00", strings.Repeat("a", 128), strings.Repeat("a", 129), "a" + strings.Repeat("-", 127),
	} {
		require.Equal(t, re.MatchString(id), ValidID("source", id) == nil, "%q", id)
	}
}
