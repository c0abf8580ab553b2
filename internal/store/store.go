// Package store keeps API Live Sync's documents and version index.
//
// Layout inside one gocloud.dev/blob bucket (file://, mem://, s3://):
//
//	blobs/sha256/<hex>              content-addressed documents and reports (4 KiB and up gzip-packed; the hash is the content's)
//	apis/<api>/versions/<%010d>.json one immutable record per version, written create-if-absent
//	apis/<api>/head                  a hint: the newest version number known to be written
//	sources/<source>/state.json      the source's sync state (HTTP validators, base hash)
//	registry/…                       the engine's registry (registry.go)
//	kv/lines/<hex>                   which stored bytes a document was parsed from (activities/lines.go)
//	kv/rejudge/<api>/<rules>.json    the last rejudge of an API under a rule set
//
// Workflow history only ever carries the hashes and numbers that point here.
package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/apilivesync/apilivesync/internal/kind"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/apilivesync/apilivesync/internal/source"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/memblob"  // mem:// buckets (s3:// buckets: s3.go)
	"gocloud.dev/gcerrors"
)

// ErrNotFound reports a blob, version or API that does not exist.
var ErrNotFound = errors.New("not found")

// HeadMovedError reports that another writer stored a version first: the
// caller re-merges on Head and tries again.
type HeadMovedError struct {
	API      string
	Expected int // the parent the writer merged on
	Head     int // the version that exists now
}

func (e *HeadMovedError) Error() string {
	return fmt.Sprintf("api %q: head moved from version %d to %d while this sync ran; re-merge on the new head", e.API, e.Expected, e.Head)
}

// Origins of a version.
const (
	OriginSync     = "sync"
	OriginPush     = "push"
	OriginRollback = "rollback"
	OriginUndo     = "undo"
)

// Counts summarize a version's document (kind.Counts).
type Counts = kind.Counts

// Decision records how one merge conflict was decided.
type Decision struct {
	Pointer  string `json:"pointer"`
	Choice   string `json:"choice"`
	Strategy string `json:"strategy"`
	Reason   string `json:"reason,omitempty"`
}

// Version is an immutable snapshot of an API.
type Version struct {
	API        string     `json:"api"`
	Number     int        `json:"number"`
	Hash       string     `json:"hash"`
	Parent     int        `json:"parent"`
	SourceID   string     `json:"sourceId,omitempty"`
	SourceBase string     `json:"sourceBase,omitempty"`
	Origin     string     `json:"origin"`
	CreatedAt  time.Time  `json:"createdAt"`
	Counts     Counts     `json:"counts"`
	Changes    int        `json:"changes"`
	Breaking   int        `json:"breaking"`
	ReportHash string     `json:"reportHash,omitempty"`
	RuleSet    string     `json:"ruleSet,omitempty"`
	Decisions  []Decision `json:"decisions,omitempty"`
	Message    string     `json:"message,omitempty"`
	// RestoredFrom is the version a rollback or undo copied.
	RestoredFrom int `json:"restoredFrom,omitempty"`
	// Undoes is the version an undo reverted (a sync, push, rollback or
	// undo): a further undo goes on from the action before that one.
	Undoes int `json:"undoes,omitempty"`
	// IdempotencyKey identifies the writer's attempt (e.g. workflow ID + run ID).
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// SourceState is what a source remembers between syncs.
type SourceState struct {
	SourceID     string `json:"sourceId"`
	API          string `json:"api,omitempty"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	RawHash      string `json:"rawHash,omitempty"`  // hash of the bytes last fetched and accepted
	BaseHash     string `json:"baseHash,omitempty"` // canonical document last synced: the merge base
	LastVersion  int    `json:"lastVersion,omitempty"`
	// Rank is the source's rank among the API's sources (lower wins under
	// the source-priority strategy).
	Rank      int       `json:"rank,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Store is the document store and version index.
type Store struct {
	bucket *blob.Bucket
	url    string
	// dir is the directory of a file:// store. fileblob's create-if-absent
	// is not atomic (stat, then rename), so version records there are
	// created with a hard link, which fails when the name exists, across
	// goroutines and processes alike.
	dir string
}

// Open opens a store by URL: file:///abs/dir, mem://, s3://bucket?region=…
// A file URL's directory is created when missing.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", rawURL, err)
	}
	var fileDir string
	if u.Scheme == "file" {
		dir := u.Path
		fileDir = dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open store %q: %w", rawURL, err)
		}
		q := u.Query()
		// Metadata sidecar files are not needed: we never use blob attributes.
		q.Set("metadata", "skip")
		q.Set("no_tmp_dir", "true")
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", rawURL, err)
	}
	return &Store{bucket: b, url: rawURL, dir: fileDir}, nil
}

