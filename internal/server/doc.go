// Package server is hbserver's core: it accepts any number of clients and
// answers each PING with a PONG after a fixed delay, as the seed C server
// does, but for every client at once.
//
// It has two backends that drive the same per-connection policy
// (policy.go): on Linux an event loop over epoll (server.go, conn.go), on
// every other OS, or with the build tag portable, a goroutine per
// connection (portable.go).
//
// Per connection the PINGs are answered serially, like the C server's loop
// of recv, sleep, send: a PING that arrives during a delay waits its turn.
// The PONG echoes the PING's data, so a client can check which PING it
// answers. TYPE1, TYPE2 and unknown types are reported and otherwise ignored.
//
// Example:
//
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	err := server.Serve(ctx, ln, server.Config{Sleep: 5 * time.Second, Events: w})
package server
