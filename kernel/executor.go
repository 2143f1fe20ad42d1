package kernel

import (
	"context"
	"errors"
	"fmt"
)

// Executor does the work of the language behind the protocol. The dispatcher
// owns everything Jupyter-specific (framing, busy/idle, counters, history,
// aborting queued cells, interrupts); an Executor only runs code and answers
// questions about it. The split follows xeus's xinterpreter: one method per
// request that needs the language (execute, complete, inspect, is_complete,
// kernel_info, shutdown), with interrupts delivered by cancelling the ctx of
// the running Execute.
//
// Offsets: cursor positions an Executor receives and returns are byte
// offsets into code, always on a rune boundary and within [0, len(code)].
// The dispatcher converts from and to the protocol's code-point offsets.
//
// Concurrency: Execute, Complete, Inspect and IsComplete are called from one
// goroutine, one at a time (the shell queue); KernelInfo may also be called
// from the control goroutine while Execute runs; Shutdown is called once, after
// any running Execute has returned or was given up on.
type Executor interface {
	// KernelInfo describes the host for kernel_info_reply: its banner and
	// what probe types this host allows.
	KernelInfo() KernelInfo

	// Execute runs one cell. ctx is cancelled when the user interrupts the
	// cell (interrupt_request on control or shell, or SIGINT); the executor
	// should then stop, publish whatever final output it has (a trace cell
	// prints its maps, as bpftrace does on Ctrl-C) and return. Whatever it
	// returns, an interrupted cell is reported with status "error" and ename
	// "Interrupted", so that "run all" stops there.
	//
	// Output goes through out while Execute runs; out is closed when Execute
	// returns and drops anything sent later. A non-nil error fails the cell:
	// return a *CellError to choose ename, evalue and traceback; any other
	// error is shown as ename "Error". If the executor already published an
	// error through out.Error, the dispatcher does not publish a second one.
	Execute(ctx context.Context, code string, opts ExecuteOptions, out Publisher) (Result, error)

	// Complete proposes completions for the text around cursor.
	Complete(code string, cursor int) Completion

	// Inspect returns help for the thing at cursor; detail is the protocol's
	// detail_level (0 or 1).
	Inspect(code string, cursor int, detail int) Inspection

	// IsComplete tells a console whether code is ready to run. Executors of
	// C-like languages can return CheckBalance(code).
	IsComplete(code string) IsCompleteResult

	// Shutdown releases everything the executor holds (probes, maps). restart
	// is true when the client will start a new kernel right away.
	Shutdown(restart bool) error
}

// ExecuteOptions are the parts of an execute_request an executor may care
// about. allow_stdin is not offered: the kernel never asks for input.
type ExecuteOptions struct {
	// ExecutionCount is the cell's number, In[n]; errors that refer to an
	// earlier cell can name it by this number.
	ExecutionCount int
	// Silent means the client wants no output; the Publisher drops it all.
	Silent bool
	// StoreHistory is false for cells the client does not want counted.
	StoreHistory bool
}

// Result is what a successful cell returns besides its published output.
type Result struct {
	// Payloads become execute_reply's payload list; a "page" payload shows
	// text in the client's pager (see PagePayload).
	Payloads []map[string]any
}

// PagePayload builds the execute_reply payload that opens the pager with
// bundle's data, starting at line start.
func PagePayload(b Bundle, start int) map[string]any {
	return map[string]any{"source": "page", "data": dict(b.Data), "start": start}
}

// Bundle is a MIME bundle: data keyed by MIME type, with per-type metadata
// (e.g. "image/svg+xml": {"width": 640}). Always include "text/plain":
// consoles and text exporters show nothing else.
type Bundle struct {
	Data     map[string]any
	Metadata map[string]any
}

// TextBundle is a bundle holding only text/plain.
func TextBundle(s string) Bundle {
	return Bundle{Data: map[string]any{"text/plain": s}}
}

