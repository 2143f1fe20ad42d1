package main

import (
	"fmt"
	"os"
)

// runCLI is the bpftrace-compatible command line.
func runCLI(args []string) int {
	fmt.Fprintln(os.Stderr, "tracebook: the command line is not built yet")
	return 1
}
