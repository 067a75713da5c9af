-- +goose Up
-- The monthly tally aggregates one month per rep: with points in the index
-- it is an index-only scan, also with a million ledger rows.
create index points_ledger_month_points on points_ledger (month, rep_id) include (points);
drop index points_ledger_month;
-- A rep's all-time total and goal progress read one rep's rows.
create index points_ledger_rep on points_ledger (rep_id, month) include (points);
-- One first-intel bonus per rep and month, even when two items of the same
-- rep are processed at once: the later transaction fails and is retried.
create unique index points_ledger_first_intel on points_ledger (rep_id, month)
    where reason = 'bonus:first-intel-of-month';
-- The per-recipient daily cap counts today's acks to one recipient.
create index outbox_recipient on outbox (recipient, created_at) where kind = 'ack';
create index outbox_item on outbox (item_id);

-- +goose Down
drop index outbox_item;
drop index outbox_recipient;
drop index points_ledger_first_intel;
drop index points_ledger_rep;
create index points_ledger_month on points_ledger (month, rep_id);
drop index points_ledger_month_points;
