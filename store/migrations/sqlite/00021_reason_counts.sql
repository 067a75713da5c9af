-- +goose Up
-- The ledger's entries per rep, month and reason, kept by a trigger: the
-- awards of a batch read a row per reason of each of its reps, where they
-- read every ledger entry of those reps' month, a cost that grew with the
-- month. entries counts them, with_item those paid for an item, min_item
-- the lowest of those items (an item is paid a reason once).
create table rep_month_reasons (
    month     text not null,
    rep_id    integer not null references reps (id) on delete cascade,
    reason    text not null,
    entries   integer not null,
    with_item integer not null,
    min_item  integer,
    primary key (month, rep_id, reason)
);

-- +goose StatementBegin
create trigger points_ledger_reasons after insert on points_ledger
begin
    insert into rep_month_reasons (month, rep_id, reason, entries, with_item, min_item)
    values (new.month, new.rep_id, new.reason, 1, new.item_id is not null, new.item_id)
    on conflict (month, rep_id, reason) do update set
        entries = entries + 1,
        with_item = with_item + excluded.with_item,
        min_item = coalesce(min(min_item, excluded.min_item), min_item, excluded.min_item);
end;
-- +goose StatementEnd

insert into rep_month_reasons (month, rep_id, reason, entries, with_item, min_item)
select month, rep_id, reason, count(*), count(item_id), min(item_id)
from points_ledger
group by month, rep_id, reason;

-- +goose Down
drop trigger points_ledger_reasons;
drop table rep_month_reasons;
