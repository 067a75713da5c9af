-- +goose Up
-- Computing the search vector (to_tsvector runs at about 5 MB/s) was the
-- costliest step of completing an item: an expression index on items ran it
-- inside every completion. The vectors now live in item_search, written by
-- a background indexer from search_queue, which completion fills. Acks and
-- notices no longer wait for search; search catches up within seconds.
create table item_search (
    item_id bigint primary key references items (id) on delete cascade,
    doc     tsvector not null
);
create index item_search_doc on item_search using gin (doc);
create table search_queue (
    item_id   bigint primary key references items (id) on delete cascade,
    queued_at timestamptz not null
);
-- Index the first 20,000 characters: what a rep wrote comes first, and
-- long messages are mostly quoted history.
insert into item_search (item_id, doc)
select id, to_tsvector('english', left(subject || ' ' || full_text || ' ' || coalesce(transcript, ''), 20000))
from items where state = 'processed';
drop index items_search;
-- The texts written on completion are compressed with lz4 like the raw
-- message, several times cheaper than the default pglz.
alter table items alter column body_text set compression lz4;
alter table items alter column full_text set compression lz4;
alter table items alter column normalized set compression lz4;

-- +goose Down
alter table items alter column normalized set compression default;
alter table items alter column full_text set compression default;
alter table items alter column body_text set compression default;
create index items_search on items using gin (to_tsvector('english',
    left(subject || ' ' || full_text || ' ' || coalesce(transcript, ''), 100000)));
drop table search_queue;
drop table item_search;
