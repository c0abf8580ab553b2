package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/apilivesync/apilivesync/internal/cli"
	"github.com/apilivesync/apilivesync/workflows/engine"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/workflows/syncjob"
)

// Hostile sources: documents and servers built to exhaust memory, CPU, time
// or trust. Each is synced after a good version; each must end as a clean
// failure that names the source and the problem, and the good version stays.

const hostileHead = "openapi: 3.0.3\ninfo: {title: hostile, version: '1'}\npaths: {}\n"

// billionLaughs nests nine lists of nine aliases nine levels deep: 9^9
// "lol"s once expanded.
func billionLaughs() []byte {
	var b strings.Builder
	b.WriteString(hostileHead + "x-lol:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(p+", ", 9), ", "))
	}
	return []byte(b.String())
}

// gzipOf compresses n zero bytes.
func gzipOf(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		_, err = zw.Write(chunk[:k])
		require.NoError(t, err)
		n -= k
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// withRef is the petstore with its Pets schema replaced by a $ref.
func withRef(t *testing.T, ref string) []byte {
	s := string(petstore(t))
	old := `$ref: "#/components/schemas/Pets"`
	require.Contains(t, s, old)
	return []byte(strings.Replace(s, old, `$ref: "`+ref+`"`, 1))
}

// counter counts the requests a server receives.
type counter struct{ n atomic.Int64 }

func (c *counter) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		h(w, r)
	}
}

func serve(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/openapi.yaml"
}

