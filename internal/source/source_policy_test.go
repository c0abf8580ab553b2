package source

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateRefsRefusesWhatTheOperatorDidNotAllow(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	outside := filepath.Join(dir, "outside")
	require.NoError(t, os.MkdirAll(secrets, 0o700))
	require.NoError(t, os.MkdirAll(outside, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "token"), []byte("t0ken"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "hook"), []byte("hook-key"), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(outside, "hook"), filepath.Join(secrets, "link")))

	everything := SecretPolicy{Env: []string{"*"}, Dirs: []string{secrets}, Deny: []string{"HOOK_SECRET"}}
	narrow := SecretPolicy{Env: []string{"LIVESYNC_SRC_*", "PAYMENTS_TOKEN"}}
	for _, tc := range []struct {
		name    string
		policy  SecretPolicy
		ref     string
		wantErr []string // empty: allowed
	}{
		{"webhook key denied even with *", everything, "env:HOOK_SECRET", []string{`source "payments": header Authorization: env:HOOK_SECRET is not allowed`, "worker's own secrets", "allowed env: *, LIVESYNC_SOURCE_*"}},
		{"AI key denied even with *", everything, "Bearer ${OPENAI_API_KEY}", []string{"${OPENAI_API_KEY} is not allowed", "worker's own secrets"}},
		{"Temporal key denied even with *", everything, "${TEMPORAL_API_KEY}", []string{"TEMPORAL_API_KEY is one of the worker's own secrets (TEMPORAL_*)"}},
		{"codec key denied even with *", everything, "env:LIVESYNC_CODEC_KEY", []string{"worker's own secrets"}},
		{"cloud credentials denied even with *", everything, "env:AWS_SECRET_ACCESS_KEY", []string{"worker's own secrets (AWS_*)"}},
		{"star allows the rest", everything, "env:ANY_TOKEN", nil},
		{"outside the allow-list, which is named", narrow, "env:HOOK_SECRET", []string{
			"env:HOOK_SECRET is not allowed: HOOK_SECRET is not in the allow-list",
			"allowed env: LIVESYNC_SRC_*, PAYMENTS_TOKEN, LIVESYNC_SOURCE_*; allowed secret dirs: (none)",
			"start the worker with -secret-env/-secret-dir"}},
		{"pattern match", narrow, "Bearer ${LIVESYNC_SRC_PAYMENTS}", nil},
		{"exact name", narrow, "env:PAYMENTS_TOKEN", nil},
		{"empty policy refuses", SecretPolicy{}, "env:PAYMENTS_TOKEN", []string{"not in the allow-list", "allowed env: LIVESYNC_SOURCE_*; allowed secret dirs: (none)"}},
		{"empty policy allows the default pattern", SecretPolicy{}, "env:LIVESYNC_SOURCE_PAYMENTS", nil},
		{"empty policy refuses files", SecretPolicy{}, "file:" + filepath.Join(secrets, "token"), []string{"no secret dirs are configured"}},
		{"file inside a secret dir", everything, "file:" + filepath.Join(secrets, "token"), nil},
		{"file outside the secret dirs", everything, "file:" + filepath.Join(outside, "hook"), []string{"file:" + filepath.Join(outside, "hook") + " is not allowed", "outside the secret dirs: " + secrets}},
		{"file escaping by ..", everything, "file:" + secrets + "/../outside/hook", []string{"outside the secret dirs"}},
		{"file escaping by a symlink", everything, "file:" + filepath.Join(secrets, "link"), []string{"resolves to " + filepath.Join(outside, "hook"), "outside the secret dirs"}},
		{"proc refused", SecretPolicy{Dirs: []string{secrets}}, "file:/proc/self/environ", []string{"/proc, /sys and /dev are never read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := Source{ID: "payments", URL: "https://payments.example/openapi.json", Headers: map[string]string{"Authorization": tc.ref}}
			require.NoError(t, src.Validate(), "the reference is well-formed")
			err := src.ValidateRefs(tc.policy)
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var re *RefError
			require.True(t, errors.As(err, &re))
			require.Equal(t, "payments", re.Source)
			require.Equal(t, "Authorization", re.Header)
			for _, w := range tc.wantErr {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "hook-key", "nothing read from a file reaches the message")
		})
	}
}

