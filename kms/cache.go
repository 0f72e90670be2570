package kms

import (
	"container/list"
	"sync"
	"time"
)

// cachedKey is a key's metadata with its opened versions: everything the data
// plane needs without touching the store.
type cachedKey struct {
	key      Key
	versions map[uint32]Material
	loaded   time.Time // when it was read from the store
	elem     *list.Element
}

func (c *cachedKey) destroy() {
	for _, m := range c.versions {
		m.Destroy()
	}
}

// keyCache is a bounded LRU of opened keys. Entries are destroyed (material
// zeroed) on eviction and on invalidation. The epoch guards against a loader
// that read the store before an invalidation inserting stale state after it.
type keyCache struct {
	mu    sync.Mutex
	max   int
	epoch uint64
	m     map[string]*cachedKey
	lru   list.List
}

func newKeyCache(max int) *keyCache {
	if max <= 0 {
		max = 10000
	}
	return &keyCache{max: max, m: make(map[string]*cachedKey)}
}

// get returns the cached key, or nil and the epoch a loader must pass to put.
func (c *keyCache) get(id string) (*cachedKey, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[id]
	if e != nil {
		c.lru.MoveToFront(e.elem)
	}
	return e, c.epoch
}

// put inserts a freshly loaded key unless an invalidation happened since the
// loader read epoch. It returns the entry to use and whether the cache owns
// it; an entry the cache does not own is the caller's to destroy.
func (c *keyCache) put(e *cachedKey, epoch uint64) (*cachedKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return e, false // stale for the cache, but consistent for this request
	}
	if old := c.m[e.key.ID]; old != nil {
		if !old.loaded.Before(e.loaded) {
			e.destroy()
			c.lru.MoveToFront(old.elem)
			return old, true
		}
		c.lru.Remove(old.elem)
		old.destroy()
	}
	e.elem = c.lru.PushFront(e)
	c.m[e.key.ID] = e
	for c.lru.Len() > c.max {
		victim := c.lru.Back().Value.(*cachedKey)
		c.lru.Remove(victim.elem)
		delete(c.m, victim.key.ID)
		victim.destroy()
	}
	return e, true
}

// invalidate drops a key after its state or material changed.
func (c *keyCache) invalidate(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, id := range ids {
		if e := c.m[id]; e != nil {
			c.lru.Remove(e.elem)
			delete(c.m, id)
			e.destroy()
		}
	}
}

func (c *keyCache) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.m))
	for id := range c.m {
		ids = append(ids, id)
	}
	return ids
}