func TestHostileSourcesKeepTheLastGoodVersion(t *testing.T) {
	huge := bytes.Repeat([]byte("# padding\n"), testMaxBytes/5) // 2 MiB + a few bytes
	bomb := gzipOf(t, 64<<20)                                   // 64 MiB of zeros in ~64 KB
	require.Less(t, len(bomb), testMaxBytes)

	// A server a $ref points to: the sync must never call it.
	var remoteHits counter
	remote := serve(t, remoteHits.wrap(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Pets: {type: array}\n"))
	}))

	var redirectHits counter
	cases := []struct {
		name string
		// body replaces the good server's document; handler serves the
		// hostile sync from its own server instead.
		body      []byte
		handler   http.HandlerFunc
		want      []string
		retryable bool
		after     func(t *testing.T)
	}{
		{name: "alias-bomb", body: billionLaughs(), want: []string{"too complex", "alias"}},
		{name: "deep-flow-arrays", body: []byte(hostileHead + "x-deep: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n"),
			want: []string{"too complex", "nesting deeper than"}},
		{name: "deep-flow-maps", body: []byte(hostileHead + "x-deep: " + strings.Repeat("{a: ", 10_000) + "1" + strings.Repeat("}", 10_000) + "\n"),
			want: []string{"too complex", "nesting deeper than"}},
		{name: "deep-block-maps", body: deepBlock(1500), want: []string{"too complex", "nesting deeper than"}},
		{name: "deep-json", body: []byte(`{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}, "x-deep": ` +
			strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "}"), want: []string{"too complex", "depth"}},
		{name: "huge-with-length", handler: func(w http.ResponseWriter, _ *http.Request) {
			// net/http only sets Content-Length itself on small bodies.
			w.Header().Set("Content-Length", strconv.Itoa(len(huge)))
			_, _ = w.Write(huge)
		}, want: []string{"Content-Length " + strconv.Itoa(len(huge)) + " is over the 2097152-byte limit"}},
		{name: "huge-chunked", handler: func(w http.ResponseWriter, _ *http.Request) {
			// No Content-Length: the limit must trip while reading.
			for range 3 * testMaxBytes / (64 << 10) {
				if _, err := w.Write(bytes.Repeat([]byte("#"), 64<<10)); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}, want: []string{"size limit", "more than 2097152 bytes"}},
		{name: "gzip-bomb", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
		}, want: []string{"size limit", "more than 2097152 bytes"}},
		{name: "gzip-bomb-unlabelled", handler: func(w http.ResponseWriter, _ *http.Request) {
			// A .yaml.gz served as is: sniffed by its magic bytes.
			_, _ = w.Write(bomb)
		}, want: []string{"size limit", "more than 2097152 bytes"}},
		{name: "trickle", handler: func(w http.ResponseWriter, r *http.Request) {
			// A byte every 300ms keeps the idle timer happy; the overall
			// timeout (2s) must end it.
			for {
				if _, err := w.Write([]byte("#")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(300 * time.Millisecond):
				}
			}
		}, want: []string{"overall timeout"}, retryable: true},
		{name: "stall-after-headers", handler: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("openapi: 3.0.3\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // nothing more until the client gives up
		}, want: []string{"idle timeout"}, retryable: true},
		{name: "remote-ref", body: withRef(t, remote[:strings.LastIndex(remote, "/")]+"/pets.yaml#/Pets"),
			want:  []string{"$ref not allowed", "not on the source's origin"},
			after: func(t *testing.T) { require.Zero(t, remoteHits.n.Load(), "a remote $ref is never fetched") }},
		{name: "file-ref-absolute", body: withRef(t, "file:///etc/passwd"), want: []string{"$ref not allowed", "file:///etc/passwd"}},
		{name: "redirect-chain", handler: redirectHits.wrap(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			http.Redirect(w, r, fmt.Sprintf("/openapi.yaml?n=%d", n+1), http.StatusFound)
		}), want: []string{"redirects (limit 5)"},
			after: func(t *testing.T) {
				require.EqualValues(t, 6, redirectHits.n.Load(), "the first request and 5 redirects, never a 7th")
			}},
		{name: "redirect-to-metadata", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
		}, want: []string{"refusing to connect to 169.254.169.254", "link-local", "allow-list"}},
		{name: "redirect-to-file", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}, want: []string{"only http and https"}},
		{name: "invalid-utf8", body: append([]byte(hostileHead+"x-bad: \""), 0xff, 0xfe, '"', '\n'), want: []string{"invalid UTF-8", "line 4"}},
		{name: "utf16", body: utf16(hostileHead), want: []string{"invalid UTF-8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "hostile-" + tc.name
			src := newSpecServer(t, petstore(t))
			res, err := syncNow(t, id, src.url(), 1)
			require.NoError(t, err)
			require.Equal(t, 1, res.Version)
			good := head(t, id)

			url := src.url()
			if tc.body != nil {
				src.set(func(s *specServer) { s.body = tc.body })
			}
			if tc.handler != nil {
				url = serve(t, tc.handler)
			}
			res, err = syncNow(t, id, url, 1)
			require.Error(t, err)
			require.NotNil(t, res)
			require.Equal(t, syncjob.StatusFailed, res.Status)
			st := status(t, id)
			require.Equal(t, syncjob.StatusFailed, st.Status)
			require.Contains(t, st.LastError, `"`+id, "the error names the source")
			for _, w := range tc.want {
				require.Contains(t, strings.ToLower(st.LastError), strings.ToLower(w))
			}
			require.Less(t, len(st.LastError), 2048, "the error is a summary, not the document: %.300s", st.LastError)
			if tc.retryable {
				require.Equal(t, 1, st.RetryCount, "transient failures are retried")
			} else {
				require.Equal(t, 0, st.RetryCount, "permanent failures are not retried")
			}
			after := head(t, id)
			require.Equal(t, good.Number, after.Number, "the last good version stays current")
			require.Equal(t, good.Hash, after.Hash)
			if tc.after != nil {
				tc.after(t)
			}
		})
	}
}

func deepBlock(levels int) []byte {
	var b strings.Builder
	b.WriteString(hostileHead + "x-deep:\n")
	for i := range levels {
		b.WriteString(strings.Repeat(" ", i+1) + "a:\n")
	}
	return []byte(b.String())
}

// utf16 encodes ASCII text as UTF-16LE with a BOM.
func utf16(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, c := range []byte(s) {
		out = append(out, c, 0)
	}
	return out
}