// createOnce writes key only if it does not exist yet; a precondition
// error (see isPrecondition) says it did.
func (s *Store) createOnce(ctx context.Context, key string, data []byte, contentType string) error {
	if s.dir == "" {
		return s.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{IfNotExist: true, ContentType: contentType})
	}
	final := filepath.Join(s.dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	// The temporary file lives outside every listed prefix, on the same
	// file system (a hard link cannot cross file systems).
	tmpDir := filepath.Join(s.dir, ".tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(tmpDir, "version-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return errExists
		}
		return err
	}
	return nil
}

var errExists = errors.New("already exists")

// DirURL is the store URL for a directory on disk.
func DirURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Hash is the content address of data: "sha256:<hex>".
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// validHash is ^sha256:[0-9a-f]{64}$, written out: as a regexp its
// bounded repetition compiles into 64 states in every program's start-up.
func validHash(hash string) bool {
	hexPart, ok := strings.CutPrefix(hash, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	for i := 0; i < len(hexPart); i++ {
		if c := hexPart[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func blobKey(hash string) (string, error) {
	if !validHash(hash) {
		return "", fmt.Errorf("invalid content hash %q", hash)
	}
	return "blobs/sha256/" + strings.TrimPrefix(hash, "sha256:"), nil
}

// PutBlob stores data under its hash and returns the hash. Storing the same
// bytes twice writes once.
func (s *Store) PutBlob(ctx context.Context, data []byte) (string, error) {
	h := Hash(data)
	key, _ := blobKey(h)
	err := s.bucket.WriteAll(ctx, key, packBlob(data), &blob.WriterOptions{IfNotExist: true, ContentType: "application/octet-stream"})
	if err != nil && !isPrecondition(err) {
		return "", fmt.Errorf("store blob %s: %w", h, err)
	}
	return h, nil
}

// GetBlob reads the blob with the given hash and checks its integrity.
func (s *Store) GetBlob(ctx context.Context, hash string) ([]byte, error) {
	key, err := blobKey(hash)
	if err != nil {
		return nil, err
	}
	data, err := s.bucket.ReadAll(ctx, key)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("blob %s: %w", hash, ErrNotFound)
		}
		return nil, fmt.Errorf("read blob %s: %w", hash, err)
	}
	if content, ok := unpackBlob(data); ok && Hash(content) == hash {
		return content, nil
	}
	if Hash(data) != hash {
		return nil, fmt.Errorf("blob %s is corrupt: content hash is %s", hash, Hash(data))
	}
	return data, nil
}

// Blobs of blobPackMin bytes or more are stored gzip-compressed behind a
// marker: a canonical spec (pretty-printed, sorted JSON) shrinks about
// tenfold, a 50,000-path one from 35 MB to a few. A blob's hash is its
// content's, before packing, so documents keep their identity, and blobs
// stored before packing (or that happen to look packed) read as they are.
const blobPackMin = 4 << 10

// blobPackMagic starts a packed blob; no spec, report or JSON does (NUL).
var blobPackMagic = []byte("\x00livesync-gzip\n")

// maxUnpacked bounds what one packed blob may inflate to.
const maxUnpacked = 4 << 30

func packBlob(data []byte) []byte {
	if len(data) < blobPackMin {
		return data
	}
	var b bytes.Buffer
	b.Grow(len(data)/8 + len(blobPackMagic))
	b.Write(blobPackMagic)
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed) // a valid level: no error
	if _, err := zw.Write(data); err != nil || zw.Close() != nil {
		return data // bytes.Buffer does not fail; keep the plain form if it ever did
	}
	if b.Len() >= len(data) {
		return data
	}
	return b.Bytes()
}

// unpackBlob returns a packed blob's content (ok false: not packed, or not
// readable as packed).
func unpackBlob(data []byte) ([]byte, bool) {
	if !bytes.HasPrefix(data, blobPackMagic) {
		return nil, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[len(blobPackMagic):]))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxUnpacked))
	if err != nil {
		return nil, false
	}
	return out, true
}

