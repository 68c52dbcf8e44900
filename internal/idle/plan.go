// Package idle plans the measurement of how long a middlebox (a NAT, a
// proxy, a load balancer) keeps an idle TCP connection, as a pure state
// machine: no I/O, no clock, no goroutines. The driver (package idlerun)
// asks Next for a probe whenever it has a connection slot free, runs it
// (a connection left idle for the probe's gap, then made to carry a
// packet), and tells Done how it ended. The plan narrows the interval
// between the longest gap that survived and the shortest that did not
// until it is within the resolution, then checks whether traffic below
// the timeout keeps the state alive.
//
// Example:
//
//	p := idle.New(idle.Config{Max: 15 * time.Minute, Conns: 32})
//	for !p.Finished() {
//		for pr, ok := p.Next(); ok; pr, ok = p.Next() {
//			start(pr) // on its own connection
//		}
//		pr, out, at := wait() // the next probe to end
//		p.Done(pr, out, at)
//		for _, pr := range running { if p.Useless(pr) { cancel(pr) } }
//	}
//	r := p.Result()
package idle

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Dir is which end speaks first after a probe's gap.
type Dir uint8

const (
	// Out: the client sends a PING after the gap; the PONG must come.
	Out Dir = iota
	// In: the server sends a CALLBACK after the gap (asked for by a CALL
	// before it); many NATs forget a mapping for packets coming in only.
	In
)

func (d Dir) String() string {
	if d == In {
		return "server-first"
	}
	return "client-first"
}

// Kind is what a probe checks.
type Kind uint8

const (
	// Gap: does a connection idle for Gap survive?
	Gap Kind = iota
	// KeepAlive: does a connection with kernel keep-alive every Every,
	// otherwise idle for Gap (longer than the timeout), survive?
	KeepAlive
	// Pings: does a connection carrying the heartbeat's traffic, a frame
	// each way every Every (as a PING and its PONG), survive for Gap
	// (longer than the timeout)?
	Pings
	// Outlives: when only server-first probes failed, does a client-first
	// one idle for Gap (longer than the timeout) survive? Without it, the
	// client-first probes past the timeout, ended as useless, could not
	// tell an inbound-only expiry from one in both directions.
	Outlives
)

func (k Kind) String() string {
	switch k {
	case KeepAlive:
		return "keep-alive"
	case Pings:
		return "pings"
	case Outlives:
		return "outlives"
	}
	return "gap"
}

// Probe is one connection's test. ID tells probes apart; the driver hands
// the probe back to Done as it got it.
type Probe struct {
	ID    int
	Kind  Kind
	Dir   Dir
	Gap   time.Duration // how long the connection stays idle (Gap) or is watched (KeepAlive, Pings)
	Every time.Duration // KeepAlive, Pings: the refresh interval; 0 for Gap
}

// Outcome is how a probe ended.
type Outcome uint8

const (
	// Alive: the answer came (a PONG, the CALLBACK).
	Alive Outcome = iota
	// Drop: no answer within the wait; the middlebox dropped the packets
	// silently (the kernel retransmits into the void).
	Drop
	// Reset: the connection was reset (RST).
	Reset
	// Close: the connection was closed (FIN), as a proxy does on its
	// idle timeout.
	Close
)

// String is the outcome as the JSON's "expiry" gives it; Alive is "none",
// the expiry when nothing expired.
func (o Outcome) String() string {
	switch o {
	case Drop:
		return "silent-drop"
	case Reset:
		return "reset"
	case Close:
		return "close"
	}
	return "none"
}

// Defaults.
const (
	DefaultMax   = 15 * time.Minute
	DefaultConns = 32
	// MinResolution is the default resolution's floor: 1s, or 2% of the
	// gap when that is larger (see Config.Resolution).
	MinResolution = time.Second
	// RelResolution is the default resolution's share of the gap.
	RelResolution = 0.02
	// Margin is the share of the lower bound the recommended settings
	// keep under: a timer that fires at 80% of the timeout leaves room
	// for a late wake-up and a middlebox whose clock runs a little fast.
	Margin = 0.8
	// RefreshFactor is how much longer than the upper bound the refresh
	// checks stay up: long enough past the timeout that a state that was
	// not refreshed has surely gone.
	RefreshFactor = 1.5
)

