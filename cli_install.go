package main

import (
	"fmt"
	"os"
)

// runInstall writes the kernelspec; runUninstall removes it.
func runInstall(args []string) int {
	fmt.Fprintln(os.Stderr, "tracebook: --install is not built yet")
	return 1
}

func runUninstall(args []string) int {
	fmt.Fprintln(os.Stderr, "tracebook: --uninstall is not built yet")
	return 1
}
