-- +goose Up
-- Slack: a source kind, an item kind, a rep contact (the Slack user ID)
-- and an outbox channel. SQLite cannot alter a CHECK constraint; widening
-- one changes nothing on disk, so the table definitions are edited in
-- place, as SQLite documents for such changes (lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"). The CREATE TABLE below
-- bumps the schema cookie, so that every connection reads them again.
PRAGMA writable_schema = ON;
update sqlite_schema set sql = replace(sql, 'check (kind in (''imap'', ''twilio''))', 'check (kind in (''imap'', ''twilio'', ''slack''))')
    where type = 'table' and name = 'sources';
update sqlite_schema set sql = replace(sql, 'check (kind in (''email'', ''voicemail''))', 'check (kind in (''email'', ''voicemail'', ''slack''))')
    where type = 'table' and name = 'items';
update sqlite_schema set sql = replace(sql, 'check (kind in (''email'', ''phone''))', 'check (kind in (''email'', ''phone'', ''slack''))')
    where type = 'table' and name = 'rep_contacts';
update sqlite_schema set sql = replace(sql, 'check (channel in (''email'', ''sms''))', 'check (channel in (''email'', ''sms'', ''slack''))')
    where type = 'table' and name = 'outbox';
PRAGMA writable_schema = RESET;

-- What happened to a stored Slack message afterwards: an edit (a new
-- revision of its text), its deletion (the item stays, marked), or its
-- author's own reply in its thread (context, not a contribution). Keyed by
-- the change's ts, so that a redelivered event is one row.
create table slack_changes (
    item_id     integer not null references items (id) on delete cascade,
    kind        text not null check (kind in ('edit', 'delete', 'context')),
    ts          text not null,
    text        text not null default '',
    raw         blob not null,
    received_at timestamp not null,
    primary key (item_id, kind, ts)
);

-- +goose Down
drop table slack_changes;
delete from outbox where channel = 'slack';
delete from rep_contacts where kind = 'slack';
delete from items where kind = 'slack';
delete from sources where kind = 'slack';
PRAGMA writable_schema = ON;
update sqlite_schema set sql = replace(sql, ', ''slack''))', '))')
    where type = 'table' and name in ('sources', 'items', 'rep_contacts', 'outbox');
PRAGMA writable_schema = RESET;
create table slack_changes_gone (x integer);
drop table slack_changes_gone;
