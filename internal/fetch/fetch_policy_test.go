package fetch_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
)

// TestFileSourcesStayInsideTheRoots: /proc/self/environ, "..", and a link out
// of the root are refused, and nothing of theirs is read.
func TestFileSourcesStayInsideTheRoots(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "specs")
	require.NoError(t, os.MkdirAll(root, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "api.yaml"), []byte("openapi: 3.1.0\n"), 0o644))
	private := filepath.Join(dir, "private.env")
	require.NoError(t, os.WriteFile(private, []byte("HOOK_SECRET=whsec-private-contents\n"), 0o600))
	require.NoError(t, os.Symlink(private, filepath.Join(root, "escape.yaml")))
	require.NoError(t, os.Symlink(dir, filepath.Join(root, "up")))

	f := fetch.New(fetch.Options{BaseDir: root, SourceRoots: []string{root}})
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"proc environ", "/proc/self/environ", []string{"/proc, /sys and /dev are never read"}},
		{"proc environ as a file URL", "file:///proc/self/environ", []string{"never read"}},
		{"dev", "/dev/stdin", []string{"never read"}},
		{"dot-dot out of the base dir", "../../../../../../etc/passwd", []string{"resolves to /etc/passwd", "outside the source roots: " + root}},
		{"dot-dot to a sibling", "../private.env", []string{"outside the source roots"}},
		{"symlink out of the root", "escape.yaml", []string{"resolves to " + private, "outside the source roots"}},
		{"symlinked directory out of the root", "up/private.env", []string{"resolves to " + private}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.Fetch(t.Context(), fetch.Request{SourceID: "specs", File: tc.file})
			require.Nil(t, resp)
			fe := requireKind(t, err, fetch.KindRefusedPath, false)
			require.Contains(t, err.Error(), `fetch source "specs": read `)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "whsec-private-contents")
			var pe *source.PathError
			require.True(t, errors.As(fe, &pe))
		})
	}

	resp, err := f.Fetch(t.Context(), fetch.Request{SourceID: "specs", File: "api.yaml"})
	require.NoError(t, err)
	require.Equal(t, "openapi: 3.1.0\n", string(resp.Body))

	none := fetch.New(fetch.Options{BaseDir: root})
	_, err = none.Fetch(t.Context(), fetch.Request{SourceID: "specs", File: "api.yaml"})
	requireKind(t, err, fetch.KindRefusedPath, false)
	require.ErrorContains(t, err, "no source roots are configured")
}

func TestFetcherResolveHeadersAppliesTheSecretPolicy(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	require.NoError(t, os.MkdirAll(secrets, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "payments"), []byte("tok-file-1\n"), 0o600))
	outside := filepath.Join(dir, "sa-token")
	require.NoError(t, os.WriteFile(outside, []byte("service-account-token"), 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(secrets, "sa")))

	env := map[string]string{"HOOK_SECRET": "whsec-1", "OPENAI_API_KEY": "sk-ai", "TEMPORAL_API_KEY": "tmprl", "PAYMENTS_TOKEN": "tok-env-1", "OTHER": "other-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f := fetch.New(fetch.Options{LookupEnv: lookup, Secrets: source.SecretPolicy{Env: []string{"*"}, Dirs: []string{secrets}, Deny: []string{"HOOK_SECRET"}}})
	narrow := fetch.New(fetch.Options{LookupEnv: lookup, Secrets: source.SecretPolicy{Env: []string{"PAYMENTS_*"}}})

	for _, tc := range []struct {
		name string
		f    *fetch.Fetcher
		ref  string
		want string   // resolved value; empty when refused
		errs []string // substrings of the refusal
	}{
		{"webhook key refused even with *", f, "env:HOOK_SECRET", "", []string{"env:HOOK_SECRET is not allowed", "worker's own secrets"}},
		{"AI key refused even with *", f, "Bearer ${OPENAI_API_KEY}", "", []string{"${OPENAI_API_KEY} is not allowed"}},
		{"Temporal key refused even with *", f, "env:TEMPORAL_API_KEY", "", []string{"TEMPORAL_*"}},
		{"allowed by *", f, "env:OTHER", "other-1", nil},
		{"outside the allow-list, named", narrow, "env:OTHER", "", []string{"OTHER is not in the allow-list", "allowed env: PAYMENTS_*, LIVESYNC_SOURCE_*; allowed secret dirs: (none)", "-secret-env/-secret-dir"}},
		{"pattern", narrow, "Bearer ${PAYMENTS_TOKEN}", "Bearer tok-env-1", nil},
		{"file in a secret dir", f, "file:" + filepath.Join(secrets, "payments"), "tok-file-1", nil},
		{"file outside the secret dirs", f, "file:" + outside, "", []string{"outside the secret dirs: " + secrets}},
		{"file through a symlink out", f, "file:" + filepath.Join(secrets, "sa"), "", []string{"resolves to " + outside, "outside the secret dirs"}},
		{"no secret dirs", narrow, "file:" + filepath.Join(secrets, "payments"), "", []string{"no secret dirs are configured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.ResolveHeaders("payments", map[string]string{"Authorization": tc.ref})
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				require.Equal(t, map[string]string{"Authorization": tc.want}, got)
				return
			}
			require.Nil(t, got)
			requireKind(t, err, fetch.KindBadRequest, false)
			require.Contains(t, err.Error(), `fetch source "payments": header "Authorization": `)
			var re *source.RefError
			require.True(t, errors.As(err, &re), "the refusal is a *source.RefError")
			for _, w := range tc.errs {
				require.Contains(t, err.Error(), w)
			}
			for _, v := range env {
				require.NotContains(t, err.Error(), v)
			}
			require.NotContains(t, err.Error(), "service-account-token")
		})
	}
}

