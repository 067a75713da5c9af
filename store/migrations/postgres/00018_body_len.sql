-- +goose Up
-- An item's body is usually the start of its full text (the rep's own
-- words, before a quote or signature). Such an item stores the body's
-- length in characters instead of a second copy: body_text is then '' and
-- the body reads as substr(full_text, 1, body_len). Null keeps body_text
-- as the body, as for every row stored before.
alter table items add column body_len integer check (body_len >= 0);

-- +goose Down
update items set body_text = substr(full_text, 1, body_len) where body_len is not null;
alter table items drop column body_len;
