-- +goose Up
-- Per rep and month totals of the points ledger, kept by a trigger, so the
-- leaderboard, its change against last month and the twelve-month chart read
-- a few thousand rows instead of aggregating the ledger on every page. The
-- ledger is append-only: the totals follow its inserts.
create table rep_month_totals (
    month      text not null,
    rep_id     integer not null references reps (id) on delete cascade,
    points     integer not null default 0,
    intel      integer not null default 0,
    feedback   integer not null default 0,
    voicemails integer not null default 0,
    primary key (month, rep_id)
);
create index rep_month_totals_rep on rep_month_totals (rep_id, month);

-- A voicemail counts once, on its first category entry (an item may be
-- intel and feedback).
-- +goose StatementBegin
create trigger points_ledger_totals after insert on points_ledger
begin
    insert into rep_month_totals (month, rep_id, points, intel, feedback, voicemails)
    values (new.month, new.rep_id, new.points,
        new.reason = 'category:intel',
        new.reason = 'category:feedback',
        new.reason like 'category:%'
            and exists (select 1 from items i where i.id = new.item_id and i.kind = 'voicemail')
            and not exists (select 1 from points_ledger p
                where p.item_id = new.item_id and p.reason like 'category:%' and p.id < new.id))
    on conflict (month, rep_id) do update set
        points = points + excluded.points,
        intel = intel + excluded.intel,
        feedback = feedback + excluded.feedback,
        voicemails = voicemails + excluded.voicemails;
end;
-- +goose StatementEnd

insert into rep_month_totals (month, rep_id, points, intel, feedback, voicemails)
select l.month, l.rep_id, sum(l.points),
    sum(l.reason = 'category:intel'),
    sum(l.reason = 'category:feedback'),
    count(distinct case when l.reason like 'category:%' and i.kind = 'voicemail' then l.item_id end)
from points_ledger l left join items i on i.id = l.item_id
group by l.month, l.rep_id;

-- The inbox lists items newest first and pages by (received_at, id).
create index items_received on items (received_at, id);

-- Dashboard sessions, shared by every process on the database and kept
-- across restarts. Only a SHA-256 hash of the cookie's token is stored.
create table web_sessions (
    token_hash text primary key,
    username   text not null,
    csrf_token text not null,
    via        text not null check (via in ('password', 'header')),
    created_at timestamp not null,
    expires_at timestamp not null
);
create index web_sessions_expires on web_sessions (expires_at);

-- +goose Down
drop table web_sessions;
drop index items_received;
drop trigger points_ledger_totals;
drop table rep_month_totals;
