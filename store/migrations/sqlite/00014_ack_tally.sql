-- +goose Up
-- The acks of each minute that were not suppressed, for the hourly caps:
-- all of them, and those to senders outside the roster (trust open). A
-- cap sums an hour's rows instead of counting an hour's acks.
create table ack_tally (
    minute    integer not null, -- unix time of created_at, in minutes
    stripe    integer not null,
    acks      integer not null,
    open_acks integer not null,
    primary key (minute, stripe)
);
insert into ack_tally (minute, stripe, acks, open_acks)
select cast(strftime('%s', substr(o.created_at, 1, 19)) as integer) / 60 as m, 0, count(*),
    count(*) filter (where i.trust = 'open')
from outbox o left join items i on i.id = o.item_id
where o.kind = 'ack' and o.state <> 'suppressed'
    and o.created_at >= strftime('%Y-%m-%d %H:%M:%S', 'now', '-1 day')
group by m;

-- +goose Down
drop table ack_tally;
