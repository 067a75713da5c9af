package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// itemRow is an items row as the database holds it.
type itemRow struct {
	ID            int64          `db:"id"`
	Kind          string         `db:"kind"`
	MessageID     string         `db:"message_id"`
	ContentHash   string         `db:"content_hash"`
	Raw           []byte         `db:"raw"`
	RawSize       int64          `db:"raw_size"`
	RawTruncated  bool           `db:"raw_truncated"`
	Meta          string         `db:"meta"`
	ReceivedAt    time.Time      `db:"received_at"`
	State         string         `db:"state"`
	Attempts      int            `db:"attempts"`
	NextAttemptAt time.Time      `db:"next_attempt_at"`
	ClaimedBy     string         `db:"claimed_by"`
	LastError     string         `db:"last_error"`
	ProcessedAt   sql.NullTime   `db:"processed_at"`
	Sender        string         `db:"sender"`
	RepID         sql.NullInt64  `db:"rep_id"`
	Subject       string         `db:"subject"`
	BodyText      string         `db:"body_text"`
	Transcript    sql.NullString `db:"transcript"`
	Unreliable    string         `db:"transcript_unreliable"`
	AutoReason    string         `db:"auto_reason"`
	Warnings      string         `db:"warnings"`
	Trust         string         `db:"trust"`
	TrustReason   string         `db:"trust_reason"`
	DuplicateOf   sql.NullInt64  `db:"duplicate_of"`
	// mailboxes and review are read apart, by a claim.
	mailboxes  []string      `db:"-"`
	review     *model.Review `db:"-"`
	reviewRead bool          `db:"-"`
}

// item converts the row: NULLs become zero values, the warnings' JSON a
// list.
func (r itemRow) item() model.Item {
	return model.Item{
		ID: r.ID, Kind: model.ItemKind(r.Kind), MessageID: r.MessageID, ContentHash: r.ContentHash,
		Raw: r.Raw, RawSize: r.RawSize, RawTruncated: r.RawTruncated, Meta: r.Meta, ReceivedAt: r.ReceivedAt,
		State: model.ItemState(r.State), Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, ClaimedBy: r.ClaimedBy,
		LastError: r.LastError, ProcessedAt: r.ProcessedAt.Time, Sender: r.Sender, RepID: r.RepID.Int64,
		Subject: r.Subject, BodyText: r.BodyText, Transcript: r.Transcript.String, HasTranscript: r.Transcript.Valid,
		TranscriptUnreliable: r.Unreliable,
		AutoReason:           r.AutoReason, Warnings: stringList(r.Warnings),
		Trust: model.Trust(r.Trust), TrustReason: r.TrustReason, DuplicateOf: r.DuplicateOf.Int64,
		Mailboxes: r.mailboxes, Review: r.review, ReviewRead: r.reviewRead,
	}
}

func items(rows []itemRow) []model.Item {
	out := make([]model.Item, len(rows))
	for i, r := range rows {
		out[i] = r.item()
	}
	return out
}

const itemCols = `id, kind, message_id, content_hash, raw, raw_size, raw_truncated, meta, received_at,
	state, attempts, next_attempt_at, claimed_by, last_error, processed_at, sender, rep_id, subject,
	` + bodyTextCol + ` as body_text, transcript, transcript_unreliable, auto_reason, warnings, trust, trust_reason, duplicate_of`

// tagRow is a tags row as the database holds it.
type tagRow struct {
	ItemID   int64  `db:"item_id"`
	Kind     string `db:"kind"`
	Value    string `db:"value"`
	Evidence string `db:"evidence"`
	Origin   string `db:"origin"`
}

func (r tagRow) tag() model.Tag {
	t := model.Tag{ItemID: r.ItemID, Kind: model.TagKind(r.Kind), Value: r.Value, Origin: r.Origin}
	if r.Evidence != "" {
		// Evidence that no longer reads is left out; the tag stays.
		_ = json.Unmarshal([]byte(r.Evidence), &t.Evidence)
	}
	return t
}

// Tags returns an item's tags.
func (s *Store) Tags(ctx context.Context, itemID int64) ([]model.Tag, error) {
	var rows []tagRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select item_id, kind, value, evidence, origin from tags
		where item_id = ? order by kind, value`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d tags: %w", itemID, err)
	}
	out := make([]model.Tag, len(rows))
	for i, r := range rows {
		out[i] = r.tag()
	}
	return out, nil
}

// Assignments returns an item's assignments.
func (s *Store) Assignments(ctx context.Context, itemID int64) ([]model.Assignment, error) {
	var out []model.Assignment
	err := s.db.SelectContext(ctx, &out, s.rebind(`select item_id as itemid, owner, route from assignments
		where item_id = ? order by id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d assignments: %w", itemID, err)
	}
	return out, nil
}

// Mailboxes returns the addresses of the mailboxes an item arrived in.
func (s *Store) Mailboxes(ctx context.Context, itemID int64) ([]string, error) {
	var out []string
	err := s.hot.Select(ctx, nil, &out, `select distinct mailbox from receipts
		where item_id = ? and mailbox <> '' order by mailbox`, itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d mailboxes: %w", itemID, err)
	}
	return out, nil
}

// Item returns one item by id.
func (s *Store) Item(ctx context.Context, id int64) (model.Item, error) {
	var r itemRow
	err := s.db.GetContext(ctx, &r, s.rebind(`select `+itemCols+` from items where id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Item{}, fmt.Errorf("item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return model.Item{}, fmt.Errorf("item %d: %w", id, err)
	}
	return r.item(), nil
}
