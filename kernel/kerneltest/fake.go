// Package kerneltest holds what tests of the Jupyter protocol need without
// the bpftrace engine: a fake executor with a tiny line-based language, and
// an in-process zmq client. The tracebook binary also serves the fake
// executor behind the hidden --fake-executor flag, so real Jupyter clients
// (jupyter_kernel_test, jupyter console, nbclient) can test the protocol
// side without root or eBPF.
package kerneltest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tracebook/tracebook/kernel"
)

// Fake is a kernel.Executor for a toy language. Each line of a cell is one
// command (blank lines and lines starting with # are skipped):
//
//	print TEXT        TEXT and a newline on stdout
//	eprint TEXT       the same on stderr
//	result TEXT       TEXT as the cell's execute_result
//	display KIND [ID] a display_data; KIND is svg or html; ID makes it live
//	update ID N       N updates of display ID, as fast as possible
//	trace DURATION    a live counter display updated every 10ms until
//	                  DURATION passes or the cell is interrupted, then
//	                  "@events: N" on stdout (the shape of a trace cell)
//	clear             clear_output
//	flood N           N numbered lines on stdout
//	page TEXT         TEXT in the pager (an execute_reply payload)
//	sleep DURATION    wait (time.ParseDuration, or "forever") unless interrupted
//	error TEXT        fail with ename FakeError
//	fail TEXT         fail with a plain Go error
//	panic             panic inside the executor
type Fake struct {
	// Shutdowns counts Shutdown calls; tests check a kernel shuts its
	// executor down exactly once.
	Shutdowns atomic.Int32
	// LastRestart is the restart flag of the last Shutdown.
	LastRestart atomic.Bool
}

// commands documents the language; Complete and Inspect use it.
var commands = map[string]string{
	"print":   "print TEXT: writes TEXT and a newline to stdout",
	"eprint":  "eprint TEXT: writes TEXT and a newline to stderr",
	"result":  "result TEXT: shows TEXT as the cell's result (Out[n])",
	"display": "display svg|html [ID]: shows a display_data; with ID it can be updated",
	"update":  "update ID N: sends N updates of display ID",
	"trace":   "trace DURATION: a live counter until DURATION passes or the cell is interrupted",
	"clear":   "clear: clears the cell's output",
	"flood":   "flood N: writes N numbered lines to stdout",
	"page":    "page TEXT: shows TEXT in the pager",
	"sleep":   "sleep DURATION: waits, unless interrupted (DURATION may be forever)",
	"error":   "error TEXT: fails the cell with ename FakeError",
	"fail":    "fail TEXT: fails the cell with a plain error",
	"panic":   "panic: panics inside the executor",
}

// KernelInfo describes the fake host.
func (f *Fake) KernelInfo() kernel.KernelInfo {
	return kernel.KernelInfo{
		LanguageVersion: "0.17",
		ProbeTypes:      []string{"fake"},
		Notes:           []string{"fake executor: for protocol tests; cells are not bpftrace"},
		HelpLinks:       []kernel.HelpLink{{Text: "tracebook", URL: "https://github.com/tracebook/tracebook"}},
	}
}

// Execute runs the cell's commands in order, stopping at the first failure.
func (f *Fake) Execute(ctx context.Context, code string, opts kernel.ExecuteOptions, out kernel.Publisher) (kernel.Result, error) {
	var res kernel.Result
	for _, line := range strings.Split(code, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, arg, _ := strings.Cut(line, " ")
		arg = strings.TrimSpace(arg)
		switch cmd {
		case "print":
			out.Stream("stdout", arg+"\n")
		case "eprint":
			out.Stream("stderr", arg+"\n")
		case "result":
			out.Result(kernel.TextBundle(arg))
		case "display":
			kind, id, _ := strings.Cut(arg, " ")
			b, err := displayBundle(kind, 0)
			if err != nil {
				return res, err
			}
			out.Display(b, strings.TrimSpace(id))
		case "update":
			id, ns, _ := strings.Cut(arg, " ")
			n, err := strconv.Atoi(strings.TrimSpace(ns))
			if err != nil {
				return res, fmt.Errorf("update: %v", err)
			}
			for i := 1; i <= n; i++ {
				b, _ := displayBundle("svg", i)
				out.UpdateDisplay(b, id)
			}
		case "trace":
			if err := trace(ctx, arg, opts, out); err != nil {
				return res, err
			}
		case "clear":
			out.ClearOutput(false)
		case "flood":
			n, err := strconv.Atoi(arg)
			if err != nil {
				return res, fmt.Errorf("flood: %v", err)
			}
			for i := 1; i <= n; i++ {
				out.Stream("stdout", "line "+strconv.Itoa(i)+"\n")
			}
		case "page":
			res.Payloads = append(res.Payloads, kernel.PagePayload(kernel.TextBundle(arg), 0))
		case "sleep":
			if err := sleep(ctx, arg); err != nil {
				return res, err
			}
		case "error":
			return res, &kernel.CellError{Name: "FakeError", Value: arg, Traceback: []string{"FakeError: " + arg}}
		case "fail":
			return res, errors.New(arg)
		case "panic":
			panic("fake executor asked to panic")
		default:
			return res, &kernel.CellError{Name: "UnknownCommand", Value: cmd,
				Traceback: []string{fmt.Sprintf("UnknownCommand: %q is not a command of the fake executor", cmd)}}
		}
	}
	return res, nil
}

