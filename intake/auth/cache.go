package auth

import (
	"container/list"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of CacheOptions.
const (
	DefaultCacheTTL         = 10 * time.Minute
	DefaultCacheNegativeTTL = time.Minute
	DefaultCacheSize        = 4096
)

// CacheOptions configures a Cache; zero fields take the defaults.
type CacheOptions struct {
	// TTL is how long an answer is kept (net.Resolver does not give the
	// record's own TTL). Zero means DefaultCacheTTL.
	TTL time.Duration
	// NegativeTTL is how long "no such record" is kept. Zero means
	// DefaultCacheNegativeTTL.
	NegativeTTL time.Duration
	// Size bounds the number of names kept; the least recently used goes
	// first. Zero means DefaultCacheSize.
	Size int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache is a Resolver that keeps the answers of another in memory: records
// and "no such record" answers, each for its TTL, at most Size names.
// Failures (timeouts, SERVFAIL) are never kept, so that a retry asks again.
// It is safe for concurrent use; two concurrent misses of one name both ask
// the resolver behind it.
type Cache struct {
	next Resolver
	opts CacheOptions

	mu      sync.Mutex
	entries map[string]*list.Element // of *cacheEntry
	lru     *list.List               // most recently used at the front
}

// cacheEntry is one cached answer.
type cacheEntry struct {
	name     string
	txts     []string
	notFound bool
	expires  time.Time
}

// NewCache returns a Cache in front of next.
func NewCache(next Resolver, opts CacheOptions) *Cache {
	if opts.TTL <= 0 {
		opts.TTL = DefaultCacheTTL
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = DefaultCacheNegativeTTL
	}
	if opts.Size <= 0 {
		opts.Size = DefaultCacheSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{next: next, opts: opts, entries: make(map[string]*list.Element), lru: list.New()}
}

// LookupTXT answers from the cache when it holds name and asks the resolver
// behind it otherwise.
func (c *Cache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	key := strings.ToLower(strings.TrimSuffix(name, "."))
	if e, ok := c.get(key); ok {
		if e.notFound {
			return nil, notFound(name)
		}
		return slices.Clone(e.txts), nil
	}
	txts, err := c.next.LookupTXT(ctx, name)
	switch {
	case err == nil && len(txts) > 0:
		c.put(&cacheEntry{name: key, txts: slices.Clone(txts), expires: c.opts.Now().Add(c.opts.TTL)})
	case err == nil || isNotFound(err):
		c.put(&cacheEntry{name: key, notFound: true, expires: c.opts.Now().Add(c.opts.NegativeTTL)})
	}
	return txts, err
}

// Len returns the number of names held, expired ones included until they
// are asked for or pushed out.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// get returns the live entry for key and marks it used; an expired entry is
// dropped.
func (c *Cache) get(key string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return cacheEntry{}, false
	}
	e := el.Value.(*cacheEntry)
	if !c.opts.Now().Before(e.expires) {
		c.lru.Remove(el)
		delete(c.entries, key)
		return cacheEntry{}, false
	}
	c.lru.MoveToFront(el)
	return *e, true
}

// put stores e, replacing an older answer for its name, and pushes out the
// least recently used names beyond the size bound.
func (c *Cache) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.name]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[e.name] = c.lru.PushFront(e)
	for c.lru.Len() > c.opts.Size {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).name)
	}
}
