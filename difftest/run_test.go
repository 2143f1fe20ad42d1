package difftest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// notifyMarker is the line bpftrace prints on stderr once every probe is
// attached, when __BPFTRACE_NOTIFY_PROBES_ATTACHED is set.
const notifyMarker = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"

// A result is what one run of one program produced.
type result struct {
	Stdout, Stderr string
	Exit           int    // exit status; -1 when killed by a signal
	Note           string // what went wrong with the run itself (timeout, signal)
	Files          []file // files the case asked to see (FILES)
}

// A file is one output file the run left in its directory.
type file struct{ Name, Text string }

// Render is the golden-file form of a result: the exit status, then both
// streams. Anything in Note is rendered too, so a timed-out run never
// matches a golden file.
func (r result) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d\n", r.Exit)
	if r.Note != "" {
		fmt.Fprintf(&b, "!! %s\n", r.Note)
	}
	section := func(name, s string) {
		fmt.Fprintf(&b, "-- %s --\n%s", name, s)
		if s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteString("\n(no newline at end)\n")
		}
	}
	section("stdout", r.Stdout)
	section("stderr", r.Stderr)
	for _, f := range r.Files {
		section("file "+f.Name, f.Text)
	}
	return b.String()
}

// runCase runs c through the bpftrace-compatible binary bin and returns the
// raw (not yet normalised) result. progs is the directory of the compiled
// workloads; work is an empty directory to run in.
func runCase(bin string, c *diffCase, progs, work string) (result, error) {
	subst := func(s string) string {
		s = strings.ReplaceAll(s, "{{PROGS}}", progs)
		s = strings.ReplaceAll(s, "{{TESTDATA}}", testdataDir())
		return strings.ReplaceAll(s, "{{DIR}}", work)
	}
	substAll := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = subst(s)
		}
		return out
	}

	var before *exec.Cmd
	if len(c.Before) > 0 {
		words := substAll(c.Before)
		before = exec.Command(words[0], words[1:]...)
		before.Dir = work
		before.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := before.Start(); err != nil {
			return result{}, fmt.Errorf("BEFORE: %v", err)
		}
		defer func() {
			syscall.Kill(-before.Process.Pid, syscall.SIGKILL)
			before.Wait()
		}()
	}
	pidSubst := func(ss []string) []string {
		if before == nil {
			return ss
		}
		pid := strconv.Itoa(before.Process.Pid)
		for i := range ss {
			ss[i] = strings.ReplaceAll(ss[i], "{{BEFORE_PID}}", pid)
		}
		return ss
	}

	prog := subst(c.Prog)
	args := pidSubst(substAll(c.Args))
	var stdin io.Reader
	switch c.Input {
	case "e":
		args = append(args, "-e", prog)
	case "file":
		if err := os.WriteFile(filepath.Join(work, "prog.bt"), []byte(prog+"\n"), 0o644); err != nil {
			return result{}, err
		}
		args = append(args, "prog.bt")
	case "stdin":
		args = append(args, "-")
		stdin = strings.NewReader(prog + "\n")
	}
	args = append(args, pidSubst(substAll(c.Params))...)

	cmd := exec.Command(bin, args...)
	cmd.Dir = work
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), c.Env...)
	if c.Interrupt > 0 {
		cmd.Env = append(cmd.Env, notifyMarker+"=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout bytes.Buffer
	stderr := &markerWriter{marker: notifyMarker + "\n", seen: make(chan struct{})}
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	pid := cmd.Process.Pid
	done := make(chan struct{})
	var note string
	var noteMu sync.Mutex
	setNote := func(s string) {
		noteMu.Lock()
		if note == "" {
			note = s
		}
		noteMu.Unlock()
	}
	go func() {
		timeout := time.NewTimer(c.Timeout)
		defer timeout.Stop()
		var interrupt <-chan time.Time
		seen := stderr.seen
		for {
			select {
			case <-done:
				return
			case <-seen:
				seen = nil
				interrupt = time.After(c.Interrupt)
			case <-interrupt:
				interrupt = nil
				ctrlC(pid, done, c.Timeout)
				return
			case <-timeout.C:
				setNote(fmt.Sprintf("timed out after %v", c.Timeout))
				// Like Ctrl-C first, so END and the map dump still run.
				ctrlC(pid, done, 3*time.Second)
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	// Nothing the run started may outlive it (a -c child, say).
	syscall.Kill(-pid, syscall.SIGKILL)

	r := result{Stdout: stdout.String(), Stderr: stderr.String(), Exit: cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return result{}, err
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		setNote("killed by " + ws.Signal().String())
	}
	noteMu.Lock()
	r.Note = note
	noteMu.Unlock()
	for _, name := range c.Files {
		text, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			text = []byte("(missing)\n")
		}
		r.Files = append(r.Files, file{name, string(text)})
	}
	return r, nil
}

// testdataDir is the absolute path of testdata, which cases name as
// {{TESTDATA}}.
func testdataDir() string {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		return "testdata"
	}
	return dir
}

// ctrlC interrupts the run like Ctrl-C, and kills it after grace.
//
// bpftrace 0.17 only notices SIGINT when the signal interrupts its
// epoll_wait: one that lands while it is between two waits (likely on a
// loaded machine) sets a flag nobody reads, and a quiet program then runs
// forever. So the signal is repeated every second until the process ends;
// a second SIGINT costs nothing, since tracing stops at the first one that
// is noticed and the map dump that follows takes milliseconds.
func ctrlC(pid int, done <-chan struct{}, grace time.Duration) {
	deadline := time.After(grace)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	syscall.Kill(pid, syscall.SIGINT)
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			syscall.Kill(pid, syscall.SIGINT)
		case <-deadline:
			syscall.Kill(-pid, syscall.SIGKILL)
			return
		}
	}
}

