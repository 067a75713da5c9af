-- +goose Up
-- A tag keeps its item's received_at, so that the first-report check reads
-- only the competitor's tags of its window: it went through every tag of
-- the competitor, probing each one's item, a cost that grew with the
-- history. (SQLite adds a column NOT NULL only with a default; every
-- insert sets it.)
alter table tags add column received_at timestamp;
update tags set received_at = (select i.received_at from items i where i.id = tags.item_id);
create index tags_competitor_received on tags (value, received_at) where kind = 'competitor';

-- +goose Down
drop index tags_competitor_received;
alter table tags drop column received_at;
