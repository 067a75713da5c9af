-- +goose Up
-- What a manager removed from an item (a tag, or an owner) stays removed
-- when the item is processed again; adding it back deletes the record.
create table manager_removals (
    item_id    integer not null references items (id) on delete cascade,
    what       text not null check (what in ('tag', 'owner')),
    kind       text not null default '',
    value      text not null,
    actor      text not null,
    removed_at timestamp not null default current_timestamp,
    primary key (item_id, what, kind, value)
);

-- +goose Down
drop table manager_removals;
