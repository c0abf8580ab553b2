package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel"
)

// Defaults for the documents a spec may pull in through relative $refs.
// Published multi-file specs reach thousands of files (DigitalOcean: about
// 2,900) and chains of a dozen (InfluxData: 13, counted along the order the
// check first visits them); MaxBytes, over the source and all it pulls in,
// is what bounds the work.
const (
	DefaultMaxRefDocs  = 10_000
	DefaultMaxRefDepth = 64
)

// ResolveFunc fetches one referenced document by absolute URL. The worker
// passes its SSRF-guarded fetcher; Parse only calls it for URLs on the same
// origin as Options.BaseURL.
type ResolveFunc func(ctx context.Context, url string) ([]byte, error)

// loader reads the other documents a spec refers to, under the source's own
// location only, with bounds on count, depth and total size. It fetches each
// document once, before libopenapi runs, and then serves libopenapi from
// memory: libopenapi never reads the disk or the network itself.
type loader struct {
	ctx     context.Context
	opts    Options
	root    *os.Root // file sources: Options.RefRoot
	rootErr error    // why root could not be opened
	src     string   // the source's directory under root ("." when it is root)
	base    *url.URL // URL sources: where the source was fetched
	docs    map[string]*loaded
	total   int64
}

type loaded struct {
	node *yaml.Node // nil when the document could not be read
	data []byte
	err  error
}

// errRefused marks a reference the policy refuses (outside the source's
// location), as opposed to one that points to nothing.
var errRefused = errors.New("refused")

// target returns the key of the document ref points to, seen from the
// document at key from ("" for the source itself), and the fragment.
func (l *loader) target(from, ref string) (key, frag string, err error) {
	doc, frag, _ := strings.Cut(ref, "#")
	if l.base != nil {
		baseURL := l.base
		if from != "" {
			if baseURL, err = url.Parse(from); err != nil {
				return "", "", err
			}
		}
		u, err := baseURL.Parse(doc)
		if err != nil {
			return "", "", fmt.Errorf("%w: %v", errRefused, err)
		}
		if u.Scheme != l.base.Scheme || u.Host != l.base.Host {
			return "", "", fmt.Errorf("%w: %s is not on the source's origin %s://%s", errRefused, u.Redacted(), l.base.Scheme, l.base.Host)
		}
		u.Fragment = ""
		return u.String(), frag, nil
	}
	if strings.Contains(doc, "://") || strings.HasPrefix(doc, "//") {
		return "", "", fmt.Errorf("%w: a file source may only refer to files beside it", errRefused)
	}
	p := filepath.ToSlash(doc)
	if path.IsAbs(p) || filepath.IsAbs(doc) {
		return "", "", fmt.Errorf("%w: absolute path", errRefused)
	}
	dir := path.Dir(from)
	if from == "" {
		dir = l.src
	}
	p = path.Join(dir, p)
	if p == ".." || strings.HasPrefix(p, "../") {
		if l.opts.RefRoot == "" {
			return "", "", fmt.Errorf("%w: it leaves the source's directory", errRefused)
		}
		return "", "", fmt.Errorf("%w: it leaves %s, the directory file refs must stay under", errRefused, l.opts.RefRoot)
	}
	return p, frag, nil
}

// rekey tells whether the source's file refs must be rewritten to keys: its
// directory is below RefRoot, which libopenapi resolves them from.
func (l *loader) rekey() bool { return l.base == nil && l.src != "." }

// load reads the document at key once.
func (l *loader) load(key string) *loaded {
	if d, ok := l.docs[key]; ok {
		return d
	}
	d := &loaded{}
	l.docs[key] = d
	if len(l.docs) > l.opts.MaxRefDocs {
		d.err = fmt.Errorf("%w: more than %d referenced documents", errRefused, l.opts.MaxRefDocs)
		return d
	}
	remaining := l.opts.MaxBytes - l.total
	if l.base != nil {
		d.data, d.err = l.opts.Resolve(l.ctx, key)
	} else {
		d.data, d.err = l.readFile(key, remaining)
	}
	if d.err != nil {
		return d
	}
	if l.total += int64(len(d.data)); l.total > l.opts.MaxBytes {
		d.err = fmt.Errorf("%w: referenced documents exceed %d bytes in all", errRefused, l.opts.MaxBytes)
		return d
	}
	var n yaml.Node
	if err := yaml.Unmarshal(d.data, &n); err != nil {
		d.err = fmt.Errorf("not YAML or JSON: %w", err)
		return d
	}
	lim := scanLimits{maxDepth: l.opts.MaxDepth, maxAliases: l.opts.MaxAliases}
	if tc := lim.check(&n); tc != nil {
		d.err = fmt.Errorf("%w: line %d: %s", errRefused, tc.node.Line, tc.msg)
		return d
	}
	d.node = &n
	return d
}

