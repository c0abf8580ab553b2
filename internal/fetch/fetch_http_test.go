package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

// loopbackOptions are options for tests against httptest servers: loopback
// allowed, short limits so failures come quickly.
func loopbackOptions() fetch.Options {
	return fetch.Options{
		Timeout:     2 * time.Second,
		IdleTimeout: time.Second,
		Guard:       fetch.GuardOptions{AllowLoopback: true},
	}
}

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// requireKind asserts err is a *fetch.Error of the given kind and temporariness.
func requireKind(t *testing.T, err error, kind string, temporary bool) *fetch.Error {
	t.Helper()
	require.Error(t, err)
	var fe *fetch.Error
	require.True(t, errors.As(err, &fe), "want *fetch.Error, got %T: %v", err, err)
	require.Equal(t, kind, fe.Kind, "error: %v", err)
	require.Equal(t, temporary, fe.Temporary, "error: %v", err)
	require.Equal(t, temporary, fetch.IsTemporary(err))
	return fe
}

func TestFetchConditional(t *testing.T) {
	spec := readFixture(t, "petstore.json")
	modTime := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		etag      string // served ETag; "" serves none
		condition func(first *fetch.Response) fetch.Request
	}{
		{
			name: "etag",
			etag: `"v1"`,
			condition: func(first *fetch.Response) fetch.Request {
				return fetch.Request{ETag: first.ETag}
			},
		},
		{
			name: "last-modified",
			condition: func(first *fetch.Response) fetch.Request {
				return fetch.Request{LastModified: first.LastModified}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits, notModified int
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits++
				if tt.etag != "" {
					w.Header().Set("ETag", tt.etag)
				}
				w.Header().Set("Content-Type", "application/json")
				rec := &statusRecorder{ResponseWriter: w}
				http.ServeContent(rec, r, "openapi.json", modTime, bytes.NewReader(spec))
				if rec.status == http.StatusNotModified {
					notModified++
				}
			}))
			f := fetch.New(loopbackOptions())

			first, err := f.Fetch(t.Context(), fetch.Request{SourceID: "pets", URL: srv.URL + "/openapi.json"})
			require.NoError(t, err)
			require.False(t, first.NotModified)
			require.Equal(t, spec, first.Body)
			require.Equal(t, http.StatusOK, first.StatusCode)
			require.Equal(t, "application/json", first.ContentType)
			require.Equal(t, modTime.Format(http.TimeFormat), first.LastModified)
			require.Equal(t, tt.etag, first.ETag)

			req := tt.condition(first)
			req.SourceID, req.URL = "pets", srv.URL+"/openapi.json"
			second, err := f.Fetch(t.Context(), req)
			require.NoError(t, err)
			require.True(t, second.NotModified)
			require.Nil(t, second.Body)
			require.Equal(t, http.StatusNotModified, second.StatusCode)
			require.Equal(t, first.ETag, second.ETag)
			// A 304 that omits a validator keeps the request's.
			require.Equal(t, req.LastModified, second.LastModified)
			require.Equal(t, 2, hits)
			require.Equal(t, 1, notModified)
		})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func TestFetchStatusClassification(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		kind       string
		temporary  bool
		wantAfter  time.Duration
		wantInMsg  string
	}{
		{name: "404", status: 404, kind: fetch.KindNotFound, wantInMsg: "404 Not Found"},
		{name: "410", status: 410, kind: fetch.KindNotFound, wantInMsg: "410 Gone"},
		{name: "400", status: 400, kind: fetch.KindHTTPStatus, wantInMsg: "400 Bad Request"},
		{name: "401 names auth", status: 401, kind: fetch.KindHTTPStatus, wantInMsg: "credentials"},
		{name: "403 names auth", status: 403, kind: fetch.KindHTTPStatus, wantInMsg: "credentials"},
		{name: "429 with Retry-After", status: 429, retryAfter: "7", kind: fetch.KindHTTPStatus, temporary: true, wantAfter: 7 * time.Second, wantInMsg: "retry after 7s"},
		{name: "429 with unusable Retry-After", status: 429, retryAfter: "soon", kind: fetch.KindHTTPStatus, temporary: true},
		{name: "500", status: 500, kind: fetch.KindHTTPStatus, temporary: true, wantInMsg: "500 Internal Server Error"},
		{name: "503 with Retry-After", status: 503, retryAfter: "2", kind: fetch.KindHTTPStatus, temporary: true, wantAfter: 2 * time.Second},
		{name: "304 without a condition", status: 304, kind: fetch.KindHTTPStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
			}))
			f := fetch.New(loopbackOptions())
			_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "payments", URL: srv.URL + "/openapi.json"})
			fe := requireKind(t, err, tt.kind, tt.temporary)
			require.Equal(t, tt.status, fe.StatusCode)
			require.Equal(t, tt.wantAfter, fe.RetryAfter)
			prefix := fmt.Sprintf("fetch source %q: GET %s/openapi.json: %d ", "payments", srv.URL, tt.status)
			require.True(t, strings.HasPrefix(err.Error(), prefix), "message %q lacks prefix %q", err.Error(), prefix)
			require.Contains(t, err.Error(), tt.wantInMsg)
		})
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	f := fetch.New(loopbackOptions())
	_, err = f.Fetch(t.Context(), fetch.Request{SourceID: "gone", URL: "http://" + addr + "/openapi.json"})
	requireKind(t, err, fetch.KindConnection, true)
	require.Contains(t, err.Error(), `fetch source "gone": GET http://`+addr)
	require.Contains(t, err.Error(), "refused")
}

func TestFetchTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		opts    func(*fetch.Options)
		handler http.HandlerFunc
		want    error
		ok      bool
	}{
		{
			name: "overall timeout while waiting for headers",
			opts: func(o *fetch.Options) { o.Timeout, o.IdleTimeout = 150*time.Millisecond, 5*time.Second },
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			want: fetch.ErrTimeout,
		},
		{
			name:    "idle timeout on a byte every 200ms",
			opts:    func(o *fetch.Options) { o.Timeout, o.IdleTimeout = 5*time.Second, 100*time.Millisecond },
			handler: trickle(200*time.Millisecond, 100),
			want:    fetch.ErrIdleTimeout,
		},
		{
			name: "minimum rate on a byte every 20ms",
			opts: func(o *fetch.Options) {
				o.Timeout, o.IdleTimeout, o.MinBytesPerSecond = 5*time.Second, 150*time.Millisecond, 1000
			},
			handler: trickle(20*time.Millisecond, 100),
			want:    fetch.ErrTooSlow,
		},
		{
			name:    "a short trickle within the limits succeeds",
			opts:    func(o *fetch.Options) { o.Timeout, o.IdleTimeout = 5*time.Second, time.Second },
			handler: trickle(20*time.Millisecond, 5),
			ok:      true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			opts := loopbackOptions()
			tt.opts(&opts)
			resp, err := fetch.New(opts).Fetch(t.Context(), fetch.Request{SourceID: "slow", URL: srv.URL})
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, "xxxxx", string(resp.Body))
				return
			}
			requireKind(t, err, fetch.KindTimeout, true)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// trickle writes n bytes, one per interval, flushing each.
func trickle(interval time.Duration, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for range n {
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
	}
}

func TestFetchCanceledByCaller(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := fetch.New(loopbackOptions()).Fetch(ctx, fetch.Request{SourceID: "c", URL: srv.URL})
	requireKind(t, err, fetch.KindCanceled, false)
}

