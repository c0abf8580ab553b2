package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apilivesync/apilivesync/examples"
)

// specServer serves documents by path over loopback HTTP with strong ETags
// and answers If-None-Match with 304, like a well-behaved spec endpoint.
type specServer struct {
	mu     sync.RWMutex
	docs   map[string]servedDoc
	srv    *httptest.Server
	gets   atomic.Int64
	got304 atomic.Int64
}

type servedDoc struct {
	body []byte
	etag string
}

func newSpecServer() *specServer {
	s := &specServer{docs: map[string]servedDoc{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *specServer) close() { s.srv.Close() }

// set serves body at path and returns its URL.
func (s *specServer) set(path string, body []byte) string {
	sum := sha256.Sum256(body)
	s.mu.Lock()
	s.docs[path] = servedDoc{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	s.mu.Unlock()
	return s.srv.URL + path
}

func (s *specServer) serve(w http.ResponseWriter, r *http.Request) {
	s.gets.Add(1)
	s.mu.RLock()
	d, ok := s.docs[r.URL.Path]
	s.mu.RUnlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", d.etag)
	if r.Header.Get("If-None-Match") == d.etag {
		s.got304.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(d.body)
}

// petstore is the example petstore spec (examples/specs/petstore.yaml).
func petstore() ([]byte, error) {
	b, err := fs.ReadFile(examples.Specs(), "petstore.yaml")
	if err != nil {
		return nil, fmt.Errorf("read example petstore: %w", err)
	}
	return b, nil
}

// largeSpec is the petstore with n generated paths (8000 make about 1 MB).
// Variant 0 and 1 differ by a few paths: variant 1 drops three generated
// paths, adds three new ones, changes one description and bumps
// info.version, so a sync from one to the other is a small real change with
// breaking (removed) and non-breaking (added) parts.
func largeSpec(n, variant int) ([]byte, error) {
	base, err := petstore()
	if err != nil {
		return nil, err
	}
	dropped := map[int]bool{}
	if variant == 1 {
		dropped = map[int]bool{n / 4: true, n / 2: true, 3 * n / 4: true}
	}
	var b strings.Builder
	b.Grow(n * 130)
	for i := range n {
		if dropped[i] {
			continue
		}
		desc := fmt.Sprintf("ok %d", i)
		if variant == 1 && i == 7 {
			desc = "ok, now with a better description"
		}
		fmt.Fprintf(&b, "  /generated/%d:\n    get:\n      operationId: gen%d\n      responses:\n        '200':\n          description: %s\n", i, i, desc)
	}
	if variant == 1 {
		for i := range 3 {
			fmt.Fprintf(&b, "  /added/%d:\n    get:\n      operationId: added%d\n      responses:\n        '200':\n          description: new %d\n", i, i, i)
		}
	}
	s := strings.Replace(string(base), "paths:\n", "paths:\n"+b.String(), 1)
	if variant == 1 {
		s = strings.Replace(s, "version: 1.0.0", "version: 1.1.0", 1)
	}
	return []byte(s), nil
}

// stripeDir holds two real Stripe specs nine days apart (MIT licence, see
// its LICENSES.md), relative to the module root.
const stripeDir = "internal/diff/testdata/real"

// changedSpecs returns the two versions the changed scenario alternates
// between, and a description of them.
func changedSpecs(cfg config) ([2][]byte, string, error) {
	var vers [2][]byte
	switch cfg.spec {
	case "generated":
		for v := range vers {
			b, err := largeSpec(cfg.paths, v)
			if err != nil {
				return vers, "", err
			}
			vers[v] = b
		}
		return vers, fmt.Sprintf("the example petstore with %d generated paths; version B drops 3 paths, adds 3, rewords 1 description and bumps info.version", cfg.paths), nil
	case "stripe":
		root, err := moduleRoot()
		if err != nil {
			return vers, "", err
		}
		for v, name := range []string{"stripe-2021-06-07.yaml", "stripe-2021-06-16.yaml"} {
			b, err := os.ReadFile(filepath.Join(root, stripeDir, name))
			if err != nil {
				return vers, "", fmt.Errorf("read real spec: %w", err)
			}
			vers[v] = b
		}
		return vers, "the real Stripe API spec at two commits nine days apart (" + stripeDir + "/stripe-2021-06-07.yaml and stripe-2021-06-16.yaml, MIT licence)", nil
	}
	return vers, "", fmt.Errorf("-spec %q: want generated or stripe", cfg.spec)
}

// moduleRoot is the nearest directory at or above the working directory
// that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above the working directory: run the bench from the module")
		}
		dir = parent
	}
}
