-- +goose Up
-- An owner notice is stored without the original message it attaches:
-- the item keeps the one copy, and the sender splices it in at
-- original_at (the byte offset of the attachment's empty body), encoded
-- as original_encoding says. 0 when nothing is left out.
alter table outbox add column original_at integer not null default 0;
alter table outbox add column original_encoding text not null default '';

-- +goose Down
alter table outbox drop column original_encoding;
alter table outbox drop column original_at;
