-- +goose Up
-- PostgreSQL compresses outbox bodies with lz4 from this version on;
-- SQLite stores them as they are. Kept so both dialects share versions.
select 1;

-- +goose Down
select 1;