// Config bounds a measurement.
type Config struct {
	// Max is the longest gap tried; nothing found up to it gives expiry
	// "none". Zero means DefaultMax.
	Max time.Duration
	// Resolution is how close the bounds must come: upper - lower <=
	// Resolution. Zero means the default, the larger of MinResolution and
	// RelResolution of the upper bound, so that a 15-minute timeout is
	// not measured to the second.
	Resolution time.Duration
	// Conns caps the probes running at once (each its own connection).
	// Zero means DefaultConns; at least 2 (one of each direction).
	Conns int
	// KeepAliveMin is the shortest keep-alive interval the system can
	// set (TCP_KEEPINTVL is whole seconds: 1s); a timeout too short for
	// keep-alive below it leaves the keep-alive check unmeasured. Zero
	// means 1s.
	KeepAliveMin time.Duration
}

// Bounds of Config.
const (
	MinMax   = 100 * time.Millisecond
	MaxMax   = 2 * time.Hour // msg.MaxCallDelay: a CALL longer than that is refused
	MinRes   = 10 * time.Millisecond
	MaxConns = 1000
)

// ErrConfig is wrapped by Validate's errors.
var ErrConfig = errors.New("idle: bad config")

// Validate checks c, with its zero fields meaning their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Max < MinMax || c.Max > MaxMax:
		return fmt.Errorf("%w: max %v, want %v to %v", ErrConfig, c.Max, MinMax, MaxMax)
	case c.Resolution != 0 && (c.Resolution < MinRes || c.Resolution > c.Max/2):
		return fmt.Errorf("%w: resolution %v, want %v to half of max (%v)", ErrConfig, c.Resolution, MinRes, c.Max/2)
	case c.Conns < 2 || c.Conns > MaxConns:
		return fmt.Errorf("%w: conns %d, want 2 to %d", ErrConfig, c.Conns, MaxConns)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Max == 0 {
		c.Max = DefaultMax
	}
	if c.Conns == 0 {
		c.Conns = DefaultConns
	}
	if c.KeepAliveMin == 0 {
		c.KeepAliveMin = time.Second
	}
	return c
}

// dirState is what one direction's probes found.
type dirState struct {
	lo     time.Duration // longest gap that survived; 0: none yet
	hi     time.Duration // shortest gap that failed; 0: none yet
	failed Outcome       // how the probe that set hi ended
	fails  int
}

// Plan is one measurement. The zero value is not usable; call New.
type Plan struct {
	cfg     Config
	dirs    [2]dirState
	queue   []Probe         // planned, not yet handed out
	running map[int]Probe   // handed out, not yet done
	gaps    map[gapKey]bool // gaps planned or tried, so none is tried twice
	nextID  int
	probes  int // probes done

	refresh  [3]refresh // KeepAlive, Pings, Outlives
	refreshd bool       // the refresh checks have been planned
	contra   int        // probes that survived past a gap that failed
}

type gapKey struct {
	dir Dir
	gap time.Duration
}

// refresh is a refresh check's result.
type refresh struct {
	probe  Probe
	state  Refresh
	failed Outcome
}

// Refresh says whether traffic below the timeout kept the state.
type Refresh uint8

const (
	NotMeasured Refresh = iota // not tried: nothing expired, or the timeout is too short for it
	Refreshes                  // the connection outlived the timeout
	DoesNot                    // it did not
)

// New plans a measurement under cfg (which Validate accepts): the first
// round spreads the gaps geometrically over [resolution, Max], each tried
// in both directions, as many as there are connections.
func New(cfg Config) *Plan {
	cfg = cfg.withDefaults()
	p := &Plan{cfg: cfg, running: map[int]Probe{}, gaps: map[gapKey]bool{}}
	n := cfg.Conns / 2
	first := cfg.Resolution
	if first == 0 {
		first = MinResolution
	}
	first = min(first, cfg.Max)
	if n == 1 { // one pair: doubling from the shortest, see extend
		p.plan(first)
		return p
	}
	for i := range n {
		g := cfg.Max
		if n > 1 && i < n-1 {
			g = time.Duration(float64(first) * math.Pow(float64(cfg.Max)/float64(first), float64(i)/float64(n-1)))
		}
		p.plan(g)
	}
	return p
}

// plan queues gap g in both directions, unless it was planned before.
func (p *Plan) plan(g time.Duration) {
	for _, d := range []Dir{Out, In} {
		k := gapKey{d, g}
		if p.gaps[k] {
			continue
		}
		p.gaps[k] = true
		p.queue = append(p.queue, Probe{ID: p.nextID, Kind: Gap, Dir: d, Gap: g})
		p.nextID++
	}
}

// Next hands out a probe to start now, if one is worth starting and fewer
// than Conns run; ok is false otherwise.
func (p *Plan) Next() (pr Probe, ok bool) {
	if len(p.running) >= p.cfg.Conns {
		return Probe{}, false
	}
	p.dropUseless()
	if len(p.queue) == 0 {
		p.subdivide()
	}
	if len(p.queue) == 0 {
		p.planRefresh()
	}
	if len(p.queue) == 0 {
		return Probe{}, false
	}
	pr = p.queue[0]
	p.queue = p.queue[1:]
	p.running[pr.ID] = pr
	return pr, true
}

