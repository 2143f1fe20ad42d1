// Command tracebook runs bpftrace programs: as a bpftrace-compatible command
// line (tracebook -e 'PROGRAM'), and as a Jupyter kernel whose cells are
// bpftrace programs (tracebook --kernel CONNECTION_FILE).
//
// main only dispatches. The Jupyter modes live in cli_kernel.go and
// cli_install.go; everything else is the bpftrace-compatible command in
// cli.go.
package main

import (
	"os"

	"github.com/tracebook/tracebook/runtime"
)

func main() {
	if os.Getenv(runtime.ReleaseEnv) != "" {
		// The helper an exiting run hands its probes' perf events to
		// (runtime/release.go).
		os.Exit(runtime.ReleaseMain())
	}
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch picks the mode from the first argument that names one, so that
// "tracebook --kernel FILE" and "tracebook --install --user" never reach the
// bpftrace flag parser.
func dispatch(args []string) int {
	for _, a := range args {
		switch a {
		case "--kernel", "-kernel":
			return runKernel(args)
		case "--install", "-install":
			return runInstall(args)
		case "--uninstall", "-uninstall":
			return runUninstall(args)
		}
	}
	return runCLI(args)
}
