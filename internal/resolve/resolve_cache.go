package resolve

import (
	"container/list"
	"sync"
)

// Cache remembers decisions so that an identical conflict (same
// Conflict.ID) is not sent to the model twice. Implementations must be safe
// for concurrent use. The AI resolver keys entries by model and conflict ID.
type Cache interface {
	// Get returns the decision stored under key, if any.
	Get(key string) (Decision, bool)
	// Put stores d under key.
	Put(key string, d Decision)
}

// LRUCache is an in-memory Cache that holds at most a fixed number of
// entries and evicts the least recently used one first.
type LRUCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front is most recently used; values are *lruEntry
	entries map[string]*list.Element
}

// lruEntry is one key and its decision in an LRUCache.
type lruEntry struct {
	key string
	d   Decision
}

// NewLRUCache returns an LRUCache bounded to maxEntries (at least 1).
func NewLRUCache(maxEntries int) *LRUCache {
	return &LRUCache{max: max(maxEntries, 1), order: list.New(), entries: make(map[string]*list.Element)}
}

// Get implements Cache and marks the entry as recently used.
func (c *LRUCache) Get(key string) (Decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return Decision{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry).d, true
}

// Put implements Cache, evicting the least recently used entry when full.
func (c *LRUCache) Put(key string, d Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value.(*lruEntry).d = d
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&lruEntry{key: key, d: d})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*lruEntry).key)
	}
}

// Len returns the number of entries held.
func (c *LRUCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
