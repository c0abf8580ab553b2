package activities

import (
	"encoding/json"
	"errors"
	"github.com/apilivesync/apilivesync/internal/spec"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/apilivesync/apilivesync/examples"
	"github.com/apilivesync/apilivesync/internal/fetch"
	"github.com/apilivesync/apilivesync/internal/source"
	"github.com/apilivesync/apilivesync/internal/store"
)

func newActivities(t *testing.T) *Activities {
	t.Helper()
	st, err := store.Open(t.Context(), "mem://")
	require.NoError(t, err)
	return &Activities{Store: st, Fetcher: fetch.New(fetch.Options{Guard: fetch.GuardOptions{AllowLoopback: true}}), Docs: NewDocCache(8 << 20)}
}

func petstore(t *testing.T) []byte {
	b, err := fs.ReadFile(examples.Specs(), "petstore.yaml")
	require.NoError(t, err)
	return b
}

// syncOnce runs the pipeline's activities directly, as the workflow would.
func syncOnce(t *testing.T, a *Activities, src source.Source) (*FetchResult, *StoreResult) {
	t.Helper()
	ctx := t.Context()
	f, err := a.FetchSpec(ctx, FetchInput{Source: src})
	require.NoError(t, err)
	if f.NotModified || f.Unchanged {
		return f, nil
	}
	p, err := a.ParseSpec(ctx, ParseInput{SourceID: src.ID, RawHash: f.RawHash})
	require.NoError(t, err)
	var d DiffResult
	if f.BaseHash != "" {
		dr, err := a.DiffSpecs(ctx, DiffInput{API: src.APIID(), OldHash: f.BaseHash, NewHash: p.Hash})
		require.NoError(t, err)
		d = *dr
	}
	m, err := a.MergeSpecs(ctx, MergeInput{API: src.APIID(), SourceID: src.ID, BaseHash: f.BaseHash, RemoteHash: p.Hash})
	require.NoError(t, err)
	s, err := a.StoreVersion(ctx, StoreInput{API: src.APIID(), Source: src, ParentVer: m.HeadVersion, DocHash: m.MergedHash,
		BaseHash: p.Hash, RawHash: f.RawHash, ETag: f.ETag, Counts: p.Counts, Diff: d, DiffOldHash: f.BaseHash, Key: "run-" + f.RawHash})
	require.NoError(t, err)
	return f, s
}

func TestPipelineStoresVersionsAndSkipsUnchangedSources(t *testing.T) {
	a := newActivities(t)
	body := petstore(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	src := source.Source{ID: "pets", URL: srv.URL}

	_, v1 := syncOnce(t, a, src)
	require.True(t, v1.Created)
	require.Equal(t, 1, v1.Version)

	// Same bytes again (no ETag on this server): unchanged, nothing stored.
	f, v := syncOnce(t, a, src)
	require.True(t, f.Unchanged)
	require.Nil(t, v)
	require.Equal(t, 1, f.HeadVersion)
	require.Equal(t, v1.Hash, f.HeadHash)

	// A change: a new version whose report names the removed path.
	body = []byte(strings.Replace(string(body), "  /pets/{petId}:", "  /animals/{petId}:", 1))
	_, v2 := syncOnce(t, a, src)
	require.Equal(t, 2, v2.Version)
	require.Positive(t, v2.Breaking)
	head, err := a.Store.Head(t.Context(), "pets")
	require.NoError(t, err)
	require.Equal(t, 2, head.Number)
	require.NotEmpty(t, head.ReportHash)
	hits, _, _ := a.Docs.Stats()
	require.Positive(t, hits, "diff reuses the documents parse and the last sync parsed")
}

func TestStoreVersionRetriesStoreOnceAndLosersReMerge(t *testing.T) {
	a := newActivities(t)
	ctx := t.Context()
	doc, err := spec.Parse("pets", petstore(t), spec.Options{})
	require.NoError(t, err)
	h, err := a.Store.PutBlob(ctx, doc.Canonical)
	require.NoError(t, err)
	in := StoreInput{API: "pets", Source: source.Source{ID: "pets", URL: "https://x/y"}, ParentVer: 0, DocHash: h, BaseHash: h, Key: "wf/run-1"}
	first, err := a.StoreVersion(ctx, in)
	require.NoError(t, err)
	again, err := a.StoreVersion(ctx, in) // the activity retried after its worker died
	require.NoError(t, err)
	require.Equal(t, first.Version, again.Version)
	vs, err := a.Store.Versions(ctx, "pets")
	require.NoError(t, err)
	require.Len(t, vs, 1, "a retried store writes one version")

	// Another writer that merged on version 0 lost the race.
	other := in
	other.Key = "wf/run-2"
	other.DocHash, err = a.Store.PutBlob(ctx, []byte(strings.Replace(string(doc.Canonical), "Swagger Petstore", "Other", 1)))
	require.NoError(t, err)
	_, err = a.StoreVersion(ctx, other)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, ErrTypeHeadMoved, appErr.Type())
}

