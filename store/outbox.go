package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/earshot-dev/earshot/model"
)

// outboxRow is an outbox row as the database holds it.
type outboxRow struct {
	ID        int64         `db:"id"`
	ItemID    sql.NullInt64 `db:"item_id"`
	Kind      string        `db:"kind"`    // ack, owner_notice, reminder, digest
	Channel   string        `db:"channel"` // email or sms
	Recipient string        `db:"recipient"`
	Subject   string        `db:"subject"`
	// Body is the whole RFC 5322 message for email, the text for SMS.
	Body []byte `db:"body"`
	// OriginalAt and OriginalEncoding say where an owner notice's original
	// goes (model.Deferred).
	OriginalAt       int    `db:"original_at"`
	OriginalEncoding string `db:"original_encoding"`
	State            string `db:"state"`
	Reason           string `db:"reason"`
	// Attempts counts send attempts; NextAttemptAt is when the next is due.
	Attempts      int       `db:"attempts"`
	NextAttemptAt time.Time `db:"next_attempt_at"`
	ClaimedBy     string    `db:"claimed_by"`
	// LastError is the last failure, e.g. the SMTP server's answer.
	LastError string `db:"last_error"`
	// ProviderID is the SMTP queue id or Message-ID, or the Twilio SID.
	ProviderID string       `db:"provider_id"`
	CreatedAt  time.Time    `db:"created_at"`
	SentAt     sql.NullTime `db:"sent_at"`
}

func (r outboxRow) message() model.OutboxMessage {
	return model.OutboxMessage{
		ID: r.ID, ItemID: r.ItemID.Int64, Kind: model.OutboxKind(r.Kind), Channel: model.Channel(r.Channel),
		Recipient: r.Recipient, Subject: r.Subject, Body: r.Body, State: model.OutboxState(r.State), Reason: r.Reason,
		Original: model.Deferred{At: r.OriginalAt, Encoding: r.OriginalEncoding},
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, ClaimedBy: r.ClaimedBy, LastError: r.LastError,
		ProviderID: r.ProviderID, CreatedAt: r.CreatedAt, SentAt: r.SentAt.Time,
	}
}

func messages(rows []outboxRow) []model.OutboxMessage {
	out := make([]model.OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = r.message()
	}
	return out
}

const outboxCols = `id, item_id, kind, channel, recipient, subject, body, original_at, original_encoding, state, reason, attempts,
	next_attempt_at, claimed_by, last_error, provider_id, created_at, sent_at`

// writeOutbox enqueues messages for item id; a message already enqueued
// for the same (item, kind, recipient) is kept as it is, unless it was
// suppressed and may go out now. Messages about no
// single item (id 0: a digest, a reminder) have a null item_id, which the
// unique key does not dedupe: the caller's transaction records them.
func (s *Store) writeOutbox(ctx context.Context, tx *sqlx.Tx, id int64, msgs []model.OutboxMessage) error {
	if _, err := s.insertOutbox(ctx, tx, s.outboxRows(nil, id, msgs, s.now())); err != nil {
		return fmt.Errorf("item %d: enqueue messages: %w", id, err)
	}
	return nil
}

// outboxRows appends the outbox rows of item id's messages to rows,
// created at now.
func (s *Store) outboxRows(rows [][]any, id int64, msgs []model.OutboxMessage, now time.Time) [][]any {
	now = ts(now)
	for _, m := range msgs {
		state := m.State
		if state == "" {
			state = model.OutboxPending
		}
		body := m.Body
		if body == nil {
			body = []byte{}
		}
		key := outboxKey(m)
		_, domain, _ := strings.Cut(key, "@")
		rows = append(rows, []any{nullID(id), string(m.Kind), string(m.Channel), m.Recipient, key, domain, m.Subject,
			body, m.Original.At, m.Original.Encoding, string(state), m.Reason, now, now})
	}
	return rows
}

// outboxKey is the recipient key a message is counted under by the caps.
func outboxKey(m model.OutboxMessage) string {
	if m.RecipientKey != "" {
		return m.RecipientKey
	}
	return strings.ToLower(strings.TrimSpace(m.Recipient))
}

