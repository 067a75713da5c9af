package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/sync/errgroup"
)

// fetchStats is one raw fetch of every message of both mailboxes.
type fetchStats struct {
	Messages   int     `json:"messages"`
	Bytes      int64   `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_s"`
	MBPerSec   float64 `json:"mb_per_s"`
}

// rawFetch is the limit earshot's ingest is compared with: a bare
// go-imap client per mailbox, both in parallel as earshot's two sources
// run, doing UID FETCH 1:* BODY.PEEK[] and reading every byte. It runs
// rounds times and reports the median round and every round.
func rawFetch(ctx context.Context, addr string, rounds int) (fetchStats, []fetchStats, error) {
	var all []fetchStats
	for range rounds {
		st, err := rawFetchOnce(ctx, addr)
		if err != nil {
			return fetchStats{}, all, err
		}
		all = append(all, st)
	}
	sorted := append([]fetchStats(nil), all...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Seconds < sorted[j].Seconds })
	return sorted[len(sorted)/2], all, nil
}

func rawFetchOnce(ctx context.Context, addr string) (fetchStats, error) {
	start := time.Now()
	counts := make([]fetchStats, 2)
	g, _ := errgroup.WithContext(ctx)
	for i, box := range []string{feedbackAddr, intelAddr} {
		g.Go(func() error {
			n, b, err := fetchMailbox(ctx, addr, box)
			counts[i] = fetchStats{Messages: n, Bytes: b}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fetchStats{}, err
	}
	st := fetchStats{Seconds: time.Since(start).Seconds()}
	for _, c := range counts {
		st.Messages += c.Messages
		st.Bytes += c.Bytes
	}
	st.MsgsPerSec = float64(st.Messages) / st.Seconds
	st.MBPerSec = float64(st.Bytes) / (1 << 20) / st.Seconds
	return st, nil
}

// fetchMailbox fetches every message of user's INBOX and returns the
// message and byte counts.
func fetchMailbox(ctx context.Context, addr, user string) (int, int64, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("raw fetch: dial: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(user, passwords[user]).Wait(); err != nil {
		return 0, 0, fmt.Errorf("raw fetch: login %s: %w", user, err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, 0, fmt.Errorf("raw fetch: select: %w", err)
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	var n int
	var total int64
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok && body.Literal != nil {
				b, err := io.Copy(io.Discard, body.Literal)
				if err != nil {
					cmd.Close()
					return n, total, fmt.Errorf("raw fetch: read: %w", err)
				}
				total += b
				n++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return n, total, fmt.Errorf("raw fetch: %w", err)
	}
	_ = c.Logout().Wait()
	return n, total, nil
}
