-- +goose Up
-- Slack: a source kind, an item kind, a rep contact (the Slack user ID)
-- and an outbox channel (a reply in a thread, a message to a channel or a
-- user).
alter table sources drop constraint sources_kind_check;
alter table sources add constraint sources_kind_check check (kind in ('imap', 'twilio', 'slack'));
alter table items drop constraint items_kind_check;
alter table items add constraint items_kind_check check (kind in ('email', 'voicemail', 'slack'));
alter table rep_contacts drop constraint rep_contacts_kind_check;
alter table rep_contacts add constraint rep_contacts_kind_check check (kind in ('email', 'phone', 'slack'));
alter table outbox drop constraint outbox_channel_check;
alter table outbox add constraint outbox_channel_check check (channel in ('email', 'sms', 'slack'));

-- What happened to a stored Slack message afterwards: an edit (a new
-- revision of its text), its deletion (the item stays, marked), or its
-- author's own reply in its thread (context, not a contribution). Keyed by
-- the change's ts, so that a redelivered event is one row.
create table slack_changes (
    item_id     bigint not null references items (id) on delete cascade,
    kind        text not null check (kind in ('edit', 'delete', 'context')),
    ts          text not null,
    text        text not null default '',
    raw         bytea not null,
    received_at timestamptz not null,
    primary key (item_id, kind, ts)
);

-- +goose Down
drop table slack_changes;
delete from outbox where channel = 'slack';
delete from rep_contacts where kind = 'slack';
delete from items where kind = 'slack';
delete from sources where kind = 'slack';
alter table outbox drop constraint outbox_channel_check;
alter table outbox add constraint outbox_channel_check check (channel in ('email', 'sms'));
alter table rep_contacts drop constraint rep_contacts_kind_check;
alter table rep_contacts add constraint rep_contacts_kind_check check (kind in ('email', 'phone'));
alter table items drop constraint items_kind_check;
alter table items add constraint items_kind_check check (kind in ('email', 'voicemail'));
alter table sources drop constraint sources_kind_check;
alter table sources add constraint sources_kind_check check (kind in ('imap', 'twilio'));
