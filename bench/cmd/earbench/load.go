package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/earshot-dev/earshot/internal/dovecot"
)

// passwords of the mailbox users of every private Dovecot.
var passwords = dovecot.Users

// loadStats is what loading a range of messages did.
type loadStats struct {
	Messages   int     `json:"messages"`   // distinct messages
	Deliveries int     `json:"deliveries"` // messages appended, counting both mailboxes
	Bytes      int64   `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_s"`
	MBPerSec   float64 `json:"mb_per_s"`
	Conns      int     `json:"connections"`
	// Auto counts auto-replies, whose acks earshot suppresses.
	Auto int `json:"auto_replies"`
	// PerMailbox counts deliveries by mailbox address.
	PerMailbox map[string]int `json:"per_mailbox"`
}

// load appends messages [from, to) of the corpus to the Dovecot at addr,
// with conns pipelined connections per mailbox. A message addressed to
// both mailboxes is appended to each (identical bytes: one item, two
// receipts). progress, when not nil, is incremented per delivery.
func load(ctx context.Context, c *corpus, addr string, from, to, conns int, progress *atomic.Int64) (loadStats, error) {
	return loadInto(ctx, c, addr, "INBOX", from, to, conns, progress)
}

// loadInto is load into another folder of both users (it must exist).
func loadInto(ctx context.Context, c *corpus, addr, folder string, from, to, conns int, progress *atomic.Int64) (loadStats, error) {
	start := time.Now()
	st := loadStats{Conns: 2 * conns, PerMailbox: map[string]int{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, box := range []string{feedbackAddr, intelAddr} {
		for k := range conns {
			g.Go(func() error {
				a, err := dialAppender(gctx, addr, box, passwords[box], folder, 32)
				if err != nil {
					return err
				}
				defer a.Close()
				var answers []<-chan appendResult
				var n, auto, msgs int
				var bytes int64
				for i := from + k; i < to; i += conns {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					m := c.message(i, false)
					if !contains(m.mailboxes, box) {
						continue
					}
					ch, err := a.Send(gctx, m.raw)
					if err != nil {
						return fmt.Errorf("message %d to %s: %w", i, box, err)
					}
					answers = append(answers, ch)
					n++
					bytes += int64(len(m.raw))
					if m.mailboxes[0] == box {
						msgs++
						if m.auto {
							auto++
						}
					}
					if progress != nil {
						progress.Add(1)
					}
				}
				for _, ch := range answers {
					select {
					case res := <-ch:
						if res.err != nil {
							return fmt.Errorf("append to %s: %w", box, res.err)
						}
					case <-time.After(5 * time.Minute):
						return fmt.Errorf("append to %s: no answer", box)
					}
				}
				mu.Lock()
				st.Deliveries += n
				st.Messages += msgs
				st.Auto += auto
				st.Bytes += bytes
				st.PerMailbox[box] += n
				mu.Unlock()
				return nil
			})
		}
	}
	err := g.Wait()
	st.Seconds = time.Since(start).Seconds()
	st.MsgsPerSec = float64(st.Deliveries) / st.Seconds
	st.MBPerSec = float64(st.Bytes) / (1 << 20) / st.Seconds
	if err != nil {
		return st, fmt.Errorf("load messages %d-%d: %w", from, to, err)
	}
	return st, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
