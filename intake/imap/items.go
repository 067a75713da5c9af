package imap

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

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

// readAttempts is how many times a message the server sends short is
// fetched before its batch stops at it.
const readAttempts = 2

// outcome is what fetching one message gave.
type outcome struct {
	raw      []byte
	warnings []string // set when only the header was stored
	vanished bool     // the server no longer has the message
	failure  string   // why the message was not read whole
}

// fetchBatch fetches the messages of one planned batch and returns them as
// raw items in UID order, with the part of the batch they stand for. A
// message over max_message_bytes is fetched as its header only and marked
// truncated. A message that disappeared meanwhile (expunged) is left out
// with a warning. A message the server sends shorter than the size it
// announced (RFC822.SIZE), or without its body, is fetched again; if it
// still is, the batch stops before it: the items and the part returned are
// the messages before it, and the error (a *shortReadError) names it, so
// that it is neither stored nor changed upstream and the cursor stays
// before it.
func (s *Source) fetchBatch(c *imapclient.Client, validity uint32, batch []meta) ([]model.RawItem, []meta, error) {
	got := make(map[goimap.UID]outcome, len(batch))
	todo := batch
	for attempt := 1; len(todo) > 0; attempt++ {
		if err := s.fetchOnce(c, todo, got); err != nil {
			return nil, nil, err
		}
		var failed []meta
		for _, m := range todo {
			if got[m.uid].failure != "" {
				failed = append(failed, m)
			}
		}
		if len(failed) == 0 || attempt == readAttempts {
			break
		}
		s.log.Warn("server sent messages short; fetching them again", "messages", len(failed), "first_uid", failed[0].uid)
		todo = failed
	}
	items := make([]model.RawItem, 0, len(batch))
	for i, m := range batch {
		o := got[m.uid]
		switch {
		case o.failure != "":
			s.metrics.shortReads.Inc()
			return items, batch[:i], &shortReadError{uid: uint32(m.uid), reason: o.failure, attempts: readAttempts}
		case o.vanished:
			s.log.Warn("message vanished before it was fetched", "uid", m.uid)
		default:
			items = append(items, s.rawItem(validity, m, o.raw, o.warnings))
		}
	}
	return items, batch, nil
}

// fetchOnce fetches msgs into got: whole, or their header when over
// max_message_bytes, checking what came against the announced size.
func (s *Source) fetchOnce(c *imapclient.Client, msgs []meta, got map[goimap.UID]outcome) error {
	limit := s.cfg.MaxMessageBytes
	var whole, heads []meta
	for _, m := range msgs {
		if m.size > limit {
			heads = append(heads, m)
		} else {
			whole = append(whole, m)
		}
	}
	bodies, err := fetchSections(c, uidsOf(whole), goimap.PartSpecifierNone, limit, true)
	if err != nil {
		return fmt.Errorf("fetch bodies: %w", err)
	}
	for _, m := range whole {
		b, answered := bodies[m.uid]
		switch {
		case !answered:
			got[m.uid] = outcome{vanished: true}
		case b.long:
			heads = append(heads, m) // longer than announced and than the limit
		case !b.got:
			got[m.uid] = outcome{failure: fmt.Sprintf("server sent no body for a message of %d bytes (RFC822.SIZE)", m.size)}
		case int64(len(b.data)) < m.size:
			got[m.uid] = outcome{failure: fmt.Sprintf("server sent %d of the %d bytes it announced (RFC822.SIZE)", len(b.data), m.size)}
		default:
			if int64(len(b.data)) > m.size {
				// Nothing is missing; some servers leave fields they add,
				// or line ending conversions, out of RFC822.SIZE.
				s.log.Debug("server sent more than it announced", "uid", m.uid, "size", m.size, "bytes", len(b.data))
			}
			got[m.uid] = outcome{raw: b.data}
		}
	}
	slices.SortFunc(heads, func(a, b meta) int { return cmp.Compare(a.uid, b.uid) })
	headers, err := fetchSections(c, uidsOf(heads), goimap.PartSpecifierHeader, limit, false)
	if err != nil {
		return fmt.Errorf("fetch headers: %w", err)
	}
	for _, m := range heads {
		h, answered := headers[m.uid]
		switch {
		case !answered:
			got[m.uid] = outcome{vanished: true}
		case !h.got || len(h.data) == 0:
			got[m.uid] = outcome{failure: fmt.Sprintf("server sent no header for a message of %d bytes (RFC822.SIZE)", m.size)}
		default:
			warnings := []string{fmt.Sprintf("message of %d bytes exceeds max_message_bytes %d: stored its header only", m.size, limit)}
			if m.size <= limit {
				warnings = []string{"server sent a body longer than max_message_bytes: stored its header only"}
			}
			if h.cut {
				warnings = append(warnings, fmt.Sprintf("header cut at %d bytes", limit))
			}
			s.log.Warn("stored header only", "uid", m.uid, "size", m.size)
			got[m.uid] = outcome{raw: h.data, warnings: warnings}
		}
	}
	return nil
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
