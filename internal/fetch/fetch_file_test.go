package fetch_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apilivesync/apilivesync/internal/fetch"
)

func TestFetchFile(t *testing.T) {
	spec := readFixture(t, "petstore.json")
	abs, err := filepath.Abs("testdata/petstore.json")
	require.NoError(t, err)
	roots := []string{filepath.Dir(abs)}
	tests := []struct {
		name     string
		opts     fetch.Options
		file     string
		wantBody []byte
		wantKind string
		wantTemp bool
	}{
		{name: "relative to BaseDir", opts: fetch.Options{BaseDir: "testdata"}, file: "petstore.json", wantBody: spec},
		{name: "absolute path", file: abs, wantBody: spec},
		{name: "file URL", file: "file://" + filepath.ToSlash(abs), wantBody: spec},
		{name: "file URL with localhost", file: "file://localhost" + filepath.ToSlash(abs), wantBody: spec},
		{name: "gzipped file", opts: fetch.Options{BaseDir: "testdata"}, file: "petstore.json.gz", wantBody: spec},
		{name: "BOM stripped", opts: fetch.Options{BaseDir: "testdata"}, file: "bom.yaml", wantBody: readFixture(t, "bom.yaml")[3:]},
		{name: "not found", opts: fetch.Options{BaseDir: "testdata"}, file: "missing.yaml", wantKind: fetch.KindFileNotFound},
		{name: "directory", file: "testdata", wantKind: fetch.KindBadRequest},
		{name: "remote file URL", file: "file://fileserver/share/spec.json", wantKind: fetch.KindBadRequest},
		{name: "over the limit", opts: fetch.Options{BaseDir: "testdata", MaxBytes: 100}, file: "petstore.json", wantKind: fetch.KindTooLarge},
		{name: "gzip bomb file", opts: fetch.Options{BaseDir: "testdata", MaxBytes: 1 << 20}, file: "bomb.gz", wantKind: fetch.KindTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.SourceRoots = roots
			resp, err := fetch.New(tt.opts).Fetch(t.Context(), fetch.Request{SourceID: "local", File: tt.file})
			if tt.wantKind != "" {
				requireKind(t, err, tt.wantKind, tt.wantTemp)
				require.Contains(t, err.Error(), `fetch source "local": read `)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantBody, resp.Body)
			require.False(t, resp.NotModified)
			require.NotEmpty(t, resp.LastModified)
			require.Equal(t, "file://"+filepath.ToSlash(absPath(t, tt.opts.BaseDir, tt.file)), resp.FinalURL)
		})
	}
}

func absPath(t *testing.T, base, file string) string {
	t.Helper()
	if u := "file://localhost"; len(file) > len(u) && file[:len(u)] == u {
		file = file[len(u):]
	} else if len(file) > 7 && file[:7] == "file://" {
		file = file[7:]
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(base, file)
	}
	a, err := filepath.Abs(file)
	require.NoError(t, err)
	return a
}

func TestFetchFileValidator(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "openapi.yaml")
	require.NoError(t, os.WriteFile(path, []byte("openapi: 3.1.0\n"), 0o600))
	mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, os.Chtimes(path, mtime, mtime))

	f := fetch.New(fetch.Options{BaseDir: dir, SourceRoots: []string{dir}})
	first, err := f.Fetch(t.Context(), fetch.Request{SourceID: "local", File: "openapi.yaml"})
	require.NoError(t, err)
	require.Equal(t, "openapi: 3.1.0\n", string(first.Body))
	require.Equal(t, "application/yaml", first.ContentType)

	unchanged, err := f.Fetch(t.Context(), fetch.Request{SourceID: "local", File: "openapi.yaml", LastModified: first.LastModified})
	require.NoError(t, err)
	require.True(t, unchanged.NotModified)
	require.Nil(t, unchanged.Body)
	require.Equal(t, first.LastModified, unchanged.LastModified)

	tests := []struct {
		name    string
		content string
		mtime   time.Time
	}{
		{"same size, new mtime", "openapi: 3.0.0\n", mtime.Add(time.Second)},
		{"same mtime, new size", "openapi: 3.0.3\nx: 1\n", mtime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			require.NoError(t, os.Chtimes(path, tt.mtime, tt.mtime))
			changed, err := f.Fetch(t.Context(), fetch.Request{SourceID: "local", File: "openapi.yaml", LastModified: first.LastModified})
			require.NoError(t, err)
			require.False(t, changed.NotModified)
			require.Equal(t, tt.content, string(changed.Body))
			require.NotEqual(t, first.LastModified, changed.LastModified)
		})
	}
}