func TestParseSpecRefusesBadInputWithAStableType(t *testing.T) {
	a := newActivities(t)
	for name, body := range map[string]string{
		"not-yaml":   "<html>{{oops: [</html>\n\t- : :",
		"not-a-spec": `{"hello": "world"}`,
		"broken-ref": strings.Replace(string(petstore(t)), `"#/components/schemas/Pets"`, `"#/components/schemas/Nope"`, 1),
	} {
		h, err := a.Store.PutBlob(t.Context(), []byte(body))
		require.NoError(t, err)
		// A dangling reference is refused only by a strict source (otherwise a warning).
		_, err = a.ParseSpec(t.Context(), ParseInput{SourceID: "src-" + name, RawHash: h, Strict: true})
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr), name)
		require.Equal(t, ErrTypeSpec, appErr.Type(), name)
		require.True(t, appErr.NonRetryable(), name)
		require.Contains(t, appErr.Message(), "src-"+name, name)
	}
}

func TestDocCacheEvictsByBytes(t *testing.T) {
	c := NewDocCache(100 * modelOverhead)
	mk := func(n int) *spec.Document { return &spec.Document{Canonical: make([]byte, n)} }
	c.Put(mk(60), "a", "a-raw")
	c.Put(mk(30), "b")
	_, ok := c.Get("a-raw")
	require.True(t, ok)
	c.Put(mk(30), "c") // 120 > 100: the least recently used (b) goes
	_, ok = c.Get("b")
	require.False(t, ok)
	_, ok = c.Get("a")
	require.True(t, ok)
	_, _, bytes := c.Stats()
	require.LessOrEqual(t, bytes, int64(100*modelOverhead))
}

// Documents over the bound are kept apart, two at most, and only briefly:
// long enough for a big spec's diff to reuse what its parse built.
func TestDocCacheKeepsBigDocumentsBriefly(t *testing.T) {
	c := NewDocCache(100 * modelOverhead)
	c.bigTTL = 200 * time.Millisecond
	mk := func(n int) *spec.Document { return &spec.Document{Canonical: make([]byte, n)} }
	c.Put(mk(60), "small")
	c.Put(mk(200), "huge-1", "huge-1-raw")
	c.Put(mk(300), "huge-2")
	_, ok := c.Get("huge-1-raw")
	require.True(t, ok, "the parse's document, for the diff")
	c.Put(mk(400), "huge-3") // two slots: the least recently used (huge-2) goes
	_, ok = c.Get("huge-2")
	require.False(t, ok)
	_, ok = c.Get("huge-1")
	require.True(t, ok)
	_, ok = c.Get("small")
	require.True(t, ok, "the bounded part is untouched")
	_, _, bytes := c.Stats()
	require.LessOrEqual(t, bytes, int64(100*modelOverhead))

	// Unused for the TTL, they go (looked at without using them); the
	// bounded part stays.
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.big) == 0
	}, 5*time.Second, 20*time.Millisecond)
	_, ok = c.Get("huge-1")
	require.False(t, ok)
	_, ok = c.Get("small")
	require.True(t, ok)
}

