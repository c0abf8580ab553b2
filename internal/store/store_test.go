package store

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	u, err := DirURL(t.TempDir())
	require.NoError(t, err)
	s, err := Open(t.Context(), u)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestBlobsAreContentAddressed(t *testing.T) {
	for _, url := range []string{"mem://", ""} {
		s := openTemp(t)
		if url != "" {
			var err error
			s, err = Open(t.Context(), url)
			require.NoError(t, err)
		}
		h1, err := s.PutBlob(t.Context(), []byte(`{"a":1}`))
		require.NoError(t, err)
		h2, err := s.PutBlob(t.Context(), []byte(`{"a":1}`))
		require.NoError(t, err)
		require.Equal(t, h1, h2)
		require.Equal(t, Hash([]byte(`{"a":1}`)), h1)
		got, err := s.GetBlob(t.Context(), h1)
		require.NoError(t, err)
		require.Equal(t, `{"a":1}`, string(got))
		_, err = s.GetBlob(t.Context(), Hash([]byte("missing")))
		require.ErrorIs(t, err, ErrNotFound)
		_, err = s.GetBlob(t.Context(), "../../etc/passwd")
		require.ErrorContains(t, err, "invalid content hash")
	}
}

func TestCommitIsCreateIfAbsentAndIdempotent(t *testing.T) {
	commitContract(t, openTemp(t))
}

// commitContract is what every bucket kind (file, S3) must do for Commit: a
// retried write is the same version, a stale parent loses, and the head,
// the versions and the API list follow. The store must be empty.
func commitContract(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	h1, _ := s.PutBlob(ctx, []byte("one"))
	h2, _ := s.PutBlob(ctx, []byte("two"))

	head, err := s.Head(ctx, "pets")
	require.NoError(t, err)
	require.Nil(t, head)

	v1, err := s.Commit(ctx, Version{API: "pets", Hash: h1, Parent: 0, Origin: OriginSync, IdempotencyKey: "run-1"})
	require.NoError(t, err)
	require.Equal(t, 1, v1.Number)

	// A retried write of the same content on the same parent is the same version.
	again, err := s.Commit(ctx, Version{API: "pets", Hash: h1, Parent: 0, Origin: OriginSync, IdempotencyKey: "run-1"})
	require.NoError(t, err)
	require.Equal(t, 1, again.Number)

	// A different writer that merged on version 0 lost the race.
	_, err = s.Commit(ctx, Version{API: "pets", Hash: h2, Parent: 0, Origin: OriginSync})
	var moved *HeadMovedError
	require.True(t, errors.As(err, &moved), "got %v", err)
	require.Equal(t, 1, moved.Head)

	v2, err := s.Commit(ctx, Version{API: "pets", Hash: h2, Parent: 1, Origin: OriginSync})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Number)

	head, err = s.Head(ctx, "pets")
	require.NoError(t, err)
	require.Equal(t, 2, head.Number)
	require.Equal(t, h2, head.Hash)

	got, err := s.Version(ctx, "pets", 1)
	require.NoError(t, err)
	require.Equal(t, h1, got.Hash)
	_, err = s.Version(ctx, "pets", 3)
	require.ErrorIs(t, err, ErrNotFound)
	all, err := s.Versions(ctx, "pets")
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, []int{1, 2}, []int{all[0].Number, all[1].Number})

	apis, err := s.APIs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"pets"}, apis)

	_, err = s.Commit(ctx, Version{API: "pets", Hash: Hash([]byte("never stored")), Parent: 2})
	require.ErrorContains(t, err, "not in the store")
}

func TestConcurrentWritersGetDistinctNumbers(t *testing.T) {
	mem, err := Open(t.Context(), "mem://")
	require.NoError(t, err)
	for name, s := range map[string]*Store{"file": openTemp(t), "mem": mem} {
		t.Run(name, func(t *testing.T) { concurrentWriters(t, s) })
	}
}

// concurrentWriters: writers racing for the next version of one API each
// get their own number; the losers re-merge on the new head.
func concurrentWriters(t *testing.T, s *Store) {
	ctx := t.Context()
	const writers = 8
	var wg sync.WaitGroup
	wins := make(chan int, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := s.PutBlob(ctx, []byte{byte(i)})
			require.NoError(t, err)
			for {
				head, err := s.Head(ctx, "race")
				require.NoError(t, err)
				parent := 0
				if head != nil {
					parent = head.Number
				}
				v, err := s.Commit(ctx, Version{API: "race", Hash: h, Parent: parent})
				var moved *HeadMovedError
				if errors.As(err, &moved) {
					continue // re-merge on the new head
				}
				require.NoError(t, err)
				wins <- v.Number
				return
			}
		}()
	}
	wg.Wait()
	close(wins)
	seen := map[int]bool{}
	for n := range wins {
		require.False(t, seen[n], "version %d written twice", n)
		seen[n] = true
	}
	require.Len(t, seen, writers)
}

func TestSourceStateAndIDs(t *testing.T) {
	s := openTemp(t)
	st, err := s.SourceState(t.Context(), "payments")
	require.NoError(t, err)
	require.Equal(t, "payments", st.SourceID)
	require.Empty(t, st.ETag)
	st.ETag = `"abc"`
	require.NoError(t, s.PutSourceState(t.Context(), *st))
	got, err := s.SourceState(t.Context(), "payments")
	require.NoError(t, err)
	require.Equal(t, `"abc"`, got.ETag)

	for _, bad := range []string{"", "../x", "a/b", "-x", "x y"} {
		require.Error(t, ValidID("source", bad), bad)
	}
}

// Big blobs are stored compressed under their content's hash; blobs stored
// plain (before compression, or small) and blobs whose content merely
// looks packed read back as they are; a damaged packed blob is corrupt.
func TestBlobsArePackedUnderTheirContentHash(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	doc := []byte("{\n" + strings.Repeat("  \"key\": \"a value that repeats\",\n", 2000) + "  \"end\": true\n}\n")
	h, err := s.PutBlob(ctx, doc)
	require.NoError(t, err)
	require.Equal(t, Hash(doc), h)
	key, _ := blobKey(h)
	raw, err := s.bucket.ReadAll(ctx, key)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(raw, blobPackMagic))
	require.Less(t, len(raw)*10, len(doc), "stored at a tenth of its size or less")
	got, err := s.GetBlob(ctx, h)
	require.NoError(t, err)
	require.Equal(t, string(doc), string(got))

	// A plain blob, as stores written before packing hold them.
	plain := []byte(strings.Repeat("x", 2*blobPackMin))
	pk, _ := blobKey(Hash(plain))
	require.NoError(t, s.bucket.WriteAll(ctx, pk, plain, nil))
	got, err = s.GetBlob(ctx, Hash(plain))
	require.NoError(t, err)
	require.Equal(t, plain, got)

	// Content that starts like a packed blob, small (stored plain) and big.
	for _, n := range []int{10, 2 * blobPackMin} {
		odd := append(append([]byte{}, blobPackMagic...), bytes.Repeat([]byte("y"), n)...)
		h, err := s.PutBlob(ctx, odd)
		require.NoError(t, err)
		got, err := s.GetBlob(ctx, h)
		require.NoError(t, err)
		require.Equal(t, odd, got)
	}

	// A damaged packed blob is reported, not returned.
	require.NoError(t, s.bucket.WriteAll(ctx, key, raw[:len(raw)/2], nil))
	_, err = s.GetBlob(ctx, h)
	require.ErrorContains(t, err, "corrupt")
}
