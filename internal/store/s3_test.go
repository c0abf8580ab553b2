package store

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// fakeS3 is an in-memory S3 service (gofakes3) over HTTP with one bucket,
// "bucket". It records the Authorization header of the last request.
type fakeS3 struct {
	backend  *s3mem.Backend
	srv      *httptest.Server
	mu       sync.Mutex
	lastAuth string
}

func (f *fakeS3) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// url is the store URL of the fake's bucket plus extra parameters.
func (f *fakeS3) url(extra string) string {
	u := "s3://bucket?endpoint=" + f.host() + "&use_path_style=true&disable_https=true&region=us-east-1"
	if extra != "" {
		u += "&" + extra
	}
	return u
}

func (f *fakeS3) auth() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAuth
}

// newFakeS3 starts the fake and sets env credentials, so that the
// credential chain never reaches the shared file or instance metadata.
func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	require.NoError(t, f.backend.CreateBucket("bucket"))
	h := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.lastAuth = r.Header.Get("Authorization")
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "envkey")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return f
}

func openS3(t *testing.T, rawURL string) *Store {
	t.Helper()
	s, err := Open(t.Context(), rawURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestS3BlobOperations(t *testing.T) {
	f := newFakeS3(t)
	s := openS3(t, f.url(""))
	b, ctx := s.bucket, t.Context()

	_, err := b.ReadAll(ctx, "missing")
	require.Equal(t, gcerrors.NotFound, gcerrors.Code(err), "%v", err)
	ok, err := b.Exists(ctx, "missing")
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, gcerrors.NotFound, gcerrors.Code(b.Delete(ctx, "missing")))

	require.NoError(t, b.WriteAll(ctx, "dir/a.json", []byte(`{"a":1}`), &blob.WriterOptions{
		ContentType: "application/json",
		Metadata:    map[string]string{"owner": "test"},
	}))
	got, err := b.ReadAll(ctx, "dir/a.json")
	require.NoError(t, err)
	require.Equal(t, `{"a":1}`, string(got))
	attrs, err := b.Attributes(ctx, "dir/a.json")
	require.NoError(t, err)
	require.Equal(t, int64(7), attrs.Size)
	require.Equal(t, "application/json", attrs.ContentType)
	require.Equal(t, "test", attrs.Metadata["owner"])
	require.Len(t, attrs.MD5, 16)

	// Ranges, and the empty range.
	r, err := b.NewRangeReader(ctx, "dir/a.json", 1, 4, nil)
	require.NoError(t, err)
	part, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, `"a":`, string(part))
	r, err = b.NewRangeReader(ctx, "dir/a.json", 0, 0, nil)
	require.NoError(t, err)
	require.Equal(t, int64(7), r.Size())
	require.NoError(t, r.Close())
	_, err = b.NewRangeReader(ctx, "missing", 0, 0, nil)
	require.Equal(t, gcerrors.NotFound, gcerrors.Code(err))

	// Overwrite, then create-if-absent on an existing key: S3's
	// If-None-Match: * (which gofakes3 honours) answers 412.
	require.NoError(t, b.WriteAll(ctx, "dir/a.json", []byte("v2"), nil))
	err = b.WriteAll(ctx, "dir/a.json", []byte("v3"), &blob.WriterOptions{IfNotExist: true})
	require.Equal(t, gcerrors.FailedPrecondition, gcerrors.Code(err), "%v", err)
	require.True(t, isPrecondition(err))
	got, err = b.ReadAll(ctx, "dir/a.json")
	require.NoError(t, err)
	require.Equal(t, "v2", string(got))
	require.NoError(t, b.WriteAll(ctx, "dir/new.json", []byte("n"), &blob.WriterOptions{IfNotExist: true}))

	require.NoError(t, b.Copy(ctx, "dir/copy.json", "dir/a.json", nil))
	got, err = b.ReadAll(ctx, "dir/copy.json")
	require.NoError(t, err)
	require.Equal(t, "v2", string(got))
	require.Equal(t, gcerrors.NotFound, gcerrors.Code(b.Copy(ctx, "dir/x", "missing", nil)))

	require.NoError(t, b.Delete(ctx, "dir/copy.json"))
	ok, err = b.Exists(ctx, "dir/copy.json")
	require.NoError(t, err)
	require.False(t, ok)

	// The driver's types are reachable through As and ErrorAs.
	var client *minio.Client
	require.True(t, b.As(&client))
	require.NotNil(t, client)
	_, err = b.ReadAll(ctx, "missing")
	var resp minio.ErrorResponse
	require.True(t, b.ErrorAs(err, &resp))
	require.Equal(t, "NoSuchKey", resp.Code)

	// A bucket that does not exist is NotFound too.
	nb := openS3(t, strings.Replace(f.url(""), "s3://bucket", "s3://nobucket", 1))
	_, err = nb.bucket.ReadAll(ctx, "k")
	require.Equal(t, gcerrors.NotFound, gcerrors.Code(err), "%v", err)
}

