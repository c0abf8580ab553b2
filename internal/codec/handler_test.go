package codec

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const uiOrigin = "http://127.0.0.1:8233"

// uiRequestBody is the body the Temporal Web UI posts: {"payloads":[...]}
// in proto JSON, recorded with fixtureKeys.
func uiRequestBody(t *testing.T) string {
	t.Helper()
	b, err := readFixture()
	require.NoError(t, err)
	return b
}

func readFixture() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "v1_payloads.json"))
	return string(b), err
}

type response struct {
	status int
	header http.Header
	body   string
}

// call sends one request the way the UI's fetch does and reads the answer.
func call(t *testing.T, srv *httptest.Server, method, path, body string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func payloadsOf(t *testing.T, body string) []*commonpb.Payload {
	t.Helper()
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(body), &out), "response body: %s", body)
	return out.Payloads
}

func uiHeaders(extra map[string]string) map[string]string {
	h := map[string]string{"Content-Type": "application/json", "X-Namespace": "default", "Origin": uiOrigin}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func TestHandlerDecode(t *testing.T) {
	srv := httptest.NewServer(Handler(fixtureKeys(), HandlerOptions{AllowedOrigins: []string{uiOrigin}}))
	t.Cleanup(srv.Close)
	want := &commonpb.Payloads{Payloads: fixturePlain(t)}

	for _, path := range []string{"/default/decode", "/decode", "/default/decode?preserveStorageRefs=true", "/other-namespace/decode"} {
		t.Run(path, func(t *testing.T) {
			resp := call(t, srv, http.MethodPost, path, uiRequestBody(t), uiHeaders(nil))
			require.Equal(t, http.StatusOK, resp.status, resp.body)
			require.Equal(t, "application/json", resp.header.Get("Content-Type"))
			require.Equal(t, uiOrigin, resp.header.Get("Access-Control-Allow-Origin"))
			require.Equal(t, "true", resp.header.Get("Access-Control-Allow-Credentials"))
			got := payloadsOf(t, resp.body)
			require.True(t, proto.Equal(want, &commonpb.Payloads{Payloads: got}), "decoded: %s", resp.body)
			var summary map[string]string
			require.NoError(t, converter.GetDefaultDataConverter().FromPayload(got[0], &summary))
			require.Equal(t, "petstore", summary["source"])
		})
	}

	t.Run("encode then decode", func(t *testing.T) {
		plain, err := protojson.Marshal(want)
		require.NoError(t, err)
		enc := call(t, srv, http.MethodPost, "/default/encode", string(plain), uiHeaders(nil))
		require.Equal(t, http.StatusOK, enc.status, enc.body)
		encrypted := payloadsOf(t, enc.body)
		require.Len(t, encrypted, 2)
		for _, p := range encrypted {
			require.Equal(t, EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
		}
		require.NotContains(t, enc.body, "cGV0c3RvcmU") // base64 of "petstore" is not in clear
		dec := call(t, srv, http.MethodPost, "/default/decode", enc.body, uiHeaders(nil))
		require.Equal(t, http.StatusOK, dec.status, dec.body)
		require.True(t, proto.Equal(want, &commonpb.Payloads{Payloads: payloadsOf(t, dec.body)}))
	})
}

func TestHandlerErrors(t *testing.T) {
	srv := httptest.NewServer(Handler(fixtureKeys(), HandlerOptions{}))
	t.Cleanup(srv.Close)
	tampered := strings.Replace(uiRequestBody(t), `"data": "c`, `"data": "d`, 1)
	require.NotEqual(t, uiRequestBody(t), tampered, "fixture shape changed: tamper edit did not apply")

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		says   string
	}{
		{name: "tampered ciphertext", method: http.MethodPost, path: "/default/decode", body: tampered, status: http.StatusBadRequest, says: "message authentication failed"},
		{name: "not JSON", method: http.MethodPost, path: "/default/decode", body: "{payloads", status: http.StatusBadRequest, says: "syntax error"},
		{name: "GET", method: http.MethodGet, path: "/default/decode", status: http.StatusMethodNotAllowed},
		{name: "unknown path", method: http.MethodPost, path: "/default/transcode", body: "{}", status: http.StatusNotFound},
		{name: "too deep", method: http.MethodPost, path: "/a/b/decode", body: "{}", status: http.StatusNotFound},
		{name: "OPTIONS without preflight headers", method: http.MethodOptions, path: "/default/decode", status: http.StatusBadRequest},
		{name: "too large", method: http.MethodPost, path: "/decode", body: `{"payloads":[{"data":"` + strings.Repeat("A", MaxRequestBytes) + `"}]}`, status: http.StatusBadRequest, says: "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, srv, tc.method, tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
			require.Equal(t, tc.status, resp.status, resp.body)
			require.Contains(t, resp.body, tc.says)
		})
	}
	t.Run("empty batch", func(t *testing.T) {
		resp := call(t, srv, http.MethodPost, "/decode", `{"payloads":[]}`, nil)
		require.Equal(t, http.StatusOK, resp.status, resp.body)
		require.Empty(t, payloadsOf(t, resp.body))
	})
}

