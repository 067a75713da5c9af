package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// WorkStore is what item workers need of the store.
type WorkStore interface {
	Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]model.Item, error)
	ExtendClaim(ctx context.Context, id int64, worker string, lease time.Duration) error
	Complete(ctx context.Context, id int64, worker string, p model.Processed) error
	CompleteBatch(ctx context.Context, worker string, batch []store.Done) ([]error, error)
	Fail(ctx context.Context, id int64, worker string, cause error, maxAttempts int) (bool, error)
}

// Workers process received items: claim a batch, process each item,
// store the result or the failure.
type Workers struct {
	Store     WorkStore
	Processor interface {
		Process(ctx context.Context, it model.Item) (model.Processed, error)
	}
	Name        string // replica name; workers are Name/0, Name/1, …
	Count       int
	Batch       int
	Lease       time.Duration
	MaxAttempts int
	// Poll is how often idle workers look for due items (default 1 s).
	Poll time.Duration
	Log  *slog.Logger
	Wake <-chan struct{} // a receive makes idle workers look at once
	// Processed, when set, is signalled after an item completes, so that
	// the outbox worker sends its messages at once.
	Processed chan<- struct{}
	metric    *prometheus.CounterVec
}

// Register adds the workers' metrics to reg.
func (w *Workers) Register(reg prometheus.Registerer) {
	w.metric = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "earshot", Name: "items_processed_total",
		Help: "Items processed, by result (processed, failed, quarantined).",
	}, []string{"result"})
	reg.MustRegister(w.metric)
}

func (w *Workers) count(result string) {
	if w.metric != nil {
		w.metric.WithLabelValues(result).Inc()
	}
}

// Run processes items until ctx is done, then lets items in hand finish.
func (w *Workers) Run(ctx context.Context) {
	poll := w.Poll
	if poll == 0 {
		poll = time.Second
	}
	var wg sync.WaitGroup
	for i := range max(1, w.Count) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := w.Name + "/" + strconv.Itoa(i)
			for ctx.Err() == nil {
				n, err := w.RunOnce(ctx, name)
				if err != nil && ctx.Err() == nil {
					w.Log.Error("claim items", "err", err)
				}
				if n > 0 && err == nil {
					continue
				}
				t := time.NewTimer(poll)
				select {
				case <-ctx.Done():
				case <-w.Wake:
				case <-t.C:
				}
				t.Stop()
			}
		}()
	}
	wg.Wait()
}

// Staged is a processor that works in two steps: Prepare reads nothing
// other items write, Award does (Processor), counting what the items
// before it in the batch write as written (Pending). Workers complete a
// staged processor's items in batches.
type Staged interface {
	Prepare(ctx context.Context, it model.Item) (model.Processed, error)
	Award(ctx context.Context, it model.Item, res *model.Processed, pending Pending) error
}

// batchReader is a staged processor that reads at once what the awards
// of prepared items read (Pending.Reads).
type batchReader interface {
	Reads(ctx context.Context, items []model.Item, results []model.Processed) *store.AwardReads
}

// senderReader is a staged processor that reads the reps of a batch's
// senders at once, into its items, before preparing them.
type senderReader interface {
	ReadSenders(ctx context.Context, items []model.Item) error
}

// RunOnce claims one batch for worker and processes it. It returns how
// many items it claimed. An item in hand is finished even after ctx is
// done, within the lease.
//
// With a staged processor, the batch's results are completed together,
// in one transaction: its items are prepared, then each is awarded
// counting what the items before it write (their ledger entries and
// acks: Pending), so that every award sees what an item-by-item run
// would have seen; an item claiming the first report of a competitor an
// item before it names is awarded again after the batch is stored. What
// the awards read of the store is read once for the prepared items
// (Pending.Reads) where the processor can. An item the store leaves out
// of a batch with a conflict (a race with another worker or replica) is
// processed again and completed alone.
func (w *Workers) RunOnce(ctx context.Context, worker string) (int, error) {
	// The batch's claim ends, measured from before the claim was asked
	// for so that it never runs later than the store's.
	claimEnd := time.Now().Add(w.Lease)
	items, err := w.Store.Claim(ctx, worker, max(1, w.Batch), w.Lease)
	if err != nil {
		return 0, err
	}
	staged, ok := w.Processor.(Staged)
	if !ok {
		for i, it := range items {
			if i > 0 && ctx.Err() != nil {
				// Shutting down: leave the rest; their claims run out and
				// another worker or replica takes them.
				break
			}
			w.oneWithLease(ctx, worker, it, claimEnd)
		}
		return len(items), nil
	}
	if sr, ok := staged.(senderReader); ok {
		if err := sr.ReadSenders(ctx, items); err != nil && ctx.Err() == nil {
			w.Log.Warn("read the batch's senders at once; the gate reads them one by one", "err", err)
		}
	}
	b := &batch{w: w, worker: worker, p: staged, competitors: map[string]bool{}}
	b.reader, _ = staged.(batchReader)
	for i, it := range items {
		if i > 0 && ctx.Err() != nil {
			break
		}
		if time.Until(claimEnd) < w.Lease/2 {
			// Complete what is in hand while its claims hold, and renew
			// the claim of the item whose turn came.
			b.awardPrepared(ctx, claimEnd)
			b.flush(ctx, claimEnd)
			claimEnd = time.Now().Add(w.Lease)
			if !w.extend(ctx, worker, it) {
				continue
			}
		}
		b.prepare(ctx, it, claimEnd)
	}
	b.awardPrepared(ctx, claimEnd)
	b.flush(ctx, claimEnd)
	return len(items), nil
}

