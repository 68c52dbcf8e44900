// Command hbserver answers heartbeat PINGs with PONGs after a chosen delay,
// for any number of clients. See README.md.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/servercmd"
)

func main() {
	// A closed stdout (hbserver | head -1) must not kill the server: with
	// SIGPIPE ignored, writes fail with EPIPE and the timeline stops instead.
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(cli.Main(servercmd.NewCmd(), os.Args[1:], os.Stdout, os.Stderr))
}
