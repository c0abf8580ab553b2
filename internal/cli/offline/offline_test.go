package offline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/cli/offline"
)

const petV1 = `openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        "200": {description: ok}
`

// The light starter runs diff, validate and rules on files itself, and
// hands over (handled false) what needs the full starter: other commands,
// stored versions, flags only the full starter knows, the program's help.
func TestRunHandlesOnlyOfflineCommandsOnFiles(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "v1.yaml"), filepath.Join(dir, "v2.yaml")
	require.NoError(t, os.WriteFile(v1, []byte(petV1), 0o644))
	require.NoError(t, os.WriteFile(v2, bytes.Replace([]byte(petV1), []byte("in: query,"), []byte("in: query, required: true,"), 1), 0o644))
	run := func(args ...string) (bool, string, error) {
		var out, errOut bytes.Buffer
		handled, err := offline.Run(t.Context(), args, &out, &errOut)
		if !handled {
			require.Empty(t, errOut.String(), "nothing printed before the hand-over: %q", args)
		}
		return handled, out.String(), err
	}

	handled, out, err := run("diff", v1, v2, "-format", "json", "--fail-on-breaking")
	require.True(t, handled)
	var rep struct{ Total, Breaking int }
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Equal(t, 1, rep.Breaking, out)
	var exit *offline.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	require.Equal(t, 1, exit.Code)

	handled, out, err = run("validate", v1, "--json")
	require.True(t, handled)
	require.NoError(t, err)
	require.Contains(t, out, `"paths": 1`)

	handled, out, err = run("rules", "--json")
	require.True(t, handled)
	require.NoError(t, err)
	require.Contains(t, out, `"request-parameter-removed"`)

	handled, _, err = run("diff", v1, v2, "--formt", "json") // a typo is this program's own error
	require.True(t, handled)
	require.True(t, errors.As(err, &exit), "%v", err)
	require.Equal(t, 2, exit.Code)
	require.ErrorContains(t, err, "formt")

	handled, out, err = run("diff", "--help")
	require.True(t, handled)
	require.NoError(t, err)
	require.Contains(t, out, "--fail-on-breaking")

	for _, args := range [][]string{
		{"diff", "payments@1", "payments@2"}, // stored versions
		{"validate", "payments@latest"},
		{"diff", v1, v2, "--store", "mem://"}, // a flag only the full starter acts on
		{"validate", v1, "-address=127.0.0.1:7233"},
		{"sync", "--source", v1},
		{"rejudge", "payments"},
		{"--help"},
		{},
	} {
		handled, out, err := run(args...)
		require.False(t, handled, "%q", args)
		require.NoError(t, err, "%q", args)
		require.Empty(t, out, "%q", args)
	}
}

// A local file's $refs may lead up and out of its directory (OAI's own
// multi-file example refers to ../common): the starter reads the user's
// files on their behalf.
func TestLocalFilesMayReferToFilesAboveThem(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "spec"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "common"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "common", "Error.yaml"), []byte("type: object\nproperties: {code: {type: integer}}\n"), 0o644))
	root := filepath.Join(dir, "spec", "openapi.yaml")
	require.NoError(t, os.WriteFile(root, []byte(`openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      responses:
        default:
          description: error
          content:
            application/json:
              schema: {$ref: "../common/Error.yaml"}
`), 0o644))
	var out bytes.Buffer
	handled, err := offline.Run(t.Context(), []string{"validate", root, "--json"}, &out, &out)
	require.True(t, handled)
	require.NoError(t, err, out.String())
	require.Contains(t, out.String(), `"operations": 1`)
}
