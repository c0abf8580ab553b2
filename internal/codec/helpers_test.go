package codec

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

// testKey returns a deterministic 32-byte key whose bytes all equal seed.
func testKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, KeySize) }

func b64(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// env returns a lookup func over a fixed map, as os.LookupEnv would behave.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// ring builds a valid key ring whose first ID is current.
func ring(t testing.TB, ids ...string) *Keys {
	t.Helper()
	k := &Keys{Current: ids[0], ByID: map[string][]byte{}}
	for i, id := range ids {
		k.ByID[id] = testKey(byte(i + 1))
	}
	require.NoError(t, k.Validate())
	return k
}
