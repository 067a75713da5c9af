-- +goose Up
-- What speech-to-text made of a voicemail (or of a PBX voicemail-to-email's
-- audio). transcript stays null until a transcript exists; an empty
-- transcript carries the reason in transcript_note ("silence", "no speech
-- recognised"). An item without a machine transcript waits for a manager's
-- (awaiting_transcript), and typing one makes the item due again.
alter table items add column transcript_language text not null default '';
alter table items add column transcript_confidence double precision not null default 0;
alter table items add column transcript_note text not null default '';
alter table items add column awaiting_transcript boolean not null default false;
alter table items add column transcribed_at timestamptz;
create index items_awaiting_transcript on items (received_at, id) where awaiting_transcript;

-- +goose Down
drop index items_awaiting_transcript;
alter table items drop column transcribed_at;
alter table items drop column awaiting_transcript;
alter table items drop column transcript_note;
alter table items drop column transcript_confidence;
alter table items drop column transcript_language;