func TestS3ListDelimiterAndPages(t *testing.T) {
	f := newFakeS3(t)
	s := openS3(t, f.url(""))
	b, ctx := s.bucket, t.Context()
	keys := []string{"a", "b/1", "b/2", "b/c/3", "c", "d/1", "e"}
	for i := range 23 {
		keys = append(keys, fmt.Sprintf("many/%03d", i))
	}
	for _, k := range keys {
		require.NoError(t, b.WriteAll(ctx, k, []byte(k), nil))
	}

	// Top level with a delimiter: blobs and directories, sorted together.
	var top []string
	it := b.List(&blob.ListOptions{Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		name := obj.Key
		if obj.IsDir {
			name += " (dir)"
		}
		top = append(top, name)
	}
	require.Equal(t, []string{"a", "b/ (dir)", "c", "d/ (dir)", "e", "many/ (dir)"}, top)

	// Pages of one item each across directories: each comes once, in order.
	var paged []string
	token := blob.FirstPageToken
	for {
		objs, next, err := b.ListPage(ctx, token, 1, &blob.ListOptions{Delimiter: "/"})
		require.NoError(t, err)
		// Full pages; only the last may be empty (the repeats it dropped).
		require.True(t, len(objs) == 1 || len(objs) == 0 && len(next) == 0, "%d objects, next %q", len(objs), next)
		for _, o := range objs {
			paged = append(paged, o.Key)
		}
		if len(next) == 0 {
			break
		}
		token = next
	}
	require.Equal(t, []string{"a", "b/", "c", "d/", "e", "many/"}, paged)

	// One level down.
	objs, next, err := b.ListPage(ctx, blob.FirstPageToken, 10, &blob.ListOptions{Prefix: "b/", Delimiter: "/"})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, objs, 3)
	require.Equal(t, []string{"b/1", "b/2", "b/c/"}, []string{objs[0].Key, objs[1].Key, objs[2].Key})
	require.False(t, objs[0].IsDir)
	require.Equal(t, int64(3), objs[0].Size)
	require.True(t, objs[2].IsDir)

	// A flat prefix listing in pages of 10: 10, 10, 3.
	var sizes []int
	var all []string
	token = blob.FirstPageToken
	for {
		objs, next, err := b.ListPage(ctx, token, 10, &blob.ListOptions{Prefix: "many/"})
		require.NoError(t, err)
		sizes = append(sizes, len(objs))
		for _, o := range objs {
			all = append(all, o.Key)
		}
		if len(next) == 0 {
			break
		}
		token = next
	}
	require.Equal(t, []int{10, 10, 3}, sizes)
	require.Equal(t, keys[7:], all)
}

