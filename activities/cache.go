package activities

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// DocCache keeps parsed documents between the steps of a sync on one
// worker (parse → diff → merge → store read the same documents), bounded by
// the total size of their canonical bytes. It is safe for concurrent use.
//
// Recency is golang-lru's; the bound is not its entry count but the
// estimated memory of what it holds: Put evicts the least recently used
// documents while they exceed maxBytes.
type DocCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	lru      *simplelru.LRU[string, *docEntry] // keyed by each entry's first key
	items    map[string]*docEntry              // every key of every entry
	hits     int64
	misses   int64
}

type docEntry struct {
	keys []string
	doc  *spec.Document
	size int64
}

// NewDocCache keeps documents whose estimated memory (canonical bytes times
// modelOverhead) stays under maxBytes.
func NewDocCache(maxBytes int64) *DocCache {
	c := &DocCache{maxBytes: maxBytes, items: map[string]*docEntry{}}
	// No entry limit: bytes are the bound (see Put).
	c.lru, _ = simplelru.NewLRU(math.MaxInt, c.evicted)
	return c
}

// Get returns the document stored under key (a content hash).
func (c *DocCache) Get(key string) (*spec.Document, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.lru.Get(e.keys[0]) // now the most recently used
	return e.doc, true
}

// Put stores doc under each of keys (e.g. its raw and its canonical hash).
func (c *DocCache) Put(doc *spec.Document, keys ...string) {
	if c == nil || len(keys) == 0 {
		return
	}
	size := docCost(doc)
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if e, ok := c.items[k]; ok {
			c.lru.Remove(e.keys[0])
		}
	}
	e := &docEntry{keys: keys, doc: doc, size: size}
	c.lru.Add(keys[0], e)
	for _, k := range keys {
		c.items[k] = e
	}
	c.bytes += size
	for c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// evicted forgets an entry the LRU dropped: its keys and its bytes. It runs
// inside the LRU call, under c.mu.
func (c *DocCache) evicted(_ string, e *docEntry) {
	for _, k := range e.keys {
		if c.items[k] == e {
			delete(c.items, k)
		}
	}
	c.bytes -= e.size
}

// modelOverhead approximates what a parsed libopenapi model costs per byte
// of canonical JSON (measured: a 2.7 MB spec holds ~120 MB of parse + model).
const modelOverhead = 40

// docCost is what a cached document costs in memory, roughly.
func docCost(doc *spec.Document) int64 {
	return int64(len(doc.Canonical)+1) * modelOverhead
}

// Stats returns hits, misses and the estimated bytes held.
func (c *DocCache) Stats() (hits, misses, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.bytes
}
