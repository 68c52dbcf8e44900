package clientcmd

import (
	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/lessons"
)

// lessonsWidth is the width `hbclient lessons` wraps its text to: a
// classroom terminal's.
const lessonsWidth = 80

func newLessonsCmd() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "lessons",
		Short: "List the seed documents' claims and the lesson that shows each",
		Args:  cli.Args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if jsonOut {
				return lessons.WriteJSON(cmd.OutOrStdout(), lessons.All)
			}
			return lessons.WriteText(cmd.OutOrStdout(), lessons.All, lessonsWidth)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object a lesson, a line each")
	return cmd
}
