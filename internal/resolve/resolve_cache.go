package resolve

import (
	lru "github.com/hashicorp/golang-lru/v2"
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
	c *lru.Cache[string, Decision]
}

// NewLRUCache returns an LRUCache bounded to maxEntries (at least 1).
func NewLRUCache(maxEntries int) *LRUCache {
	c, err := lru.New[string, Decision](max(maxEntries, 1))
	if err != nil {
		panic(err) // only for a size below 1, which max rules out
	}
	return &LRUCache{c: c}
}

// Get implements Cache and marks the entry as recently used.
func (c *LRUCache) Get(key string) (Decision, bool) { return c.c.Get(key) }

// Put implements Cache, evicting the least recently used entry when full.
func (c *LRUCache) Put(key string, d Decision) { c.c.Add(key, d) }

// Len returns the number of entries held.
func (c *LRUCache) Len() int { return c.c.Len() }
