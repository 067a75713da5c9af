-- +goose Up
-- Who an item is from, as far as Earshot trusts it: a verified rep, a
-- colleague, a stranger, a sender whose claim did not verify, spam. Only
-- contributors earn points and acks; the rest wait for a manager.
alter table items add column trust text not null default '';
alter table items add column trust_reason text not null default '';

-- A manager's verdict on an item that waited for one: credited to a rep
-- (with or without an ack to the rep), or dismissed.
create table item_reviews (
    item_id     bigint primary key references items (id) on delete cascade,
    verdict     text not null check (verdict in ('credit', 'dismiss')),
    rep_id      bigint references reps (id),
    send_ack    boolean not null default false,
    actor       text not null,
    reviewed_at timestamptz not null default now()
);

-- The STIR/SHAKEN attestation Twilio gave a call's caller number
-- (StirVerstat on the incoming call's webhook), read when its voicemail
-- is processed.
create table call_attestations (
    call_sid    text primary key,
    verstat     text not null,
    received_at timestamptz not null default now()
);

-- Acks are counted against the caps by a folded recipient (lower case,
-- without a +tag where the domain takes them) and by its mail domain.
alter table outbox add column recipient_key text not null default '';
alter table outbox add column recipient_domain text not null default '';
update outbox set recipient_key = lower(recipient) where kind = 'ack';
update outbox set recipient_domain = lower(split_part(recipient, '@', 2))
    where kind = 'ack' and recipient like '%@%';
create index outbox_ack_recipient_key on outbox (recipient_key, created_at) where kind = 'ack';
create index outbox_ack_domain on outbox (recipient_domain, created_at) where kind = 'ack';
create index outbox_ack_created on outbox (created_at) where kind = 'ack';

-- +goose Down
drop index outbox_ack_created;
drop index outbox_ack_domain;
drop index outbox_ack_recipient_key;
alter table outbox drop column recipient_domain;
alter table outbox drop column recipient_key;
drop table call_attestations;
drop table item_reviews;
alter table items drop column trust_reason;
alter table items drop column trust;
