package store

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidHashMatchesItsPattern keeps the written-out hash check equal to
// the pattern it replaces (^sha256:[0-9a-f]{64}$).
func TestValidHashMatchesItsPattern(t *testing.T) {
	re := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for _, h := range []string{
		"", "sha256:", Hash([]byte("x")), "sha256:" + hex64, "sha256:" + hex64[:63], "sha256:" + hex64 + "0",
		"sha256:" + strings.ToUpper(hex64), "sha512:" + hex64, "SHA256:" + hex64, "sha256:" + hex64[:63] + "g",
		"sha256:" + hex64 + "\n", "../../etc/passwd",
	} {
		require.Equal(t, re.MatchString(h), validHash(h), "%q", h)
	}
}