func TestS3StoreVersionsAndRecords(t *testing.T) {
	f := newFakeS3(t)
	s := openS3(t, f.url(""))
	ctx := t.Context()

	h1, err := s.PutBlob(ctx, []byte("one"))
	require.NoError(t, err)
	again, err := s.PutBlob(ctx, []byte("one")) // exists: the 412 is success
	require.NoError(t, err)
	require.Equal(t, h1, again)
	h2, err := s.PutBlob(ctx, []byte("two"))
	require.NoError(t, err)
	data, err := s.GetBlob(ctx, h1)
	require.NoError(t, err)
	require.Equal(t, "one", string(data))
	_, err = s.GetBlob(ctx, Hash([]byte("missing")))
	require.ErrorIs(t, err, ErrNotFound)
	has, err := s.HasBlob(ctx, h2)
	require.NoError(t, err)
	require.True(t, has)

	commitContract(t, s)
	_, err = s.Commit(ctx, Version{API: "cats", Hash: h1, Origin: OriginSync})
	require.NoError(t, err)
	apis, err := s.APIs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"cats", "pets"}, apis)

	// Source state.
	st, err := s.SourceState(ctx, "petstore")
	require.NoError(t, err)
	require.Empty(t, st.ETag)
	st.API, st.ETag = "pets", `"abc"`
	require.NoError(t, s.PutSourceState(ctx, *st))
	require.NoError(t, s.PutSourceState(ctx, SourceState{SourceID: "other", API: "cats"}))
	states, err := s.SourceStates(ctx, "pets")
	require.NoError(t, err)
	require.Len(t, states, 1)
	require.Equal(t, `"abc"`, states[0].ETag)

	// Keys.
	require.NoError(t, s.PutKey(ctx, "cache/x", map[string]int{"n": 1}))
	var kv map[string]int
	require.NoError(t, s.GetKey(ctx, "cache/x", &kv))
	require.Equal(t, 1, kv["n"])
	require.ErrorIs(t, s.GetKey(ctx, "cache/y", &kv), ErrNotFound)

	// Registry records, listed in pages.
	type rec struct{ N int }
	for i := range 5 {
		require.NoError(t, s.PutRecord(ctx, fmt.Sprintf("queue/%02d", i), rec{i}))
	}
	require.NoError(t, s.PutRecord(ctx, "sources/a", rec{9}))
	var r rec
	require.NoError(t, s.GetRecord(ctx, "queue/03", &r))
	require.Equal(t, 3, r.N)
	require.ErrorIs(t, s.GetRecord(ctx, "queue/99", &r), ErrNotFound)
	var listed []string
	token, pages := "", 0
	for {
		keys, next, err := s.ListRecords(ctx, "queue/", token, 2)
		require.NoError(t, err)
		listed = append(listed, keys...)
		pages++
		if next == "" {
			break
		}
		token = next
	}
	require.Equal(t, []string{"queue/00", "queue/01", "queue/02", "queue/03", "queue/04"}, listed)
	require.GreaterOrEqual(t, pages, 3)
	require.NoError(t, s.DeleteRecord(ctx, "queue/03"))
	require.NoError(t, s.DeleteRecord(ctx, "queue/03")) // a missing one is fine
	require.ErrorIs(t, s.GetRecord(ctx, "queue/03", &r), ErrNotFound)
	keys, next, err := s.ListRecords(ctx, "queue/", "", 0)
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []string{"queue/00", "queue/01", "queue/02", "queue/04"}, keys)
}

func TestS3ConcurrentWritersGetDistinctNumbers(t *testing.T) {
	f := newFakeS3(t)
	concurrentWriters(t, openS3(t, f.url("")))
}

func TestS3URLParameters(t *testing.T) {
	f := newFakeS3(t)
	ctx := t.Context()
	write := func(t *testing.T, rawURL string) {
		t.Helper()
		s := openS3(t, rawURL)
		require.NoError(t, s.bucket.WriteAll(ctx, "k", []byte("v"), nil))
	}

	// Env credentials sign the requests, for the region given.
	write(t, f.url(""))
	require.Contains(t, f.auth(), "Credential=envkey/")
	require.Contains(t, f.auth(), "/us-east-1/s3/aws4_request")

	// The region from the environment.
	t.Run("env region", func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-west-3")
		write(t, "s3://bucket?endpoint="+f.host()+"&use_path_style=true&disable_https=true")
		require.Contains(t, f.auth(), "/eu-west-3/s3/aws4_request")
	})

	// An endpoint given as a URL; its scheme decides HTTPS.
	write(t, "s3://bucket?region=us-east-1&use_path_style=true&endpoint="+f.srv.URL)

	// s3blob's legacy spelling of use_path_style.
	write(t, "s3://bucket?region=us-east-1&s3ForcePathStyle=true&disable_https=true&endpoint="+f.host())

	// anonymous=true: unsigned requests.
	write(t, f.url("anonymous=true"))
	require.Empty(t, f.auth())

	// profile=: the shared credentials file, when the environment has no keys.
	t.Run("profile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "credentials")
		require.NoError(t, os.WriteFile(file, []byte("[default]\naws_access_key_id = defkey\naws_secret_access_key = defsecret\n\n[other]\naws_access_key_id = otherkey\naws_secret_access_key = othersecret\n"), 0o600))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		write(t, f.url("profile=other"))
		require.Contains(t, f.auth(), "Credential=otherkey/")
		t.Setenv("AWS_PROFILE", "other")
		write(t, f.url(""))
		require.Contains(t, f.auth(), "Credential=otherkey/")
		t.Setenv("AWS_PROFILE", "")
		write(t, f.url(""))
		require.Contains(t, f.auth(), "Credential=defkey/")
	})

	// prefix= (gocloud's own) keeps the store under a key prefix.
	s := openS3(t, f.url("prefix=tenant/"))
	h, err := s.PutBlob(ctx, []byte("x"))
	require.NoError(t, err)
	key, _ := blobKey(h)
	plain := openS3(t, f.url(""))
	ok, err := plain.bucket.Exists(ctx, "tenant/"+key)
	require.NoError(t, err)
	require.True(t, ok)

	// Accepted for compatibility with s3blob's URLs.
	openS3(t, f.url("awssdk=v2&hostname_immutable=true&dualstack=false&accelerate=false&ssetype=AES256"))

	for raw, want := range map[string]string{
		f.url("bogus=1"):                       `unknown s3 URL parameter "bogus"`,
		f.url("anonymous=maybe"):               `invalid value "maybe" for s3 URL parameter "anonymous"`,
		"s3://bucket?use_path_style=yes":       `"use_path_style"`,
		f.url("region=eu-west-1"):              `"region" is given more than once`,
		f.url("ssetype=rot13"):                 `"ssetype"`,
		f.url("kmskeyid=k"):                    `needs ssetype=aws:kms`,
		"s3://?region=us-east-1":               "bucket name",
		"s3://bucket/sub/dir?region=us-east-1": "prefix=",
		"s3://bucket?endpoint=ftp://h:1":       "http or https",
		"s3://bucket?endpoint=http://h:1/path": "HOST[:PORT]",
	} {
		_, err := Open(ctx, raw)
		require.ErrorContains(t, err, want, raw)
	}
}

