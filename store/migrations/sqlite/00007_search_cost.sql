-- +goose Up
-- PostgreSQL keeps search vectors in a table of their own, filled by a
-- background indexer, from this version on; SQLite searches by substring.
-- Kept so both dialects share versions.
select 1;

-- +goose Down
select 1;