// dropUseless forgets queued probes that can no longer tell anything.
func (p *Plan) dropUseless() {
	q := p.queue[:0]
	for _, pr := range p.queue {
		if !p.Useless(pr) {
			q = append(q, pr)
		}
	}
	p.queue = q
}

// Useless reports whether pr, queued or running, can no longer tell
// anything: its gap is at or past one that already failed, in its
// direction or the other (the bracket's upper end is the shorter), or at
// or below one that survived in its own direction, or the measurement has
// converged. The driver ends running probes that are, to free their
// connection and not wait for them.
func (p *Plan) Useless(pr Probe) bool {
	if pr.Kind != Gap {
		return false
	}
	_, hi, _, _ := p.bracket()
	return (hi > 0 && pr.Gap >= hi) || pr.Gap <= p.dirs[pr.Dir].lo || p.converged()
}

// Cancel tells the plan that the driver ended a running probe that was
// Useless, with no outcome.
func (p *Plan) Cancel(pr Probe) { delete(p.running, pr.ID) }

// Done takes how pr ended: out, found at idle time at. For a probe that
// ended at its gap (an answer came, or none within the wait), at is its
// gap; a connection reset or closed during the gap ends at the idle time
// the driver saw it, which bounds the timeout from above just as well.
func (p *Plan) Done(pr Probe, out Outcome, at time.Duration) {
	if _, ok := p.running[pr.ID]; !ok {
		return // cancelled, or not ours
	}
	delete(p.running, pr.ID)
	p.probes++
	switch pr.Kind {
	case KeepAlive, Pings, Outlives:
		r := &p.refresh[pr.Kind-KeepAlive]
		r.state, r.failed = Refreshes, out
		if out != Alive {
			r.state = DoesNot
		}
		return
	}
	d := &p.dirs[pr.Dir]
	if out == Alive {
		if d.hi > 0 && pr.Gap >= d.hi {
			p.contra++
			return
		}
		d.lo = max(d.lo, pr.Gap)
		return
	}
	at = min(max(at, 0), pr.Gap)
	d.fails++
	if d.hi == 0 || at < d.hi {
		d.hi, d.failed = at, out
	}
	if d.lo >= d.hi { // survived longer than it now failed: keep the failure
		p.contra++
		d.lo = 0
	}
}

// bracket is the interval the timeout is in: lo the longest gap that
// survived in both directions, hi the shortest that failed in either (0:
// none failed), failed how that one ended and dir its direction.
func (p *Plan) bracket() (lo, hi time.Duration, failed Outcome, dir Dir) {
	out, in := p.dirs[Out], p.dirs[In]
	lo = min(out.lo, in.lo)
	switch {
	case out.hi > 0 && (in.hi == 0 || out.hi <= in.hi):
		hi, failed, dir = out.hi, out.failed, Out
	case in.hi > 0:
		hi, failed, dir = in.hi, in.failed, In
	}
	if hi > 0 && lo >= hi {
		lo = 0
	}
	return lo, hi, failed, dir
}

// resolution is the precision wanted with hi the upper bound.
func (p *Plan) resolution(hi time.Duration) time.Duration {
	if p.cfg.Resolution > 0 {
		return p.cfg.Resolution
	}
	return max(MinResolution, time.Duration(RelResolution*float64(hi)))
}

// converged reports whether the bounds are found: within the resolution,
// or Max survived in both directions.
func (p *Plan) converged() bool {
	lo, hi, _, _ := p.bracket()
	if hi == 0 {
		return lo >= p.cfg.Max
	}
	return hi-lo <= p.resolution(hi)
}

// subdivide plans the gap that best splits the open bracket: the middle
// of the widest piece between its ends and the gaps running in it, when
// that piece is wider than the resolution.
func (p *Plan) subdivide() {
	lo, hi, _, _ := p.bracket()
	if hi == 0 {
		p.extend(lo)
		return
	}
	if p.converged() {
		return
	}
	cuts := []time.Duration{lo, hi}
	for _, pr := range p.running {
		if pr.Kind == Gap && pr.Gap > lo && pr.Gap < hi {
			cuts = append(cuts, pr.Gap)
		}
	}
	sortDurations(cuts)
	var a, b time.Duration
	for i := 1; i < len(cuts); i++ {
		if cuts[i]-cuts[i-1] > b-a {
			a, b = cuts[i-1], cuts[i]
		}
	}
	if b-a <= p.resolution(hi) {
		return
	}
	p.plan(a + (b-a)/2)
}

