-- +goose Up
-- Search vectors and queries are built by Earshot from this version on
-- (store/textsearch.go), no longer by PostgreSQL's to_tsvector and
-- websearch_to_tsquery. Both stem English the same way, but they split
-- addresses, hosts and hyphenated words differently: every vector is
-- queued to be built again. The indexer does it in the background,
-- behind processing.
insert into search_queue (item_id, queued_at)
select item_id, now() from item_search
on conflict (item_id) do nothing;

-- +goose Down
-- The vectors Earshot built read like PostgreSQL's; rebuild them with its
-- parser, as the indexer of the previous version did.
update item_search s set doc = to_tsvector('english',
    left(i.subject || ' ' || i.full_text || ' ' || coalesce(i.transcript, ''), 20000))
from items i where i.id = s.item_id;
