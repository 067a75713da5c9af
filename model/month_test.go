package model

import (
	"testing"
	"time"
)

func TestMonth(t *testing.T) {
	for _, s := range []string{"2026-13", "2026-00", "26-03", "2026-3", "", "2026-03-01"} {
		if _, err := ParseMonth(s); err == nil {
			t.Errorf("ParseMonth(%q) accepted", s)
		}
	}
	m, err := ParseMonth("2026-01")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Prev(); got != "2025-12" {
		t.Errorf("Prev = %s", got)
	}
	if got := m.Add(14); got != "2027-03" {
		t.Errorf("Add(14) = %s", got)
	}
	if got := m.Range(3); len(got) != 3 || got[0] != "2025-11" || got[2] != "2026-01" {
		t.Errorf("Range(3) = %v", got)
	}
	if got := m.Name(); got != "January 2026" {
		t.Errorf("Name = %q", got)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	// 07:30 UTC on 1 February is still January in Los Angeles.
	if got := MonthOf(time.Date(2026, 2, 1, 7, 30, 0, 0, time.UTC), la); got != "2026-01" {
		t.Errorf("MonthOf = %s, want 2026-01", got)
	}
	if got := m.Start(la); !got.Equal(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("Start = %s", got)
	}
	if Month("2026-1").Valid() || Month("bad").Add(1) != "bad" {
		t.Error("an invalid month is valid or moves")
	}
}
