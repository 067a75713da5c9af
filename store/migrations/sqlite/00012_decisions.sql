-- +goose Up
-- An owner's decision on an item: new (no row), triaged, planned,
-- shipped, declined or duplicate (of another item), with a note to the
-- rep. item_status holds the current one; status_events every change with
-- who made it, when and how (dashboard, reply to the owner notice, API,
-- command line). A reply mail changes a status once: source_item_id is the
-- reply's own item.
create table item_status (
    item_id      integer primary key references items (id) on delete cascade,
    status       text not null check (status in ('new', 'triaged', 'planned', 'shipped', 'declined', 'duplicate')),
    duplicate_of integer references items (id) on delete set null,
    note         text not null default '',
    actor        text not null,
    via          text not null,
    changed_at   timestamp not null
);
create index item_status_status on item_status (status, changed_at);

create table status_events (
    id             integer primary key,
    item_id        integer not null references items (id) on delete cascade,
    status         text not null,
    previous       text not null,
    duplicate_of   integer references items (id) on delete set null,
    note           text not null default '',
    actor          text not null,
    via            text not null check (via in ('dashboard', 'reply', 'api', 'cli')),
    source_item_id integer unique references items (id) on delete set null,
    created_at     timestamp not null
);
create index status_events_item on status_events (item_id, id);

-- Secrets Earshot makes for itself and shares between replicas: the key
-- that signs owner-notice tokens and reps' page links.
create table app_secrets (
    name       text primary key,
    value      blob not null,
    created_at timestamp not null default current_timestamp
);

-- A rep's page links issued before revoked_before no longer open.
create table rep_link_revocations (
    rep_id         integer primary key references reps (id) on delete cascade,
    revoked_before timestamp not null,
    actor          text not null
);

-- Bearer tokens of the JSON API; only a SHA-256 hash of a token is kept.
create table api_tokens (
    id          integer primary key,
    name        text not null unique,
    token_hash  text not null unique,
    scope       text not null check (scope in ('read', 'write')),
    created_at  timestamp not null,
    last_used_at timestamp,
    revoked_at  timestamp
);

-- The outbox carries the rep's status note (kind status_note) and signed
-- webhook deliveries (kind webhook, channel webhook; recipient is the
-- endpoint's name). See 00010 for why the CHECKs are edited in place.
PRAGMA writable_schema = ON;
update sqlite_schema set sql = replace(sql, 'check (kind in (''ack'', ''owner_notice'', ''reminder'', ''digest''))', 'check (kind in (''ack'', ''owner_notice'', ''reminder'', ''digest'', ''status_note'', ''webhook''))')
    where type = 'table' and name = 'outbox';
update sqlite_schema set sql = replace(sql, 'check (channel in (''email'', ''sms'', ''slack''))', 'check (channel in (''email'', ''sms'', ''slack'', ''webhook''))')
    where type = 'table' and name = 'outbox';
PRAGMA writable_schema = RESET;
-- The status change a status note or a status webhook was enqueued for.
-- (no REFERENCES: SQLite cannot drop a column that has one.)
alter table outbox add column status_event_id integer;
create index outbox_status_event on outbox (status_event_id) where status_event_id is not null;
create index outbox_note_recipient on outbox (recipient_key, created_at) where kind = 'status_note';

-- +goose Down
drop index outbox_note_recipient;
drop index outbox_status_event;
alter table outbox drop column status_event_id;
delete from outbox where kind in ('status_note', 'webhook') or channel = 'webhook';
PRAGMA writable_schema = ON;
update sqlite_schema set sql = replace(sql, ', ''status_note'', ''webhook''))', '))')
    where type = 'table' and name = 'outbox';
update sqlite_schema set sql = replace(sql, ', ''slack'', ''webhook''))', ', ''slack''))')
    where type = 'table' and name = 'outbox';
PRAGMA writable_schema = RESET;
drop table api_tokens;
drop table rep_link_revocations;
drop table app_secrets;
drop table status_events;
drop table item_status;
