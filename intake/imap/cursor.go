package imap

import (
	"encoding/json"
	"fmt"
	"strconv"

	goimap "github.com/emersion/go-imap/v2"
)

// Cursor is how far a source has ingested its folder. It is stored as
// {"uidvalidity":N,"last_uid":M} with every batch, in the same transaction
// as the batch's items.
type Cursor struct {
	// UIDValidity is the folder's UIDVALIDITY the UIDs belong to; 0 before
	// the first sync.
	UIDValidity uint32 `json:"uidvalidity"`
	// LastUID is the highest UID stored; every message up to it is stored.
	LastUID uint32 `json:"last_uid"`
}

// parseCursor decodes a stored cursor; "{}" and an empty value are the zero
// cursor.
func parseCursor(raw []byte) (Cursor, error) {
	var c Cursor
	if len(raw) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Cursor{}, fmt.Errorf("decode cursor %q: %w", raw, err)
	}
	return c, nil
}

// String returns the cursor's JSON text.
func (c Cursor) String() string {
	return `{"uidvalidity":` + strconv.FormatUint(uint64(c.UIDValidity), 10) +
		`,"last_uid":` + strconv.FormatUint(uint64(c.LastUID), 10) + `}`
}

// sourceKey is the store's key of one message: "uidvalidity:uid".
func sourceKey(validity uint32, uid goimap.UID) string {
	return strconv.FormatUint(uint64(validity), 10) + ":" + strconv.FormatUint(uint64(uid), 10)
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
