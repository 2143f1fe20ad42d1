// Command tracebook runs bpftrace programs: as a bpftrace-compatible command
// line (tracebook -e 'PROGRAM'), and as a Jupyter kernel whose cells are
// bpftrace programs (tracebook --kernel CONNECTION_FILE).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "tracebook: not built yet")
	os.Exit(1)
}
