-- +goose Up
-- Owner notices carry the original message: compress the body with lz4,
-- as the raw items are, rather than the slower default.
alter table outbox alter column body set compression lz4;

-- +goose Down
alter table outbox alter column body set compression default;
