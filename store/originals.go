package store

import (
	"container/list"
	"sync"
)

// The originals that owner notices attach: an item's raw message is
// spliced into each of its notices when the outbox worker sends them,
// moments after the item worker that enqueued them had the same bytes in
// hand. A store keeps the raw messages it was handed with the notices it
// enqueued, within a budget, so that its own outbox worker need not read
// them back; another replica, or a notice whose original was let go,
// reads the item as before. An item's raw message never changes once
// stored, so a kept copy is never stale.

// originalsBudget is how many bytes of raw messages a store keeps for
// the notices it enqueued.
const originalsBudget = 8 << 20

// originals holds raw messages by item id until every notice enqueued
// with one has been claimed, or the budget lets the oldest go.
type originals struct {
	mu     sync.Mutex
	budget int
	size   int
	byItem map[int64]*list.Element // of *original
	order  list.List               // oldest first
}

type original struct {
	item    int64
	raw     []byte
	notices int // notices enqueued with it and not yet claimed here
}

func newOriginals(budget int) *originals {
	return &originals{budget: budget, byItem: map[int64]*list.Element{}}
}

// keep records that a notice about item id was enqueued with raw, its
// original. A raw message larger than a quarter of the budget is not
// kept.
func (o *originals) keep(id int64, raw []byte) {
	if id == 0 || len(raw) == 0 || len(raw) > o.budget/4 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.byItem[id]; ok {
		e.Value.(*original).notices++
		return
	}
	o.byItem[id] = o.order.PushBack(&original{item: id, raw: raw, notices: 1})
	o.size += len(raw)
	for o.size > o.budget {
		o.drop(o.order.Front())
	}
}

// take returns item id's original for one claimed notice, and lets it go
// once every notice enqueued with it was claimed.
func (o *originals) take(id int64) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.byItem[id]
	if !ok {
		return nil, false
	}
	v := e.Value.(*original)
	if v.notices--; v.notices <= 0 {
		o.drop(e)
	}
	return v.raw, true
}

func (o *originals) drop(e *list.Element) {
	v := o.order.Remove(e).(*original)
	delete(o.byItem, v.item)
	o.size -= len(v.raw)
}
