-- +goose Up
-- An owner's decision on an item: new (no row), triaged, planned,
-- shipped, declined or duplicate (of another item), with a note to the
-- rep. item_status holds the current one; status_events every change with
-- who made it, when and how (dashboard, reply to the owner notice, API,
-- command line). A reply mail changes a status once: source_item_id is the
-- reply's own item.
create table item_status (
    item_id      bigint primary key references items (id) on delete cascade,
    status       text not null check (status in ('new', 'triaged', 'planned', 'shipped', 'declined', 'duplicate')),
    duplicate_of bigint references items (id) on delete set null,
    note         text not null default '',
    actor        text not null,
    via          text not null,
    changed_at   timestamptz not null
);
create index item_status_status on item_status (status, changed_at);

create table status_events (
    id             bigserial primary key,
    item_id        bigint not null references items (id) on delete cascade,
    status         text not null,
    previous       text not null,
    duplicate_of   bigint references items (id) on delete set null,
    note           text not null default '',
    actor          text not null,
    via            text not null check (via in ('dashboard', 'reply', 'api', 'cli')),
    source_item_id bigint unique references items (id) on delete set null,
    created_at     timestamptz not null
);
create index status_events_item on status_events (item_id, id);

-- Secrets Earshot makes for itself and shares between replicas: the key
-- that signs owner-notice tokens and reps' page links.
create table app_secrets (
    name       text primary key,
    value      bytea not null,
    created_at timestamptz not null default now()
);

-- A rep's page links issued before revoked_before no longer open.
create table rep_link_revocations (
    rep_id         bigint primary key references reps (id) on delete cascade,
    revoked_before timestamptz not null,
    actor          text not null
);

-- Bearer tokens of the JSON API; only a SHA-256 hash of a token is kept.
create table api_tokens (
    id           bigserial primary key,
    name         text not null unique,
    token_hash   text not null unique,
    scope        text not null check (scope in ('read', 'write')),
    created_at   timestamptz not null,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- The outbox carries the rep's status note (kind status_note) and signed
-- webhook deliveries (kind webhook, channel webhook; recipient is the
-- endpoint's name).
alter table outbox drop constraint outbox_kind_check;
alter table outbox add constraint outbox_kind_check
    check (kind in ('ack', 'owner_notice', 'reminder', 'digest', 'status_note', 'webhook'));
alter table outbox drop constraint outbox_channel_check;
alter table outbox add constraint outbox_channel_check check (channel in ('email', 'sms', 'slack', 'webhook'));
-- The status change a status note or a status webhook was enqueued for.
alter table outbox add column status_event_id bigint references status_events (id) on delete set null;
create index outbox_status_event on outbox (status_event_id) where status_event_id is not null;
create index outbox_note_recipient on outbox (recipient_key, created_at) where kind = 'status_note';

-- +goose Down
drop index outbox_note_recipient;
drop index outbox_status_event;
alter table outbox drop column status_event_id;
delete from outbox where kind in ('status_note', 'webhook') or channel = 'webhook';
alter table outbox drop constraint outbox_channel_check;
alter table outbox add constraint outbox_channel_check check (channel in ('email', 'sms', 'slack'));
alter table outbox drop constraint outbox_kind_check;
alter table outbox add constraint outbox_kind_check check (kind in ('ack', 'owner_notice', 'reminder', 'digest'));
drop table api_tokens;
drop table rep_link_revocations;
drop table app_secrets;
drop table status_events;
drop table item_status;
