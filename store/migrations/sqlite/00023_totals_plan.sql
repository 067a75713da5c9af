-- +goose Up
-- PostgreSQL's totals trigger looks items up by key from this version on;
-- SQLite's row trigger always did. Kept so both dialects share versions.
select 1;

-- +goose Down
select 1;