// batch is a claimed batch's items prepared, and awarded and not yet
// completed.
type batch struct {
	w      *Workers
	worker string
	p      Staged
	reader batchReader // nil when p reads nothing at once
	// prepared are the items prepared and not yet awarded, with their
	// results.
	prepared []model.Item
	results  []model.Processed
	// read is set once the awards' reads of prepared were asked for.
	read bool
	// items are awarded and wait for completion with their results.
	items []model.Item
	done  []store.Done
	// pending is what the batch's items write that awards read.
	pending Pending
	// competitors are the competitors the batch's items name, lower-cased.
	competitors map[string]bool
}

// prepare prepares an item, to be awarded with the others prepared.
func (b *batch) prepare(ctx context.Context, it model.Item, claimEnd time.Time) {
	ictx, cancel := context.WithDeadline(context.WithoutCancel(ctx), claimEnd)
	defer cancel()
	res, err := b.p.Prepare(ictx, it)
	if err != nil {
		b.w.settle(ictx, b.worker, it, res, err)
		return
	}
	b.prepared = append(b.prepared, it)
	b.results = append(b.results, res)
}

// awardPrepared awards the prepared items in their order.
func (b *batch) awardPrepared(ctx context.Context, claimEnd time.Time) {
	for i := range b.prepared {
		b.award(ctx, i, claimEnd)
	}
	clear(b.results)
	b.prepared, b.results = b.prepared[:0], b.results[:0]
}

// award awards the i-th prepared item and adds it to the items to
// complete. The awards' reads are read at once for the items left, first
// and after every completion.
func (b *batch) award(ctx context.Context, i int, claimEnd time.Time) {
	it := b.prepared[i]
	ictx, cancel := context.WithDeadline(context.WithoutCancel(ctx), claimEnd)
	defer cancel()
	b.readAwards(ictx, i)
	prepared := b.results[i]
	prepared.Outbox, prepared.FirstReports = slices.Clip(prepared.Outbox), slices.Clip(prepared.FirstReports)
	res := prepared
	err := b.p.Award(ictx, it, &res, b.pending)
	if err == nil && b.namesFirstReport(res) {
		// A first report of a competitor an item before it names: which
		// of them reports first is the database's to say (a manager may
		// have removed the other's tag). Store the batch, then award the
		// item again.
		b.flush(ctx, claimEnd)
		b.readAwards(ictx, i)
		res = prepared
		err = b.p.Award(ictx, it, &res, b.pending)
	}
	if err != nil {
		b.w.settle(ictx, b.worker, it, res, err)
		return
	}
	b.items = append(b.items, it)
	b.done = append(b.done, store.Done{ID: it.ID, P: res})
	b.pending.Add(res)
	for _, t := range res.Tags {
		if t.Kind == model.TagCompetitor {
			b.competitors[strings.ToLower(t.Value)] = true
		}
	}
}

// readAwards reads what the awards of the prepared items from the i-th
// on read of the store, unless it was read since the batch was last
// stored (flush drops it).
func (b *batch) readAwards(ctx context.Context, i int) {
	if b.reader != nil && !b.read {
		b.pending.Reads = b.reader.Reads(ctx, b.prepared[i:], b.results[i:])
		b.read = true
	}
}

// namesFirstReport reports whether res claims a first report of a
// competitor that an item of the batch names.
func (b *batch) namesFirstReport(res model.Processed) bool {
	for _, fr := range res.FirstReports {
		if b.competitors[strings.ToLower(fr.Competitor)] {
			return true
		}
	}
	return false
}