func TestFetchSizeLimit(t *testing.T) {
	const limit = 1 << 20
	bomb := readFixture(t, "bomb.gz")
	spec := readFixture(t, "petstore.json")
	specGz := readFixture(t, "petstore.json.gz")
	big := bytes.Repeat([]byte("a"), limit+1)
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantBody []byte // nil: expect KindTooLarge
	}{
		{
			name: "Content-Length over the limit is refused before reading",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				_, _ = w.Write(big)
			},
		},
		{
			name: "chunked body over the limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for i := 0; i < len(big); i += 64 << 10 {
					_, _ = w.Write(big[i:min(i+64<<10, len(big))])
					w.(http.Flusher).Flush()
				}
			},
		},
		{
			name: "body of exactly the limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write(big[:limit])
			},
			wantBody: big[:limit],
		},
		{
			name: "gzip bomb with Content-Encoding",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write(bomb)
			},
		},
		{
			name: "gzip bomb served as a plain .gz file",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/gzip")
				_, _ = w.Write(bomb)
			},
		},
		{
			name: "gzip within the limit is decompressed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept-Encoding") != "gzip" {
					http.Error(w, "expected Accept-Encoding: gzip", http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write(specGz)
			},
			wantBody: spec,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			opts := loopbackOptions()
			opts.MaxBytes = limit
			resp, err := fetch.New(opts).Fetch(t.Context(), fetch.Request{SourceID: "big", URL: srv.URL})
			if tt.wantBody != nil {
				require.NoError(t, err)
				require.Equal(t, tt.wantBody, resp.Body)
				return
			}
			requireKind(t, err, fetch.KindTooLarge, false)
			require.ErrorIs(t, err, fetch.ErrTooLarge)
		})
	}
}

