//go:build !(linux || darwin || freebsd)

package cli

import "os"

// termWidth is false here: output is taken for a file, without colour,
// and help is wrapped at DefaultWidth.
func termWidth(*os.File) (int, bool) { return 0, false }
