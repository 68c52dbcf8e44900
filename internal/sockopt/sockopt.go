// Package sockopt sets and reads back the kernel's liveness options on a
// live TCP connection (keep-alive, the user timeout, TCP_INFO) and reads
// the machine's defaults, so that the tools print the values in effect
// rather than the values they asked for.
//
// This file is the portable API. Each operating system's options live in
// its own leaf file (sockopt_linux.go, sockopt_darwin.go,
// sockopt_freebsd.go, sockopt_windows.go, sockopt_other.go for the rest),
// as in Go's net package: where an OS has no such option, the call fails
// with ErrUnsupported.
package sockopt

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"time"
)

// ErrUnsupported means this operating system has no such option, or
// does not let it be read back. The tools check it with errors.Is and say
// which flag it concerns.
var ErrUnsupported = errors.New("sockopt: not supported on " + runtime.GOOS)

// KeepAlive reports whether SO_KEEPALIVE is on for c's socket.
func KeepAlive(c syscall.Conn) (bool, error) {
	v, err := getInt(c, solSocket, soKeepAlive)
	return v != 0, err
}

// KeepAliveConfig is the kernel keep-alive of one socket.
type KeepAliveConfig struct {
	// Enable is SO_KEEPALIVE. When false the other fields are ignored.
	Enable bool
	// Idle is TCP_KEEPIDLE: silence before the first probe. Zero keeps the
	// socket's value, which is the machine's net.ipv4.tcp_keepalive_time.
	Idle time.Duration
	// Interval is TCP_KEEPINTVL: time between unanswered probes. Zero keeps
	// net.ipv4.tcp_keepalive_intvl.
	Interval time.Duration
	// Count is TCP_KEEPCNT: unanswered probes before the connection is
	// dropped. Zero keeps net.ipv4.tcp_keepalive_probes.
	Count int
}

// DeadAfter is the silence after which the kernel gives up on the peer:
// Idle + Count*Interval. Zero when keep-alive is off.
func (k KeepAliveConfig) DeadAfter() time.Duration {
	if !k.Enable {
		return 0
	}
	return k.Idle + time.Duration(k.Count)*k.Interval
}

// DeadAfterWith is DeadAfter when a TCP_USER_TIMEOUT u is also set. Linux
// then ignores the probe count: when its keep-alive timer fires (at idle,
// idle + interval, ...) with at least one probe unanswered and the silence
// at least u, it drops the connection (tcp_keepalive_timer). So the verdict
// comes at the first idle + k x interval, k >= 1, that is >= u: after one
// lost probe when u < idle + interval, after more than Count probes when u
// is long. Zero u gives DeadAfter.
func (k KeepAliveConfig) DeadAfterWith(u time.Duration) time.Duration {
	if !k.Enable || u <= 0 || k.Interval <= 0 {
		return k.DeadAfter()
	}
	n := time.Duration(1)
	if rest := u - k.Idle; rest > k.Interval {
		n = (rest + k.Interval - 1) / k.Interval
	}
	return k.Idle + n*k.Interval
}

// UserTimeoutEffect is how a TCP_USER_TIMEOUT changes keep-alive's verdict
// when it surprises (see DeadAfterWith): facts, for the tools to word.
type UserTimeoutEffect struct {
	// Kind is which surprise; NoSurprise (zero) when keep-alive is off,
	// the user timeout is zero, or neither surprise holds.
	Kind UserTimeoutKind
	// UserTimeout is the user timeout in question.
	UserTimeout time.Duration
	// Bound is what it is compared with: idle + interval for
	// OneLostProbe, keep-alive's DeadAfter for CountIgnored.
	Bound time.Duration
	// DeadAfter is when keep-alive then gives up: DeadAfterWith.
	DeadAfter time.Duration
}

// UserTimeoutKind names a way a user timeout surprises.
type UserTimeoutKind int

const (
	// NoSurprise: keep-alive gives up as its settings say.
	NoSurprise UserTimeoutKind = iota
	// OneLostProbe: the user timeout is shorter than idle + interval, so
	// one lost keep-alive probe kills the connection.
	OneLostProbe
	// CountIgnored: the user timeout is longer than keep-alive's
	// DeadAfter, so the kernel ignores Count and keeps probing.
	CountIgnored
)

