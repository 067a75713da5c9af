package main

import "testing"

func TestMedianIndex(t *testing.T) {
	for _, tt := range []struct {
		vals []float64
		want int
	}{
		{[]float64{4.1}, 0},
		{[]float64{3.9, 3.2, 4.4}, 0},
		{[]float64{3.2, 4.4, 3.9}, 2},
		{[]float64{4.4, 3.9, 3.2}, 1},
		{[]float64{3.5, 3.1}, 0}, // the upper middle of an even count
		{[]float64{3.1, 3.5, 3.3, 3.4}, 3},
		{[]float64{2, 2, 2}, 1},
	} {
		got := medianIndex(len(tt.vals), func(i, j int) bool { return tt.vals[i] < tt.vals[j] })
		if got != tt.want {
			t.Errorf("medianIndex(%v) = %d, want %d", tt.vals, got, tt.want)
		}
	}
}

func TestRoundName(t *testing.T) {
	if got := roundName("bench_10000", 1); got != "bench_10000" {
		t.Errorf("round 1: %q", got)
	}
	if got := roundName("bench_10000_intake", 3); got != "bench_10000_intake_r3" {
		t.Errorf("round 3: %q", got)
	}
}

func TestRoundList(t *testing.T) {
	rs := []roundFigures{{ItemsPerS: 1900}, {ItemsPerS: 2100.25, Median: true}, {ItemsPerS: 2300}}
	if got, want := roundList(rs, func(r roundFigures) float64 { return r.ItemsPerS }, "%.1f"), "1900.0 2100.2* 2300.0"; got != want {
		t.Errorf("roundList = %q, want %q", got, want)
	}
}
