-- +goose Up
-- The ledger's totals trigger adds to the reps' month rows in (month,
-- rep_id) order, the order every transaction takes them in: a batch
-- completing items of many reps never waits on another batch that waits
-- on it (a deadlock PostgreSQL would break by failing one of them).
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
    on conflict (month, rep_id) do update set
        points = t.points + excluded.points,
        intel = t.intel + excluded.intel,
        feedback = t.feedback + excluded.feedback,
        voicemails = t.voicemails + excluded.voicemails;
    return null;
end
$$;
-- +goose StatementEnd
