//go:build !unix

package server

import "net"

// discardUnread does nothing where a socket cannot be read without
// waiting through package net (Windows): closing with bytes unread may
// send a RST there, which a client sees as "reset by peer".
func discardUnread(*net.TCPConn) {}