// insertOutbox inserts outbox rows made by outboxRows. It returns the
// acks it added or let go out, not suppressed, which the caps count
// (tallyAcks).
func (s *Store) insertOutbox(ctx context.Context, tx *sqlx.Tx, rows [][]any) (acks []enqueuedAck, err error) {
	err = s.insertRowsReturning(ctx, tx, "outbox", []string{"item_id", "kind", "channel", "recipient", "recipient_key",
		"recipient_domain", "subject", "body", "original_at", "original_encoding",
		"state", "reason", "next_attempt_at", "created_at"}, rows,
		// A message enqueued before stays as it is, but for a suppressed one
		// that may go out now (a manager credited the item).
		`on conflict (item_id, kind, recipient) do update set subject = excluded.subject, body = excluded.body,
			original_at = excluded.original_at, original_encoding = excluded.original_encoding,
			state = excluded.state, reason = excluded.reason, recipient_key = excluded.recipient_key,
			recipient_domain = excluded.recipient_domain, next_attempt_at = excluded.next_attempt_at,
			created_at = excluded.created_at
		where outbox.state = 'suppressed' and excluded.state <> 'suppressed'
		returning item_id, kind, state, recipient_key, recipient_domain`, func(r *sqlx.Rows) error {
			var (
				item        sql.NullInt64
				kind, state string
				a           enqueuedAck
			)
			if err := r.Scan(&item, &kind, &state, &a.key, &a.domain); err != nil {
				return err
			}
			if kind == string(model.OutboxAck) && state != string(model.OutboxSuppressed) {
				a.item = item.Int64
				acks = append(acks, a)
			}
			return nil
		})
	return acks, err
}

// ClaimOutbox leases up to n due pending messages to worker for lease,
// oldest first. A message whose worker dies becomes due again when the
// lease ends, so it may be sent twice but is never skipped. Concurrent
// workers never get the same message: PostgreSQL skips rows other
// transactions locked, SQLite has a single writer.
func (s *Store) ClaimOutbox(ctx context.Context, worker string, n int, lease time.Duration) ([]model.OutboxMessage, error) {
	var msgs []model.OutboxMessage
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var rows []outboxRow
		msgs = nil
		if err := s.claimRows(ctx, tx, "outbox", claimPending, worker, n, lease, &rows, outboxCols); err != nil {
			return err
		}
		msgs = messages(rows)
		return s.loadOriginals(ctx, tx, msgs)
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return msgs, nil
}

