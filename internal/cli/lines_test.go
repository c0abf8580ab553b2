package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/internal/store"
)

const linesOld = `openapi: 3.0.3
info:
  title: Lines
  version: "1"
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pet"
components:
  schemas:
    Pet:
      type: object
      properties:
        kind:
          type: string
          enum: [dog, cat, bird]
`

const linesNew = `openapi: 3.0.3
info:
  title: Lines
  version: "2"
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
        - name: owner
          in: query
          required: true
          schema:
            type: string
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pet"
components:
  schemas:
    Pet:
      type: object
      properties:
        kind:
          type: string
          enum: [dog, cat]
`

// Line numbers point at the user's own files, wherever a report is read:
// `diff OLD NEW` on the files, `push` (which stores the canonical form),
// `show API@N` (the report stored then) and `diff API@N API@M` on the
// stored versions all name the same lines of the same two files.
func TestReportLinesPointAtTheUsersFiles(t *testing.T) {
	dir := t.TempDir()
	storeURL, err := store.DirURL(filepath.Join(dir, "store"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "store"), 0o755))
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		s := &cli.Starter{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
			if k == store.URLEnv {
				return storeURL
			}
			return ""
		}}
		require.NoError(t, s.Run(t.Context(), args), errOut.String())
		return out.String()
	}
	oldFile, newFile := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	require.NoError(t, os.WriteFile(oldFile, []byte(linesOld), 0o644))
	require.NoError(t, os.WriteFile(newFile, []byte(linesNew), 0o644))

	var files struct {
		Changes []struct {
			Pointer string `json:"pointer"`
			Kind    string `json:"kind"`
			Line    int    `json:"line"`
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(run("diff", oldFile, newFile, "--format", "json")), &files))
	want := map[string]int{}
	for _, c := range files.Changes {
		want[c.Pointer] = c.Line
	}
	// removed: a line of the old file; added: of the new one
	require.Equal(t, 27, want["/components/schemas/Pet/properties/kind/enum/2"], files)
	require.Equal(t, 13, want["/paths/~1pets/get/parameters/1"], files)

	run("push", "lines", oldFile)
	pushed := run("push", "lines", newFile)
	shown := run("show", "lines@2")
	lineRe := regexp.MustCompile(`(/\S+) \(line (\d+)\)`)
	for name, out := range map[string]string{"push": pushed, "show": shown} {
		got := map[string]int{}
		for _, m := range lineRe.FindAllStringSubmatch(out, -1) {
			var n int
			require.NoError(t, json.Unmarshal([]byte(m[2]), &n))
			got[m[1]] = n
		}
		require.Equal(t, want, got, "%s:\n%s", name, out)
	}
	var stored struct {
		Changes []struct {
			Pointer string `json:"pointer"`
			Line    int    `json:"line"`
		} `json:"changes"`
	}
	// A pushed document's dangling reference is kept on its version, with
	// the line of the pushed file, and `show` says so.
	dangling := filepath.Join(dir, "dangling.yaml")
	require.NoError(t, os.WriteFile(dangling, []byte(strings.Replace(linesNew, `"#/components/schemas/Pet"`, `"#/components/schemas/Gone"`, 1)), 0o644))
	run("push", "lines", dangling)
	require.Contains(t, run("show", "lines@3"), `warning  line 24: $ref "#/components/schemas/Gone" points to nothing`)

	require.NoError(t, json.Unmarshal([]byte(run("diff", "lines@1", "lines@2", "--format", "json")), &stored))
	require.Len(t, stored.Changes, len(want))
	for _, c := range stored.Changes {
		require.Equal(t, want[c.Pointer], c.Line, c.Pointer)
	}
}