// Circular $refs are legal: a recursive schema is a tree type. A schema that
// is nothing but a $ref to itself describes nothing, but it is still a
// well-formed document: the sync must end (not loop) and store it.
func TestHostileRefCyclesEndCleanly(t *testing.T) {
	recursive := strings.Replace(string(petstore(t)), "components:\n  schemas:\n",
		"components:\n  schemas:\n    Node:\n      type: object\n      properties:\n        name:\n          type: string\n        children:\n          type: array\n          items:\n            $ref: \"#/components/schemas/Node\"\n        parent:\n          $ref: \"#/components/schemas/Node\"\n", 1)
	self := strings.Replace(string(petstore(t)), "components:\n  schemas:\n",
		"components:\n  schemas:\n    A:\n      $ref: \"#/components/schemas/A\"\n    B:\n      $ref: \"#/components/schemas/C\"\n    C:\n      $ref: \"#/components/schemas/B\"\n", 1)
	for _, tc := range []struct {
		name, body string
		schemas    int
	}{
		{"recursive-schema", recursive, 4},
		{"self-ref", self, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, string(petstore(t)), tc.body)
			id := "hostile-cycle-" + tc.name
			src := newSpecServer(t, petstore(t))
			_, err := syncNow(t, id, src.url(), 1)
			require.NoError(t, err)

			src.set(func(s *specServer) { s.body = []byte(tc.body) })
			res, err := syncNow(t, id, src.url(), 1)
			require.NoError(t, err)
			require.Equal(t, syncjob.StatusCompleted, res.Status)
			require.Equal(t, 2, res.Version)
			require.Positive(t, res.Changes)
			require.Equal(t, tc.schemas, head(t, id).Counts.Schemas)
			stored, err := env.store.GetBlob(t.Context(), head(t, id).Hash)
			require.NoError(t, err)
			require.Contains(t, string(stored), `"$ref": "#/components/schemas/`)
		})
	}
}

// A chain of exactly 5 redirects is followed; the limit is not off by one.
func TestHostileRedirectChainAtTheLimitIsFollowed(t *testing.T) {
	good := petstore(t)
	var hits counter
	url := serve(t, hits.wrap(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n < 5 {
			http.Redirect(w, r, fmt.Sprintf("/openapi.yaml?n=%d", n+1), http.StatusFound)
			return
		}
		_, _ = w.Write(good)
	}))
	res, err := syncNow(t, "hostile-redirect-5", url, 0)
	require.NoError(t, err)
	require.Equal(t, 1, res.Version)
	require.EqualValues(t, 6, hits.n.Load())
}

// secretEnv sets a fresh random secret in a fresh variable for this test.
func secretEnv(t *testing.T) (name, secret string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	name = "LIVESYNC_TEST_SECRET_" + strings.ToUpper(hex.EncodeToString(b[:4]))
	secret = "s3cr3t-" + hex.EncodeToString(b)
	t.Setenv(name, secret)
	return name, secret
}

func syncWithHeaders(t *testing.T, id, url string, headers map[string]string) (*syncjob.SyncJobResult, error) {
	t.Helper()
	in := fastRetries(0)
	in.Source = source.Source{ID: id, URL: url, Headers: headers}
	return syncjob.Start(t.Context(), env.client, in, true)
}

// historyJSON renders every event of a workflow's history as protojson, and
// appends every base64 string in it (payload data) decoded, so a search sees
// inputs, results and failures as text.
func historyJSON(t *testing.T, workflowID string) string {
	t.Helper()
	var b strings.Builder
	it := env.client.GetWorkflowHistory(t.Context(), workflowID, "", false, 0)
	events := 0
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		j, err := protojson.Marshal(ev)
		require.NoError(t, err)
		b.Write(j)
		b.WriteByte('\n')
		var v any
		require.NoError(t, json.Unmarshal(j, &v))
		decodeBase64Strings(v, &b)
		events++
	}
	require.Positive(t, events)
	return b.String()
}

func decodeBase64Strings(v any, out *strings.Builder) {
	switch v := v.(type) {
	case string:
		if d, err := base64.StdEncoding.DecodeString(v); err == nil && len(d) > 0 {
			out.Write(d)
			out.WriteByte('\n')
		}
	case []any:
		for _, e := range v {
			decodeBase64Strings(e, out)
		}
	case map[string]any:
		for _, e := range v {
			decodeBase64Strings(e, out)
		}
	}
}

