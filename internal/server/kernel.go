package server

// This file is what both backends (the epoll loop, server.go; the
// goroutine per connection, portable.go) share of the kernel: the options
// set on each accepted connection and what a failed read or write means.

import (
	"errors"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// applyKernel sets the kernel options on c and reads back what is in
// effect (the kernel's defaults fill what was not given).
func (s *srv) applyKernel(c syscall.Conn) (sockopt.KeepAliveConfig, time.Duration, error) {
	if err := sockopt.SetKeepAlive(c, s.cfg.KeepAlive); err != nil {
		return sockopt.KeepAliveConfig{}, 0, err
	}
	if s.cfg.UserTimeout > 0 {
		if err := sockopt.SetUserTimeout(c, s.cfg.UserTimeout); err != nil {
			return sockopt.KeepAliveConfig{}, 0, err
		}
	}
	ka, err := sockopt.ReadKeepAlive(c)
	if err != nil {
		return ka, 0, err
	}
	ut, err := sockopt.UserTimeout(c)
	return ka, ut, err
}

// setKernel applies the kernel options to an accepted connection and reads
// back what is in effect, for the "connected" event.
func (s *srv) setKernel(c syscall.Conn) (event.KernelOptions, error) {
	if !s.cfg.KeepAlive.Enable && s.cfg.UserTimeout == 0 {
		return event.KernelOptions{}, nil
	}
	ka, ut, err := s.applyKernel(c)
	if err != nil {
		return event.KernelOptions{}, err
	}
	return event.KernelOptions{Set: true, KeepAlive: ka.Enable, Idle: ka.Idle, Interval: ka.Interval,
		Count: ka.Count, DeadAfter: ka.DeadAfterWith(ut), UserTimeout: ut}, nil
}

// kernelCause names the kernel's detector that gave up (ending's rule,
// which hbclient follows too); whether data was unacknowledged is not
// known here.
func (s *srv) kernelCause(err error) string {
	cause := ending.KernelCause(s.cfg.KeepAlive.Enable, s.cfg.UserTimeout > 0, ending.UnackedUnknown)
	return string(cause) + ": " + err.Error()
}

// classify names why a read or write failed.
func (s *srv) classify(err error) (ending.Reason, string) {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ending.Reset, ""
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ending.KernelDead, s.kernelCause(err)
	}
	return ending.IOError, err.Error()
}

// warnOn says once, at the start, when the kernel options combine in a
// way that surprises (the rule is sockopt's, which hbclient warns with
// too, in the words of Config.UserTimeoutWarning), as read back from c,
// where they are set.
func (s *srv) warnOn(c syscall.Conn) {
	if s.cfg.UserTimeoutWarning == nil {
		return
	}
	ka, ut, err := s.applyKernel(c)
	if w := s.cfg.UserTimeoutWarning(ka.UserTimeoutEffect(ut)); err == nil && w != "" {
		event.Emit(s.ev, s.since(), event.Warning{Text: w})
	}
}

// outOfResources reports whether accepting failed for want of file
// descriptors or memory, which pass: the server waits and retries, as
// net/http does, rather than stop serving.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// backOff says that accepting failed with err and returns how long to
// wait before the next try: twice as long as the last time, from 5 ms
// up to a second.
func (s *srv) backOff(err error) time.Duration {
	s.backoff = min(max(2*s.backoff, 5*time.Millisecond), time.Second)
	event.Emit(s.ev, s.since(), event.AcceptRetry{Err: err.Error(), Retry: s.backoff})
	return s.backoff
}