func displayBundle(kind string, n int) (kernel.Bundle, error) {
	text := fmt.Sprintf("<plot %d>", n)
	switch kind {
	case "svg":
		svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15">%d</text></svg>`, n)
		return kernel.Bundle{Data: map[string]any{"image/svg+xml": svg, "text/plain": text}}, nil
	case "html":
		return kernel.Bundle{Data: map[string]any{"text/html": fmt.Sprintf("<b>%d</b>", n), "text/plain": text}}, nil
	}
	return kernel.Bundle{}, fmt.Errorf("display: unknown kind %q (svg or html)", kind)
}

func parseDuration(arg string) (time.Duration, error) {
	if arg == "forever" {
		return time.Duration(1<<63 - 1), nil
	}
	return time.ParseDuration(arg)
}

func sleep(ctx context.Context, arg string) error {
	d, err := parseDuration(arg)
	if err != nil {
		return fmt.Errorf("sleep: %v", err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// trace imitates a trace cell: a display redrawn far faster than the
// publisher lets through, ended by time or interrupt, then a summary.
func trace(ctx context.Context, arg string, opts kernel.ExecuteOptions, out kernel.Publisher) error {
	d, err := parseDuration(arg)
	if err != nil {
		return fmt.Errorf("trace: %v", err)
	}
	id := fmt.Sprintf("trace-%d", opts.ExecutionCount)
	b, _ := displayBundle("svg", 0)
	out.Display(b, id)
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			out.Stream("stdout", fmt.Sprintf("@events: %d\n", n))
			return nil
		case <-end.C:
			out.Stream("stdout", fmt.Sprintf("@events: %d\n", n))
			return nil
		case <-tick.C:
			n++
			b, _ := displayBundle("svg", n)
			out.UpdateDisplay(b, id)
		}
	}
}

// Complete completes the command name before the cursor.
func (f *Fake) Complete(code string, cursor int) kernel.Completion {
	start := wordStart(code, cursor)
	prefix := code[start:cursor]
	var names []string
	for name := range commands {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	c := kernel.Completion{Start: start, End: cursor}
	for _, n := range names {
		c.Matches = append(c.Matches, kernel.Match{Text: n, Type: "keyword", Signature: commands[n]})
	}
	return c
}

// Inspect documents the command under the cursor.
func (f *Fake) Inspect(code string, cursor int, detail int) kernel.Inspection {
	start := wordStart(code, cursor)
	end := cursor
	for end < len(code) && isWordByte(code[end]) {
		end++
	}
	doc, ok := commands[code[start:end]]
	if !ok {
		return kernel.Inspection{}
	}
	if detail > 0 {
		doc += "\n(fake executor)"
	}
	return kernel.Inspection{Found: true, Data: kernel.TextBundle(doc)}
}

// IsComplete uses the kernel's bracket check, as the real executor will.
func (f *Fake) IsComplete(code string) kernel.IsCompleteResult { return kernel.CheckBalance(code) }

// Shutdown records the call.
func (f *Fake) Shutdown(restart bool) error {
	f.Shutdowns.Add(1)
	f.LastRestart.Store(restart)
	return nil
}

func wordStart(code string, cursor int) int {
	i := cursor
	for i > 0 && isWordByte(code[i-1]) {
		i--
	}
	return i
}

func isWordByte(c byte) bool {
	return c == '_' || c == '%' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
