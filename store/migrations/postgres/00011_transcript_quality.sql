-- +goose Up
-- Why a transcript may not be what was said: the engine rated its own
-- words low, or the audio was recorded below the rate its model is made
-- for (8 kHz phone audio for a 16 kHz model). Empty when nothing is known
-- against it. Such items wait in the dashboard's listen queue, their tags
-- provisional, until a manager corrects the transcript, which clears it.
alter table items add column transcript_unreliable text not null default '';
create index items_listen on items (received_at, id) where transcript_unreliable <> '';

-- +goose Down
drop index items_listen;
alter table items drop column transcript_unreliable;
