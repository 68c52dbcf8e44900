// Package peer decides what a frame received from the peer means, once, for
// both the single connection client and the load mode: a PONG in time, late
// or unsolicited, the server's PING to answer, a warning or closing NOTICE,
// a data frame, and the notes on a seed-style peer. It also names how a
// connection ends, in ending's words. It does no I/O, reads no clock and starts
// no goroutine: every rule is tested with exact times.
//
// Example:
//
//	in := peer.Interpreter{M: probe.New(cfg, start)}
//	mn := in.Frame(&f, now)
//	if mn.Reply { send(f) }
//	if mn.End == ending.ClosedByNotice { ... mn.Text is the reason }
package peer
