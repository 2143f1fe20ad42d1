package main

import (
	"fmt"
	"io"

	"github.com/tracebook/tracebook/runtime"
)

// runList is -l [PATTERN] (and -lv): the probes this system offers that
// match the pattern, as bpftrace 0.17 lists them (runtime.ListProbes).
// With no pattern, or "*" ("*:*" after flag parsing), everything is
// listed.
func runList(f *cliFlags, stdout, stderr io.Writer) int {
	types, err := runtime.NewSystemTypes()
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	types.PID = f.PID
	pattern := f.Search
	if pattern == "*:*" {
		pattern = ""
	}
	if err := runtime.ListProbes(stdout, types, pattern, f.Verbose > 0); err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	return 0
}