func TestHandlerCORS(t *testing.T) {
	srv := httptest.NewServer(Handler(fixtureKeys(), HandlerOptions{
		AllowedOrigins: []string{"http://localhost:8233", uiOrigin + "/"},
		AuthToken:      "s3cret-token",
	}))
	t.Cleanup(srv.Close)
	preflight := func(origin string, extra map[string]string) map[string]string {
		h := map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "content-type,x-namespace,authorization",
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}

	for _, origin := range []string{uiOrigin, "http://localhost:8233"} {
		t.Run("preflight allowed "+origin, func(t *testing.T) {
			resp := call(t, srv, http.MethodOptions, "/default/decode", "", preflight(origin, nil))
			require.Equal(t, http.StatusNoContent, resp.status, resp.body)
			require.Equal(t, origin, resp.header.Get("Access-Control-Allow-Origin"))
			require.Equal(t, "true", resp.header.Get("Access-Control-Allow-Credentials"))
			require.Contains(t, resp.header.Get("Access-Control-Allow-Methods"), "POST")
			allowed := strings.ToLower(resp.header.Get("Access-Control-Allow-Headers"))
			for _, h := range []string{"content-type", "x-namespace", "authorization"} {
				require.Contains(t, allowed, h)
			}
			require.Contains(t, resp.header.Values("Vary"), "Origin")
			require.Empty(t, resp.header.Get("Access-Control-Allow-Private-Network"))
		})
	}
	t.Run("private network preflight", func(t *testing.T) {
		resp := call(t, srv, http.MethodOptions, "/decode", "", preflight(uiOrigin, map[string]string{"Access-Control-Request-Private-Network": "true"}))
		require.Equal(t, http.StatusNoContent, resp.status)
		require.Equal(t, "true", resp.header.Get("Access-Control-Allow-Private-Network"))
	})
	for _, origin := range []string{"http://evil.example", "http://127.0.0.1:8234", "https://127.0.0.1:8233", "null"} {
		t.Run("refused "+origin, func(t *testing.T) {
			resp := call(t, srv, http.MethodOptions, "/default/decode", "", preflight(origin, nil))
			require.Equal(t, http.StatusForbidden, resp.status)
			require.Empty(t, resp.header.Get("Access-Control-Allow-Origin"))
			require.Contains(t, resp.body, "is not allowed")

			post := call(t, srv, http.MethodPost, "/default/decode", uiRequestBody(t),
				uiHeaders(map[string]string{"Origin": origin, "Authorization": "Bearer s3cret-token"}))
			require.Equal(t, http.StatusForbidden, post.status, "a refused origin gets no decoded payloads")
			require.NotContains(t, post.body, "payloads")
		})
	}
}

func TestHandlerAuth(t *testing.T) {
	srv := httptest.NewServer(Handler(fixtureKeys(), HandlerOptions{AllowedOrigins: []string{uiOrigin}, AuthToken: "s3cret-token"}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{name: "no token", status: http.StatusUnauthorized},
		{name: "wrong token", auth: "Bearer s3cret-tokem", status: http.StatusUnauthorized},
		{name: "token prefix", auth: "Bearer s3cret", status: http.StatusUnauthorized},
		{name: "basic scheme", auth: "Basic s3cret-token", status: http.StatusUnauthorized},
		{name: "right token", auth: "Bearer s3cret-token", status: http.StatusOK},
		{name: "scheme is case-insensitive", auth: "bearer s3cret-token", status: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := uiHeaders(nil)
			if tc.auth != "" {
				headers["Authorization"] = tc.auth
			}
			resp := call(t, srv, http.MethodPost, "/default/decode", uiRequestBody(t), headers)
			require.Equal(t, tc.status, resp.status, resp.body)
			if tc.status == http.StatusOK {
				require.Len(t, payloadsOf(t, resp.body), 2)
				return
			}
			require.Contains(t, resp.header.Get("WWW-Authenticate"), "Bearer")
			require.Equal(t, uiOrigin, resp.header.Get("Access-Control-Allow-Origin"), "the UI must be able to read the 401")
			require.NotContains(t, resp.body, "payloads")
		})
	}
	t.Run("CLI without Origin", func(t *testing.T) {
		resp := call(t, srv, http.MethodPost, "/default/decode", uiRequestBody(t), map[string]string{"Authorization": "Bearer s3cret-token"})
		require.Equal(t, http.StatusOK, resp.status, resp.body)
		require.Empty(t, resp.header.Get("Access-Control-Allow-Origin"))
	})
}
