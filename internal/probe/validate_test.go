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

// A setting out of range is a RangeError that names the setting, its rule
// and the value, so that the tools can say it with their flag's name
// without cutting the text; errors.Is still matches its sentinel, and no
// other one.
func TestValidateNamesTheSetting(t *testing.T) {
	for _, tc := range []struct {
		cfg      Config
		sentinel error
		want     RangeError
		text     string
	}{
		{Config{Probes: -1}, ErrProbes, RangeError{"probes", "must not be negative", -1}, "probe: probes must not be negative (got -1)"},
		{Config{Probes: 1, Interval: time.Second}, ErrIdle, RangeError{"idle", "must be positive", time.Duration(0)}, "probe: idle must be positive (got 0s)"},
		{Config{Probes: 1, Idle: time.Second, Interval: -time.Second}, ErrInterval, RangeError{"interval", "must be positive", -time.Second}, "probe: interval must be positive (got -1s)"},
	} {
		err := tc.cfg.Validate()
		var got *RangeError
		if !errors.As(err, &got) || *got != tc.want {
			t.Errorf("%+v: Validate() = %#v, want %#v", tc.cfg, err, tc.want)
			continue
		}
		if err.Error() != tc.text {
			t.Errorf("%+v: Validate() says %q, want %q", tc.cfg, err, tc.text)
		}
		for _, other := range []error{ErrProbes, ErrIdle, ErrInterval, ErrTooLong} {
			if errors.Is(err, other) != (other == tc.sentinel) {
				t.Errorf("%+v: errors.Is(%v, %v) = %v", tc.cfg, err, other, !(other == tc.sentinel))
			}
		}
	}
}
