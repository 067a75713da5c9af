package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// writeSearch stores the search vectors of a batch's items (doneItem.doc)
// in the completion's transaction, so that search finds an item by the
// text it was stored with, and by no other. On SQLite, which searches by
// substring, it does nothing.
//
// A request still queued for the indexer (search_queue: vectors that a
// migration asks to be built again) is deleted first. The delete waits
// for an indexer that holds the request, whose vector, of the text before
// this transaction, is then overwritten here; an indexer that comes later
// finds no request. The indexer meanwhile needs nothing this transaction
// holds: the vector's row is written after the delete, and the items are
// locked "for no key update" (loadBatch), which the foreign key check of
// the indexer's new vector passes.
func (s *Store) writeSearch(ctx context.Context, tx *sqlx.Tx, items []*doneItem) error {
	if s.dialect != Postgres || len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	rows := make([][]any, len(items))
	for i, it := range items {
		ids[i] = it.id
		rows[i] = []any{it.id, it.doc}
	}
	if _, err := s.hot.Exec(ctx, tx, `delete from search_queue where item_id = any($1)`, pq.Array(ids)); err != nil {
		return fmt.Errorf("complete items: search requests: %w", err)
	}
	if err := s.insertRows(ctx, tx, "item_search", []string{"item_id", "doc"}, rows,
		"on conflict (item_id) do update set doc = excluded.doc"); err != nil {
		return fmt.Errorf("complete items: search vectors: %w", err)
	}
	return nil
}

// SearchBacklog is the search indexer's queue: how many items wait, how
// long the oldest has waited, and whether items are due for processing
// (which goes first).
type SearchBacklog struct {
	Queued  int64
	Waiting time.Duration
	Busy    bool
}

// SearchBacklog reports the indexer's queue. It is empty on SQLite.
func (s *Store) SearchBacklog(ctx context.Context) (SearchBacklog, error) {
	var b SearchBacklog
	if s.dialect != Postgres {
		return b, nil
	}
	var oldest sql.NullTime
	err := s.db.QueryRowxContext(ctx, `select (select count(*) from search_queue),
		(select min(queued_at) from search_queue),
		exists (select 1 from items where state = 'received' and next_attempt_at <= $1)`, ts(s.now())).
		Scan(&b.Queued, &oldest, &b.Busy)
	if err != nil {
		return b, fmt.Errorf("search backlog: %w", err)
	}
	if oldest.Valid {
		b.Waiting = max(0, s.now().Sub(oldest.Time))
	}
	return b, nil
}

// IndexSearch computes the search vectors of up to n queued items, oldest
// first, and returns how many it indexed. Completion writes its items'
// vectors itself (writeSearch); the queue holds what a migration asks to
// be built again. Replicas share the queue: each takes rows the others
// have not locked. A completion of an item whose request is being indexed
// waits, and then writes the vector of its own text (writeSearch), so the
// last text always wins. On SQLite it does nothing.
//
// The vectors are computed here (tsvectorOf) from the items' text and
// stored as literals, which PostgreSQL reads far faster than it parses
// text.
func (s *Store) IndexSearch(ctx context.Context, n int) (int64, error) {
	if s.dialect != Postgres {
		return 0, nil
	}
	var indexed int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var items []struct {
			ID         int64  `db:"id"`
			Subject    string `db:"subject"`
			Text       string `db:"full_text"`
			Transcript string `db:"transcript"`
		}
		// The queue rows are deleted first: a completion of the item
		// meanwhile waits for this transaction, and then writes the
		// vector of its own text (writeSearch).
		if err := tx.SelectContext(ctx, &items, `with batch as (
				delete from search_queue where item_id in (
					select item_id from search_queue order by queued_at, item_id limit $1 for update skip locked)
				returning item_id)
			select i.id, i.subject, i.full_text, coalesce(i.transcript, '') as transcript
			from items i join batch b on b.item_id = i.id order by i.id`, n); err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		rows := make([][]any, len(items))
		for i, it := range items {
			rows[i] = []any{it.ID, tsvectorOf(searchText(it.Subject, it.Text, it.Transcript))}
		}
		if err := s.insertRows(ctx, tx, "item_search", []string{"item_id", "doc"}, rows,
			"on conflict (item_id) do update set doc = excluded.doc"); err != nil {
			return err
		}
		indexed = int64(len(items))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("index items for search: %w", err)
	}
	return indexed, nil
}
