package web

import (
	"sync"
	"time"
)

// limiter allows max events per key within a sliding window: login
// attempts per client address. It lives in memory: each replica counts
// its own attempts, which still bounds guessing to a few per minute.
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
	if len(l.hits) > 10000 {
		for k, h := range l.hits {
			if len(l.recent(h, now)) == 0 {
				delete(l.hits, k)
			}
		}
	}
	h := l.recent(l.hits[key], now)
	if len(h) >= l.max {
		l.hits[key] = h
		return false, h[0].Add(l.window).Sub(now)
	}
	l.hits[key] = append(h, now)
	return true, 0
}

// reset forgets key's events (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

// recent keeps the events inside the window.
func (l *limiter) recent(h []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(h) && now.Sub(h[i]) >= l.window {
		i++
	}
	return h[i:]
}