func TestHumanPointer(t *testing.T) {
	for in, want := range map[string]string{
		"/paths/~1pets~1{id}/get/parameters/0": "GET /pets/{id} parameters/0",
		"/paths/~1pets":                        "/pets",
		"/components/schemas/Pet":              "/components/schemas/Pet",
		"":                                     "(document)",
	} {
		require.Equal(t, want, humanPointer(in), in)
	}
}

// A spec just under the fetch limit stays syncable: its stored canonical
// form (larger: pretty-printed) is not re-limited when the next sync diffs
// and merges against it.
func TestStoredDocumentsAreNotReLimitedByTheFetchLimit(t *testing.T) {
	a := newActivities(t)
	doc, err := spec.Parse("pets", petstore(t), spec.Options{})
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(doc.Canonical, &v))
	compact, err := json.Marshal(v)
	require.NoError(t, err)
	require.Greater(t, len(doc.Canonical), len(compact)+100, "the canonical form is the larger one")
	a.SpecOptions.MaxBytes = int64(len(compact)) + 100 // the fetch limit: the source fits, its canonical form does not

	body := compact
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	src := source.Source{ID: "big", URL: srv.URL}
	_, v1 := syncOnce(t, a, src)
	require.Equal(t, 1, v1.Version)
	a.Docs = NewDocCache(8 << 20) // nothing cached: the stored form is read back
	body = []byte(strings.Replace(string(compact), `"/pets/{petId}"`, `"/animals/{petId}"`, 1))
	_, v2 := syncOnce(t, a, src)
	require.Equal(t, 2, v2.Version)
	require.Positive(t, v2.Breaking)
}

// The counts a sync reports and the changes it lists come from one report:
// when the version's report (head → merged) differs from the source's diff
// (its last fetch → this one), both are the version's.
func TestStoredCountsAndTopChangesAgree(t *testing.T) {
	a := newActivities(t)
	body := petstore(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	src := source.Source{ID: "agree", URL: srv.URL}
	syncOnce(t, a, src)
	// A local push moves the head away from the source's base.
	head, err := a.Store.Head(t.Context(), "agree")
	require.NoError(t, err)
	pushed := strings.Replace(string(petstore(t)), "  /pets/{petId}:", "  /animals/{petId}:", 1)
	p, err := a.ParseSpec(t.Context(), ParseInput{SourceID: "local", RawHash: mustPut(t, a, pushed)})
	require.NoError(t, err)
	_, err = a.StoreVersion(t.Context(), StoreInput{API: "agree", Source: source.Source{ID: "local"}, ParentVer: head.Number, DocHash: p.Hash, Origin: store.OriginPush, Key: "push"})
	require.NoError(t, err)

	body = []byte(strings.Replace(string(body), "title: Swagger Petstore", "title: Petstore", 1))
	_, v := syncOnce(t, a, src)
	require.NotNil(t, v)
	require.NotEmpty(t, v.ReportHash)
	breakingBullets := 0
	for _, line := range v.Top {
		if strings.HasPrefix(line, "breaking: ") {
			breakingBullets++
		}
	}
	require.LessOrEqual(t, len(v.Top), v.Changes)
	require.LessOrEqual(t, breakingBullets, v.Breaking)
	if v.Changes <= MaxTopChanges {
		require.Len(t, v.Top, v.Changes)
		require.Equal(t, v.Breaking, breakingBullets)
	}
}

func mustPut(t *testing.T, a *Activities, body string) string {
	t.Helper()
	h, err := a.Store.PutBlob(t.Context(), []byte(body))
	require.NoError(t, err)
	return h
}

// What is not an API description never reaches the store: the fetch step
// refuses it, in the parser's words, before storing anything.
func TestFetchStoresNothingThatIsNotASpec(t *testing.T) {
	a := newActivities(t)
	body := []byte("root:x:0:0:root:/root:/bin/bash\nLIVESYNC_WEBHOOK_SECRET=abc\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	_, err := a.FetchSpec(t.Context(), FetchInput{Source: source.Source{ID: "not-a-spec", URL: srv.URL}})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, ErrTypeSpec, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Message(), "not-a-spec")
	has, err := a.Store.HasBlob(t.Context(), store.Hash(body))
	require.NoError(t, err)
	require.False(t, has, "the body was not stored")
}
