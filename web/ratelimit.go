package web

import (
	"sync"
	"time"
)

// limiter allows max events per key within a sliding window: login
// attempts per client address, failed logins per account. It lives in
// memory: each replica counts its own, which still bounds guessing to a
// few per minute.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	hits   map[string][]time.Time
}

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, hits: map[string][]time.Time{}}
}

// allow records an event for key and reports whether it is within the
// limit; when it is not, wait says when the oldest event leaves the window.
func (l *limiter) allow(key string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h := l.current(key, now)
	if len(h) >= l.max {
		return false, h[0].Add(l.window).Sub(now)
	}
	l.hits[key] = append(h, now)
	return true, 0
}

// full reports whether key has used up the window, without recording an
// event; when it has, wait says when the oldest event leaves it.
func (l *limiter) full(key string) (full bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h := l.current(key, now)
	if len(h) >= l.max {
		return true, h[0].Add(l.window).Sub(now)
	}
	return false, 0
}

// record counts an event for key.
func (l *limiter) record(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.hits[key] = append(l.current(key, now), now)
}

// reset forgets key's events (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

// current returns key's events inside the window, storing what is left,
// and first forgets the keys whose events all left it when there are many.
// The caller holds mu.
func (l *limiter) current(key string, now time.Time) []time.Time {
	if len(l.hits) > 10000 {
		for k, h := range l.hits {
			if len(l.recent(h, now)) == 0 {
				delete(l.hits, k)
			}
		}
	}
	h := l.recent(l.hits[key], now)
	if len(h) == 0 {
		delete(l.hits, key)
	} else {
		l.hits[key] = h
	}
	return h
}

// recent keeps the events inside the window.
func (l *limiter) recent(h []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(h) && now.Sub(h[i]) >= l.window {
		i++
	}
	return h[i:]
}
