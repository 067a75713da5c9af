package imap

import (
	"encoding/json"
	"fmt"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
)

// itemMeta is the JSON object stored in RawItem.Meta.
type itemMeta struct {
	Folder      string   `json:"folder"`
	UIDValidity uint32   `json:"uidvalidity"`
	UID         uint32   `json:"uid"`
	Size        int64    `json:"size"`
	Warnings    []string `json:"warnings,omitempty"`
}

// fetchBatch fetches the messages of one planned batch and returns them as
// raw items in UID order. A message over max_message_bytes is fetched as
// its header only and marked truncated. A message that disappeared between
// the two fetches (expunged meanwhile) is left out with a warning.
func (s *Source) fetchBatch(c *imapclient.Client, validity uint32, batch []meta) ([]model.RawItem, error) {
	limit := s.cfg.MaxMessageBytes
	var whole, heads []goimap.UID
	for _, m := range batch {
		if m.size > limit {
			heads = append(heads, m.uid)
		} else {
			whole = append(whole, m.uid)
		}
	}
	bodies, err := fetchSections(c, whole, goimap.PartSpecifierNone, limit, true)
	if err != nil {
		return nil, fmt.Errorf("fetch bodies: %w", err)
	}
	for _, uid := range whole {
		if _, ok := bodies[uid]; !ok {
			heads = append(heads, uid) // no body, or longer than announced
		}
	}
	headers, err := fetchSections(c, heads, goimap.PartSpecifierHeader, limit, false)
	if err != nil {
		return nil, fmt.Errorf("fetch headers: %w", err)
	}
	items := make([]model.RawItem, 0, len(batch))
	for _, m := range batch {
		if b, ok := bodies[m.uid]; ok {
			items = append(items, s.rawItem(validity, m, b.data, nil))
			continue
		}
		h, ok := headers[m.uid]
		if !ok {
			s.log.Warn("message vanished before it was fetched", "uid", m.uid)
			continue
		}
		warnings := []string{fmt.Sprintf("message of %d bytes exceeds max_message_bytes %d: stored its header only", m.size, limit)}
		if m.size <= limit {
			warnings = []string{"server sent no body within max_message_bytes: stored its header only"}
		}
		if h.cut {
			warnings = append(warnings, fmt.Sprintf("header cut at %d bytes", limit))
		}
		s.log.Warn("stored header only", "uid", m.uid, "size", m.size)
		items = append(items, s.rawItem(validity, m, h.data, warnings))
	}
	return items, nil
}

// rawItem builds the store's item for one message; warnings mark it
// truncated.
func (s *Source) rawItem(validity uint32, m meta, raw []byte, warnings []string) model.RawItem {
	messageID, hash := intake.Fingerprint(raw)
	metaJSON, _ := json.Marshal(itemMeta{
		Folder: s.cfg.Folder, UIDValidity: validity, UID: uint32(m.uid), Size: m.size, Warnings: warnings,
	})
	return model.RawItem{
		SourceKey:   sourceKey(validity, m.uid),
		Kind:        "email",
		Mailbox:     s.address,
		MessageID:   messageID,
		ContentHash: hash,
		Raw:         raw,
		Truncated:   len(warnings) > 0,
		Meta:        string(metaJSON),
		ReceivedAt:  m.date,
	}
}
