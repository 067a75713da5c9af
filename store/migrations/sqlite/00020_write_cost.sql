-- +goose Up
-- Indexes that every stored item paid for and no query reads: each
-- insert and each update of a row writes an entry into every index of
-- its table.
--  - items_message_id: items are told apart by their content
--    (items_content_hash); nothing looks an item up by its Message-ID.
--  - outbox_ack_domain: the caps count a domain's acks in ack_day_tally.
-- (A tag's id is SQLite's rowid, which costs no index.)
drop index items_message_id;
drop index outbox_ack_domain;

-- +goose Down
create index outbox_ack_domain on outbox (recipient_domain, created_at) where kind = 'ack';
create index items_message_id on items (message_id) where message_id <> '';
