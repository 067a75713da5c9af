package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// RawItem is one email or voicemail exactly as the source delivered it.
type RawItem struct {
	// SourceKey identifies the item within its source: "uidvalidity:uid"
	// for IMAP, the RecordingSid for Twilio.
	SourceKey string
	// Kind is "email" or "voicemail".
	Kind string
	// Mailbox is the address of the mailbox it arrived in (empty for voicemail).
	Mailbox string
	// MessageID is the Message-ID without angle brackets, if any.
	MessageID string
	// ContentHash identifies the same message across mailboxes and
	// UIDVALIDITY changes; items with the same hash are one item.
	ContentHash string
	// Raw is the RFC 822 message or the audio.
	Raw []byte
	// Truncated is set when Raw holds only the headers of an oversized message.
	Truncated bool
	// Meta is source metadata as a JSON object (e.g. recording details).
	Meta string
	// ReceivedAt is when the source received it (IMAP INTERNALDATE, the
	// recording's creation time); the store's clock when zero.
	ReceivedAt time.Time
}

// Batch is what a source hands to the store in one transaction: new raw
// items and the cursor that follows them.
type Batch struct {
	Source string
	// Holder is the lease holder; the batch is refused with ErrLeaseLost if
	// another replica took the source meanwhile. Empty skips the check.
	Holder string
	// Cursor is the source's JSON cursor after these items; empty keeps it.
	Cursor string
	Items  []RawItem
}

// ReceiveResult counts what a batch did.
type ReceiveResult struct {
	// Inserted items are new.
	Inserted int
	// Linked items were already stored through another mailbox or an
	// earlier UIDVALIDITY: a new receipt, no new item.
	Linked int
	// Repeated items were already received from this source under this key.
	Repeated int
}

// Receive stores the batch's raw items and advances the source's cursor in
// one transaction. It is idempotent: receiving the same batch again stores
// nothing new. Only after it returns nil may the source change anything
// upstream.
func (s *Store) Receive(ctx context.Context, b Batch) (ReceiveResult, error) {
	var res ReceiveResult
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res = ReceiveResult{}
		srcID, err := s.holdsLease(ctx, tx, b.Source, b.Holder)
		if err != nil {
			return err
		}
		for i := range b.Items {
			if err := s.receiveOne(ctx, tx, srcID, &b.Items[i], &res); err != nil {
				return fmt.Errorf("source %s: item %s: %w", b.Source, b.Items[i].SourceKey, err)
			}
		}
		if b.Cursor != "" {
			_, err := tx.ExecContext(ctx, s.rebind(`update sources set cursor = ?, last_success_at = ?,
				last_error = '', disabled_reason = '' where id = ?`), b.Cursor, ts(s.now()), srcID)
			if err != nil {
				return fmt.Errorf("source %s: advance cursor: %w", b.Source, err)
			}
		}
		if s.beforeCommit != nil {
			s.beforeCommit()
		}
		return nil
	})
	return res, err
}

func (s *Store) receiveOne(ctx context.Context, tx *sqlx.Tx, srcID int64, it *RawItem, res *ReceiveResult) error {
	if it.SourceKey == "" || it.ContentHash == "" {
		return errors.New("source key and content hash are required")
	}
	var itemID int64
	err := tx.GetContext(ctx, &itemID, s.rebind(
		`select item_id from receipts where source_id = ? and source_key = ?`), srcID, it.SourceKey)
	if err == nil {
		res.Repeated++
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	now := ts(s.now())
	recv := now
	if !it.ReceivedAt.IsZero() {
		recv = ts(it.ReceivedAt)
	}
	meta := it.Meta
	if meta == "" {
		meta = "{}"
	}
	err = tx.GetContext(ctx, &itemID, s.rebind(`insert into items
		(kind, message_id, content_hash, raw, raw_size, raw_truncated, meta, received_at, next_attempt_at)
		values (?, ?, ?, ?, ?, ?, ?, ?, ?)
		on conflict (content_hash) do nothing returning id`),
		it.Kind, it.MessageID, it.ContentHash, it.Raw, len(it.Raw), it.Truncated, meta, recv, now)
	switch {
	case err == nil:
		res.Inserted++
	case errors.Is(err, sql.ErrNoRows):
		// The same content is stored already: another mailbox, or the
		// folder was re-scanned after a UIDVALIDITY change.
		if err := tx.GetContext(ctx, &itemID, s.rebind(
			`select id from items where content_hash = ?`), it.ContentHash); err != nil {
			return err
		}
		res.Linked++
		// A receipt from a new mailbox may add a category: process again.
		// Processing is idempotent, so this changes tags, never doubles
		// points. Clearing the claim also voids a worker that is processing
		// the item right now with the old list of mailboxes.
		if _, err := tx.ExecContext(ctx, s.rebind(`update items set state = 'received', claimed_by = '', next_attempt_at = ?
			where id = ? and state in ('received', 'processed') and not exists
			(select 1 from receipts r where r.item_id = items.id and r.mailbox = ?)`),
			now, itemID, it.Mailbox); err != nil {
			return err
		}
	default:
		return err
	}
	_, err = tx.ExecContext(ctx, s.rebind(`insert into receipts (source_id, source_key, item_id, mailbox, received_at)
		values (?, ?, ?, ?, ?)`), srcID, it.SourceKey, itemID, it.Mailbox, recv)
	return err
}