// readFile reads a file under the source's directory; os.Root refuses paths
// and symlinks that lead out of it.
func (l *loader) readFile(p string, limit int64) ([]byte, error) {
	if l.root == nil {
		return nil, fmt.Errorf("%w: source directory: %v", errRefused, l.rootErr)
	}
	f, err := l.root.Open(filepath.FromSlash(p))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max(limit, 0)+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: referenced documents exceed %d bytes in all", errRefused, l.opts.MaxBytes)
	}
	return data, nil
}

// urlHandler serves the loaded documents to libopenapi's remote loader.
func urlHandler(files map[string][]byte) func(string) (*http.Response, error) {
	return func(u string) (*http.Response, error) {
		if i := strings.IndexByte(u, '#'); i >= 0 {
			u = u[:i]
		}
		data, ok := files[u]
		if !ok {
			return nil, fmt.Errorf("%s was not loaded", u)
		}
		return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(data)), ContentLength: int64(len(data))}, nil
	}
}

// newRefCheck prepares the check of a source's references; it follows
// references to other documents when the source's location is known.
func newRefCheck(ctx context.Context, opts Options, sourceBytes int) (*refCheck, error) {
	c := &refCheck{opts: opts, visited: map[string]bool{}, files: map[string][]byte{}}
	switch {
	case opts.BaseURL != "" && opts.Resolve != nil:
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("base URL %q is not an absolute http(s) URL", opts.BaseURL)
		}
		u.Fragment = ""
		c.ld = &loader{ctx: ctx, opts: opts, base: u, docs: map[string]*loaded{}, total: int64(sourceBytes)}
	case opts.AllowFileRefs:
		dir := opts.BaseDir
		if dir == "" {
			dir = "."
		}
		src, top := ".", dir
		if opts.RefRoot != "" {
			top = opts.RefRoot
			var err error
			if src, err = under(top, dir); err != nil {
				return nil, err
			}
		}
		// A missing directory only matters once a file ref needs it.
		root, err := os.OpenRoot(top)
		c.ld = &loader{ctx: ctx, opts: opts, root: root, rootErr: err, src: src, docs: map[string]*loaded{}, total: int64(sourceBytes)}
	}
	return c, nil
}

// external returns the node a reference from the source to another document
// points to, if the check loaded that document (nil otherwise).
func (c *refCheck) external(ref string) *yaml.Node {
	if c.ld == nil {
		return nil
	}
	key, frag, err := c.ld.target("", ref)
	if c.ld.rekey() {
		key, frag, _ = strings.Cut(ref, "#") // already rewritten to a key
	}
	if err != nil {
		return nil
	}
	d := c.ld.docs[key]
	if d == nil || d.node == nil {
		return nil
	}
	return resolvePointer(d.node, frag)
}

// under returns dir relative to top, in slash form, if dir lies under it.
func under(top, dir string) (string, error) {
	absTop, err := filepath.Abs(top)
	if err != nil {
		return "", err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absTop, absDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("the source's directory %s is not under RefRoot %s", dir, top)
	}
	return filepath.ToSlash(rel), nil
}

// configure points libopenapi at the loaded documents, served from memory.
func (c *refCheck) configure(cfg *datamodel.DocumentConfiguration) {
	if c.ld == nil || len(c.files) == 0 {
		return
	}
	if c.ld.base != nil {
		dir := *c.ld.base
		dir.Path = path.Dir(dir.Path)
		dir.RawQuery = ""
		cfg.BaseURL = &dir
		cfg.AllowRemoteReferences = true
		cfg.RemoteURLHandler = urlHandler(c.files)
		return
	}
	// Files are keyed from RefRoot; the source's own file refs were
	// rewritten to those keys (rekey), as libopenapi reads a Swagger 2
	// root's refs from BasePath.
	cfg.BasePath = c.ld.root.Name()
	cfg.AllowFileReferences = true
	// A plain fs.FS: libopenapi indexes each file the way it indexes its own
	// local files (relative refs inside them included).
	mfs := fstest.MapFS{}
	for name, data := range c.files {
		mfs[name] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	cfg.LocalFS = mfs
}
