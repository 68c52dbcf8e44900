package cli

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// MaxDuration is the longest time.Duration, about 292 years.
const MaxDuration = time.Duration(math.MaxInt64)

// showMax is d as a range's upper bound: MaxDuration is "about 292
// years", which a reader takes in, rather than 2562047h47m16.854775807s.
func showMax(d time.Duration) string {
	if d == MaxDuration {
		return "about 292 years"
	}
	return d.String()
}

// Durations is the range a duration flag or argument takes. Every check of
// a duration's range is Check, so each says its range the same way.
type Durations struct {
	// Min and Max bound the value; Min zero allows any positive value.
	Min, Max time.Duration
	// Unit, when set, is the kernel's unit (time.Second, time.Millisecond):
	// the value must be a whole number of it, as the kernel rounds the
	// rest away silently.
	Unit time.Duration
	// Zero, when set, says what 0 means; 0 is then allowed below Min.
	// Empty: 0 is allowed only when Min is 0.
	Zero string
}

// Check reports a value outside the range, saying the range.
func (r Durations) Check(d time.Duration) error {
	if d == 0 && (r.Zero != "" || r.Min == 0) {
		return nil
	}
	if d < r.Min || d > r.Max || (r.Unit > 0 && d%r.Unit != 0) {
		return errors.New(r.String())
	}
	return nil
}

// String is the range in words: "give 0 (unset) or whole milliseconds
// from 1 to 2147483647 (1ms to 596h31m23.647s)": a kernel's unit, and the
// same range as a duration, since the value was given as one.
func (r Durations) String() string {
	var s string
	switch {
	case r.Unit == time.Second:
		s = fmt.Sprintf("whole seconds from %d to %d (%v to %v)", r.Min/r.Unit, r.Max/r.Unit, r.Min, r.Max)
	case r.Unit == time.Millisecond:
		s = fmt.Sprintf("whole milliseconds from %d to %d (%v to %v)", r.Min/r.Unit, r.Max/r.Unit, r.Min, r.Max)
	case r.Min == 0:
		s = "a duration from 0 to " + showMax(r.Max)
	default:
		s = fmt.Sprintf("a duration from %v to %s", r.Min, showMax(r.Max))
	}
	if r.Zero != "" {
		return fmt.Sprintf("give 0 (%s) or %s", r.Zero, s)
	}
	return "give " + s
}

// Parse reads s as ParseDuration does and checks it against the range. A
// number too large for a duration is out of range, not malformed.
func (r Durations) Parse(s string) (time.Duration, error) {
	d, err := ParseDuration(s)
	switch {
	case errors.Is(err, errTooSmall):
		return 0, fmt.Errorf("%v: %s", errTooSmall, r)
	case err != nil && !errors.Is(err, errFormat):
		return 0, errors.New(r.String()) // negative or too large
	}
	if err == nil {
		err = r.Check(d)
	}
	if err != nil {
		return 0, err
	}
	return d, nil
}

// rangeValue is a pflag.Value that parses with its range's Parse, so that every
// flag of the tools checks its range when it is read.
type rangeValue[T any] struct {
	p     *T
	parse func(string) (T, error)
	show  func(T) string
	typ   string
}

func (v rangeValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = x
	return nil
}
func (v rangeValue[T]) String() string { return v.show(*v.p) }
func (v rangeValue[T]) Type() string   { return v.typ }

// showDuration is "0" for zero so that help does not add "(default 0s)" to
// a usage that already says what 0 means.
func showDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

// DurationVar defines a flag that takes ParseDuration's forms within r.
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, r Durations, usage string) {
	*p = value
	fs.Var(rangeValue[time.Duration]{p, r.Parse, showDuration, "duration"}, name, usage)
}

// Ints is the range of a whole-number flag or argument.
type Ints struct {
	Min, Max int
	// Zero, when set, says what 0 means; 0 is then allowed below Min.
	Zero string
}

// String is the range in words. A Max of math.MaxInt is left out ("from 0
// up"): no one counts that far, and its 19 digits hide the minimum.
func (r Ints) String() string {
	s := fmt.Sprintf("a whole number from %d to %d", r.Min, r.Max)
	if r.Max == math.MaxInt {
		s = fmt.Sprintf("a whole number from %d up", r.Min)
	}
	if r.Zero != "" {
		return fmt.Sprintf("give 0 (%s) or %s", r.Zero, s)
	}
	return "give " + s
}

// Parse reads a whole number within the range.
func (r Ints) Parse(s string) (int, error) {
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange) && n > 0:
		return 0, fmt.Errorf("too large, %s", r) // beyond any whole number
	case err != nil || (n < r.Min || n > r.Max) && !(n == 0 && r.Zero != ""):
		return 0, errors.New(r.String())
	}
	return n, nil
}

// IntVar defines a whole-number flag within r.
func IntVar(fs *pflag.FlagSet, p *int, name string, value int, r Ints, usage string) {
	*p = value
	fs.Var(rangeValue[int]{p, r.Parse, strconv.Itoa, "int"}, name, usage)
}

// Floats is the range of a real-number flag: finite, from Min to Max.
type Floats struct{ Min, Max float64 }

// String is the range in words.
func (r Floats) String() string {
	return fmt.Sprintf("give a number from %s to %s", strconv.FormatFloat(r.Min, 'f', -1, 64), strconv.FormatFloat(r.Max, 'f', -1, 64))
}

// Parse reads a finite number within the range.
func (r Floats) Parse(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < r.Min || v > r.Max {
		return 0, errors.New(r.String())
	}
	return v, nil
}

func showFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// FloatVar defines a finite real-number flag within r.
func FloatVar(fs *pflag.FlagSet, p *float64, name string, value float64, r Floats, usage string) {
	*p = value
	fs.Var(rangeValue[float64]{p, r.Parse, showFloat, "float"}, name, usage)
}

// Uint64Var defines a flag of any whole number from 0 to 2^64-1 (a seed).
func Uint64Var(fs *pflag.FlagSet, p *uint64, name string, value uint64, usage string) {
	*p = value
	parse := func(s string) (uint64, error) {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("give a whole number from 0 to %d", uint64(math.MaxUint64))
		}
		return n, nil
	}
	show := func(n uint64) string { return strconv.FormatUint(n, 10) }
	fs.Var(rangeValue[uint64]{p, parse, show, "uint"}, name, usage)
}
