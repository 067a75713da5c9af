package imap

import (
	"math/rand/v2"
	"time"
)

// backoff grows the wait between failed attempts from min to max,
// doubling each time, with jitter so that sources do not retry in step.
type backoff struct {
	min, max time.Duration
	failures int
}

// next returns the wait before the next attempt: a random duration between
// half and all of min·2^failures, capped at max.
func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.failures && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.failures++
	half := d / 2
	return half + rand.N(d-half+1)
}

// reset starts over after a success.
func (b *backoff) reset() { b.failures = 0 }
