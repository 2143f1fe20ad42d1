package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
)

// runCheck is --check: parse and check the program as bpftrace would
// before loading it, print every error and warning on stderr in
// bpftrace's format, and exit 0 when there are no errors, 1 otherwise.
// Kernel types (tracepoint formats, BTF structs, functions that wildcards
// match) come from the running system; nothing is loaded or attached, so
// programs with kprobes check on kernels without kprobes.
func runCheck(f *cliFlags, stdin io.Reader, stderr io.Writer) int {
	name, src, err := readProgram(f, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	strlen, err := envStrLen()
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	errs := checkSource(name, src, f, systemTypes(f.PID), strlen)
	if f.NoWarnings {
		errs = errs.Errors()
	}
	lang.FormatDiagnostics(stderr, errs, src)
	if errs.HasErrors() {
		return 1
	}
	return 0
}

// checkSource parses and checks one program.
func checkSource(name string, src []byte, f *cliFlags, types lang.TypeSource, strlen int) lang.ErrorList {
	popts := &lang.ParseOptions{Params: f.Params, HaveBTF: types != nil && types.HaveBTF(), PID: f.PID,
		ReadInclude: runtime.IncludeReader(f.IncludeDir), IncludeFiles: f.Includes}
	prog, errs := lang.Parse(name, src, popts)
	if prog == nil || errs.HasErrors() {
		return errs
	}
	_, cerrs := lang.Check(prog, &lang.Config{
		Types:   types,
		Params:  f.Params,
		Unsafe:  f.Unsafe,
		StrLen:  strlen,
		HaveCmd: f.Cmd != "",
		PID:     f.PID,
	})
	all := append(errs, cerrs...)
	all.Sort()
	return all
}

// readProgram returns the program's name for diagnostics and its text:
// -e's text is "stdin", as in bpftrace, and so is "-".
func readProgram(f *cliFlags, stdin io.Reader) (string, []byte, error) {
	switch {
	case f.Program != "":
		return "stdin", []byte(f.Program), nil
	case f.File == "-":
		src, err := io.ReadAll(stdin)
		return "stdin", src, err
	}
	src, err := os.ReadFile(f.File)
	if err != nil {
		return "", nil, fmt.Errorf("failed to open file '%s': %v", f.File, unwrapPathError(err))
	}
	return f.File, src, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// envStrLen reads BPFTRACE_STRLEN (0 when unset: the checker's default).
// The checker itself reports a value over bpftrace's limit of 200.
func envStrLen() (int, error) {
	s := os.Getenv("BPFTRACE_STRLEN")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("Env var 'BPFTRACE_STRLEN' did not contain a valid uint64_t, or was zero-valued.")
	}
	return int(n), nil
}

// systemTypes returns the running system's type source, or nil (the
// checker then says kernel type information is unavailable wherever it
// needs it).
func systemTypes(pid int) lang.TypeSource {
	st, err := runtime.NewSystemTypes()
	if err != nil || st == nil {
		return nil
	}
	st.PID = pid
	return st
}
