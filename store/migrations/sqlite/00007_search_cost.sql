-- +goose Up
-- PostgreSQL indexes less of each message for search and compresses the
-- item texts with lz4 from this version on; SQLite searches by substring
-- and stores texts as they are. Kept so both dialects share versions.
select 1;

-- +goose Down
select 1;
