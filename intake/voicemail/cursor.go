package voicemail

import (
	"encoding/json"
	"fmt"
	"time"
)

// Cursor is how far the source has listed recordings. It is stored as
// {"last_created":"2026-01-06T10:00:00Z"} with every stored recording, in
// the same transaction.
//
// Twilio filters recordings by whole days, so the next listing starts on
// the day before LastCreated and the store's receipts tell which
// recordings are stored already. LastCreated is held back to the oldest
// recording still being recorded or processed at Twilio, or whose
// download failed, so that it is listed again.
type Cursor struct {
	// LastCreated is the creation time of the newest stored recording,
	// or of the oldest one not stored yet, whichever is older; zero before
	// the first recording.
	LastCreated time.Time `json:"last_created"`
}

// parseCursor decodes a stored cursor; "{}" and an empty value are the
// zero cursor.
func parseCursor(raw []byte) (Cursor, error) {
	var c Cursor
	if len(raw) == 0 || string(raw) == "{}" {
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Cursor{}, fmt.Errorf("decode cursor %q: %w", raw, err)
	}
	return c, nil
}

// String returns the cursor's JSON text.
func (c Cursor) String() string {
	return `{"last_created":"` + c.LastCreated.UTC().Format(time.RFC3339) + `"}`
}

// Cursor returns the last cursor the store has.
func (s *Source) Cursor() Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

func (s *Source) setCursor(c Cursor) {
	s.mu.Lock()
	s.cursor = c
	s.mu.Unlock()
}
