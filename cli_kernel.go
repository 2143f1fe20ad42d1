package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/tracebook/tracebook/kernel"
	"github.com/tracebook/tracebook/kernel/kerneltest"
)

// runKernel serves a Jupyter connection file:
//
//	tracebook --kernel CONNECTION_FILE [--fake-executor]
//
// Arguments it does not know are ignored (and logged): `jupyter run` and
// some launchers append their own to a kernelspec's argv. --fake-executor,
// which the test kernelspec passes, serves the toy language of
// kernel/kerneltest instead of bpftrace.
func runKernel(args []string) int {
	logger := log.New(os.Stderr, "tracebook kernel: ", log.LstdFlags)
	var connFile string
	fake := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--kernel" || a == "-kernel":
			if i+1 >= len(args) {
				fmt.Fprintln(os.Stderr, "tracebook: --kernel needs a connection file")
				return 2
			}
			i++
			connFile = args[i]
		case strings.HasPrefix(a, "--kernel=") || strings.HasPrefix(a, "-kernel="):
			connFile = a[strings.IndexByte(a, '=')+1:]
		case a == "--fake-executor":
			fake = true
		default:
			logger.Printf("ignoring argument %q", a)
		}
	}
	if connFile == "" {
		fmt.Fprintln(os.Stderr, "tracebook: --kernel needs a connection file")
		return 2
	}
	ci, err := kernel.ReadConnectionFile(connFile, logger)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracebook: %v\n", err)
		return 1
	}
	var exec kernel.Executor
	if fake {
		exec = &kerneltest.Fake{}
	} else {
		exec, err = newNotebookExecutor(logger)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tracebook: %v\n", err)
			return 1
		}
	}
	k, err := kernel.New(kernel.Config{
		Connection:    ci,
		Executor:      exec,
		Logger:        logger,
		WatchParent:   true,
		HandleSignals: true,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracebook: %v\n", err)
		return 1
	}
	if err := k.Run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "tracebook: %v\n", err)
		return 1
	}
	return 0
}

// newNotebookExecutor returns the executor that runs cells on the bpftrace
// engine: one runtime session for the kernel's life (kernel/exec.go).
func newNotebookExecutor(logger *log.Logger) (kernel.Executor, error) {
	return kernel.NewNotebook(&kernel.NotebookOptions{Logger: logger})
}
