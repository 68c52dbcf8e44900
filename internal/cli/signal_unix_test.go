//go:build unix

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
)

// The cause a signal gives the command's context names the signal as
// kill(1) does, not as Go's os.Signal prints it ("terminated").
func TestSignalCause(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{syscall.SIGINT: "SIGINT received", syscall.SIGTERM: "SIGTERM received"} {
		c := &cobra.Command{
			Use: "tool",
			RunE: func(c *cobra.Command, _ []string) error {
				if err := syscall.Kill(os.Getpid(), sig); err != nil {
					return err
				}
				<-c.Context().Done()
				fmt.Fprint(c.OutOrStdout(), context.Cause(c.Context()))
				return nil
			},
		}
		var out, errb bytes.Buffer
		if code := Main(c, nil, &out, &errb); code != 0 || out.String() != want {
			t.Errorf("%v: exit %d, cause %q, want %q; stderr %q", sig, code, out.String(), want, errb.String())
		}
	}
}
