package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/cli/offline"
)

// validate parses a file as a sync would: counts and warnings when it
// passes, exit 1 with the source and the line when it would be refused.
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		s := &cli.Starter{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
		err := s.Run(t.Context(), args)
		return out.String(), err
	}
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(linesNew), 0o644))
	out, err := run("validate", good, "--json")
	require.NoError(t, err)
	var res offline.ValidateResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, "openapi", res.Kind)
	require.Equal(t, 1, res.Counts.Paths)
	require.Equal(t, 1, res.Counts.Schemas)
	require.Empty(t, res.Counts.Warnings)

	dangling := filepath.Join(dir, "dangling.yaml")
	require.NoError(t, os.WriteFile(dangling, bytes.Replace([]byte(linesNew), []byte("schemas/Pet\""), []byte("schemas/Gone\""), 1), 0o644))
	out, err = run("validate", dangling)
	require.NoError(t, err, "a dangling reference is a warning")
	require.Contains(t, out, "valid openapi3.0 3.0.3")
	require.Contains(t, out, `warning: line 24: $ref "#/components/schemas/Gone" points to nothing`)

	_, err = run("validate", dangling, "--strict")
	var exit *cli.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	require.Equal(t, 1, exit.Code)
	require.ErrorContains(t, err, dangling)
	require.ErrorContains(t, err, "line 24")

	broken := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("openapi: 3.0.0\ninfo: {title: x}\npaths: {\n"), 0o644))
	_, err = run("validate", broken)
	require.True(t, errors.As(err, &exit))
	require.Equal(t, 1, exit.Code)
	require.ErrorContains(t, err, broken)
}
