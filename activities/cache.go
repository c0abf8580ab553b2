package activities

import (
	"container/list"
	"sync"

	"github.com/apilivesync/apilivesync/internal/spec"
)

// DocCache keeps parsed documents between the steps of a sync on one
// worker (parse → diff → merge → store read the same documents), bounded by
// the total size of their canonical bytes. It is safe for concurrent use.
type DocCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	ll       *list.List
	items    map[string]*list.Element
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
	return &DocCache{maxBytes: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns the document stored under key (a content hash).
func (c *DocCache) Get(key string) (*spec.Document, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.ll.MoveToFront(el)
	return el.Value.(*docEntry).doc, true
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
		if el, ok := c.items[k]; ok {
			c.remove(el)
		}
	}
	el := c.ll.PushFront(&docEntry{keys: keys, doc: doc, size: size})
	for _, k := range keys {
		c.items[k] = el
	}
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.remove(c.ll.Back())
	}
}

func (c *DocCache) remove(el *list.Element) {
	e := el.Value.(*docEntry)
	for _, k := range e.keys {
		if c.items[k] == el {
			delete(c.items, k)
		}
	}
	c.bytes -= e.size
	c.ll.Remove(el)
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