// UserTimeoutEffect says how a TCP_USER_TIMEOUT u changes keep-alive's
// verdict: shorter than idle + interval, one lost probe kills the
// connection; longer than DeadAfter, Count is ignored and probing goes on.
// Both tools warn with it, in their own words.
func (k KeepAliveConfig) UserTimeoutEffect(u time.Duration) UserTimeoutEffect {
	var kind UserTimeoutKind
	var bound time.Duration
	switch {
	case !k.Enable || u <= 0:
		return UserTimeoutEffect{}
	case u < k.Idle+k.Interval:
		kind, bound = OneLostProbe, k.Idle+k.Interval
	case u > k.DeadAfter():
		kind, bound = CountIgnored, k.DeadAfter()
	default:
		return UserTimeoutEffect{}
	}
	e := UserTimeoutEffect{Kind: kind, UserTimeout: u, Bound: bound, DeadAfter: k.DeadAfterWith(u)}
	return e
}

// The kernel takes keep-alive times in whole seconds, from 1 to 32767
// (Linux's MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL), and at most 127 probes;
// the tools keep to Linux's ranges on every OS.
const (
	maxKeepSecs  = 32767
	maxKeepCount = 127
)

// Validate reports settings the kernel would refuse or silently round.
func (k KeepAliveConfig) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"idle", k.Idle}, {"interval", k.Interval}} {
		if d.v == 0 {
			continue
		}
		if d.v%time.Second != 0 || d.v < time.Second || d.v > maxKeepSecs*time.Second {
			return fmt.Errorf("sockopt: keep-alive %s %v: the kernel takes whole seconds from 1 to %d", d.name, d.v, maxKeepSecs)
		}
	}
	if k.Count < 0 || k.Count > maxKeepCount {
		return fmt.Errorf("sockopt: keep-alive count %d: the kernel takes 1 to %d", k.Count, maxKeepCount)
	}
	return nil
}

// netConfig is k as Go's net.KeepAliveConfig: a zero field here keeps the
// socket's value, which net says with -1 (its zero means Go's 15 s).
func (k KeepAliveConfig) netConfig() net.KeepAliveConfig {
	keep := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	count := k.Count
	if count == 0 {
		count = -1
	}
	return net.KeepAliveConfig{Enable: k.Enable, Idle: keep(k.Idle), Interval: keep(k.Interval), Count: count}
}

