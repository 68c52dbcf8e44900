// Package msg is the heartbeat wire format: fixed-size frames of a 4-byte
// big-endian type followed by 1024 data bytes, as the seed C programs send
// them (their messageObject struct: a u_int32_t type and char data[1024]).
//
// TCP is a byte stream, so a frame is always read whole with [ReadFrame]
// (io.ReadFull underneath): one read is never assumed to be one frame.
//
// A PING's data carries a [Stamp] (a sequence number and a send time) so that
// a peer that echoes the data lets the sender check which PING a PONG
// answers. Peers that do not echo (the seed C server sends uninitialised
// bytes) are still matched in order: the k-th PONG answers the k-th PING.
//
// Example:
//
//	var f msg.Frame
//	f.SetType(msg.Ping)
//	msg.Stamp{Seq: 1, Sent: time.Now()}.Put(&f)
//	_, err := conn.Write(f[:])
//	...
//	if err := msg.ReadFrame(conn, &f); err != nil { ... }
//	t, hostOrder := f.Type()
//
// The byte-by-byte specification is docs/PROTOCOL.md.
package msg
