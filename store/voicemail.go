package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// ItemTranscript returns the stored transcript of an item. ok is false when
// the item has none yet: never transcribed, or awaiting a manager's.
func (s *Store) ItemTranscript(ctx context.Context, id int64) (t model.Transcript, ok bool, err error) {
	var row struct {
		Text       sql.NullString `db:"transcript"`
		Engine     string         `db:"transcript_engine"`
		Language   string         `db:"transcript_language"`
		Confidence float64        `db:"transcript_confidence"`
		Note       string         `db:"transcript_note"`
		Unreliable string         `db:"transcript_unreliable"`
		Awaiting   bool           `db:"awaiting_transcript"`
	}
	err = s.db.GetContext(ctx, &row, s.rebind(`select transcript, transcript_engine, transcript_language,
		transcript_confidence, transcript_note, transcript_unreliable, awaiting_transcript from items where id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Transcript{}, false, fmt.Errorf("item %d transcript: %w", id, ErrNotFound)
	}
	if err != nil {
		return model.Transcript{}, false, fmt.Errorf("item %d transcript: %w", id, err)
	}
	t = model.Transcript{Text: row.Text.String, Engine: row.Engine, Language: row.Language,
		Confidence: row.Confidence, Unreliable: row.Unreliable, Note: row.Note, Awaiting: row.Awaiting}
	return t, row.Text.Valid, nil
}

// SaveTranscript stores the transcript of an item that worker has claimed,
// in a transaction of its own, so that a later failure of the same attempt
// never pays for the transcription again. A transcript marked Awaiting
// stores no text: the item waits for a manager's transcript, and
// processing it again asks the engine again.
func (s *Store) SaveTranscript(ctx context.Context, id int64, worker string, t model.Transcript) error {
	var text any
	if !t.Awaiting {
		text = cleanText(t.Text)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`update items set transcript = ?, transcript_engine = ?,
		transcript_language = ?, transcript_confidence = ?, transcript_note = ?, transcript_unreliable = ?,
		awaiting_transcript = ?, transcribed_at = ? where id = ? and claimed_by = ? and state = 'received'`),
		text, t.Engine, cleanText(t.Language), t.Confidence, cleanText(t.Note), cleanText(t.Unreliable), t.Awaiting,
		ts(s.now()), id, worker)
	if err != nil {
		return fmt.Errorf("save transcript of item %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("save transcript of item %d: %w", id, ErrNotClaimed)
	}
	return nil
}

// SetManagerTranscript stores a transcript a manager typed (or corrected)
// and makes the item due for processing again at once, so its tags, owners
// and points follow the new text. A person's words are trusted: the item
// leaves the listen queue.
func (s *Store) SetManagerTranscript(ctx context.Context, id int64, manager, text string) error {
	text = strings.TrimSpace(cleanText(text))
	if text == "" {
		return fmt.Errorf("item %d: manager transcript is empty", id)
	}
	now := ts(s.now())
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`update items set transcript = ?, transcript_engine = ?,
			transcript_language = '', transcript_confidence = 0, transcript_note = '', transcript_unreliable = '', awaiting_transcript = ?,
			transcribed_at = ?, state = 'received', attempts = 0, claimed_by = '', next_attempt_at = ?
			where id = ?`), text, "manager:"+manager, false, now, now, id)
		if err != nil {
			return fmt.Errorf("item %d: manager transcript: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("item %d: manager transcript: %w", id, ErrNotFound)
		}
		return nil
	})
}

// AwaitingTranscript lists up to limit items that wait for a manager's
// transcript, oldest first.
func (s *Store) AwaitingTranscript(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`select id from items where awaiting_transcript
		order by received_at, id limit ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("items awaiting a transcript: %w", err)
	}
	return ids, nil
}

// ReceivedKeys reports which of keys the source has received already, so a
// source can skip downloading what it stored before.
func (s *Store) ReceivedKeys(ctx context.Context, source string, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`select r.source_key from receipts r join sources s on s.id = r.source_id
		where s.name = ? and r.source_key in (?)`, source, keys)
	if err != nil {
		return nil, fmt.Errorf("source %s: received keys: %w", source, err)
	}
	var found []string
	if err := s.db.SelectContext(ctx, &found, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("source %s: received keys: %w", source, err)
	}
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}

// RecordAttestation keeps the STIR/SHAKEN attestation Twilio gave a call
// (its StirVerstat), for when the call's voicemail is processed. The first
// one recorded for a call stays.
func (s *Store) RecordAttestation(ctx context.Context, callSID, verstat string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`insert into call_attestations (call_sid, verstat, received_at)
		values (?, ?, ?) on conflict (call_sid) do nothing`), callSID, verstat, ts(s.now()))
	if err != nil {
		return fmt.Errorf("call %s attestation: %w", callSID, err)
	}
	return nil
}

// CallAttestation returns the attestation recorded for a call; ok is false
// when there is none.
func (s *Store) CallAttestation(ctx context.Context, callSID string) (verstat string, ok bool, err error) {
	err = s.db.GetContext(ctx, &verstat, s.rebind(`select verstat from call_attestations where call_sid = ?`), callSID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("call %s attestation: %w", callSID, err)
	}
	return verstat, true, nil
}
