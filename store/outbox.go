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
	if len(rows) == 0 {
		return nil, nil
	}
	add := func(item int64, kind, state, key, domain string) {
		if kind == string(model.OutboxAck) && state != string(model.OutboxSuppressed) {
			acks = append(acks, enqueuedAck{item: item, key: key, domain: domain})
		}
	}
	if s.dialect == Postgres {
		err = s.insertOutboxPostgres(ctx, tx, rows, add)
		return acks, err
	}
	err = s.insertRowsReturning(ctx, tx, "outbox", []string{"item_id", "kind", "channel", "recipient", "recipient_key",
		"recipient_domain", "subject", "body", "original_at", "original_encoding",
		"state", "reason", "next_attempt_at", "created_at"}, rows, outboxConflict, func(r *sqlx.Rows) error {
		var (
			item                     int64
			kind, state, key, domain string
		)
		if err := r.Scan(&item, &kind, &state, &key, &domain); err != nil {
			return err
		}
		add(item, kind, state, key, domain)
		return nil
	})
	return acks, err
}

// outboxConflict is what insertOutbox does with a message enqueued before
// for the same (item, kind, recipient): it stays as it is, but for a
// suppressed one that may go out now (a manager credited the item). It
// returns what the caps count.
const outboxConflict = `on conflict (item_id, kind, recipient) do update set subject = excluded.subject, body = excluded.body,
	original_at = excluded.original_at, original_encoding = excluded.original_encoding,
	state = excluded.state, reason = excluded.reason, recipient_key = excluded.recipient_key,
	recipient_domain = excluded.recipient_domain, next_attempt_at = excluded.next_attempt_at,
	created_at = excluded.created_at
where outbox.state = 'suppressed' and excluded.state <> 'suppressed'
returning coalesce(item_id, 0) as item_id, kind, state, recipient_key, recipient_domain`

// insertOutboxPostgres is insertOutbox in one prepared statement, whatever
// the number of rows: the small columns go as an array each, the bodies
// concatenated as one bytea, its last parameter, that the server cuts up
// (as the intake's insert does). As a multi-row insert, a batch's 30 or
// so messages made a statement of some 400 parameters, parsed and planned
// anew, whose 8 KB bodies lib/pq copied over and over while its buffer
// grew.
func (s *Store) insertOutboxPostgres(ctx context.Context, tx *sqlx.Tx, rows [][]any,
	add func(item int64, kind, state, key, domain string)) error {
	n := len(rows)
	var (
		items, origAt                                        = make([]int64, n), make([]int64, n)
		kinds, channels, recipients, keys, domains, subjects = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		encodings, states, reasons, due, created             = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	)
	bodies, _, offsets, sizes := joinBytes(nil, n, func(i int) []byte { return rows[i][7].([]byte) })
	for i, r := range rows {
		if id, ok := r[0].(int64); ok {
			items[i] = id
		}
		kinds[i], channels[i], recipients[i], keys[i], domains[i], subjects[i] =
			r[1].(string), r[2].(string), r[3].(string), r[4].(string), r[5].(string), r[6].(string)
		origAt[i], encodings[i], states[i], reasons[i] = int64(r[8].(int)), r[9].(string), r[10].(string), r[11].(string)
		due[i], created[i] = r[12].(time.Time).Format(time.RFC3339Nano), r[13].(time.Time).Format(time.RFC3339Nano)
	}
	var got []struct {
		Item   int64  `db:"item_id"`
		Kind   string `db:"kind"`
		State  string `db:"state"`
		Key    string `db:"recipient_key"`
		Domain string `db:"recipient_domain"`
	}
	if err := s.hot.Select(ctx, tx, &got, `insert into outbox (item_id, kind, channel, recipient, recipient_key,
			recipient_domain, subject, body, original_at, original_encoding, state, reason, next_attempt_at, created_at)
		select nullif(v.item_id, 0), v.kind, v.channel, v.recipient, v.recipient_key, v.recipient_domain, v.subject,
			substr($16::bytea, v.off::int, v.size::int), v.original_at, v.original_encoding, v.state, v.reason,
			v.next_attempt_at, v.created_at
		from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
				$9::bigint[], $10::int[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[])
			with ordinality as v(item_id, kind, channel, recipient, recipient_key, recipient_domain, subject, off, size,
				original_at, original_encoding, state, reason, next_attempt_at, created_at, n)
		order by v.n
		`+outboxConflict,
		pq.Array(items), textArray(kinds), textArray(channels), textArray(recipients), textArray(keys), textArray(domains),
		textArray(subjects), pq.Array(offsets), pq.Array(sizes), pq.Array(origAt), textArray(encodings), textArray(states),
		textArray(reasons), pq.Array(due), pq.Array(created), bodies); err != nil {
		return err
	}
	for _, g := range got {
		add(g.Item, g.Kind, g.State, g.Key, g.Domain)
	}
	return nil
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
		where o.id = v.id and o.state = 'pending'`, now, pq.Array(ids), textArray(providers)); err != nil {
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
