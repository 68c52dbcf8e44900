// Package plural writes a count with its noun: "1 connection", "2
// connections", "0 connections". Every count the tools print with a noun
// goes through it, so that none says "1 connections".
package plural

import "strconv"

// Count returns n and the noun, with an "s" unless n is 1. Nouns whose
// plural is not noun+"s" give it as CountOf does.
func Count(n int, noun string) string { return CountOf(n, noun, noun+"s") }

// CountOf returns n and one or many, whichever n takes.
func CountOf(n int, one, many string) string {
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}
