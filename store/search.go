package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// queueSearch asks the search indexer to (re)index items. Completion
// calls it; on SQLite, which searches by substring, it does nothing.
//
// An item queued already has its row updated, not left alone: the update
// locks the row until tx commits, so an indexer that runs meanwhile skips
// it rather than delete it and index the text tx has not committed yet.
//
// Completion queues its items before it locks them. An indexer that holds
// a request the queue waits for may be writing the item's first vector,
// whose foreign key check locks the item: locked already, the two would
// wait for each other. An item then left out of the batch is indexed
// once more, which changes nothing.
func (s *Store) queueSearch(ctx context.Context, tx *sqlx.Tx, ids ...int64) error {
	if s.dialect != Postgres || len(ids) == 0 {
		return nil
	}
	// An upsert may not touch a row twice.
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if _, err := s.hot.Exec(ctx, tx, `insert into search_queue (item_id, queued_at)
		select id, $2::timestamptz from unnest($1::bigint[]) with ordinality as v(id, n) order by n
		on conflict (item_id) do update set queued_at = excluded.queued_at`, pq.Array(ids), ts(s.now())); err != nil {
		return fmt.Errorf("queue for search: %w", err)
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
// first, and returns how many it indexed. Replicas share the queue: each
// takes rows the others have not locked. An item completed again while
// it is being indexed is queued again, and one whose completion has
// queued it but not committed is left for later (queueSearch), so the
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
		// The queue rows are deleted first: a completion that queues the
		// item again meanwhile waits for this transaction, and then
		// queues it anew.
		if err := s.hot.Select(ctx, tx, &items, `with batch as (
				delete from search_queue where item_id in (
					select item_id from search_queue order by queued_at, item_id limit ? for update skip locked)
				returning item_id)
			select i.id, i.subject, i.full_text, coalesce(i.transcript, '') as transcript
			from items i join batch b on b.item_id = i.id order by i.id`, n); err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		// One prepared statement, the vectors' literals as one array.
		ids, docs := make([]int64, len(items)), make([]string, len(items))
		for i, it := range items {
			ids[i], docs[i] = it.ID, tsvectorOf(searchText(it.Subject, it.Text, it.Transcript))
		}
		if _, err := s.hot.Exec(ctx, tx, `insert into item_search (item_id, doc)
			select v.id, v.doc::tsvector from unnest($1::bigint[], $2::text[]) with ordinality as v(id, doc, n) order by v.n
			on conflict (item_id) do update set doc = excluded.doc`, pq.Array(ids), textArray(docs)); err != nil {
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
