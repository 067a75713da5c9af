-- +goose Up
-- PostgreSQL's search vectors are rebuilt by Earshot's own tokenizer from
-- this version on; SQLite searches by substring. Kept so both dialects
-- share versions.
select 1;

-- +goose Down
select 1;
