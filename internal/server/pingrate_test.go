package server

import (
	"testing"
	"time"
)

func TestPingRate(t *testing.T) {
	const I = 100 * time.Millisecond
	for _, tc := range []struct {
		name  string
		at    []time.Duration // arrival times
		ahead []int           // what each arrival returns
	}{
		{"first PING", []time.Duration{0}, []int{0}},
		{"at the interval", []time.Duration{0, I, 2 * I}, []int{0, 0, 0}},
		{"1ns before the interval", []time.Duration{0, I - 1}, []int{0, 1}},
		{"back to back: the fourth is three ahead", []time.Duration{0, 0, 0, 0}, []int{0, 1, 2, 3}},
		{"a slip, then on time again", []time.Duration{0, I / 2, 2 * I, 3 * I}, []int{0, 1, 0, 0}},
		{"late, then early by as much: no strike", []time.Duration{0, I + I/2, 2*I + I/2}, []int{0, 0, 0}},
		// The old rule reset the strikes after one gap of an interval, so
		// three back to back per interval went on forever.
		{"three per interval", []time.Duration{0, 0, 0, I, I}, []int{0, 1, 2, 2, 3}},
		{"one and a half per interval", []time.Duration{0, 2 * I / 3, 4 * I / 3, 2 * I, 8 * I / 3, 10 * I / 3, 4 * I, 14 * I / 3},
			[]int{0, 1, 1, 1, 2, 2, 2, 3}},
		{"a pause earns no credit", []time.Duration{0, 10 * I, 10 * I, 10 * I, 10 * I}, []int{0, 0, 1, 2, 3}},
		{"two ahead, deadline - 1ns", []time.Duration{0, 0, 0, 2*I - 1}, []int{0, 1, 2, 2}},
		{"two ahead, at the deadline", []time.Duration{0, 0, 0, 2 * I}, []int{0, 1, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r pingRate
			t0 := time.Unix(1000, 0)
			for i, at := range tc.at {
				if got := r.arrive(t0.Add(at), I); got != tc.ahead[i] {
					t.Fatalf("PING %d at %v: %d ahead, want %d", i+1, at, got, tc.ahead[i])
				}
			}
		})
	}
}
