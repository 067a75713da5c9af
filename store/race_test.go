//go:build race

package store_test

import (
	"sync"
	"testing"
)

// TestRaceDetectorSeesSyncMap guards scripts/gotest's race build, which
// leaves modernc.org/sqlite/lib uninstrumented: if an uninstrumented
// package gave the program its copy of code that sync.Map shares (a
// generic instantiation such as atomic.Pointer's), the detector would no
// longer see that a Store happens before the Load that finds it, and this
// test, in a binary that links SQLite, would fail with a data race that is
// not there.
func TestRaceDetectorSeesSyncMap(t *testing.T) {
	var m sync.Map
	type box struct{ v int }
	for i := range 200 {
		found := make(chan int)
		go func() {
			for {
				if b, ok := m.Load(i); ok {
					found <- b.(*box).v
					return
				}
			}
		}()
		m.Store(i, &box{v: i})
		if v := <-found; v != i {
			t.Fatalf("loaded %d, stored %d", v, i)
		}
	}
}
