package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/templates"
)

// OutboxStore is what the outbox worker needs of the store.
type OutboxStore interface {
	ClaimOutbox(ctx context.Context, worker string, n int, lease time.Duration) ([]model.OutboxMessage, error)
	MarkOutboxSentBatch(ctx context.Context, sent []model.SentMessage) error
	FailOutbox(ctx context.Context, id int64, worker string, cause error, permanent bool, maxAttempts int) (model.OutboxState, error)
}

// Worker sends pending outbox messages: it claims a batch, sends each
// message through the sender of its channel (a BatchSender gets all of
// its channel's messages at once), then marks them sent with the
// provider's ids. A temporary failure is retried with backoff; a permanent
// one, or running out of attempts, marks the message failed with the
// provider's answer. A crash between sending and marking sends that
// message again when its lease ends: at least once, never skipped.
type Worker struct {
	Store OutboxStore
	// Senders send by channel.
	Senders map[model.Channel]Sender
	// Name identifies the worker in claims.
	Name string
	// Batch is how many messages one claim takes (default 20).
	Batch int
	// Lease is how long a claim lasts (default 2 minutes); it must exceed
	// the time a batch takes to send.
	Lease time.Duration
	// MaxAttempts bounds temporary failures (default 12, about 6 hours
	// with the store's backoff).
	MaxAttempts int
	// MaxAttemptsFor overrides MaxAttempts per channel (webhooks have
	// their own).
	MaxAttemptsFor map[model.Channel]int
	// Poll is how often an idle worker looks for due messages (default 5 s).
	Poll time.Duration
	// Wake makes an idle worker look at once.
	Wake <-chan struct{}
	Log  *slog.Logger

	sent   *prometheus.CounterVec
	failed *prometheus.CounterVec
}

// Register adds the worker's metrics to reg:
// earshot_outbox_sent_total{channel} and earshot_outbox_failed_total{channel}.
func (w *Worker) Register(reg prometheus.Registerer) {
	w.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "earshot", Name: "outbox_sent_total", Help: "Outbox messages sent, by channel.",
	}, []string{"channel"})
	w.failed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "earshot", Name: "outbox_failed_total",
		Help: "Outbox messages that failed for good (permanent error or attempts exhausted), by channel.",
	}, []string{"channel"})
	reg.MustRegister(w.sent, w.failed)
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default().With("component", "outbox")
	}
	return w.Log
}

// Run sends messages until ctx is done; a batch in hand is finished.
func (w *Worker) Run(ctx context.Context) {
	poll := w.Poll
	if poll == 0 {
		poll = 5 * time.Second
	}
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().Error("claim outbox", "err", err)
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
}

// RunOnce claims one batch and sends it. It returns how many messages it
// claimed. Messages in hand are finished even after ctx is done, within
// the lease.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	lease := w.Lease
	if lease == 0 {
		lease = 2 * time.Minute
	}
	batch := w.Batch
	if batch == 0 {
		batch = 20
	}
	msgs, err := w.Store.ClaimOutbox(ctx, w.Name, batch, lease)
	if err != nil {
		return 0, err
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease)
	defer cancel()
	var sent []model.SentMessage
	var sentMsgs []model.OutboxMessage
	for i, r := range w.send(fctx, msgs) {
		if r.Err != nil {
			w.fail(fctx, msgs[i], r.Err)
			continue
		}
		sent = append(sent, model.SentMessage{ID: msgs[i].ID, ProviderID: r.ProviderID})
		sentMsgs = append(sentMsgs, msgs[i])
	}
	if len(sent) == 0 {
		return len(msgs), nil
	}
	// The batch's messages sent are marked in one statement; if the mark
	// is lost (a crash), they go out again when their lease ends.
	if err := w.Store.MarkOutboxSentBatch(fctx, sent); err != nil {
		w.log().Error("mark sent", "messages", len(sent), "err", err)
		return len(msgs), nil
	}
	for i, m := range sentMsgs {
		w.count(w.sent, m.Channel)
		w.log().Info("sent", "outbox", m.ID, "kind", m.Kind, "channel", m.Channel, "attempt", m.Attempts,
			"provider_id", sent[i].ProviderID)
	}
	return len(msgs), nil
}

// send delivers msgs through the senders of their channels and returns
// one result per message. A sender that can send a batch (BatchSender)
// takes all of its channel's messages at once.
func (w *Worker) send(ctx context.Context, msgs []model.OutboxMessage) []Result {
	res := make([]Result, len(msgs))
	var channels []model.Channel
	byChannel := map[model.Channel][]int{}
	for i := range msgs {
		m, err := spliceOriginal(msgs[i])
		msgs[i] = m // the original, spliced in, is no longer held twice
		switch {
		case err != nil:
			res[i].Err = err
		case w.Senders[m.Channel] == nil:
			res[i].Err = &PermanentError{fmt.Errorf("no sender for channel %q is configured", m.Channel)}
		default:
			if byChannel[m.Channel] == nil {
				channels = append(channels, m.Channel)
			}
			byChannel[m.Channel] = append(byChannel[m.Channel], i)
		}
	}
	for _, ch := range channels {
		at := byChannel[ch]
		if bs, ok := w.Senders[ch].(BatchSender); ok {
			batch := make([]model.OutboxMessage, len(at))
			for k, i := range at {
				batch[k] = msgs[i]
			}
			for k, r := range bs.SendBatch(ctx, batch) {
				res[at[k]] = r
			}
			continue
		}
		for _, i := range at {
			id, err := w.Senders[ch].Send(ctx, msgs[i])
			res[i] = Result{ProviderID: id, Err: err}
		}
	}
	return res
}

// fail records that m was not sent: it is retried later, or fails for
// good.
func (w *Worker) fail(ctx context.Context, m model.OutboxMessage, err error) {
	log := w.log().With("outbox", m.ID, "kind", m.Kind, "channel", m.Channel, "attempt", m.Attempts)
	max := w.MaxAttempts
	if n := w.MaxAttemptsFor[m.Channel]; n > 0 {
		max = n
	}
	if max == 0 {
		max = 12
	}
	state, ferr := w.Store.FailOutbox(ctx, m.ID, w.Name, err, IsPermanent(err), max)
	switch {
	case errors.Is(ferr, model.ErrNotClaimed):
		log.Warn("outbox message was taken over after its lease ran out", "err", err)
	case ferr != nil:
		log.Error("record send failure", "err", ferr, "cause", err)
	case state == model.OutboxFailed:
		w.count(w.failed, m.Channel)
		log.Error("send failed for good", "err", err)
	default:
		log.Warn("send failed, will retry", "err", err)
	}
}

// spliceOriginal completes an owner notice stored without the original
// it attaches (model.Deferred). A message that cannot be completed fails
// for good.
func spliceOriginal(m model.OutboxMessage) (model.OutboxMessage, error) {
	if m.Original.At <= 0 {
		return m, nil
	}
	body, err := templates.Splice(m.Body, templates.Gap{At: m.Original.At, Encoding: m.Original.Encoding}, m.Original.Data)
	if err != nil {
		return m, &PermanentError{err}
	}
	m.Body, m.Original = body, model.Deferred{}
	return m, nil
}

func (w *Worker) count(c *prometheus.CounterVec, channel model.Channel) {
	if c != nil {
		c.WithLabelValues(string(channel)).Inc()
	}
}
