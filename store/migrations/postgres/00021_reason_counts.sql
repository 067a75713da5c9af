-- +goose Up
-- The ledger's entries per rep, month and reason, kept by a trigger: the
-- awards of a batch read a row per reason of each of its reps, where they
-- read every ledger entry of those reps' month, a cost that grew with the
-- month. entries counts them, with_item those paid for an item, min_item
-- the lowest of those items (an item is paid a reason once).
create table rep_month_reasons (
    month     text not null,
    rep_id    bigint not null references reps (id) on delete cascade,
    reason    text not null,
    entries   integer not null,
    with_item integer not null,
    min_item  bigint,
    primary key (month, rep_id, reason)
);

-- No entry is written between the count below and the trigger's start.
lock table points_ledger in share row exclusive mode;

-- One statement-level trigger: a bulk insert aggregates once, and writes
-- its rows in key order.
-- +goose StatementBegin
create function rep_month_reasons_add() returns trigger language plpgsql as $$
begin
    insert into rep_month_reasons as t (month, rep_id, reason, entries, with_item, min_item)
    select n.month, n.rep_id, n.reason, count(*), count(n.item_id), min(n.item_id)
    from new_rows n
    group by n.month, n.rep_id, n.reason
    order by n.month, n.rep_id, n.reason
    on conflict (month, rep_id, reason) do update set
        entries = t.entries + excluded.entries,
        with_item = t.with_item + excluded.with_item,
        min_item = least(t.min_item, excluded.min_item);
    return null;
end
$$;
-- +goose StatementEnd
-- Triggers of an event fire in the order of their names: this one after
-- points_ledger_totals, which takes the reps' month totals rows in key
-- order. A transaction writes a rep's reasons only while it holds the
-- rep's totals row, so batches of many reps never deadlock on them.
create trigger points_ledger_totals_reasons after insert on points_ledger
    referencing new table as new_rows for each statement execute function rep_month_reasons_add();

insert into rep_month_reasons (month, rep_id, reason, entries, with_item, min_item)
select month, rep_id, reason, count(*), count(item_id), min(item_id)
from points_ledger
group by month, rep_id, reason;

-- +goose Down
drop trigger points_ledger_totals_reasons on points_ledger;
drop function rep_month_reasons_add();
drop table rep_month_reasons;
