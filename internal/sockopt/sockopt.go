// Package sockopt sets and reads back the kernel's liveness options on a
// live TCP connection (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT, TCP_USER_TIMEOUT, TCP_INFO) and the machine's defaults from
// /proc/sys, so that the tools print the values in effect rather than the
// values they asked for.
package sockopt

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// KeepAlive reports whether SO_KEEPALIVE is on for c's socket.
func KeepAlive(c syscall.Conn) (bool, error) {
	v, err := getInt(c, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
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

// UserTimeoutWarning says how a TCP_USER_TIMEOUT u changes keep-alive's
// verdict, in words for a person, when it surprises (see DeadAfterWith):
// shorter than idle + interval, one lost probe kills the connection;
// longer than DeadAfter, Count is ignored and probing goes on. It is ""
// when keep-alive is off, u is zero, or neither holds. Both tools warn
// with it.
func (k KeepAliveConfig) UserTimeoutWarning(u time.Duration) string {
	switch {
	case !k.Enable || u <= 0:
		return ""
	case u < k.Idle+k.Interval:
		return fmt.Sprintf("--user-timeout %s is shorter than keep-alive idle + interval (%s): "+
			"one lost keep-alive probe kills the connection, at %s", u, k.Idle+k.Interval, k.Idle+k.Interval)
	case u > k.DeadAfter():
		return fmt.Sprintf("--user-timeout %s is longer than keep-alive's %s: "+
			"the kernel then ignores --keepalive-count and keeps probing until %s", u, k.DeadAfter(), k.DeadAfterWith(u))
	}
	return ""
}

// The kernel takes keep-alive times in whole seconds, from 1 to 32767
// (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL), and at most 127 probes.
const (
	maxKeepSecs  = 32767
	maxKeepCount = 127
)

// Validate reports settings the kernel would refuse or silently round.
func (k KeepAliveConfig) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"keepalive-idle", k.Idle}, {"keepalive-interval", k.Interval}} {
		if d.v == 0 {
			continue
		}
		if d.v%time.Second != 0 || d.v < time.Second || d.v > maxKeepSecs*time.Second {
			return fmt.Errorf("--%s %v: the kernel takes whole seconds from 1 to %d", d.name, d.v, maxKeepSecs)
		}
	}
	if k.Count < 0 || k.Count > maxKeepCount {
		return fmt.Errorf("--keepalive-count %d: the kernel takes 1 to %d", k.Count, maxKeepCount)
	}
	return nil
}

