package kms

import (
	"container/list"
	"sync"
	"time"
)

// cachedKey is a key's metadata with its opened versions: everything the data
// plane needs without touching the store. Requests hold a reference while
// they use it; the material is destroyed once the entry has left the cache
// and the last reference is released.
type cachedKey struct {
	key      Key
	versions map[uint32]Material
	loaded   time.Time // when it was read from the store
	elem     *list.Element

	refs    int  // requests using the entry; guarded by keyCache.mu
	dropped bool // no longer in the cache; guarded by keyCache.mu
}

func (c *cachedKey) destroy() {
	for _, m := range c.versions {
		m.Destroy()
	}
}

// keyCache is a bounded LRU of opened keys. Entries leave it on eviction and
// on invalidation, and are destroyed (material zeroed) when no request uses
// them any more. The epoch guards against a loader that read the store
// before an invalidation inserting stale state after it.
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

// acquire returns the cached key with a reference the caller must release,
// unless it is older than maxAge at now; otherwise nil and the epoch a
// loader must pass to put.
func (c *keyCache) acquire(id string, now time.Time, maxAge time.Duration) (*cachedKey, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[id]
	if e == nil || now.Sub(e.loaded) >= maxAge {
		return nil, c.epoch
	}
	c.lru.MoveToFront(e.elem)
	e.refs++
	return e, c.epoch
}

// put inserts a freshly loaded key, unless an invalidation happened since
// the loader read epoch or a fresher entry is there already, and returns the
// entry to use with a reference the caller must release.
func (c *keyCache) put(e *cachedKey, epoch uint64) *cachedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs = 1
	if epoch != c.epoch {
		e.dropped = true // consistent for this request, stale for the cache
		return e
	}
	if old := c.m[e.key.ID]; old != nil {
		if !old.loaded.Before(e.loaded) {
			e.destroy()
			c.lru.MoveToFront(old.elem)
			old.refs++
			return old
		}
		c.drop(old)
	}
	e.elem = c.lru.PushFront(e)
	c.m[e.key.ID] = e
	for c.lru.Len() > c.max {
		c.drop(c.lru.Back().Value.(*cachedKey))
	}
	return e
}

// release gives back a reference taken by acquire or put.
func (c *keyCache) release(e *cachedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs--
	if e.refs == 0 && e.dropped {
		e.destroy()
	}
}

// drop removes an entry from the cache; c.mu must be held.
func (c *keyCache) drop(e *cachedKey) {
	c.lru.Remove(e.elem)
	delete(c.m, e.key.ID)
	e.dropped = true
	if e.refs == 0 {
		e.destroy()
	}
}

// invalidate drops keys after their state or material changed.
func (c *keyCache) invalidate(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, id := range ids {
		if e := c.m[id]; e != nil {
			c.drop(e)
		}
	}
}

// clear drops every key.
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, e := range c.m {
		c.drop(e)
	}
}