// TestFetchErrorsAreRedacted: a server that echoes the credentials in a 401
// body, and redirects to a signed URL that then fails, leaves no credential
// in the error, its Target or the logs.
func TestFetchErrorsAreRedacted(t *testing.T) {
	const token = "tok-3f9a8b7c6d"
	const sig = "c2lnbmF0dXJlLXZhbHVl"
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "invalid credentials: %s (api_key=%s) for %s", r.Header.Get("Authorization"), r.URL.Query().Get("api_key"), r.Header.Get("X-Api-Key"))
		case "/signed":
			http.Redirect(w, r, "/bucket/spec.json?X-Amz-Signature="+sig+"&X-Amz-Credential=AKIAEXAMPLE%2F20250101&token="+token, http.StatusFound)
		case "/bucket/spec.json":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<Error><Code>SignatureDoesNotMatch</Code><StringToSign>%s</StringToSign><Sig>%s</Sig></Error>`, r.URL.RawQuery, sig)
		case "/loop":
			http.Redirect(w, r, "/loop?sig="+sig, http.StatusFound)
		}
	}))
	core, logs := observer.New(zapcore.DebugLevel)
	opts := loopbackOptions()
	opts.Logger = zap.New(core)
	f := fetch.New(opts)
	secrets := []string{token, sig, "AKIAEXAMPLE", "query-key-9"}

	for _, tc := range []struct {
		name, path string
		headers    map[string]string
		kind       string
		want       []string
	}{
		{"token echoed in a 401 body", "/echo?api_key=query-key-9", map[string]string{"Authorization": "Bearer " + token, "X-Api-Key": token},
			fetch.KindHTTPStatus, []string{"401 Unauthorized", "?api_key=REDACTED", `the server said "invalid credentials: REDACTED (api_key=REDACTED) for REDACTED"`}},
		{"redirect to a signed URL that fails", "/signed", nil,
			fetch.KindHTTPStatus, []string{"403 Forbidden", "redirected to", "X-Amz-Signature=REDACTED", "SignatureDoesNotMatch"}},
		{"redirect loop on signed URLs", "/loop", nil, fetch.KindTooManyRedirects, []string{"sig=REDACTED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "s3", URL: srv.URL + tc.path, Headers: tc.headers})
			fe := requireKind(t, err, tc.kind, false)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			for _, s := range secrets {
				require.NotContains(t, err.Error(), s)
				require.NotContains(t, fe.Target, s)
			}
		})
	}
	require.NotZero(t, logs.Len())
	for _, entry := range logs.All() {
		rendered := fmt.Sprint(entry.ContextMap())
		for _, s := range secrets {
			require.False(t, strings.Contains(rendered, s), "log line leaks %q: %s", s, rendered)
		}
	}
}

func TestResolveHeadersWith(t *testing.T) {
	_, err := fetch.ResolveHeadersWith("a", map[string]string{"X": "env:AWS_SECRET_ACCESS_KEY"}, func(string) (string, bool) { return "x", true }, source.SecretPolicy{Env: []string{"*"}})
	require.ErrorContains(t, err, "worker's own secrets (AWS_*)")
	_, err = fetch.ResolveHeadersWith("a", map[string]string{"X": "file:/missing/secret"}, nil, source.SecretPolicy{Dirs: []string{"/missing"}})
	require.Error(t, err)
	require.False(t, errors.Is(err, fs.ErrExist))
}

func TestGuardCheckURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		opts      fetch.GuardOptions
		want      string // "" allowed
	}{
		{"metadata IP", "http://169.254.169.254/latest/meta-data/", fetch.GuardOptions{}, "link-local"},
		{"metadata IP even with private allowed", "http://169.254.169.254/", fetch.GuardOptions{AllowPrivate: true, AllowLoopback: true}, "link-local"},
		{"metadata name", "http://metadata.google.internal/computeMetadata/v1/", fetch.GuardOptions{}, "link-local"},
		{"private IP", "https://10.0.0.5/openapi.json", fetch.GuardOptions{}, "private networks are off by default"},
		{"private IP allowed", "https://10.0.0.5/openapi.json", fetch.GuardOptions{AllowPrivate: true}, ""},
		{"private IP in an allowed CIDR", "https://10.0.0.5/openapi.json", fetch.GuardOptions{Allow: []string{"10.0.0.0/24"}}, ""},
		{"localhost", "http://localhost:8080/spec", fetch.GuardOptions{}, "loopback"},
		{"sub.localhost", "http://api.localhost/spec", fetch.GuardOptions{}, "loopback"},
		{"localhost allowed by name", "http://localhost:8080/spec", fetch.GuardOptions{Allow: []string{"localhost:8080"}}, ""},
		{"loopback in dev", "http://127.0.0.1:8080/spec", fetch.GuardOptions{AllowLoopback: true}, ""},
		{"IPv6 loopback", "http://[::1]/spec", fetch.GuardOptions{}, "loopback"},
		{"mapped metadata", "http://[::ffff:169.254.169.254]/", fetch.GuardOptions{}, "link-local"},
		{"public name passes (checked at dial time)", "https://api.example.com/openapi.json", fetch.GuardOptions{}, ""},
		{"public IP", "https://93.184.216.34/openapi.json", fetch.GuardOptions{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.CheckURL(tc.url)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			var be *fetch.BlockedError
			require.True(t, errors.As(err, &be), "got %v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
