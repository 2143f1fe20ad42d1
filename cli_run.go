package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/render"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// runProgram is the bpftrace-compatible run: compile the program, print
// "Attaching N probes...", run BEGIN, attach, stream events until exit(),
// Ctrl-C, SIGTERM or the -c command's end, run END, then print "\n\n" and
// every map, as bpftrace 0.17 does. It returns the process's exit status:
// 0, 1 for a program that does not compile, 255 (bpftrace's -1) when it
// cannot be loaded or attached, or exit(code)'s code.
func runProgram(f *cliFlags, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case f.EmitELF != "", f.EmitLLVM != "", f.AOT != "":
		fmt.Fprintln(stderr, "ERROR: --emit-elf, --emit-llvm and --aot are not supported: tracebook generates eBPF directly, without LLVM (-d prints it)")
		return 1
	case f.Test == "semantic":
		return runCheck(f, stdin, stderr)
	}
	// bpftrace opens the output file and starts the -c command before it
	// reads the program, so their errors come first.
	out := stdout
	if f.Output != "" {
		file, err := os.Create(f.Output)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: Failed to open output file: \"%s\": %s\n", f.Output, runtime.Strerror(errnoOf(err)))
			return 1
		}
		defer file.Close()
		out = file
	}
	env, err := readEnv()
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	var child *runtime.Child
	if f.Cmd != "" {
		child, err = runtime.StartChild(f.Cmd, os.Stdin, os.Stdout, os.Stderr)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: Failed to fork child: %v\n", err)
			return 255
		}
		defer child.Kill()
	}
	if f.Program == "" && f.File != "-" {
		if _, err := os.Stat(f.File); err != nil {
			fmt.Fprintf(stderr, "ERROR: failed to open file '%s': %s\n", f.File, runtime.Strerror(errnoOf(err)))
			return 255
		}
	}
	name, src, err := readProgram(f, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 255
	}

	command := ""
	if child != nil {
		command = child.Path
	}
	sess, err := runtime.NewSession(&runtime.SessionOptions{
		StrLen:        env.strLen,
		MaxMapEntries: env.mapKeysMax,
		Params:        f.Params,
		Unsafe:        f.Unsafe,
		PID:           f.PID,
		HaveCmd:       f.Cmd != "",
		Command:       command,
		Printf:        render.Printf,
		CatBytesMax:   env.catBytesMax,
		// The process exits when the run ends: releasing perf events
		// would delay that exit by tens of ms per tracepoint.
		HandOffRelease: true,
		VerifierStats:  f.Verbose > 0,
		HelperChecks:   f.HelperErrs,
		IncludeDirs:    f.IncludeDir,
		IncludeFiles:   f.Includes,
	})
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
		return 1
	}
	defer sess.Close()

	prog, errs := sess.Compile(runtime.Source{Name: name, Text: src})
	if f.NoWarnings {
		errs = errs.Errors()
	}
	lang.FormatDiagnostics(stderr, errs, src)
	if prog == nil {
		return 1
	}
	if f.Debug > 0 || f.Test == "codegen" {
		if f.Test == "" {
			io.WriteString(stdout, codegen.Listing(prog.Object))
		}
		return 0
	}

	w := newCLIWriter(out, stderr, f)
	defer w.flush()
	n := prog.ProbeCount()
	if n == 0 {
		if !f.Quiet {
			fmt.Fprintln(stdout, "No probes to attach")
		}
		return 1
	}
	if !f.Quiet {
		if f.Format == "json" {
			w.writeOut(render.AttachJSON(n))
		} else {
			w.writeOut(render.AttachText(n))
		}
		w.flush()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	// SIGUSR1 prints every map now, as in bpftrace 0.17.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for {
			select {
			case <-usr1:
				maps, _ := sess.ReadMaps(prog.Object.MapNames(), 0)
				if f.Format == "json" {
					w.writeOut(render.MapsJSON(maps))
				} else {
					w.writeOut(render.MapsText(maps))
				}
				w.flush()
			case <-ctx.Done():
				return
			}
		}
	}()

	_, notify := os.LookupEnv("__BPFTRACE_NOTIFY_PROBES_ATTACHED")
	run, err := sess.Start(ctx, prog, &runtime.RunOptions{
		Sink:  w.events,
		Child: child,
		OnAttached: func() {
			if notify {
				fmt.Fprintln(stderr, "__BPFTRACE_NOTIFY_PROBES_ATTACHED")
			}
			w.release()
		},
	})
	if err != nil {
		w.release()
		printStartError(stderr, err, src, f.Verbose > 0)
		return 255
	}
	if f.Verbose > 0 {
		printProgramInfo(stderr, prog, run.VerifierStats())
	}
	res, err := run.Wait()
	signal.Stop(sigs)
	w.flush()
	if err != nil {
		fmt.Fprintf(stderr, "ERROR: %v\n", err)
	}
	if res == nil {
		return 1
	}
	// bpftrace writes the two newlines to stdout even with -o and -f json.
	io.WriteString(stdout, "\n\n")
	if f.Format == "json" {
		w.writeOut(render.MapsJSON(res.Maps))
	} else {
		w.writeOut(render.MapsText(res.Maps))
	}
	w.flush()
	if f.Verbose > 0 && child != nil {
		child.Kill()
		if code := child.ExitCode(); code >= 0 {
			fmt.Fprintf(stdout, "Child exited with code: %d\n", code)
		}
	}
	return res.ExitCode & 0xff
}

