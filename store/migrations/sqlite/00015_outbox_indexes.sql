-- +goose Up
-- Three indexes no query reads, each written at every enqueue and every
-- change of a message's state: acks are counted by recipient_key
-- (outbox_ack_recipient_key), the hourly caps sum the ack tally, and the
-- unique (item_id, kind, recipient) finds an item's messages.
drop index if exists outbox_recipient;
drop index if exists outbox_item;
drop index if exists outbox_ack_created;

-- +goose Down
create index outbox_ack_created on outbox (created_at) where kind = 'ack';
create index outbox_item on outbox (item_id);
create index outbox_recipient on outbox (recipient, created_at) where kind = 'ack';