// SetKeepAlive applies k to c's socket; fields left zero keep the socket's
// values. It turns SO_KEEPALIVE off when k.Enable is false.
func SetKeepAlive(c syscall.Conn, k KeepAliveConfig) error {
	if !k.Enable {
		return setInt(c, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
	}
	if err := setInt(c, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return err
	}
	if k.Idle > 0 {
		if err := setInt(c, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(k.Idle/time.Second)); err != nil {
			return err
		}
	}
	if k.Interval > 0 {
		if err := setInt(c, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(k.Interval/time.Second)); err != nil {
			return err
		}
	}
	if k.Count > 0 {
		if err := setInt(c, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, k.Count); err != nil {
			return err
		}
	}
	return nil
}

// ReadKeepAlive reads c's keep-alive settings back from the kernel. Idle,
// Interval and Count are read even when keep-alive is off.
func ReadKeepAlive(c syscall.Conn) (KeepAliveConfig, error) {
	var k KeepAliveConfig
	var err error
	if k.Enable, err = KeepAlive(c); err != nil {
		return k, err
	}
	idle, err := getInt(c, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
	if err != nil {
		return k, err
	}
	intvl, err := getInt(c, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL)
	if err != nil {
		return k, err
	}
	if k.Count, err = getInt(c, unix.IPPROTO_TCP, unix.TCP_KEEPCNT); err != nil {
		return k, err
	}
	k.Idle = time.Duration(idle) * time.Second
	k.Interval = time.Duration(intvl) * time.Second
	return k, nil
}

// ErrUserTimeoutUnsupported means the system has no TCP_USER_TIMEOUT.
var ErrUserTimeoutUnsupported = errors.New("sockopt: TCP_USER_TIMEOUT is not supported on this system")

// maxUserTimeout is the largest TCP_USER_TIMEOUT, in milliseconds, that the
// kernel takes (an int).
const maxUserTimeout = 1<<31 - 1

// SetUserTimeout sets TCP_USER_TIMEOUT: how long sent data may stay
// unacknowledged (or the peer's window zero) before the kernel drops the
// connection with ETIMEDOUT. Zero restores the kernel's retransmission rule
// (net.ipv4.tcp_retries2).
func SetUserTimeout(c syscall.Conn, d time.Duration) error {
	ms := d.Milliseconds()
	if d < 0 || ms > maxUserTimeout || d%time.Millisecond != 0 {
		return fmt.Errorf("--user-timeout %v: the kernel takes whole milliseconds from 0 to %d", d, maxUserTimeout)
	}
	err := setInt(c, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(ms))
	if errors.Is(err, unix.ENOPROTOOPT) {
		return ErrUserTimeoutUnsupported
	}
	return err
}

// UserTimeout reads TCP_USER_TIMEOUT back; zero means none is set.
func UserTimeout(c syscall.Conn) (time.Duration, error) {
	ms, err := getInt(c, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
	return time.Duration(ms) * time.Millisecond, err
}

// Info is the part of TCP_INFO that tells how a connection is faring.
type Info struct {
	State        uint8         // TCP state (1 established, 7 close, ...)
	Probes       int           // keep-alive or zero-window probes sent and unanswered
	Retransmits  int           // retransmissions of the oldest unacknowledged segment
	Unacked      int           // segments sent and not yet acknowledged
	Backoff      int           // exponential backoff of the retransmission timer
	RTO          time.Duration // current retransmission timeout
	LastDataRecv time.Duration // time since data was last received
	LastAckRecv  time.Duration // time since an ACK was last received
	TotalRetrans int           // retransmissions over the connection's life
}

// TCPInfo reads TCP_INFO.
func TCPInfo(c syscall.Conn) (Info, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Info{}, fmt.Errorf("sockopt: %w", err)
	}
	var ti *unix.TCPInfo
	var serr error
	if err := raw.Control(func(fd uintptr) {
		ti, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return Info{}, fmt.Errorf("sockopt: %w", err)
	}
	if serr != nil {
		return Info{}, fmt.Errorf("sockopt: TCP_INFO: %w", serr)
	}
	return Info{
		State:        ti.State,
		Probes:       int(ti.Probes),
		Retransmits:  int(ti.Retransmits),
		Unacked:      int(ti.Unacked),
		Backoff:      int(ti.Backoff),
		RTO:          time.Duration(ti.Rto) * time.Microsecond,
		LastDataRecv: time.Duration(ti.Last_data_recv) * time.Millisecond,
		LastAckRecv:  time.Duration(ti.Last_ack_recv) * time.Millisecond,
		TotalRetrans: int(ti.Total_retrans),
	}, nil
}

// Kernel is the machine's defaults, from /proc/sys/net/ipv4.
type Kernel struct {
	KeepAlive KeepAliveConfig // tcp_keepalive_time, _intvl, _probes (Enable false: off unless asked)
	Retries2  int             // tcp_retries2: retransmissions before giving up on unacked data
}

// ReadKernel reads the machine's defaults under root (normally
// "/proc/sys/net/ipv4").
func ReadKernel(root string) (Kernel, error) {
	var k Kernel
	read := func(name string) (int, error) {
		b, err := os.ReadFile(root + "/" + name)
		if err != nil {
			return 0, fmt.Errorf("sockopt: %w", err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("sockopt: %s/%s: %w", root, name, err)
		}
		return n, nil
	}
	var err error
	var t, i int
	if t, err = read("tcp_keepalive_time"); err != nil {
		return k, err
	}
	if i, err = read("tcp_keepalive_intvl"); err != nil {
		return k, err
	}
	if k.KeepAlive.Count, err = read("tcp_keepalive_probes"); err != nil {
		return k, err
	}
	if k.Retries2, err = read("tcp_retries2"); err != nil {
		return k, err
	}
	k.KeepAlive.Idle = time.Duration(t) * time.Second
	k.KeepAlive.Interval = time.Duration(i) * time.Second
	return k, nil
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
	err := control(c, func(fd int) error {
		var err error
		v, err = unix.GetsockoptInt(fd, level, opt)
		return err
	})
	return v, err
}

func setInt(c syscall.Conn, level, opt, v int) error {
	return control(c, func(fd int) error { return unix.SetsockoptInt(fd, level, opt, v) })
}

func control(c syscall.Conn, f func(fd int) error) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("sockopt: %w", err)
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return fmt.Errorf("sockopt: %w", err)
	}
	if ferr != nil {
		return fmt.Errorf("sockopt: %w", ferr)
	}
	return nil
}
