// Package backoff spaces out retries: capped exponential growth with
// jitter, so that sources on several replicas do not retry in step.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Backoff grows the wait between failed attempts from Min to Max, doubling
// each time. The zero value waits nothing; set Min and Max.
type Backoff struct {
	Min, Max time.Duration
	failures int
}

// Next returns the wait before the next attempt: a random duration between
// half and all of Min·2^failures, capped at Max.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	for i := 0; i < b.failures && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	b.failures++
	half := d / 2
	return half + rand.N(d-half+1)
}

// Reset starts over after a success.
func (b *Backoff) Reset() { b.failures = 0 }
