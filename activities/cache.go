package activities

import (
	"math"
	"slices"
	"sync"
	"time"

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

	// big holds up to bigSlots documents over maxBytes, each until bigTTL
	// after its last use: a big spec's parse step hands its document to the
	// diff step seconds later instead of the diff parsing it again (a
	// 50,000-path spec: 25 s), and the memory goes soon after the job.
	big    []*bigEntry
	bigTTL time.Duration
	timer  *time.Timer
}

type bigEntry struct {
	*docEntry
	used time.Time
}

// bigSlots is how many oversized documents are kept: the two sides of a diff.
const bigSlots = 2

// bigTTL is how long an oversized document is kept after its last use.
const bigTTL = 30 * time.Second

type docEntry struct {
	keys []string
	doc  *spec.Document
	size int64
}

// NewDocCache keeps documents whose estimated memory (canonical bytes times
// modelOverhead) stays under maxBytes.
func NewDocCache(maxBytes int64) *DocCache {
	c := &DocCache{maxBytes: maxBytes, items: map[string]*docEntry{}, bigTTL: bigTTL}
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
		for _, b := range c.big {
			if slices.Contains(b.keys, key) {
				c.hits++
				b.used = time.Now()
				return b.doc, true
			}
		}
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.maxBytes {
		c.putBig(&docEntry{keys: keys, doc: doc, size: size})
		return
	}
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

// putBig keeps an oversized document in one of the big slots (the least
// recently used one goes) and arms the timer that lets it go. Under c.mu.
func (c *DocCache) putBig(e *docEntry) {
	c.big = slices.DeleteFunc(c.big, func(b *bigEntry) bool {
		return slices.ContainsFunc(b.keys, func(k string) bool { return slices.Contains(e.keys, k) })
	})
	if len(c.big) == bigSlots {
		oldest := 0
		for i, b := range c.big {
			if b.used.Before(c.big[oldest].used) {
				oldest = i
			}
		}
		c.big = slices.Delete(c.big, oldest, oldest+1)
	}
	c.big = append(c.big, &bigEntry{docEntry: e, used: time.Now()})
	if c.timer == nil {
		c.timer = time.AfterFunc(c.bigTTL, c.expireBig)
	}
}

// expireBig lets go of the oversized documents unused for bigTTL, and comes
// back for the others when their time is up.
func (c *DocCache) expireBig() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.big = slices.DeleteFunc(c.big, func(b *bigEntry) bool { return now.Sub(b.used) >= c.bigTTL })
	c.timer = nil
	if len(c.big) == 0 {
		return
	}
	next := c.big[0].used
	for _, b := range c.big {
		if b.used.Before(next) {
			next = b.used
		}
	}
	c.timer = time.AfterFunc(next.Add(c.bigTTL).Sub(now), c.expireBig)
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
