-- +goose Up
-- The ledger's entries per rep, month and reason, kept by the totals
-- trigger: the awards of a batch read a row per reason of each of its
-- reps, where they read every ledger entry of those reps' month, a cost
-- that grew with the month. entries counts them, with_item those paid
-- for an item, min_item the lowest of those items (an item is paid a
-- reason once).
create table rep_month_reasons (
    month     text not null,
    rep_id    bigint not null references reps (id) on delete cascade,
    reason    text not null,
    entries   integer not null,
    with_item integer not null,
    min_item  bigint,
    primary key (month, rep_id, reason)
);

-- No entry is written between the count below and the trigger's change.
lock table points_ledger in share row exclusive mode;

-- The reasons' rows are written in key order after the totals' rows,
-- which every transaction takes in (month, rep_id) order: a transaction
-- writes a rep's reasons only while it holds the rep's totals row.
-- +goose StatementBegin
create or replace function rep_month_totals_add() returns trigger language plpgsql as $$
begin
    insert into rep_month_totals as t (month, rep_id, points, intel, feedback, voicemails)
    select n.month, n.rep_id, sum(n.points),
        count(*) filter (where n.reason = 'category:intel'),
        count(*) filter (where n.reason = 'category:feedback'),
        count(*) filter (where n.reason like 'category:%' and i.kind = 'voicemail'
            and not exists (select 1 from points_ledger p
                where p.item_id = n.item_id and p.reason like 'category:%' and p.id < n.id))
    from new_rows n left join items i on i.id = n.item_id
    group by n.month, n.rep_id
    order by n.month, n.rep_id
    on conflict (month, rep_id) do update set
        points = t.points + excluded.points,
        intel = t.intel + excluded.intel,
        feedback = t.feedback + excluded.feedback,
        voicemails = t.voicemails + excluded.voicemails;
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

insert into rep_month_reasons (month, rep_id, reason, entries, with_item, min_item)
select month, rep_id, reason, count(*), count(item_id), min(item_id)
from points_ledger
group by month, rep_id, reason;

-- +goose Down
-- +goose StatementBegin
create or replace function rep_month_totals_add() returns trigger language plpgsql as $$
begin
    insert into rep_month_totals as t (month, rep_id, points, intel, feedback, voicemails)
    select n.month, n.rep_id, sum(n.points),
        count(*) filter (where n.reason = 'category:intel'),
        count(*) filter (where n.reason = 'category:feedback'),
        count(*) filter (where n.reason like 'category:%' and i.kind = 'voicemail'
            and not exists (select 1 from points_ledger p
                where p.item_id = n.item_id and p.reason like 'category:%' and p.id < n.id))
    from new_rows n left join items i on i.id = n.item_id
    group by n.month, n.rep_id
    order by n.month, n.rep_id
    on conflict (month, rep_id) do update set
        points = t.points + excluded.points,
        intel = t.intel + excluded.intel,
        feedback = t.feedback + excluded.feedback,
        voicemails = t.voicemails + excluded.voicemails;
    return null;
end
$$;
-- +goose StatementEnd
drop table rep_month_reasons;