// HasBlob reports whether a blob exists.
func (s *Store) HasBlob(ctx context.Context, hash string) (bool, error) {
	key, err := blobKey(hash)
	if err != nil {
		return false, err
	}
	return s.bucket.Exists(ctx, key)
}

// PutJSON marshals v and stores it as a blob.
func (s *Store) PutJSON(ctx context.Context, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return s.PutBlob(ctx, data)
}

// GetJSON reads a blob into v.
func (s *Store) GetJSON(ctx context.Context, hash string, v any) error {
	data, err := s.GetBlob(ctx, hash)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// ValidID checks an API or source ID (see source.ValidID).
func ValidID(kind, id string) error { return source.ValidID(kind, id) }

func versionKey(api string, n int) string {
	return fmt.Sprintf("apis/%s/versions/%010d.json", api, n)
}

func headKey(api string) string { return "apis/" + api + "/head" }

// Version reads version n of api.
func (s *Store) Version(ctx context.Context, api string, n int) (*Version, error) {
	if err := ValidID("api", api); err != nil {
		return nil, err
	}
	data, err := s.bucket.ReadAll(ctx, versionKey(api, n))
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("api %q version %d: %w", api, n, ErrNotFound)
		}
		return nil, fmt.Errorf("read api %q version %d: %w", api, n, err)
	}
	var v Version
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("api %q version %d is corrupt: %w", api, n, err)
	}
	return &v, nil
}

// Head returns the newest version of api, or nil when the API has none.
func (s *Store) Head(ctx context.Context, api string) (*Version, error) {
	if err := ValidID("api", api); err != nil {
		return nil, err
	}
	n := 0
	if data, err := s.bucket.ReadAll(ctx, headKey(api)); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	} else if gcerrors.Code(err) != gcerrors.NotFound {
		return nil, fmt.Errorf("read api %q head: %w", api, err)
	}
	// The hint may lag behind a writer that crashed after its version write:
	// walk forward to the last version that exists.
	var head *Version
	if n > 0 {
		v, err := s.Version(ctx, api, n)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err != nil {
			n = 0 // a bad hint: fall back to scanning from the start
		} else {
			head = v
		}
	}
	for {
		v, err := s.Version(ctx, api, n+1)
		if errors.Is(err, ErrNotFound) {
			return head, nil
		}
		if err != nil {
			return nil, err
		}
		head, n = v, n+1
	}
}

