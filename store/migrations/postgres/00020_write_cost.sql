-- +goose Up
-- Indexes and keys that every stored item paid for and no query reads:
-- each insert and each update of a row writes an entry into every index
-- of its table.
--  - items_message_id: items are told apart by their content
--    (items_content_hash); nothing looks an item up by its Message-ID.
--  - outbox_ack_domain: the caps count a domain's acks in ack_day_tally.
--  - tags.id: a tag is its item, kind and value, which become its key;
--    nothing read the number each tag drew from a sequence.
drop index items_message_id;
drop index outbox_ack_domain;
alter table tags drop column id;
alter table tags drop constraint tags_item_id_kind_value_key;
alter table tags add primary key (item_id, kind, value);

-- +goose Down
alter table tags drop constraint tags_pkey;
alter table tags add column id bigserial primary key;
alter table tags add unique (item_id, kind, value);
create index outbox_ack_domain on outbox (recipient_domain, created_at) where kind = 'ack';
create index items_message_id on items (message_id) where message_id <> '';