func TestSecretPolicyFromFlags(t *testing.T) {
	p, err := SecretPolicyFromFlags(" LIVESYNC_SRC_*, PAYMENTS_TOKEN ,", "/run/secrets", "MY_HOOK_KEY")
	require.NoError(t, err)
	require.Equal(t, SecretPolicy{Env: []string{"LIVESYNC_SRC_*", "PAYMENTS_TOKEN"}, Dirs: []string{"/run/secrets"}, Deny: []string{"MY_HOOK_KEY"}}, p)
	require.ErrorContains(t, p.CheckEnv("MY_HOOK_KEY"), "worker's own secrets")

	for _, tc := range []struct{ env, dirs, want string }{
		{"A-B", "", `secret env "A-B"`},
		{"", "relative/dir", "want an absolute path"},
		{"", "/proc", "it would expose /proc"},
		{"", "/", "it would expose"},
	} {
		_, err := SecretPolicyFromFlags(tc.env, tc.dirs)
		require.ErrorContains(t, err, tc.want)
	}
	m := SecretPolicy{Env: []string{"A"}}.Merge(SecretPolicy{Env: []string{"A", "B"}, Dirs: []string{"/d"}, Deny: []string{"X"}})
	require.Equal(t, SecretPolicy{Env: []string{"A", "B"}, Dirs: []string{"/d"}, Deny: []string{"X"}}, m)
}

func TestRootsConfineFileSources(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "specs")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sub", "api.yaml"), []byte("openapi: 3.1.0"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "private.yaml"), []byte("secret: yes"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(dir, "private.yaml"), filepath.Join(root, "escape.yaml")))
	require.NoError(t, os.Symlink(filepath.Join(root, "sub"), filepath.Join(dir, "into-root")))
	roots := Roots{root}

	for _, tc := range []struct {
		name, path string
		want       []string // empty: allowed
	}{
		{"inside", filepath.Join(root, "sub", "api.yaml"), nil},
		{"inside through a link to the root", filepath.Join(dir, "into-root", "api.yaml"), nil},
		{"not yet written, inside", filepath.Join(root, "new.yaml"), nil},
		{"proc", "/proc/self/environ", []string{"file source /proc/self/environ", "is refused: /proc, /sys and /dev are never read"}},
		{"dev", "/dev/zero", []string{"never read"}},
		{"dot-dot", root + "/sub/../../private.yaml", []string{"resolves to " + filepath.Join(dir, "private.yaml"), "outside the source roots: " + root, "-source-dir"}},
		{"relative dot-dot", "../../../../../../../etc/passwd", []string{"resolves to /etc/passwd", "outside the source roots"}},
		{"symlink out of the root", filepath.Join(root, "escape.yaml"), []string{"resolves to " + filepath.Join(dir, "private.yaml"), "outside the source roots"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := Source{ID: "specs", FilePath: tc.path}
			err := src.ValidateFile(roots)
			f, _, openErr := roots.Open(tc.path)
			if f != nil {
				f.Close()
			}
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Error(t, openErr)
			require.Nil(t, f, "nothing is opened outside the roots")
			var pe *PathError
			require.True(t, errors.As(err, &pe))
			require.Contains(t, err.Error(), `source "specs": `)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	require.ErrorContains(t, Source{ID: "a", File: "/etc/hosts"}.ValidateFile(nil), "no source roots are configured")
	require.NoError(t, Source{ID: "a", URL: "https://x/y"}.ValidateFile(nil), "URL sources have no path to check")

	f, resolved, err := roots.Open(filepath.Join(root, "sub", "api.yaml"))
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 64)
	n, _ := f.Read(b)
	require.Equal(t, "openapi: 3.1.0", string(b[:n]))
	require.Equal(t, filepath.Join(root, "sub", "api.yaml"), resolved)

	_, _, err = roots.Open(filepath.Join(root, "sub"))
	require.ErrorContains(t, err, "not a regular file")
}
