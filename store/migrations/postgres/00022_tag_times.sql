-- +goose Up
-- A tag keeps its item's received_at, so that the first-report check reads
-- only the competitor's tags of its window: it went through every tag of
-- the competitor, oldest first, probing each one's item, a cost that grew
-- with the history (19-21 ms a check after a year of a competitor named
-- in a third of the mail).
alter table tags add column received_at timestamptz;
update tags t set received_at = i.received_at from items i where i.id = t.item_id;
alter table tags alter column received_at set not null;
create index tags_competitor_received on tags (value, received_at) where kind = 'competitor';

-- Earshot sets it on every tag it stores. A replica of the previous
-- version, still running while the others upgrade, does not: its tags
-- get their item's received_at here, instead of failing.
-- +goose StatementBegin
create function tags_received_at() returns trigger language plpgsql as $$
begin
    select i.received_at into new.received_at from items i where i.id = new.item_id;
    return new;
end
$$;
-- +goose StatementEnd
create trigger tags_received_at before insert on tags
    for each row when (new.received_at is null) execute function tags_received_at();

-- +goose Down
drop trigger tags_received_at on tags;
drop function tags_received_at();
drop index tags_competitor_received;
alter table tags drop column received_at;
