-- +goose Up
-- The acks of each quarter of an hour that were not suppressed, per
-- recipient key and per recipient domain, for the daily caps: a cap sums
-- the day's quarters instead of counting the day's acks. A quarter of an
-- hour divides every zone's midnight.
create table ack_day_tally (
    scope   text not null check (scope in ('recipient', 'domain')),
    key     text not null,
    quarter integer not null, -- unix time of created_at, in quarters of an hour
    stripe  integer not null,
    acks    integer not null,
    primary key (scope, key, quarter, stripe)
);
create index ack_day_tally_quarter on ack_day_tally (quarter);
insert into ack_day_tally (scope, key, quarter, stripe, acks)
select 'recipient', recipient_key, cast(strftime('%s', substr(created_at, 1, 19)) as integer) / 900 as q, 0, count(*)
from outbox where kind = 'ack' and state <> 'suppressed'
    and created_at >= strftime('%Y-%m-%d %H:%M:%S', 'now', '-2 days')
group by recipient_key, q;
insert into ack_day_tally (scope, key, quarter, stripe, acks)
select 'domain', recipient_domain, cast(strftime('%s', substr(created_at, 1, 19)) as integer) / 900 as q, 0, count(*)
from outbox where kind = 'ack' and state <> 'suppressed'
    and created_at >= strftime('%Y-%m-%d %H:%M:%S', 'now', '-2 days') and recipient_domain <> ''
group by recipient_domain, q;

-- +goose Down
drop table ack_day_tally;
