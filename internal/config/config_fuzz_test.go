package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// either accept or list at least one positioned problem, and an accepted
// config must resolve and plan idempotently.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(f, err)
	for _, name := range append(files, "testdata/example.yaml") {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
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
		}
		require.True(t, PlanChanges(res, res).Empty())
	})
}