// Versions lists every version of api, oldest first.
func (s *Store) Versions(ctx context.Context, api string) ([]Version, error) {
	if err := ValidID("api", api); err != nil {
		return nil, err
	}
	var out []Version
	it := s.bucket.List(&blob.ListOptions{Prefix: "apis/" + api + "/versions/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list api %q versions: %w", api, err)
		}
		data, err := s.bucket.ReadAll(ctx, obj.Key)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", obj.Key, err)
		}
		var v Version
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s is corrupt: %w", obj.Key, err)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// APIs lists the APIs that have at least one version.
func (s *Store) APIs(ctx context.Context) ([]string, error) {
	var out []string
	it := s.bucket.List(&blob.ListOptions{Prefix: "apis/", Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list apis: %w", err)
		}
		if obj.IsDir {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(obj.Key, "apis/"), "/"))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Commit writes v as version v.Parent+1 of v.API. The write is
// create-if-absent: when that number exists already, Commit returns the
// existing version if it records the same document on the same parent (a
// retried write), and a *HeadMovedError otherwise.
func (s *Store) Commit(ctx context.Context, v Version) (*Version, error) {
	if err := ValidID("api", v.API); err != nil {
		return nil, err
	}
	if ok, err := s.HasBlob(ctx, v.Hash); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("commit api %q: document %s is not in the store", v.API, v.Hash)
	}
	v.Number = v.Parent + 1
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	err = s.createOnce(ctx, versionKey(v.API, v.Number), data, "application/json")
	if isPrecondition(err) {
		existing, rerr := s.Version(ctx, v.API, v.Number)
		if rerr != nil {
			return nil, rerr
		}
		if existing.Hash == v.Hash && existing.Parent == v.Parent &&
			(v.IdempotencyKey == "" || existing.IdempotencyKey == v.IdempotencyKey) {
			return existing, nil
		}
		head, herr := s.Head(ctx, v.API)
		if herr != nil {
			return nil, herr
		}
		return nil, &HeadMovedError{API: v.API, Expected: v.Parent, Head: head.Number}
	}
	if err != nil {
		return nil, fmt.Errorf("commit api %q version %d: %w", v.API, v.Number, err)
	}
	// The hint is best effort: Head walks forward past a stale one.
	_ = s.bucket.WriteAll(ctx, headKey(v.API), []byte(strconv.Itoa(v.Number)), nil)
	return &v, nil
}

func sourceKey(id string) string { return "sources/" + id + "/state.json" }

// SourceState reads a source's state; a source never synced has a zero state.
func (s *Store) SourceState(ctx context.Context, id string) (*SourceState, error) {
	if err := ValidID("source", id); err != nil {
		return nil, err
	}
	data, err := s.bucket.ReadAll(ctx, sourceKey(id))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return &SourceState{SourceID: id}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read source %q state: %w", id, err)
	}
	var st SourceState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("source %q state is corrupt: %w", id, err)
	}
	return &st, nil
}

// SourceStates lists the state of every source that feeds api ("" lists all).
func (s *Store) SourceStates(ctx context.Context, api string) ([]SourceState, error) {
	var out []SourceState
	it := s.bucket.List(&blob.ListOptions{Prefix: "sources/", Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
		if !obj.IsDir {
			continue
		}
		st, err := s.SourceState(ctx, strings.TrimSuffix(strings.TrimPrefix(obj.Key, "sources/"), "/"))
		if err != nil {
			return nil, err
		}
		if api == "" || st.API == api {
			out = append(out, *st)
		}
	}
	return out, nil
}

// PutSourceState replaces a source's state.
func (s *Store) PutSourceState(ctx context.Context, st SourceState) error {
	if err := ValidID("source", st.SourceID); err != nil {
		return err
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := s.bucket.WriteAll(ctx, sourceKey(st.SourceID), data, nil); err != nil {
		return fmt.Errorf("write source %q state: %w", st.SourceID, err)
	}
	return nil
}

// PutKey writes small mutable JSON under a namespaced key (e.g. caches).
func (s *Store) PutKey(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.bucket.WriteAll(ctx, "kv/"+key, data, nil)
}

// GetKey reads what PutKey wrote; ErrNotFound when absent.
func (s *Store) GetKey(ctx context.Context, key string, v any) error {
	data, err := s.bucket.ReadAll(ctx, "kv/"+key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.NewDecoder(bytes.NewReader(data)).Decode(v)
}

func isPrecondition(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errExists) {
		return true
	}
	c := gcerrors.Code(err)
	return c == gcerrors.FailedPrecondition || c == gcerrors.AlreadyExists
}

// DefaultDataDir is where `worker -dev` keeps the Temporal database and the store.
const DefaultDataDir = ".livesync"

// URLEnv overrides the store location for the worker and the starter.
const URLEnv = "LIVESYNC_STORE"

// URLFor is the store URL for a data directory, unless overridden by the
// explicit URL or the environment.
func URLFor(dataDir, explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if env := os.Getenv(URLEnv); env != "" {
		return env, nil
	}
	if dataDir == "" {
		dataDir = DefaultDataDir
	}
	return DirURL(filepath.Join(dataDir, "store"))
}
