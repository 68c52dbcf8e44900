package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0 connections"},
		{1, "1 connection"},
		{2, "2 connections"},
		{-1, "-1 connection"},
		{1000, "1000 connections"},
	} {
		if got := Count(tc.n, "connection"); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := CountOf(3, "entry", "entries"); got != "3 entries" {
		t.Errorf("CountOf = %q", got)
	}
}
