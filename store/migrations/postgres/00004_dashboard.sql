-- +goose Up
-- Per rep and month totals of the points ledger, kept by a trigger, so the
-- leaderboard, its change against last month and the twelve-month chart read
-- a few thousand rows instead of aggregating the ledger on every page. The
-- ledger is append-only: the totals follow its inserts.
create table rep_month_totals (
    month      text not null,
    rep_id     bigint not null references reps (id) on delete cascade,
    points     bigint not null default 0,
    intel      integer not null default 0,
    feedback   integer not null default 0,
    voicemails integer not null default 0,
    primary key (month, rep_id)
);
create index rep_month_totals_rep on rep_month_totals (rep_id, month);

-- One statement-level trigger: a bulk insert aggregates once. A voicemail
-- counts once, on its first category entry (an item may be intel and
-- feedback).
-- +goose StatementBegin
create function rep_month_totals_add() returns trigger language plpgsql as $$
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
create trigger points_ledger_totals after insert on points_ledger
    referencing new table as new_rows for each statement execute function rep_month_totals_add();

insert into rep_month_totals (month, rep_id, points, intel, feedback, voicemails)
select l.month, l.rep_id, sum(l.points),
    count(*) filter (where l.reason = 'category:intel'),
    count(*) filter (where l.reason = 'category:feedback'),
    count(distinct l.item_id) filter (where l.reason like 'category:%' and i.kind = 'voicemail')
from points_ledger l left join items i on i.id = l.item_id
group by l.month, l.rep_id;

-- The inbox lists items newest first and pages by (received_at, id).
create index items_received on items (received_at, id);
-- Full-text search of the inbox. Queries repeat this expression exactly;
-- the text is cut at 100,000 characters so that no message can exceed the
-- 1 MB limit of a tsvector and fail its write.
create index items_search on items using gin (to_tsvector('english',
    left(subject || ' ' || full_text || ' ' || coalesce(transcript, ''), 100000)));

-- Dashboard sessions, shared by every replica behind a load balancer and
-- kept across restarts. Only a SHA-256 hash of the cookie's token is stored.
create table web_sessions (
    token_hash text primary key,
    username   text not null,
    csrf_token text not null,
    via        text not null check (via in ('password', 'header')),
    created_at timestamptz not null,
    expires_at timestamptz not null
);
create index web_sessions_expires on web_sessions (expires_at);

-- +goose Down
drop table web_sessions;
drop index items_search;
drop index items_received;
drop trigger points_ledger_totals on points_ledger;
drop function rep_month_totals_add();
drop table rep_month_totals;