// loadOriginals reads, in tx, the raw item each owner notice in msgs
// leaves out (model.Deferred), for the sender to splice in. An original
// this store kept when it enqueued the notice (originals) is not read;
// another is read once, however many of its owners' notices the batch
// holds. On PostgreSQL the originals up to InlineRaw come in one
// prepared statement for the whole batch; a larger one, and every one on
// SQLite, is read in chunks.
func (s *Store) loadOriginals(ctx context.Context, tx *sqlx.Tx, msgs []model.OutboxMessage) error {
	var ids []int64
	seen := map[int64]bool{}
	for i, m := range msgs {
		if m.Original.At <= 0 || m.ItemID == 0 {
			continue
		}
		if raw, ok := s.originals.take(m.ItemID); ok {
			msgs[i].Original.Data = raw
			continue
		}
		if !seen[m.ItemID] {
			seen[m.ItemID] = true
			ids = append(ids, m.ItemID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	raws := make(map[int64][]byte, len(ids))
	if s.dialect == Postgres {
		var rows []struct {
			ID  int64  `db:"id"`
			Raw []byte `db:"raw"`
		}
		if err := s.hot.Select(ctx, tx, &rows, `select id, case when raw_size <= $1 then raw end as raw
			from items where id = any($2::bigint[])`, InlineRaw, pq.Array(ids)); err != nil {
			return fmt.Errorf("originals of %d items: %w", len(ids), err)
		}
		for _, r := range rows {
			if r.Raw != nil {
				raws[r.ID] = r.Raw
			}
		}
	}
	for i, m := range msgs {
		if m.Original.At <= 0 || m.ItemID == 0 || m.Original.Data != nil {
			continue
		}
		raw, ok := raws[m.ItemID]
		if !ok {
			var err error
			if raw, err = s.readRaw(ctx, tx, m.ItemID, nil); err != nil {
				return fmt.Errorf("outbox %d: original: %w", m.ID, err)
			}
			raws[m.ItemID] = raw
		}
		msgs[i].Original.Data = raw
	}
	return nil
}

// markSent marks one pending message sent: provider id, time, id.
const markSent = `update outbox set state = 'sent', provider_id = ?, sent_at = ?,
	claimed_by = '', last_error = '' where id = ? and state = 'pending'`

// MarkOutboxSent records that a pending message was sent, with the
// provider's id. It holds even when the worker's lease ran out: the
// message did go out, and recording it spares a second copy.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64, providerID string) error {
	now := ts(s.now())
	res, err := s.hot.Exec(ctx, nil, markSent, providerID, now, id)
	if err != nil {
		return fmt.Errorf("mark outbox %d sent: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("mark outbox %d sent: %w", id, ErrNotClaimed)
	}
	return nil
}

// MarkOutboxSentBatch records that pending messages were sent, each with
// the provider's id, in one statement. Like MarkOutboxSent it holds even
// when the worker's lease ran out; a message no longer pending (another
// worker sent it meanwhile) is left as it is.
func (s *Store) MarkOutboxSentBatch(ctx context.Context, sent []model.SentMessage) error {
	if len(sent) == 0 {
		return nil
	}
	now := ts(s.now())
	if s.dialect != Postgres {
		return s.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, m := range sent {
				if _, err := s.hot.Exec(ctx, tx, markSent, m.ProviderID, now, m.ID); err != nil {
					return fmt.Errorf("mark outbox %d sent: %w", m.ID, err)
				}
			}
			return nil
		})
	}
	ids, providers := make([]int64, len(sent)), make([]string, len(sent))
	for i, m := range sent {
		ids[i], providers[i] = m.ID, m.ProviderID
	}
	if _, err := s.hot.Exec(ctx, nil, `update outbox o set state = 'sent', provider_id = v.provider_id, sent_at = $1,
		claimed_by = '', last_error = '' from unnest($2::bigint[], $3::text[]) as v(id, provider_id)
		where o.id = v.id and o.state = 'pending'`, now, pq.Array(ids), pq.Array(providers)); err != nil {
		return fmt.Errorf("mark %d outbox messages sent: %w", len(sent), err)
	}
	return nil
}

// FailOutbox records a failed send of a claimed message. A permanent
// failure, or a temporary one on the maxAttempts-th attempt, makes the
// message failed; otherwise it is due again after Backoff. It returns the
// message's new state.
func (s *Store) FailOutbox(ctx context.Context, id int64, worker string, cause error, permanent bool, maxAttempts int) (model.OutboxState, error) {
	msg := cutText(cleanText(strings.TrimSpace(cause.Error())), 2000)
	var state model.OutboxState
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var attempts int
		err := tx.GetContext(ctx, &attempts, s.rebind(
			`select attempts from outbox where id = ? and claimed_by = ? and state = 'pending'`), id, worker)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotClaimed
		}
		if err != nil {
			return err
		}
		state = model.OutboxPending
		if permanent || attempts >= maxAttempts {
			state = model.OutboxFailed
		}
		_, err = tx.ExecContext(ctx, s.rebind(`update outbox set state = ?, claimed_by = '', last_error = ?,
			next_attempt_at = ? where id = ?`), string(state), msg, ts(s.now().Add(s.backoff(attempts))), id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("fail outbox %d: %w", id, err)
	}
	return state, nil
}

// acksSince counts the acks to a recipient key since a time that were not
// suppressed, through q, leaving out the acks of exceptItem.
func (s *Store) acksSince(ctx context.Context, q sqlx.QueryerContext, key string, since time.Time, exceptItem int64) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, s.rebind(`select count(*) from outbox
		where kind = 'ack' and recipient_key = ? and created_at >= ? and state <> 'suppressed'
		and (item_id is null or item_id <> ?)`), key, ts(since), exceptItem)
	if err != nil {
		return 0, fmt.Errorf("count acks to %s: %w", key, err)
	}
	return n, nil
}

// ItemOutbox returns the messages enqueued for an item, in order.
func (s *Store) ItemOutbox(ctx context.Context, itemID int64) ([]model.OutboxMessage, error) {
	var rows []outboxRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select `+outboxCols+` from outbox
		where item_id = ? order by id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d outbox: %w", itemID, err)
	}
	return messages(rows), nil
}

// OutboxByID returns one outbox message.
func (s *Store) OutboxByID(ctx context.Context, id int64) (model.OutboxMessage, error) {
	var r outboxRow
	err := s.db.GetContext(ctx, &r, s.rebind(`select `+outboxCols+` from outbox where id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return model.OutboxMessage{}, fmt.Errorf("outbox %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return model.OutboxMessage{}, fmt.Errorf("outbox %d: %w", id, err)
	}
	return r.message(), nil
}
