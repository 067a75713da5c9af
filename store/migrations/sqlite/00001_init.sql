-- +goose Up
-- Times are stored as UTC text written by the application, so that they
-- compare correctly as strings.
create table sources (
    id              integer primary key,
    name            text not null unique,
    kind            text not null check (kind in ('imap', 'twilio')),
    cursor          text not null default '{}',
    lease_holder    text not null default '',
    lease_until     timestamp,
    last_success_at timestamp,
    last_error      text not null default '',
    last_error_at   timestamp,
    disabled_reason text not null default '',
    created_at      timestamp not null default current_timestamp
);

create table reps (
    id         integer primary key,
    name       text not null,
    team       text not null default '',
    manager    text not null default '',
    created_at timestamp not null default current_timestamp
);

create table rep_contacts (
    rep_id integer not null references reps (id) on delete cascade,
    kind   text not null check (kind in ('email', 'phone')),
    value  text not null,
    primary key (kind, value)
);
create index rep_contacts_rep on rep_contacts (rep_id);

create table items (
    id                integer primary key,
    kind              text not null check (kind in ('email', 'voicemail')),
    message_id        text not null default '',
    content_hash      text not null,
    raw               blob not null,
    raw_size          integer not null,
    raw_truncated     boolean not null default false,
    meta              text not null default '{}',
    received_at       timestamp not null,
    state             text not null default 'received'
                      check (state in ('received', 'processed', 'quarantined')),
    attempts          integer not null default 0,
    next_attempt_at   timestamp not null,
    claimed_by        text not null default '',
    last_error        text not null default '',
    processed_at      timestamp,
    sender            text not null default '',
    rep_id            integer references reps (id) on delete set null,
    subject           text not null default '',
    body_text         text not null default '',
    full_text         text not null default '',
    transcript        text,
    transcript_engine text not null default '',
    duplicate_of      integer references items (id) on delete set null,
    auto_reason       text not null default '',
    warnings          text not null default '[]',
    normalized        text not null default '{}'
);
create unique index items_content_hash on items (content_hash);
create index items_message_id on items (message_id) where message_id <> '';
create index items_due on items (next_attempt_at, id) where state = 'received';
create index items_rep on items (rep_id);

create table receipts (
    source_id   integer not null references sources (id) on delete cascade,
    source_key  text not null,
    item_id     integer not null references items (id) on delete cascade,
    mailbox     text not null default '',
    received_at timestamp not null,
    primary key (source_id, source_key)
);
create index receipts_item on receipts (item_id);

create table owners (
    name   text primary key,
    email  text not null default '',
    digest text not null default 'immediate'
);

create table tags (
    id       integer primary key,
    item_id  integer not null references items (id) on delete cascade,
    kind     text not null,
    value    text not null,
    evidence text not null default '[]',
    origin   text not null default '',
    unique (item_id, kind, value)
);
create index tags_kind_value on tags (kind, value);

create table assignments (
    id          integer primary key,
    item_id     integer not null references items (id) on delete cascade,
    owner       text not null,
    route       text not null default '',
    notified_at timestamp,
    triaged_at  timestamp,
    triaged_by  text not null default '',
    reminded_at timestamp,
    created_at  timestamp not null default current_timestamp,
    unique (item_id, owner)
);

create table points_ledger (
    id         integer primary key,
    rep_id     integer not null references reps (id) on delete cascade,
    item_id    integer references items (id) on delete set null,
    points     integer not null,
    reason     text not null,
    month      text not null,
    actor      text not null default 'earshot',
    created_at timestamp not null default current_timestamp,
    unique (item_id, reason)
);
create index points_ledger_month on points_ledger (month, rep_id);

create table outbox (
    id              integer primary key,
    item_id         integer references items (id) on delete set null,
    kind            text not null check (kind in ('ack', 'owner_notice', 'reminder', 'digest')),
    channel         text not null check (channel in ('email', 'sms')),
    recipient       text not null,
    subject         text not null default '',
    body            blob not null,
    state           text not null default 'pending'
                    check (state in ('pending', 'sent', 'failed', 'suppressed')),
    reason          text not null default '',
    attempts        integer not null default 0,
    next_attempt_at timestamp not null,
    claimed_by      text not null default '',
    last_error      text not null default '',
    provider_id     text not null default '',
    created_at      timestamp not null default current_timestamp,
    sent_at         timestamp,
    unique (item_id, kind, recipient)
);
create index outbox_due on outbox (next_attempt_at, id) where state = 'pending';

-- +goose Down
drop table outbox;
drop table points_ledger;
drop table assignments;
drop table tags;
drop table owners;
drop table receipts;
drop table items;
drop table rep_contacts;
drop table reps;
drop table sources;