// extend plans twice the longest gap that survived, up to Max, when
// nothing failed yet and no longer gap is planned or running: with one
// pair of connections round one is a single gap, and the search doubles
// from there.
func (p *Plan) extend(lo time.Duration) {
	if lo == 0 || lo >= p.cfg.Max {
		return
	}
	for _, pr := range p.running {
		if pr.Kind == Gap && pr.Gap > lo {
			return
		}
	}
	p.plan(min(2*lo, p.cfg.Max))
}

func sortDurations(ds []time.Duration) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j] < ds[j-1]; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// planRefresh plans the refresh checks once the bounds are found: a
// connection with kernel keep-alive, and one with heartbeat PINGs, each
// at an interval of half the lower bound, watched for RefreshFactor x the
// upper bound, in the direction that failed first. Keep-alive is left
// out when half the lower bound is under KeepAliveMin.
func (p *Plan) planRefresh() {
	lo, hi, _, dir := p.bracket()
	if p.refreshd || hi == 0 || !p.converged() || lo == 0 {
		return
	}
	p.refreshd = true
	every := lo / 2
	watch := time.Duration(RefreshFactor * float64(hi))
	if ka := every.Truncate(time.Second); ka >= p.cfg.KeepAliveMin {
		p.refresh[0].probe = Probe{ID: p.nextID, Kind: KeepAlive, Dir: dir, Gap: watch, Every: ka}
		p.nextID++
		p.queue = append(p.queue, p.refresh[0].probe)
	}
	p.refresh[1].probe = Probe{ID: p.nextID, Kind: Pings, Dir: dir, Gap: watch, Every: every}
	p.nextID++
	p.queue = append(p.queue, p.refresh[1].probe)
	if dir == In && p.dirs[Out].fails == 0 {
		p.refresh[2].probe = Probe{ID: p.nextID, Kind: Outlives, Dir: Out, Gap: watch}
		p.nextID++
		p.queue = append(p.queue, p.refresh[2].probe)
	}
}

// Finished reports whether the measurement is over: the bounds found,
// the refresh checks (if any) done.
func (p *Plan) Finished() bool {
	if !p.converged() {
		return false
	}
	p.dropUseless()
	p.planRefresh()
	for _, pr := range p.running {
		if pr.Kind != Gap {
			return false
		}
	}
	for _, pr := range p.queue {
		if pr.Kind != Gap {
			return false
		}
	}
	return true
}

// Status is the plan's progress.
type Status struct {
	Lower, Upper time.Duration // the bracket so far; Upper 0: nothing failed yet
	Running      int           // probes running
	Refreshing   bool          // the refresh checks are planned
}

// Status says where the measurement stands.
func (p *Plan) Status() Status {
	lo, hi, _, _ := p.bracket()
	return Status{Lower: lo, Upper: hi, Running: len(p.running), Refreshing: p.refreshd}
}

// Result is what the measurement found.
type Result struct {
	// Lower is the longest idle gap that survived in both directions;
	// Upper the shortest that did not in either, 0 when none failed up
	// to Max (Lower is then Max).
	Lower, Upper time.Duration
	// Expiry is how the connection that set Upper ended; Alive when none
	// failed (its String is "none").
	Expiry Outcome
	// InboundOnly: only the server-first probes failed, and a
	// client-first one outlived the upper bound (RefreshFor).
	InboundOnly bool
	// KeepAlive and Pings: whether traffic at KeepAliveEvery and
	// PingEvery kept a connection past Upper (for RefreshFor).
	KeepAlive, Pings          Refresh
	KeepAliveEvery, PingEvery time.Duration
	RefreshFor                time.Duration
	Probes, Contradictions    int
}

// Result is what the measurement found so far.
func (p *Plan) Result() Result {
	lo, hi, failed, _ := p.bracket()
	r := Result{Lower: lo, Upper: hi, Expiry: failed, Probes: p.probes, Contradictions: p.contra}
	if hi == 0 {
		r.Expiry = Alive
	}
	r.InboundOnly = p.dirs[In].fails > 0 && p.dirs[Out].fails == 0 && p.refresh[2].state == Refreshes
	r.KeepAlive, r.Pings = p.refresh[0].state, p.refresh[1].state
	r.KeepAliveEvery, r.PingEvery = p.refresh[0].probe.Every, p.refresh[1].probe.Every
	r.RefreshFor = max(p.refresh[0].probe.Gap, p.refresh[1].probe.Gap)
	return r
}
