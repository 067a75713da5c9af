-- +goose Up
-- A tag keeps its item's received_at, so that the first-report check reads
-- only the competitor's tags of its window: it went through every tag of
-- the competitor, oldest first, probing each one's item, a cost that grew
-- with the history (16 ms a check after a year of a competitor named in a
-- third of the mail).
alter table tags add column received_at timestamptz;
update tags t set received_at = i.received_at from items i where i.id = t.item_id;
alter table tags alter column received_at set not null;
create index tags_competitor_received on tags (value, received_at) where kind = 'competitor';

-- +goose Down
drop index tags_competitor_received;
alter table tags drop column received_at;
