// Command hbclient connects to a heartbeat server and shows, event by event,
// how long it takes to find the connection dead. See README.md.
package main

import (
	"os"

	"github.com/heartbeat/heartbeat/internal/clientcmd"
)

func main() {
	os.Exit(clientcmd.Main(os.Args[1:], os.Stdout, os.Stderr))
}
