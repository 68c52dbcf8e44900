package cli

// MaxConns is zero, unknown: Windows has no open-file limit to read.
func MaxConns() int { return 0 }
