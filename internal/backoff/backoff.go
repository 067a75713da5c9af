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
	d := Delay(b.failures, b.Min, b.Max)
	b.failures++
	return d
}

// Delay is the wait after failures failed attempts: a random duration
// between half and all of min·2^failures, capped at max.
func Delay(failures int, min, max time.Duration) time.Duration {
	d := min
	for i := 0; i < failures && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// Reset starts over after a success.
func (b *Backoff) Reset() { b.failures = 0 }
