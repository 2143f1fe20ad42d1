package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// runCLI is the bpftrace-compatible command line: it parses bpftrace's
// flags (cli_flags.go) and runs the mode they select. --check parses and
// checks a program without loading anything (cli_check.go), -l lists
// probes (cli_list.go), and everything else runs the program
// (cli_run.go).
func runCLI(args []string) int {
	return runCLIWith(args, os.Stdin, os.Stdout, os.Stderr)
}

func runCLIWith(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := parseCLIFlags(args)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			if ue.msg != "" {
				fmt.Fprintln(stderr, ue.msg)
			}
			if ue.usage {
				io.WriteString(stderr, cliUsage)
			}
			return 1
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch {
	case f.Help:
		io.WriteString(stderr, cliUsage)
		return 0
	case f.Version:
		fmt.Fprintln(stdout, "tracebook, compatible with bpftrace v0.17.0")
		return 0
	case f.Check:
		return runCheck(f, stdin, stderr)
	case f.Info:
		return runInfo(stdout)
	case f.List:
		return runList(f, stdout, stderr)
	}
	return runProgram(f, stdin, stdout, stderr)
}