// logsMention reports the log lines whose message or any field contains s.
func logsMention(s string) []string {
	var hits []string
	for _, e := range env.logs.All() {
		line := e.Message + " " + fmt.Sprint(e.ContextMap())
		if strings.Contains(line, s) {
			hits = append(hits, line)
		}
	}
	return hits
}

// storeMentions reports the store files that contain s.
func storeMentions(t *testing.T, s string) []string {
	u, err := url.Parse(env.storeURL)
	require.NoError(t, err)
	var hits []string
	require.NoError(t, filepath.WalkDir(u.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if packed, ok := bytes.CutPrefix(b, []byte("\x00livesync-gzip\n")); ok && err == nil {
			// a blob the store keeps compressed (store.packBlob)
			zr, zerr := gzip.NewReader(bytes.NewReader(packed))
			require.NoError(t, zerr, p)
			b, err = io.ReadAll(zr)
			require.NoError(t, err, p)
		}
		if err == nil && bytes.Contains(b, []byte(s)) {
			hits = append(hits, p)
		}
		return nil
	}))
	return hits
}

func TestSecretsNeverReachHistoryOrLogs(t *testing.T) {
	t.Run("resolved", func(t *testing.T) {
		name, secret := secretEnv(t)
		var got atomic.Value
		body := petstore(t)
		url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Store(r.Header.Get("Authorization") + "|" + r.Header.Get("X-Api-Key"))
			if r.Header.Get("Authorization") != secret {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write(body)
		}))
		id := "hostile-secret-ok"
		res, err := syncWithHeaders(t, id, url, map[string]string{
			"Authorization": "env:" + name,
			"X-Api-Key":     "${" + name + "}",
		})
		require.NoError(t, err)
		require.Equal(t, 1, res.Version)
		require.Equal(t, secret+"|"+secret, got.Load(), "the references were resolved and sent")

		hist := historyJSON(t, syncjob.SyncWorkflowID(id))
		require.Contains(t, hist, name, "the history carries the reference")
		require.NotContains(t, hist, secret, "the history never carries the value")
		require.NotEmpty(t, logsMention(id), "the sync was logged")
		require.Empty(t, logsMention(secret))
		require.Empty(t, storeMentions(t, secret))
		st := status(t, id)
		require.NotContains(t, fmt.Sprintf("%+v", st), secret)
	})

	t.Run("rejected-by-server", func(t *testing.T) {
		// The server refuses the credential and echoes it in its error page:
		// the failure must still not carry it.
		name, secret := secretEnv(t)
		url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad credential "+r.Header.Get("Authorization"), http.StatusForbidden)
		}))
		id := "hostile-secret-403"
		res, err := syncWithHeaders(t, id, url, map[string]string{"Authorization": "env:" + name})
		require.Error(t, err)
		require.Equal(t, syncjob.StatusFailed, res.Status)
		require.Contains(t, res.Error, "403")
		require.NotContains(t, historyJSON(t, syncjob.SyncWorkflowID(id)), secret)
		require.Empty(t, logsMention(secret))
	})

	t.Run("missing-variable", func(t *testing.T) {
		name, secret := secretEnv(t)
		missing := name + "_MISSING"
		var hits counter
		url := serve(t, hits.wrap(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(petstore(t))
		}))
		id := "hostile-secret-missing"
		res, err := syncWithHeaders(t, id, url, map[string]string{
			"Authorization": "env:" + missing,
			"X-Api-Key":     "env:" + name, // set: its value must not leak into the error
		})
		require.Error(t, err)
		require.Equal(t, syncjob.StatusFailed, res.Status)
		st := status(t, id)
		require.Equal(t, 0, st.RetryCount, "a missing variable is not retried")
		require.Contains(t, st.LastError, `"`+id+`"`)
		require.Contains(t, st.LastError, `header "Authorization"`)
		require.Contains(t, st.LastError, missing)
		require.NotContains(t, st.LastError, secret)
		require.Zero(t, hits.n.Load(), "nothing is fetched without every header")
		require.NotContains(t, historyJSON(t, syncjob.SyncWorkflowID(id)), secret)
		require.Empty(t, logsMention(secret))
		require.Nil(t, head(t, id))
	})
}