// markerWriter collects stderr and closes seen when marker first appears
// at the start of a line.
type markerWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
	closed bool
}

func (w *markerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.closed {
		b := w.buf.String()
		if strings.HasPrefix(b, w.marker) || strings.Contains(b, "\n"+w.marker) {
			close(w.seen)
			w.closed = true
		}
	}
	return len(p), nil
}

func (w *markerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// normalise removes what is inherently nondeterministic or specific to
// this run, the same way for both tools:
//   - the work, workload and testdata directories become {{DIR}},
//     {{PROGS}} and {{TESTDATA}};
//   - stderr loses bpftrace's RLIMIT_MEMLOCK complaint (printed on every
//     run on these machines, whatever the program) and the attach marker;
//   - the case's own NORM rewrites apply to both streams;
//   - with SORT, stdout's lines are sorted (ties in map sorting).
func normalise(c *diffCase, r result, progs, work string) result {
	fix := func(s string) string {
		if progs != "" {
			s = strings.ReplaceAll(s, progs, "{{PROGS}}")
		}
		s = strings.ReplaceAll(s, work, "{{DIR}}")
		return strings.ReplaceAll(s, testdataDir(), "{{TESTDATA}}")
	}
	r.Stdout = fix(r.Stdout)
	r.Stderr = fix(r.Stderr)
	for i := range r.Files {
		r.Files[i].Text = fix(r.Files[i].Text)
	}

	var kept []string
	for _, line := range strings.SplitAfter(r.Stderr, "\n") {
		if strings.Contains(line, "couldn't set RLIMIT_MEMLOCK") || strings.TrimSpace(line) == notifyMarker {
			continue
		}
		kept = append(kept, line)
	}
	r.Stderr = strings.Join(kept, "")

	for _, n := range c.Norms {
		r.Stdout = n.re.ReplaceAllString(r.Stdout, n.repl)
		r.Stderr = n.re.ReplaceAllString(r.Stderr, n.repl)
	}
	if c.Sort {
		lines := strings.SplitAfter(r.Stdout, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
			lines[n-1] += "\n"
		}
		sort.Strings(lines)
		r.Stdout = strings.Join(lines, "")
	}
	return r
}

// lineDiff returns a compact description of how got differs from want:
// an LCS line diff, "-" for wanted lines missing and "+" for extra lines,
// cut after max lines.
func lineDiff(want, got string, max int) string {
	a := strings.Split(want, "\n")
	b := strings.Split(got, "\n")
	if len(a)*len(b) > 4_000_000 {
		return fmt.Sprintf("(outputs too long to diff: %d and %d lines)", len(a), len(b))
	}
	// lcs[i][j] = length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max2(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	// Keep two lines of context around changes.
	var keep []string
	for k, line := range out {
		near := false
		for d := -2; d <= 2; d++ {
			if k+d >= 0 && k+d < len(out) && !strings.HasPrefix(out[k+d], "  ") {
				near = true
			}
		}
		if near {
			keep = append(keep, line)
		} else if len(keep) > 0 && keep[len(keep)-1] != "  ..." {
			keep = append(keep, "  ...")
		}
	}
	if len(keep) > max {
		keep = append(keep[:max], fmt.Sprintf("  (%d more lines)", len(keep)-max))
	}
	return strings.Join(keep, "\n")
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}
