//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The starter hands every command it does not run itself to the full
// starter beside it: same arguments, same output streams, same exit code.
// Without one it says how to build it.
func TestStarterHandsOverToTheFullStarterBesideIt(t *testing.T) {
	bin := t.TempDir()
	starter := filepath.Join(bin, "starter")
	out, err := exec.Command("go", "build", "-o", starter, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	run := func(dir string, env []string, args ...string) (string, int) {
		cmd := exec.Command(starter, args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return buf.String(), exit.ExitCode()
		}
		require.NoError(t, err)
		return buf.String(), 0
	}
	elsewhere := t.TempDir() // not a checkout of this module: nothing to build from
	noFull := []string{"PATH=/nonexistent", FullEnv + "="}

	got, code := run(elsewhere, noFull, "sync", "--source", "x.yaml")
	require.Equal(t, 1, code, got)
	require.Contains(t, got, "needs the full starter")
	require.Contains(t, got, "go build -o "+filepath.Join(bin, "starter-full")+" ./starter/starter-full")

	spec := filepath.Join(elsewhere, "a.yaml")
	require.NoError(t, os.WriteFile(spec, []byte("openapi: 3.0.3\ninfo: {title: a, version: \"1\"}\npaths: {}\n"), 0o644))
	got, code = run(elsewhere, noFull, "diff", spec, spec)
	require.Equal(t, 0, code, "diff of files runs without the full starter: %s", got)
	require.Contains(t, got, "0 changes")

	fake := "#!/bin/sh\necho \"full starter: $*\"\nexit 3\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "starter-full"), []byte(fake), 0o755))
	got, code = run(elsewhere, noFull, "sync", "--source", "x.yaml", "--wait")
	require.Equal(t, 3, code, got)
	require.Equal(t, "full starter: sync --source x.yaml --wait\n", got)
	got, code = run(elsewhere, noFull, "diff", "payments@1", "payments@2")
	require.Equal(t, 3, code, got)
	require.Equal(t, "full starter: diff payments@1 payments@2\n", got)

	other := filepath.Join(t.TempDir(), "other-full")
	require.NoError(t, os.WriteFile(other, []byte("#!/bin/sh\necho \"other: $*\"\n"), 0o755))
	got, code = run(elsewhere, []string{FullEnv + "=" + other}, "status")
	require.Equal(t, 0, code, got)
	require.Equal(t, "other: status\n", got)
}
