-- +goose Up
-- The acks of each minute that were not suppressed, for the hourly caps:
-- all of them, and those to senders outside the roster (trust open).
-- Completion adds to one of a minute's stripes, picked at random, so
-- that batches completing at once seldom wait for each other's row; a
-- cap sums an hour's rows instead of counting an hour's acks.
create table ack_tally (
    minute    bigint not null, -- unix time of created_at, in minutes
    stripe    integer not null,
    acks      integer not null,
    open_acks integer not null,
    primary key (minute, stripe)
);
insert into ack_tally (minute, stripe, acks, open_acks)
select floor(extract(epoch from o.created_at) / 60)::bigint, 0, count(*),
    count(*) filter (where i.trust = 'open')
from outbox o left join items i on i.id = o.item_id
where o.kind = 'ack' and o.state <> 'suppressed' and o.created_at >= now() - interval '1 day'
group by 1;

-- +goose Down
drop table ack_tally;
