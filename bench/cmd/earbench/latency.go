package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// latencyResult is the idle-latency probe: the time from APPEND to the
// ack's arrival at the sink, for messages appended at a steady rate to a
// daemon that sits in IDLE.
type latencyResult struct {
	Rate    int     `json:"rate_per_s"`
	Seconds float64 `json:"seconds"`
	Sent    int     `json:"sent"`
	Acked   int     `json:"acked"`
	P50     float64 `json:"p50_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// measureLatency appends rate messages per second for duration,
// alternating between the mailboxes, starting at corpus index first, and
// waits up to 30 s after the last one for their acks.
func measureLatency(ctx context.Context, c *corpus, addr string, snk *sink, first, rate int, duration time.Duration) (latencyResult, error) {
	res := latencyResult{Rate: rate, Seconds: duration.Seconds()}
	apps := map[string]*appender{}
	for _, box := range []string{feedbackAddr, intelAddr} {
		a, err := dialAppender(ctx, addr, box, passwords[box], "INBOX", 4)
		if err != nil {
			return res, err
		}
		defer a.Close()
		apps[box] = a
	}
	sent := map[string]time.Time{}
	total := int(duration.Seconds() * float64(rate))
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for k := 0; k < total; k++ {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		m := c.message(first+k, true)
		t0 := time.Now()
		if _, err := apps[m.mailboxes[0]].Append(ctx, m.raw); err != nil {
			return res, fmt.Errorf("latency probe: %w", err)
		}
		sent[m.id] = t0
	}
	res.Sent = len(sent)
	deadline := time.Now().Add(30 * time.Second)
	var lat []float64
	for {
		lat = lat[:0]
		for id, t0 := range sent {
			if at, ok := snk.AckedAt(id); ok {
				lat = append(lat, float64(at.Sub(t0).Microseconds())/1000)
			}
		}
		if len(lat) == len(sent) || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return res, err
		}
	}
	res.Acked = len(lat)
	if len(lat) == 0 {
		return res, fmt.Errorf("latency probe: no ack arrived for %d messages", len(sent))
	}
	slices.Sort(lat)
	res.P50, res.P95, res.P99 = percentile(lat, 50), percentile(lat, 95), percentile(lat, 99)
	res.Max = round(lat[len(lat)-1])
	return res, nil
}

// percentile returns the nearest-rank percentile of sorted values, in
// milliseconds rounded to 0.1. Missing acks are not counted here; Acked
// and Sent show them.
func percentile(sorted []float64, p int) float64 {
	i := (len(sorted)*p + 99) / 100
	return round(sorted[max(0, min(len(sorted)-1, i-1))])
}