// cliEnv holds the BPFTRACE_* environment variables the run honours.
type cliEnv struct {
	strLen, mapKeysMax, catBytesMax int
}

// readEnv reads BPFTRACE_STRLEN, BPFTRACE_MAP_KEYS_MAX and
// BPFTRACE_CAT_BYTES_MAX with bpftrace's messages for bad values.
func readEnv() (cliEnv, error) {
	var e cliEnv
	var err error
	if e.strLen, err = envStrLen(); err != nil {
		return e, err
	}
	if s := os.Getenv("BPFTRACE_MAP_KEYS_MAX"); s != "" {
		n, err := strconv.ParseUint(s, 10, 31)
		if err != nil || n == 0 {
			return e, errors.New("Env var 'BPFTRACE_MAP_KEYS_MAX' did not contain a valid uint64_t, or was zero-valued.")
		}
		e.mapKeysMax = int(n)
	}
	if s := os.Getenv("BPFTRACE_CAT_BYTES_MAX"); s != "" {
		n, err := strconv.ParseUint(s, 10, 31)
		if err != nil {
			return e, errors.New("Env var 'BPFTRACE_CAT_BYTES_MAX' did not contain a valid uint64_t, or was zero-valued.")
		}
		e.catBytesMax = int(n)
	}
	return e, nil
}

// errnoOf returns the errno in err, 0 when there is none.
func errnoOf(err error) int {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int(en)
	}
	return 0
}

// printStartError prints why the program could not be loaded or attached:
// a verifier rejection at the statement it points to (and with -v the
// verifier's log), an attach failure as bpftrace words it.
func printStartError(stderr io.Writer, err error, src []byte, verbose bool) {
	var ae *runtime.AttachError
	if errors.As(err, &ae) {
		fmt.Fprintf(stderr, "ERROR: Error attaching probe: '%s': %v\n", ae.Probe, runtime.CleanError(ae.Err))
		return
	}
	for _, d := range runtime.ErrorDiagnostics(err, src) {
		if !verbose {
			io.WriteString(stderr, render.DiagText(d))
			continue
		}
		// With -v the log replaces the hint that points to -v.
		var notes []string
		for _, n := range d.Notes {
			if n != "HINT: run with -v for the verifier's log" {
				notes = append(notes, n)
			}
		}
		d.Notes = notes
		io.WriteString(stderr, render.DiagText(d))
		if d.Detail != "" {
			fmt.Fprintf(stderr, "\nverifier log:\n%s\n", d.Detail)
		}
	}
}

// printProgramInfo is -v: each program that was loaded, its size, and
// the verifier's statistics.
func printProgramInfo(w io.Writer, p *runtime.Program, stats map[string]string) {
	for _, pr := range p.Object.Programs {
		n := 0
		for _, ins := range pr.Spec.Instructions {
			n += int(ins.Size() / 8)
		}
		what := pr.Kind.String()
		if len(pr.Attach) > 0 {
			what = pr.Attach[0].Name()
			if len(pr.Attach) > 1 {
				what += fmt.Sprintf(" and %d more", len(pr.Attach)-1)
			}
		}
		fmt.Fprintf(w, "Program %s (%s, %s): %d instructions\n", pr.Name, what, pr.Spec.Type, n)
		if st := stats[pr.Name]; st != "" {
			for _, line := range strings.Split(st, "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
}

// cliWriter writes a run's output: events as they arrive (text or NDJSON)
// to the output (stdout or -o's file), warnings to stderr, with -B's
// buffering (line, the default, flushes after each batch of events).
//
// What BEGIN prints is held until every probe is attached: bpftrace reads
// its events only once it has attached (and printed the attach marker), so
// BEGIN's output follows the marker, and bpftrace's own test runner, which
// merges the two streams, expects it there.
type cliWriter struct {
	mu    sync.Mutex
	out   *bufio.Writer
	errw  io.Writer
	json  bool
	unbuf bool
	full  bool
	held  bool
}

func newCLIWriter(out, stderr io.Writer, f *cliFlags) *cliWriter {
	return &cliWriter{out: bufio.NewWriterSize(out, 64<<10), errw: stderr, json: f.Format == "json",
		unbuf: f.Buffering == "none", full: f.Buffering == "full", held: true}
}

// release ends the hold on BEGIN's output and flushes it.
func (w *cliWriter) release() {
	w.mu.Lock()
	w.held = false
	w.out.Flush()
	w.mu.Unlock()
}

func (w *cliWriter) writeOut(s string) {
	w.mu.Lock()
	w.out.WriteString(s)
	w.mu.Unlock()
}

func (w *cliWriter) flush() {
	w.mu.Lock()
	w.out.Flush()
	w.mu.Unlock()
}

// events is the run's sink.
func (w *cliWriter) events(batch []value.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range batch {
		var s string
		var stream render.Stream
		if w.json {
			s, stream = render.EventJSON(e)
		} else {
			s, stream = render.EventText(e)
		}
		if s == "" {
			continue
		}
		if stream == render.Stderr {
			if !w.held {
				w.out.Flush()
			}
			io.WriteString(w.errw, s)
			continue
		}
		w.out.WriteString(s)
		if w.unbuf && !w.held {
			w.out.Flush()
		}
	}
	if !w.full && !w.held {
		w.out.Flush()
	}
}
