-- +goose Up
-- PostgreSQL adds to the reps' month totals in key order from this
-- version on; SQLite has one writer. Kept so both dialects share versions.
select 1;

-- +goose Down
select 1;
