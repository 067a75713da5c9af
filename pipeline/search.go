package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/store"
)

// SearchStore is what the search indexer needs of the store.
type SearchStore interface {
	SearchBacklog(ctx context.Context) (store.SearchBacklog, error)
	IndexSearch(ctx context.Context, n int) (int64, error)
}

// SearchIndexer writes the search vectors of completed items behind
// processing: the GIN index they go into is costly to update, and acks
// should not wait for search. While items are due it
// waits, unless the oldest queued item has waited MaxLag, so search falls
// at most about MaxLag behind even under a steady load. On SQLite, which
// searches by substring, there is never anything to do.
type SearchIndexer struct {
	Store SearchStore
	// Batch is how many items one statement indexes (default 200).
	Batch int
	// MaxLag bounds how long processing defers indexing (default 1 min).
	MaxLag time.Duration
	// Poll is how often the queue is looked at (default 1 s).
	Poll    time.Duration
	Log     *slog.Logger
	backlog prometheus.Gauge
}

// Register adds the indexer's backlog gauge to reg.
func (x *SearchIndexer) Register(reg prometheus.Registerer) {
	x.backlog = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "earshot", Name: "search_backlog",
		Help: "Processed items waiting for their search vector.",
	})
	reg.MustRegister(x.backlog)
}

// Run indexes until ctx is done.
func (x *SearchIndexer) Run(ctx context.Context) {
	poll := x.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := x.RunOnce(ctx); err != nil && ctx.Err() == nil {
			x.Log.Error("search index", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce indexes batches until the queue is empty or processing has
// work (and the queue has not waited MaxLag). It returns how many items
// it indexed.
func (x *SearchIndexer) RunOnce(ctx context.Context) (int64, error) {
	batch := x.Batch
	if batch <= 0 {
		batch = 200
	}
	maxLag := x.MaxLag
	if maxLag <= 0 {
		maxLag = time.Minute
	}
	var total int64
	for ctx.Err() == nil {
		b, err := x.Store.SearchBacklog(ctx)
		if err != nil {
			return total, err
		}
		if x.backlog != nil {
			x.backlog.Set(float64(b.Queued))
		}
		if b.Queued == 0 || (b.Busy && b.Waiting < maxLag) {
			break
		}
		n, err := x.Store.IndexSearch(ctx, batch)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break // what is left is being indexed by another replica
		}
	}
	if total > 0 {
		x.Log.Debug("search indexed", "items", total)
	}
	return total, nil
}
