package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
)

// runList is -l [PATTERN] (and -lv): the probes this system offers that
// match the pattern, as bpftrace 0.17 lists them (runtime.ListProbes).
// With no pattern, or "*" ("*:*" after flag parsing), everything is
// listed.
func runList(f *cliFlags, stdout, stderr io.Writer) int {
	if errs := invalidCharacters(f.Search); len(errs) > 0 {
		lang.FormatDiagnostics(stderr, errs, []byte(f.Search))
		return 1
	}
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

// invalidCharacters returns the scanner's "invalid character" errors in a
// search pattern: bpftrace 0.17 scans the pattern as a program, and
// refuses what its scanner refuses ("-l '\n'").
func invalidCharacters(pattern string) lang.ErrorList {
	_, errs := lang.Parse("stdin", []byte(pattern), nil)
	var out lang.ErrorList
	for _, e := range errs {
		if strings.HasPrefix(e.Msg, "invalid character") {
			out = append(out, e)
		}
	}
	return out
}
