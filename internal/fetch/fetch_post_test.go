package fetch_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

func TestFetchPostJSON(t *testing.T) {
	var got struct {
		method, contentType, auth, ifNoneMatch string
		body                                   map[string]string
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/graphql", http.StatusPermanentRedirect)
			return
		}
		got.method, got.contentType = r.Method, r.Header.Get("Content-Type")
		got.auth, got.ifNoneMatch = r.Header.Get("Authorization"), r.Header.Get("If-None-Match")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got.body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	f := fetch.New(loopbackOptions())
	for _, path := range []string{"/graphql", "/moved"} {
		t.Run(path, func(t *testing.T) {
			req, err := fetch.PostJSON(fetch.Request{SourceID: "gql", URL: srv.URL + path, ETag: `"x"`,
				Headers: map[string]string{"Authorization": "Bearer t"}}, map[string]string{"query": "{ __typename }"})
			require.NoError(t, err)
			resp, err := f.Fetch(t.Context(), req)
			require.NoError(t, err)
			require.Equal(t, `{"data":{}}`, string(resp.Body))
			require.Equal(t, http.MethodPost, got.method)
			require.Equal(t, "application/json", got.contentType)
			require.Equal(t, "Bearer t", got.auth)
			require.Empty(t, got.ifNoneMatch, "a POST is never conditional")
			require.Equal(t, "{ __typename }", got.body["query"], "the body survives a 308")
		})
	}

	// Errors name the method.
	srv404 := newServer(t, http.NotFoundHandler())
	req, err := fetch.PostJSON(fetch.Request{SourceID: "gql", URL: srv404.URL + "/graphql"}, map[string]string{"query": "x"})
	require.NoError(t, err)
	_, err = f.Fetch(t.Context(), req)
	fe := requireKind(t, err, fetch.KindNotFound, false)
	require.Contains(t, fe.Error(), "POST ")
}