// A relative reference of a URL source resolves on the source's own origin
// (a multi-file spec), never on the worker's disk.
func TestRelativeRefStaysOnTheSourcesOrigin(t *testing.T) {
	id := "hostile-relative-ref"
	src := newSpecServer(t, petstore(t))
	_, err := syncNow(t, id, src.url(), 1)
	require.NoError(t, err)
	src.set(func(s *specServer) { s.body = withRef(t, "../../../../etc/passwd#/root") })
	res, _ := syncNow(t, id, src.url(), 1)
	require.NotNil(t, res)
	st := status(t, id)
	require.NotContains(t, fmt.Sprintf("%+v", st), "root:x:0:0")
	require.Empty(t, storeMentions(t, "root:x:0:0"), "nothing of the worker's disk was read")
}

// Whoever may start a sync cannot make the worker send its own secrets, or
// read its files, on their behalf: references and paths outside what the
// operator allowed are refused, with the allow-list named, before anything
// is fetched or stored.
func TestSourcesBorrowNothingTheOperatorDidNotAllow(t *testing.T) {
	t.Setenv("HOOK_SECRET", "hook-signing-key-value")
	var hits counter
	url := serve(t, hits.wrap(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(petstore(t)) }))

	t.Run("secret-not-allowed", func(t *testing.T) {
		id := "deputy-env"
		out, err := starter(t, "sync", "--source", url, "--id", id, "--header", "Authorization=env:HOOK_SECRET", "--max-retries", "0", "--wait", "--json")
		require.Error(t, err, out)
		st := status(t, id)
		require.Equal(t, syncjob.StatusFailed, st.Status)
		require.Contains(t, st.LastError, "HOOK_SECRET")
		require.Contains(t, st.LastError, testSecretEnv, "the error names the allow-list")
		require.Zero(t, hits.n.Load(), "nothing was sent")
		require.Empty(t, logsMention("hook-signing-key-value"))
	})

	t.Run("worker-secret-never", func(t *testing.T) {
		// Even a name inside an allowed pattern's reach: TEMPORAL_* is the worker's.
		id := "deputy-temporal"
		t.Setenv("TEMPORAL_API_KEY", "temporal-key-value")
		res, err := syncWithHeaders(t, id, url, map[string]string{"Authorization": "env:TEMPORAL_API_KEY"})
		require.Error(t, err)
		require.Equal(t, syncjob.StatusFailed, res.Status)
		require.Zero(t, hits.n.Load())
	})

	t.Run("file-outside-roots", func(t *testing.T) {
		for _, path := range []string{"/proc/self/environ", "/etc/hostname"} {
			id := "deputy-file-" + cli.DeriveID(path)
			in := fastRetries(0)
			in.Source = source.Source{ID: id, File: path}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			res, err := syncjob.Start(ctx, env.client, in, true)
			cancel()
			require.Error(t, err, path)
			require.Equal(t, syncjob.StatusFailed, res.Status)
			require.Contains(t, res.Error, path)
			require.Nil(t, head(t, id), "nothing was stored")
		}
		require.Empty(t, storeMentions(t, "HOOK_SECRET=hook-signing-key-value"), "the environment never reached the store")
	})

	t.Run("engine-refuses-at-registration", func(t *testing.T) {
		var j engine.JobInfo
		err := engine.Update(t.Context(), env.client, engine.UpdateAddSource,
			source.Source{ID: "deputy-engine", URL: url, Headers: map[string]string{"Authorization": "env:HOOK_SECRET"}}, &j)
		require.Error(t, err)
		require.Contains(t, err.Error(), "HOOK_SECRET")
		err = engine.Update(t.Context(), env.client, engine.UpdateAddSource,
			source.Source{ID: "deputy-engine-meta", URL: "http://169.254.169.254/latest/meta-data"}, &j)
		require.Error(t, err)
		require.Contains(t, err.Error(), "169.254.169.254")
	})
}
