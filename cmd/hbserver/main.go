// Command hbserver answers heartbeat PINGs with PONGs after a chosen delay,
// for any number of clients. See README.md.
package main

import (
	"os"

	"github.com/heartbeat/heartbeat/internal/servercmd"
)

func main() {
	os.Exit(servercmd.Main(os.Args[1:], os.Stdout, os.Stderr))
}
