package fetch_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
)

func TestResolveHeaders(t *testing.T) {
	env := map[string]string{"PAYMENTS_TOKEN": "tok-env-789", "TENANT": "acme", "EMPTY": ""}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	secretFile, err := filepath.Abs("testdata/secret_token.txt")
	require.NoError(t, err)
	tmp := t.TempDir()
	crlfFile := filepath.Join(tmp, "crlf")
	require.NoError(t, os.WriteFile(crlfFile, []byte("a\r\nInjected: yes"), 0o600))
	missingFile := filepath.Join(tmp, "nonexistent-secret")
	// The policy allows every variable and both directories: these cases
	// are about resolving references; the allow-list is
	// TestFetcherResolveHeadersAppliesTheSecretPolicy's.
	policy := source.SecretPolicy{Env: []string{"*"}, Dirs: []string{filepath.Dir(secretFile), tmp}}

	tests := []struct {
		name    string
		refs    map[string]string
		want    map[string]string
		errHas  []string // substrings the error must contain
		errNot  []string // substrings it must not contain
		wantErr bool
	}{
		{name: "env reference", refs: map[string]string{"X-Api-Key": "env:PAYMENTS_TOKEN"}, want: map[string]string{"X-Api-Key": "tok-env-789"}},
		{name: "template reference", refs: map[string]string{"Authorization": "Bearer ${PAYMENTS_TOKEN}", "X-Tenant": "${TENANT}"},
			want: map[string]string{"Authorization": "Bearer tok-env-789", "X-Tenant": "acme"}},
		{name: "file reference trims the newline", refs: map[string]string{"X-Api-Key": "file:" + secretFile}, want: map[string]string{"X-Api-Key": "tok-from-file-123"}},
		{name: "no headers", refs: nil, want: map[string]string{}},
		{name: "literal refused", refs: map[string]string{"Authorization": "Bearer hardcoded-secret"}, wantErr: true,
			errHas: []string{`fetch source "payments": header "Authorization"`, "not a reference"}, errNot: []string{"hardcoded-secret"}},
		{name: "missing env var", refs: map[string]string{"X-Api-Key": "env:NOPE_TOKEN"}, wantErr: true,
			errHas: []string{`header "X-Api-Key"`, "NOPE_TOKEN", "not set"}},
		{name: "empty env var", refs: map[string]string{"X-Api-Key": "env:EMPTY"}, wantErr: true, errHas: []string{"EMPTY"}},
		{name: "missing template var names only the missing one", refs: map[string]string{"Authorization": "Bearer ${PAYMENTS_TOKEN}:${NOPE}"}, wantErr: true,
			errHas: []string{`header "Authorization"`, "NOPE"}, errNot: []string{"tok-env-789", "PAYMENTS_TOKEN"}},
		{name: "missing file", refs: map[string]string{"X-Api-Key": "file:" + missingFile}, wantErr: true,
			errHas: []string{`header "X-Api-Key"`, missingFile}},
		{name: "bad env name", refs: map[string]string{"X-Api-Key": "env:not a name"}, wantErr: true},
		{name: "value with a line break", refs: map[string]string{"X-Api-Key": "file:" + crlfFile}, wantErr: true,
			errHas: []string{"line break"}, errNot: []string{"Injected"}},
		{name: "bad header name", refs: map[string]string{"X Api Key": "env:TENANT"}, wantErr: true, errHas: []string{"header name"}},
		{name: "every bad header is reported", refs: map[string]string{"A": "literal", "B": "env:NOPE_B"}, wantErr: true,
			errHas: []string{`header "A"`, `header "B"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fetch.ResolveHeadersWith("payments", tt.refs, lookup, policy)
			if !tt.wantErr {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			requireKind(t, err, fetch.KindBadRequest, false)
			require.Nil(t, got)
			for _, s := range tt.errHas {
				require.Contains(t, err.Error(), s)
			}
			for _, s := range append(tt.errNot, "tok-env-789", "tok-from-file") {
				require.NotContains(t, err.Error(), s)
			}
		})
	}
}

func TestResolveHeadersDefaultsToEnvironment(t *testing.T) {
	t.Setenv("LIVESYNC_SOURCE_FETCH_TEST_TOKEN", "from-os-env")
	got, err := fetch.ResolveHeadersWith("s", map[string]string{"X-Key": "env:LIVESYNC_SOURCE_FETCH_TEST_TOKEN"}, nil, source.SecretPolicy{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"X-Key": "from-os-env"}, got)
}

func TestRedactHeaders(t *testing.T) {
	require.Nil(t, fetch.RedactHeaders(nil))
	in := map[string]string{"Authorization": "Bearer x", "X-Api-Key": "y"}
	out := fetch.RedactHeaders(in)
	require.Equal(t, map[string]string{"Authorization": fetch.Redacted, "X-Api-Key": fetch.Redacted}, out)
	require.Equal(t, "Bearer x", in["Authorization"], "the input is not modified")
}
