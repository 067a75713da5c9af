package imap

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// maxBatchBytes bounds the message bytes held in memory for one batch
// (and again in the database driver's buffer while it is stored); a batch
// always takes at least one message. A few MB already make the commit's
// cost per message negligible, and a source holds two batches: one being
// stored and the next, fetched meanwhile.
const maxBatchBytes = 4 << 20

// meta is what UID FETCH (UID INTERNALDATE RFC822.SIZE) reports of one
// message.
type meta struct {
	uid  goimap.UID
	size int64
	date time.Time
}

// newMessages lists the messages above lastUID, in UID order. It does not
// trust the server to honour the range: "UID n:*" names the last message
// even when its UID is below n.
func newMessages(c *imapclient.Client, lastUID uint32) ([]meta, error) {
	var set goimap.UIDSet
	set.AddRange(goimap.UID(lastUID)+1, 0)
	cmd := c.Fetch(set, &goimap.FetchOptions{UID: true, InternalDate: true, RFC822Size: true})
	var out []meta
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var m meta
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				m.uid = it.UID
			case imapclient.FetchItemDataInternalDate:
				m.date = it.Time
			case imapclient.FetchItemDataRFC822Size:
				m.size = it.Size
			}
		}
		if m.uid > goimap.UID(lastUID) {
			out = append(out, m)
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch uids above %d: %w", lastUID, err)
	}
	slices.SortFunc(out, func(a, b meta) int { return cmp.Compare(a.uid, b.uid) })
	return slices.CompactFunc(out, func(a, b meta) bool { return a.uid == b.uid }), nil
}

// planBatches splits messages into batches of at most size messages and
// about maxBatchBytes, counting an oversized message by its header only.
func planBatches(msgs []meta, size int, maxMessage int64) [][]meta {
	var out [][]meta
	var cur []meta
	var bytes int64
	for _, m := range msgs {
		n := m.size
		if n > maxMessage {
			n = 0
		}
		if len(cur) > 0 && (len(cur) >= size || bytes+n > maxBatchBytes) {
			out = append(out, cur)
			cur, bytes = nil, 0
		}
		cur = append(cur, m)
		bytes += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// section is one BODY.PEEK[...] fetch result.
type section struct {
	data []byte
	// got is set when the server sent the section; a FETCH response
	// without it (or with NIL) leaves it unset.
	got bool
	// long is set when the literal was longer than the limit and, with
	// skipLong, not read.
	long bool
	// cut is set when the data was longer than the limit and was cut.
	cut bool
}

// fetchSections fetches one body section of uids with BODY.PEEK, reading
// at most limit bytes of each. The result has an entry for every UID the
// server answered for, with or without the section. A literal longer than
// the limit is skipped when skipLong is set (the caller fetches its header
// instead) and cut otherwise. Literals are read inside the loop: no other
// command may run before the fetch is closed.
func fetchSections(c *imapclient.Client, uids []goimap.UID, spec goimap.PartSpecifier, limit int64, skipLong bool) (map[goimap.UID]section, error) {
	out := make(map[goimap.UID]section, len(uids))
	if len(uids) == 0 {
		return out, nil // an empty set breaks the connection
	}
	want := &goimap.FetchItemBodySection{Specifier: spec, Peek: true}
	cmd := c.Fetch(goimap.UIDSetNum(uids...), &goimap.FetchOptions{UID: true, BodySection: []*goimap.FetchItemBodySection{want}})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid goimap.UID
		var got section
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				if it.Literal.Size() > limit && skipLong {
					got = section{long: true}
					continue // discarded by the next msg.Next
				}
				// Read into a buffer of the announced size: growing one
				// would leave several times a large message as garbage.
				data := make([]byte, min(it.Literal.Size(), limit))
				_, err := io.ReadFull(it.Literal, data)
				if err != nil {
					_ = cmd.Close()
					return nil, fmt.Errorf("read uid %d: %w", uid, err)
				}
				got = section{data: data, got: true, cut: it.Literal.Size() > limit}
			}
		}
		if uid != 0 {
			out[uid] = got
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch %d messages: %w", len(uids), err)
	}
	return out, nil
}
