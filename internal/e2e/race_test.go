//go:build linux && race

package e2e

// raceEnabled: the race detector slows hbserver about tenfold, so timing
// limits are loosened under it (and say so).
const raceEnabled = true