// flush completes the batch's items in one transaction. When the whole
// transaction fails (another transaction won a race for a unique row),
// they complete one at a time.
func (b *batch) flush(ctx context.Context, claimEnd time.Time) {
	if len(b.done) == 0 {
		b.pending.Reset()
		b.read = false
		return
	}
	fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), claimEnd)
	defer cancel()
	errs, err := b.w.Store.CompleteBatch(fctx, b.worker, b.done)
	if err != nil && len(b.done) > 1 {
		b.w.Log.Info("batch completion failed; completing its items one at a time", "items", len(b.done), "err", err)
	}
	for i, it := range b.items {
		e := err
		if err == nil {
			e = errs[i]
		} else if len(b.done) > 1 {
			e = b.w.Store.Complete(fctx, it.ID, b.worker, b.done[i].P)
		}
		b.w.settle(fctx, b.worker, it, b.done[i].P, e)
	}
	b.items, b.done = b.items[:0], b.done[:0]
	b.pending.Reset()
	b.read = false
	clear(b.competitors)
}

// extend renews worker's claim on an item for a lease from now; false
// when the item is no longer the worker's.
func (w *Workers) extend(ctx context.Context, worker string, it model.Item) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.Lease)
	err := w.Store.ExtendClaim(rctx, it.ID, worker, w.Lease)
	cancel()
	if err != nil {
		// Usually a receipt from another mailbox made it due again.
		w.Log.Info("item no longer claimed; it is processed again", "item", it.ID, "err", err)
		return false
	}
	return true
}

// oneWithLease processes one claimed item within its claim, and finishes
// it with a context of its own so that a shutdown does not waste the
// work. When less than half of the batch's claim (ending at claimEnd) is
// left as the item's turn comes, the item's claim is renewed first: a
// batch's later items keep a long enough lease without a write for every
// item.
func (w *Workers) oneWithLease(ctx context.Context, worker string, it model.Item, claimEnd time.Time) {
	if time.Until(claimEnd) < w.Lease/2 {
		claimEnd = time.Now().Add(w.Lease)
		if !w.extend(ctx, worker, it) {
			return
		}
	}
	ictx, cancel := context.WithDeadline(context.WithoutCancel(ctx), claimEnd)
	defer cancel()
	res, err := w.Processor.Process(ictx, it)
	if err == nil {
		err = w.Store.Complete(ictx, it.ID, worker, res)
	}
	w.settle(ictx, worker, it, res, err)
}

// maxConflictRetries bounds how often an item that lost a race is
// processed again at once. Each conflict means another item's claim was
// stored meanwhile (the first report of one of the competitors the item
// names, a first-intel bonus, the last acks under a cap), which the next
// attempt sees, so a few suffice; an item still in conflict after them
// fails and is retried after a backoff, like any failure.
const maxConflictRetries = 5

// settle finishes an item whose processing or completion returned err:
// counted processed, processed again and completed alone after a
// conflict, left to the worker that now holds it, or failed.
func (w *Workers) settle(ctx context.Context, worker string, it model.Item, res model.Processed, err error) {
	log := w.Log.With("item", it.ID, "kind", it.Kind, "attempt", it.Attempts)
	for range maxConflictRetries {
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		// Another item won a race: for a unique row (the rep's
		// first-intel bonus of the month) or for the first report of
		// a competitor. Doing it again sees the winner; an item that
		// names several competitors may lose a race for each.
		log.Info("concurrent write conflict; processing again at once", "err", err)
		if res, err = w.Processor.Process(ctx, it); err == nil {
			err = w.Store.Complete(ctx, it.ID, worker, res)
		}
	}
	if errors.Is(err, store.ErrNotClaimed) {
		// A new receipt made it due again, or its lease ran out and
		// another worker took it: its result is that worker's to store.
		log.Info("item no longer claimed when done; it is processed again")
		return
	}
	if err == nil {
		w.count("processed")
		if w.Processed != nil && len(res.Outbox) > 0 {
			select {
			case w.Processed <- struct{}{}:
			default:
			}
		}
		log.Debug("item processed", "tags", len(res.Tags), "owners", len(res.Assignments))
		return
	}
	quarantined, ferr := w.Store.Fail(ctx, it.ID, worker, err, w.MaxAttempts)
	if ferr != nil {
		log.Error("record failure", "err", ferr, "cause", err)
		return
	}
	if quarantined {
		w.count("quarantined")
		log.Error("item quarantined", "err", err)
		return
	}
	w.count("failed")
	log.Warn("item failed, will retry", "err", err)
}
