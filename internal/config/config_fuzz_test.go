package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse feeds arbitrary bytes to the decoder Load uses: it must never
// panic, must either accept or list at least one positioned problem, and an
// accepted config must resolve to valid sources with nothing left to fill in.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(f, err)
	for _, name := range append(files, "testdata/example.yaml") {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseBytes("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, cfg)
			var errs Errors
			require.ErrorAs(t, err, &errs)
			require.NotEmpty(t, errs)
			for _, e := range errs {
				require.Equal(t, "fuzz.yaml", e.File)
				require.NotEmpty(t, e.Msg)
			}
			return
		}
		require.Equal(t, Version, cfg.Version)
		res := cfg.Resolved()
		require.Len(t, res, len(cfg.Sources))
		for _, s := range res {
			require.NoError(t, s.Validate())
			require.Equal(t, s, normalize(s))
		}
	})
}
