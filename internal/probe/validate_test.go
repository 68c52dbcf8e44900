package probe

import (
	"errors"
	"math"
	"testing"
	"time"
)

// The time to a verdict must fit a time.Duration, or DeadAfter wraps and
// the tools print negative predictions.
func TestValidateTooLong(t *testing.T) {
	maxD := time.Duration(math.MaxInt64)
	for _, tc := range []struct {
		cfg  Config
		want error
	}{
		{Config{Idle: 10 * time.Second, Interval: 2562047 * time.Hour, Probes: 2}, ErrTooLong},
		{Config{Idle: 9223372036 * time.Second, Interval: 3 * time.Second, Probes: 3}, ErrTooLong},
		{Config{Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: math.MaxInt}, ErrTooLong},
		{Config{Idle: maxD - 3, Interval: 1, Probes: 3}, nil},
		{Config{Idle: maxD - 3, Interval: 1, Probes: 4}, ErrTooLong},
		{Config{Idle: 1, Interval: (maxD - 1) / 2, Probes: 2}, nil},
		{Config{Idle: 2, Interval: (maxD - 1) / 2, Probes: 2}, ErrTooLong},
	} {
		err := tc.cfg.Validate()
		if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%+v: Validate() = %v, want %v", tc.cfg, err, tc.want)
		}
		if err == nil && tc.cfg.DeadAfter() <= 0 {
			t.Errorf("%+v: DeadAfter() = %v", tc.cfg, tc.cfg.DeadAfter())
		}
	}
}