// Publisher sends a cell's output on IOPub, with the cell's execute_request as
// parent. It batches stream text (at most ten stream messages a second), caps
// a cell's stream output, and throttles display updates (at most five a
// second per display id, the last one always sent), which keeps a busy trace
// under jupyter_server's IOPub rate limits. Methods are safe for concurrent use.
type Publisher interface {
	// Stream appends text to stdout or stderr (name "stdout" or "stderr").
	Stream(name, text string)
	// Display shows a new output; a non-empty displayID lets later
	// UpdateDisplay calls replace it in place.
	Display(b Bundle, displayID string)
	// UpdateDisplay replaces every output shown with displayID.
	UpdateDisplay(b Bundle, displayID string)
	// Result publishes the cell's value, Out[n].
	Result(b Bundle)
	// Error publishes an error output. Executors usually return the error
	// from Execute instead; use this only to show an error in the middle of
	// a cell that goes on.
	Error(ename, evalue string, traceback []string)
	// ClearOutput clears the cell's output; with wait, when the next
	// output arrives (flicker-free redraw).
	ClearOutput(wait bool)
}

// KernelInfo is the executor's part of kernel_info_reply.
type KernelInfo struct {
	// LanguageVersion is the bpftrace version whose language the executor
	// follows, e.g. "0.17".
	LanguageVersion string
	// BTF reports whether the host kernel exposes BTF (/sys/kernel/btf/vmlinux).
	BTF bool
	// ProbeTypes lists the probe types this host allows, e.g. "tracepoint",
	// "kprobe"; the banner shows them.
	ProbeTypes []string
	// Notes are extra banner lines (e.g. "not running as root: probes will
	// not attach").
	Notes []string
	// HelpLinks appear in the client's help menu.
	HelpLinks []HelpLink
}

// HelpLink is one entry of kernel_info_reply's help_links.
type HelpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Completion is the executor's answer to complete_request. Start and End are
// byte offsets into the code: the text between them is what a match replaces.
type Completion struct {
	Start, End int
	Matches    []Match
}

// Match is one completion. Type (e.g. "function", "probe", "map", "keyword")
// and Signature are optional; JupyterLab shows them beside the match.
type Match struct {
	Text      string
	Type      string
	Signature string
}

// Inspection is the executor's answer to inspect_request.
type Inspection struct {
	Found bool
	Data  Bundle
}

// IsCompleteResult is the executor's answer to is_complete_request. Status is
// "complete", "incomplete", "invalid" or "unknown"; Indent, for "incomplete",
// is what the console should put at the start of the next line.
type IsCompleteResult struct {
	Status string
	Indent string
}

// CellError is an error shown to the user as an error output: the ename,
// evalue and traceback of the protocol's error message. Traceback lines may
// carry ANSI colours.
type CellError struct {
	Name      string
	Value     string
	Traceback []string
}

func (e *CellError) Error() string {
	if e.Value == "" {
		return e.Name
	}
	return e.Name + ": " + e.Value
}

// ErrInterrupted is how an interrupted cell is reported. It is a *CellError
// so executors may return it themselves.
var ErrInterrupted = &CellError{
	Name:      "Interrupted",
	Value:     "the cell was interrupted",
	Traceback: []string{"Interrupted: the cell was interrupted"},
}

// asCellError turns whatever Execute returned into the error the user sees.
func asCellError(err error) *CellError {
	var ce *CellError
	if errors.As(err, &ce) {
		if ce.Traceback == nil {
			c := *ce
			c.Traceback = []string{ce.Error()}
			return &c
		}
		return ce
	}
	return &CellError{Name: "Error", Value: err.Error(), Traceback: []string{err.Error()}}
}

// panicError reports a panic inside an executor as a cell error, so that a
// bug in one cell's handling does not take the kernel (and its session's
// maps) down with it.
func panicError(what string, v any) *CellError {
	msg := fmt.Sprintf("internal error in %s: %v", what, v)
	return &CellError{Name: "InternalError", Value: msg, Traceback: []string{msg}}
}
