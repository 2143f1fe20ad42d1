package main

import (
	"fmt"
	"os"
)

// runKernel serves a Jupyter connection file.
func runKernel(args []string) int {
	fmt.Fprintln(os.Stderr, "tracebook: the Jupyter kernel is not built yet")
	return 1
}