// SetKeepAlive applies k to c's socket; fields left zero keep the socket's
// values. It turns SO_KEEPALIVE off when k.Enable is false. A *net.TCPConn
// is set through Go's net.KeepAliveConfig, which knows each OS's options
// and units; any other c (a descriptor an event loop owns) through the
// same options set one by one.
func SetKeepAlive(c syscall.Conn, k KeepAliveConfig) error {
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetKeepAliveConfig(k.netConfig()); err != nil {
			return fmt.Errorf("sockopt: %w", err)
		}
		return nil
	}
	if !k.Enable {
		return setInt(c, solSocket, soKeepAlive, 0)
	}
	if err := setInt(c, solSocket, soKeepAlive, 1); err != nil {
		return err
	}
	for _, o := range []struct{ opt, v int }{
		{tcpKeepIdle, int(k.Idle / time.Second)}, {tcpKeepIntvl, int(k.Interval / time.Second)}, {tcpKeepCnt, k.Count},
	} {
		if o.v > 0 {
			if err := setInt(c, ipprotoTCP, o.opt, o.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadKeepAlive reads c's keep-alive settings back from the kernel. Idle,
// Interval and Count are read even when keep-alive is off. Windows before
// 10 version 1709 and the OSes of sockopt_other.go cannot read them back:
// ErrUnsupported.
func ReadKeepAlive(c syscall.Conn) (KeepAliveConfig, error) {
	var k KeepAliveConfig
	var err error
	if k.Enable, err = KeepAlive(c); err != nil {
		return k, err
	}
	var v [3]int
	for i, opt := range []int{tcpKeepIdle, tcpKeepIntvl, tcpKeepCnt} {
		if v[i], err = getInt(c, ipprotoTCP, opt); err != nil {
			return k, noOption(err)
		}
	}
	k.Idle = time.Duration(v[0]) * time.Second
	k.Interval = time.Duration(v[1]) * time.Second
	k.Count = v[2]
	return k, nil
}

// UserTimeoutUnit is the unit this OS's user timeout is set in: a
// millisecond on Linux (TCP_USER_TIMEOUT), a second on macOS
// (TCP_RXT_CONNDROPTIME) and Windows (TCP_MAXRT). Zero where the OS has
// none (FreeBSD, whose TCP_MAXUNACKTIME of version 14 is not confirmed
// here, and the rest).
func UserTimeoutUnit() time.Duration { return userTimeoutUnit }

// SetUserTimeout sets the user timeout: how long sent data may stay
// unacknowledged (or the peer's window zero) before the kernel drops the
// connection with ETIMEDOUT. d must be a whole number of UserTimeoutUnit.
// Zero restores the kernel's retransmission rule (on Linux
// net.ipv4.tcp_retries2). ErrUnsupported where the OS has none.
func SetUserTimeout(c syscall.Conn, d time.Duration) error {
	unit := UserTimeoutUnit()
	if unit == 0 {
		return ErrUnsupported
	}
	if d < 0 || d%unit != 0 || d/unit > maxUserTimeout {
		return fmt.Errorf("sockopt: user timeout %v: %s takes whole multiples of %v up to %v",
			d, runtime.GOOS, unit, maxUserTimeout*unit)
	}
	return noOption(setInt(c, ipprotoTCP, userTimeoutOpt, int(d/unit)))
}

// UserTimeout reads the user timeout back; zero means none is set.
func UserTimeout(c syscall.Conn) (time.Duration, error) {
	unit := UserTimeoutUnit()
	if unit == 0 {
		return 0, nil // none can be set
	}
	v, err := getInt(c, ipprotoTCP, userTimeoutOpt)
	return time.Duration(v) * unit, noOption(err)
}

// noOption turns the OS's "no such option" (an older kernel) into
// ErrUnsupported.
func noOption(err error) error {
	if err != nil && errors.Is(err, errNoProtoOpt) {
		return fmt.Errorf("%w (%w)", ErrUnsupported, err)
	}
	return err
}

// Info is the part of TCP_INFO (or the OS's equivalent) that tells how a
// connection is faring. Fields an OS does not give stay zero; Filled says
// which ones it gives, so that what is unknown is reported as unknown,
// never as none.
type Info struct {
	State        uint8         // TCP state, Linux's numbering (1 established, 7 close, ...); 0 unknown
	Probes       int           // keep-alive or zero-window probes sent and unanswered
	Retransmits  int           // retransmissions of the oldest unacknowledged segment (macOS, FreeBSD: of any, over the connection's life)
	Unacked      int           // segments sent and not yet acknowledged (macOS, Windows: estimated from the bytes)
	Backoff      int           // exponential backoff of the retransmission timer
	RTO          time.Duration // current retransmission timeout
	LastDataRecv time.Duration // time since data was last received
	LastAckRecv  time.Duration // time since an ACK was last received
	TotalRetrans int           // retransmissions over the connection's life
	Filled       Fields        // the fields this OS fills in; zero: none
}

// TCPInfo reads the connection's TCP_INFO: Linux's and FreeBSD's
// TCP_INFO, macOS's TCP_CONNECTION_INFO, Windows' SIO_TCP_INFO;
// ErrUnsupported elsewhere.
func TCPInfo(c syscall.Conn) (Info, error) {
	var info Info
	err := control(c, func(fd uintptr) error {
		var err error
		info, err = tcpInfo(fd)
		return err
	})
	return info, err
}

// RetransmitGiveUp estimates how long the kernel retransmits unacknowledged
// data before it gives up, for tcp_retries2 retries with the RTO starting at
// rto (200ms minimum on Linux) and doubling up to 120s (TCP_RTO_MAX). With
// the default 15 retries and a 200ms RTO this is 924.6s, the figure of
// tcp(7): "a hypothetical timeout of 924.6 seconds".
func RetransmitGiveUp(retries int, rto time.Duration) time.Duration {
	const rtoMax = 120 * time.Second
	var total time.Duration
	for i := 0; i <= retries; i++ {
		total += rto
		rto = min(2*rto, rtoMax)
	}
	return total
}

func getInt(c syscall.Conn, level, opt int) (int, error) {
	var v int
	err := control(c, func(fd uintptr) error {
		var err error
		v, err = getsockoptInt(fd, level, opt)
		return err
	})
	return v, err
}

func setInt(c syscall.Conn, level, opt, v int) error {
	return control(c, func(fd uintptr) error { return setsockoptInt(fd, level, opt, v) })
}

func control(c syscall.Conn, f func(fd uintptr) error) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("sockopt: %w", err)
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(fd) }); err != nil {
		return fmt.Errorf("sockopt: %w", err)
	}
	if ferr != nil && !errors.Is(ferr, ErrUnsupported) {
		return fmt.Errorf("sockopt: %w", ferr)
	}
	return ferr
}
