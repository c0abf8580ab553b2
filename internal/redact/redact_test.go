package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"query values, keys kept", "GET https://s3.example/spec.json?api_key=abc123&sig=ZZ%2Fq&X-Amz-Expires=60: 403",
			nil, "GET https://s3.example/spec.json?api_key=REDACTED&sig=REDACTED&X-Amz-Expires=REDACTED: 403"},
		{"userinfo", "redirected to https://bob:hunter2@x.example/a", nil, "redirected to https://REDACTED@x.example/a"},
		{"bare token in a query", "see /spec?abcdef0123", nil, "see /spec?REDACTED"},
		{"fragment values, anchors kept", "https://x/cb#access_token=t0k&state=1 and #section", nil, "https://x/cb#access_token=REDACTED&state=REDACTED and #section"},
		{"relative URL in a body", `{"next":"/v1/spec?token=s3cr3t"}`, nil, `{"next":"/v1/spec?token=REDACTED"}`},
		{"bearer", "401: invalid token Bearer eyJhbGciOi.eyJzdWIi.sig-_x", nil, "401: invalid token Bearer REDACTED"},
		{"basic", "Authorization: Basic dXNlcjpwYXNz==", nil, "Authorization: Basic REDACTED"},
		{"challenge kept", `WWW-Authenticate: Basic realm="api"`, nil, `WWW-Authenticate: Basic realm="api"`},
		{"json fields", `{"error":"bad","password":"pw-123","client_secret": "cs"}`, nil, `{"error":"bad","password":"REDACTED","client_secret": "REDACTED"}`},
		{"key=value", "token=abc; api-key: xyz", nil, "token=REDACTED; api-key: REDACTED"},
		{"secret values anywhere", "server said: unknown key tok-9f8e7d for user", []string{"tok-9f8e7d"}, "server said: unknown key REDACTED for user"},
		{"escaped secret values", "https://x/?q=a%2Bb%2Fc", []string{"a+b/c"}, "https://x/?q=REDACTED"},
		{"short secrets ignored", "the value abc is fine", []string{"abc"}, "the value abc is fine"},
		{"longest secret first", "k=1 prefix-secret-long", []string{"prefix", "prefix-secret-long"}, "k=1 REDACTED"},
		{"prose untouched", `fetch source "payments": GET https://x/openapi.json: 503 Service Unavailable (did you mean y?)`, nil,
			`fetch source "payments": GET https://x/openapi.json: 503 Service Unavailable (did you mean y?)`},
		{"our header messages untouched", `fetch source "a": header "Authorization": environment variable TOKEN is not set`, nil,
			`fetch source "a": header "Authorization": environment variable TOKEN is not set`},
		{"max_tokens is not a token", "max_tokens=100", nil, "max_tokens=100"},
		{"a path is not a field", "read /etc/passwd: file source /etc/passwd is refused", nil, "read /etc/passwd: file source /etc/passwd is refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, String(tc.in, tc.secrets...))
		})
	}
}

func TestURL(t *testing.T) {
	u, err := url.Parse("https://u:p@x.example/a?sig=1&b=2#c")
	require.NoError(t, err)
	require.Equal(t, "https://REDACTED@x.example/a?sig=REDACTED&b=REDACTED#c", URL(u))
	require.Empty(t, URL(nil))
}

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d: token=leak-me-now", e.code) }

func TestErrorKeepsTheChain(t *testing.T) {
	require.NoError(t, Error(nil))
	inner := &codeError{code: 7}
	err := fmt.Errorf("fetch https://x/?api_key=k3y with Bearer abcdef: %w: %w", inner, fs.ErrNotExist)
	red := Error(err, "abcdef")
	require.Equal(t, "fetch https://x/?api_key=REDACTED with Bearer REDACTED: code 7: token=REDACTED: file does not exist", red.Error())
	require.ErrorIs(t, red, fs.ErrNotExist)
	var ce *codeError
	require.True(t, errors.As(red, &ce))
	require.Equal(t, 7, ce.code)
	var re *RedactedError
	require.True(t, errors.As(red, &re))

	// Redacting twice adds the second secrets without losing the first.
	again := Error(red, "k=7")
	require.NotContains(t, again.Error(), "abcdef")
	require.ErrorIs(t, again, fs.ErrNotExist)
}
