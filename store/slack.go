package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/earshot-dev/earshot/model"
)

// ReceiveSlackChange keeps an edit, a deletion or an author's reply in
// the thread of the Slack message that source received under key. It
// reports whether the change is new: a redelivered event changes nothing.
// An edit of a message that is processed already updates the text shown;
// one that arrives before processing is what processing reads (tags are
// recomputed from it before routing only). ErrNotFound means the message
// itself is not stored.
func (s *Store) ReceiveSlackChange(ctx context.Context, source, key string, ch model.SlackChange) (bool, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, s.rebind(`select r.item_id from receipts r join sources s on s.id = r.source_id
		where s.name = ? and r.source_key = ?`), source, key)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("slack message %s in %s: %w", key, source, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("slack message %s in %s: %w", key, source, err)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`insert into slack_changes (item_id, kind, ts, text, raw, received_at)
		values (?, ?, ?, ?, ?, ?) on conflict (item_id, kind, ts) do nothing`),
		id, ch.Kind, ch.TS, ch.Text, ch.Raw, ts(s.now()))
	if err != nil {
		return false, fmt.Errorf("item %d: slack %s: %w", id, ch.Kind, err)
	}
	n, _ := res.RowsAffected()
	if n == 1 && ch.Kind == model.SlackEdit {
		if _, err := s.db.ExecContext(ctx, s.rebind(`update items set body_text = ?, body_len = null where id = ? and state <> 'received'`),
			ch.Text, id); err != nil {
			return false, fmt.Errorf("item %d: slack edit: %w", id, err)
		}
	}
	return n == 1, nil
}

// SlackChanges returns what happened to a Slack item after it arrived,
// oldest first.
func (s *Store) SlackChanges(ctx context.Context, itemID int64) ([]model.SlackChange, error) {
	var rows []struct {
		Kind string `db:"kind"`
		TS   string `db:"ts"`
		Text string `db:"text"`
	}
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select kind, ts, text from slack_changes
		where item_id = ? order by ts, kind`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d slack changes: %w", itemID, err)
	}
	out := make([]model.SlackChange, len(rows))
	for i, r := range rows {
		out[i] = model.SlackChange{Kind: r.Kind, TS: r.TS, Text: r.Text}
	}
	return out, nil
}