// gofakes3 honours If-None-Match: * (TestS3BlobOperations), but not the
// other answers S3 gives conditional and refused writes: a handler that
// answers them checks their mapping, and the retry of a 409
// ConditionalRequestConflict (a concurrent conditional write in flight).
func TestS3ErrorMapping(t *testing.T) {
	var puts atomic.Int32
	var mode atomic.Value
	mode.Store("412")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s3Error := func(status int, code string) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message></Error>`, code)
		}
		if r.Method != http.MethodPut {
			s3Error(http.StatusForbidden, "AccessDenied")
			return
		}
		n := puts.Add(1)
		switch {
		case r.Header.Get("If-None-Match") != "*":
			s3Error(http.StatusForbidden, "AccessDenied")
		case mode.Load() == "409" && n == 1:
			s3Error(http.StatusConflict, "ConditionalRequestConflict")
		default:
			s3Error(http.StatusPreconditionFailed, "PreconditionFailed")
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	s := openS3(t, "s3://bucket?region=us-east-1&use_path_style=true&endpoint="+srv.URL)
	ctx := t.Context()

	err := s.bucket.WriteAll(ctx, "k", []byte("v"), &blob.WriterOptions{IfNotExist: true})
	require.Equal(t, gcerrors.FailedPrecondition, gcerrors.Code(err), "%v", err)
	_, err = s.PutBlob(ctx, []byte("v")) // the blob exists: fine
	require.NoError(t, err)

	mode.Store("409")
	puts.Store(0)
	err = s.bucket.WriteAll(ctx, "k", []byte("v"), &blob.WriterOptions{IfNotExist: true})
	require.Equal(t, gcerrors.FailedPrecondition, gcerrors.Code(err), "%v", err)
	require.Equal(t, int32(2), puts.Load(), "the 409 is retried once")

	err = s.bucket.WriteAll(ctx, "k", []byte("v"), nil)
	require.Equal(t, gcerrors.PermissionDenied, gcerrors.Code(err), "%v", err)
	_, err = s.bucket.ReadAll(ctx, "k")
	require.Equal(t, gcerrors.PermissionDenied, gcerrors.Code(err), "%v", err)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = s.bucket.ListPage(cctx, blob.FirstPageToken, 10, nil)
	require.Equal(t, gcerrors.Canceled, gcerrors.Code(err), "%v", err)

	_, err = s.bucket.SignedURL(ctx, "k", &blob.SignedURLOptions{Method: http.MethodPut, EnforceAbsentContentType: true})
	require.Equal(t, gcerrors.Unimplemented, gcerrors.Code(err), "%v", err)
	u, err := s.bucket.SignedURL(ctx, "k", &blob.SignedURLOptions{})
	require.NoError(t, err)
	require.Contains(t, u, "X-Amz-Signature=")
}
