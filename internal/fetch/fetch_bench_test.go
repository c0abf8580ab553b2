package fetch_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

// benchSpec is a ~1 MiB JSON document built from the petstore fixture.
func benchSpec(b *testing.B) []byte {
	b.Helper()
	unit, err := os.ReadFile("testdata/petstore.json")
	require.NoError(b, err)
	return bytes.Repeat(unit, (1<<20)/len(unit))
}

func BenchmarkFetchHTTP(b *testing.B) {
	spec := benchSpec(b)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(spec)
	require.NoError(b, zw.Close())

	for _, tc := range []struct {
		name string
		enc  string
		body []byte
	}{{"identity", "", spec}, {"gzip", "gzip", gz.Bytes()}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := newServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.enc != "" {
					w.Header().Set("Content-Encoding", tc.enc)
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				_, _ = w.Write(tc.body)
			}))
			f := fetch.New(loopbackOptions())
			b.SetBytes(int64(len(spec)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := f.Fetch(b.Context(), fetch.Request{SourceID: "bench", URL: srv.URL})
				if err != nil || len(resp.Body) != len(spec) {
					b.Fatalf("fetch: %v", err)
				}
			}
		})
	}
}

func BenchmarkFetchHTTPNotModified(b *testing.B) {
	srv := newServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNotModified)
	}))
	f := fetch.New(loopbackOptions())
	b.ReportAllocs()
	for b.Loop() {
		resp, err := f.Fetch(b.Context(), fetch.Request{SourceID: "bench", URL: srv.URL, ETag: `"v1"`})
		if err != nil || !resp.NotModified {
			b.Fatalf("fetch: %v", err)
		}
	}
}

func BenchmarkFetchFile(b *testing.B) {
	spec := benchSpec(b)
	dir := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(dir, "openapi.json"), spec, 0o600))
	f := fetch.New(fetch.Options{BaseDir: dir})
	first, err := f.Fetch(b.Context(), fetch.Request{SourceID: "bench", File: "openapi.json"})
	require.NoError(b, err)

	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(len(spec)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Fetch(b.Context(), fetch.Request{SourceID: "bench", File: "openapi.json"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := f.Fetch(b.Context(), fetch.Request{SourceID: "bench", File: "openapi.json", LastModified: first.LastModified})
			if err != nil || !resp.NotModified {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkClassifyAddr(b *testing.B) {
	addrs := []netip.Addr{
		netip.MustParseAddr("93.184.215.14"),
		netip.MustParseAddr("169.254.169.254"),
		netip.MustParseAddr("64:ff9b::a9fe:a9fe"),
		netip.MustParseAddr("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
	}
	for b.Loop() {
		for _, a := range addrs {
			_ = fetch.ClassifyAddr(a)
		}
	}
}
