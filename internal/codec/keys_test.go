package codec

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeysFromEnv(t *testing.T) {
	k1, k0 := testKey(1), testKey(2)
	tests := []struct {
		name    string
		vars    map[string]string
		current string
		ids     []string
	}{
		{name: "unset means encryption off", vars: map[string]string{}},
		{name: "blank means encryption off", vars: map[string]string{EnvKey: "  "}},
		{name: "one key", vars: map[string]string{EnvKey: "id1:" + b64(k1)}, current: "id1", ids: []string{"id1"}},
		{
			name:    "first of several is current",
			vars:    map[string]string{EnvKey: "id1:" + b64(k1) + ",id0:" + b64(k0)},
			current: "id1", ids: []string{"id0", "id1"},
		},
		{
			name:    "spaces around entries and parts",
			vars:    map[string]string{EnvKey: " 2025-06.a : " + b64(k1) + " , old_key:" + b64(k0) + " "},
			current: "2025-06.a", ids: []string{"2025-06.a", "old_key"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := KeysFromEnv(env(tc.vars))
			require.NoError(t, err)
			if tc.current == "" {
				require.Nil(t, keys)
				return
			}
			require.NotNil(t, keys)
			require.Equal(t, tc.current, keys.Current)
			require.ElementsMatch(t, tc.ids, mapKeys(keys.ByID))
			require.NoError(t, keys.Validate())
		})
	}
	t.Run("keys decode to their bytes", func(t *testing.T) {
		keys, err := KeysFromEnv(env(map[string]string{EnvKey: "id1:" + b64(k1) + ",id0:" + b64(k0)}))
		require.NoError(t, err)
		require.Equal(t, k1, keys.ByID["id1"])
		require.Equal(t, k0, keys.ByID["id0"])
	})
}

func mapKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKeysFromEnvErrors(t *testing.T) {
	good := b64(testKey(7))
	short := b64(testKey(8)[:16])
	tests := []struct {
		name    string
		value   string
		entry   int
		keyID   string
		message string
		secret  string // must not appear in the error
	}{
		{name: "no colon", value: good, entry: 1, message: "no ':' between key ID and key", secret: good},
		{name: "empty ID", value: ":" + good, entry: 1, message: "empty key ID", secret: good},
		{name: "ID with bad characters", value: "a/b:" + good, entry: 1, message: "key ID may hold only", secret: good},
		{name: "ID too long", value: strings.Repeat("x", 65) + ":" + good, entry: 1, message: "longer than 64"},
		{name: "not base64", value: "id1:not*base64!", entry: 1, keyID: "id1", message: "not standard base64", secret: "not*base64!"},
		{name: "url-safe base64 refused", value: "id1:" + strings.ReplaceAll(b64(testKey(0xfb)), "+", "-"), entry: 1, keyID: "id1", message: "not standard base64"},
		{name: "16-byte key", value: "id1:" + short, entry: 1, keyID: "id1", message: "decodes to 16 bytes, want 32", secret: short},
		{name: "empty second entry", value: "id1:" + good + ",", entry: 2, message: "empty entry"},
		{name: "duplicate ID", value: "id1:" + good + ",id1:" + good, entry: 2, keyID: "id1", message: "listed twice", secret: good},
		{name: "bad second key", value: "id1:" + good + ",id0:" + short, entry: 2, keyID: "id0", message: "want 32", secret: short},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := KeysFromEnv(env(map[string]string{EnvKey: tc.value}))
			require.Error(t, err)
			require.Nil(t, keys)
			var kerr *KeyConfigError
			require.True(t, errors.As(err, &kerr), "error %T is not a *KeyConfigError", err)
			require.Equal(t, EnvKey, kerr.Variable)
			require.Equal(t, tc.entry, kerr.Entry)
			require.Equal(t, tc.keyID, kerr.KeyID)
			require.Contains(t, err.Error(), EnvKey)
			require.Contains(t, err.Error(), tc.message)
			if tc.secret != "" {
				require.NotContains(t, err.Error(), tc.secret)
			}
		})
	}
}

func TestKeysValidate(t *testing.T) {
	tests := []struct {
		name    string
		keys    *Keys
		message string
	}{
		{name: "nil", keys: nil, message: "nil *Keys"},
		{name: "no current", keys: &Keys{ByID: map[string][]byte{"a": testKey(1)}}, message: "no current key ID"},
		{name: "current missing", keys: &Keys{Current: "b", ByID: map[string][]byte{"a": testKey(1)}}, message: `key ID "b"`},
		{name: "short key", keys: &Keys{Current: "a", ByID: map[string][]byte{"a": testKey(1), "old": testKey(2)[:24]}}, message: "24 bytes, want 32"},
		{name: "bad ID", keys: &Keys{Current: "a", ByID: map[string][]byte{"a": testKey(1), "x y": testKey(2)}}, message: "key ID may hold only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.keys.Validate()
			var kerr *KeyConfigError
			require.ErrorAs(t, err, &kerr)
			require.Contains(t, err.Error(), tc.message)
			require.Panics(t, func() { NewCodec(tc.keys) })
		})
	}
}