func TestFetchUnsupportedEncodingAndBadGzip(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"brotli was not asked for", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			_, _ = w.Write([]byte("whatever"))
		}},
		{"gzip header that is not gzip", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte(`{"openapi":"3.0.0"}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			_, err := fetch.New(loopbackOptions()).Fetch(t.Context(), fetch.Request{SourceID: "enc", URL: srv.URL})
			requireKind(t, err, fetch.KindBadRequest, false)
		})
	}
}

func TestFetchStripsBOM(t *testing.T) {
	withBOM := readFixture(t, "bom.yaml")
	require.True(t, bytes.HasPrefix(withBOM, []byte("\xEF\xBB\xBF")))
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(withBOM)
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(buf.Bytes())
	}))
	resp, err := fetch.New(loopbackOptions()).Fetch(t.Context(), fetch.Request{SourceID: "bom", URL: srv.URL})
	require.NoError(t, err)
	require.Equal(t, withBOM[3:], resp.Body)
}

func TestFetchRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			_, _ = w.Write([]byte(`{"openapi":"3.1.0"}`))
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
	})
	srv := newServer(t, mux)
	tests := []struct {
		name          string
		path          string
		wantRedirects int
		wantKind      string
	}{
		{name: "chain within the limit", path: "/chain/3", wantRedirects: 3},
		{name: "chain at the limit", path: "/chain/4", wantRedirects: 4},
		{name: "chain over the limit", path: "/chain/5", wantKind: fetch.KindTooManyRedirects},
		{name: "loop", path: "/loop", wantKind: fetch.KindTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := loopbackOptions()
			opts.MaxRedirects = 4
			resp, err := fetch.New(opts).Fetch(t.Context(), fetch.Request{SourceID: "redir", URL: srv.URL + tt.path})
			if tt.wantKind != "" {
				requireKind(t, err, tt.wantKind, false)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantRedirects, resp.Redirects)
			require.Equal(t, srv.URL+"/chain/0", resp.FinalURL)
			require.Equal(t, `{"openapi":"3.1.0"}`, string(resp.Body))
		})
	}
	t.Run("negative MaxRedirects follows none", func(t *testing.T) {
		opts := loopbackOptions()
		opts.MaxRedirects = -1
		_, err := fetch.New(opts).Fetch(t.Context(), fetch.Request{SourceID: "redir", URL: srv.URL + "/chain/1"})
		requireKind(t, err, fetch.KindTooManyRedirects, false)
	})
}

func TestFetchRedirectDropsHeadersAcrossOrigins(t *testing.T) {
	seen := make(chan http.Header, 2)
	record := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			seen <- r.Header.Clone()
			_, _ = w.Write([]byte(body))
		}
	}
	other := newServer(t, record("other"))
	mux := http.NewServeMux()
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/final", http.StatusFound) })
	mux.HandleFunc("/final", record("same"))
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/final", http.StatusFound)
	})
	srv := newServer(t, mux)

	headers := map[string]string{"X-Api-Key": "k-123", "Authorization": "Bearer t-456"}
	f := fetch.New(loopbackOptions())

	resp, err := f.Fetch(t.Context(), fetch.Request{SourceID: "h", URL: srv.URL + "/same", Headers: headers})
	require.NoError(t, err)
	require.Equal(t, "same", string(resp.Body))
	h := <-seen
	require.Equal(t, "k-123", h.Get("X-Api-Key"))
	require.Equal(t, "Bearer t-456", h.Get("Authorization"))

	resp, err = f.Fetch(t.Context(), fetch.Request{SourceID: "h", URL: srv.URL + "/away", Headers: headers})
	require.NoError(t, err)
	require.Equal(t, "other", string(resp.Body))
	h = <-seen
	require.Empty(t, h.Get("X-Api-Key"))
	require.Empty(t, h.Get("Authorization"))
}

func TestFetchHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"swagger":"2.0"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	t.Run("trusted root", func(t *testing.T) {
		opts := loopbackOptions()
		opts.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
		resp, err := fetch.New(opts).Fetch(t.Context(), fetch.Request{SourceID: "tls", URL: srv.URL})
		require.NoError(t, err)
		require.Equal(t, `{"swagger":"2.0"}`, string(resp.Body))
	})
	t.Run("unknown authority is permanent", func(t *testing.T) {
		_, err := fetch.New(loopbackOptions()).Fetch(t.Context(), fetch.Request{SourceID: "tls", URL: srv.URL})
		requireKind(t, err, fetch.KindConnection, false)
		var unknown x509.UnknownAuthorityError
		require.ErrorAs(t, err, &unknown)
		require.Contains(t, err.Error(), "certificate")
	})
}

func TestFetchBadRequests(t *testing.T) {
	tests := []struct {
		name string
		req  fetch.Request
		msg  string
	}{
		{"neither URL nor file", fetch.Request{SourceID: "s"}, "neither"},
		{"both URL and file", fetch.Request{SourceID: "s", URL: "https://example.com/", File: "x.json"}, "both"},
		{"ftp scheme", fetch.Request{SourceID: "s", URL: "ftp://example.com/spec.json"}, `unsupported scheme "ftp"`},
		{"file URL in the URL field", fetch.Request{SourceID: "s", URL: "file:///etc/passwd"}, "file sources"},
		{"credentials in the URL", fetch.Request{SourceID: "s", URL: "https://user:hunter2@example.com/spec.json"}, "credentials"},
		{"relative URL", fetch.Request{SourceID: "s", URL: "/spec.json"}, "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fetch.New(fetch.Options{})
			dials := fetch.CountDials(f)
			_, err := f.Fetch(t.Context(), tt.req)
			requireKind(t, err, fetch.KindBadRequest, false)
			require.Contains(t, err.Error(), tt.msg)
			require.NotContains(t, err.Error(), "hunter2")
			require.Zero(t, dials.Load())
		})
	}
}

func TestFetchNeverLogsHeaderValues(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "sekrit-value" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	opts := loopbackOptions()
	opts.Logger = zap.New(core)
	f := fetch.New(opts)

	_, err := f.Fetch(t.Context(), fetch.Request{SourceID: "s", URL: srv.URL, Headers: map[string]string{"X-Api-Key": "sekrit-value"}})
	require.NoError(t, err)
	_, err = f.Fetch(t.Context(), fetch.Request{SourceID: "s", URL: srv.URL, Headers: map[string]string{"X-Api-Key": "sekrit-wrong"}})
	requireKind(t, err, fetch.KindHTTPStatus, false)
	require.NotContains(t, err.Error(), "sekrit")

	require.Equal(t, 2, logs.Len())
	for _, entry := range logs.All() {
		rendered := fmt.Sprint(entry.ContextMap())
		require.Contains(t, rendered, "X-Api-Key")
		require.NotContains(t, rendered, "sekrit")
	}
}
