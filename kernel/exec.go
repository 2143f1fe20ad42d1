package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/render"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/value"
)

// Notebook is the Executor that runs cells on the bpftrace engine. It owns
// one runtime.Session for the life of the kernel, so maps outlive cells and
// keep the types their first use gave them: a later cell's probes read and
// write the maps an earlier cell filled, and a conflicting use is a
// compile error naming the cell that fixed the type.
//
// A cell is magics (exec_magics.go) and a bpftrace program. The program's
// statements outside any probe run once, at once; a bare @map among them
// is the cell's result (Out[n]). Its probes run until exit(), the end of a
// %%trace duration, the end of a -c command, or an interrupt, which ends
// the run as Ctrl-C ends bpftrace: END runs and the maps are shown. While
// they run, one display is redrawn in place with the maps the cell writes
// and a status line (exec_live.go); at the end the maps the cell wrote are
// shown as bpftrace prints them, each with a plot where one fits.
//
// Errors never cost the session anything: a cell that does not compile
// creates nothing, and one the kernel refuses, or whose probes cannot be
// attached, leaves no map it created behind (Session.StartCell).
type Notebook struct {
	sess *runtime.Session
	log  *log.Logger
	id   string // tells this kernel's display ids from another's

	assist *assist

	infoOnce sync.Once
	infoDone chan struct{}
	info     KernelInfo

	mu  sync.Mutex // guards set and bg
	set settings
	bg  map[int]*bgRun
}

// readerNice is the nice value of a notebook session's events thread.
const readerNice = 10

// NotebookOptions configure NewNotebook.
type NotebookOptions struct {
	// Session is the session cells run in; nil creates one.
	Session *runtime.Session
	// Logger receives what the user should not see (errors closing the
	// session); nil discards it.
	Logger *log.Logger
}

// NewNotebook returns the bpftrace executor. Feature probes for the
// banner start at once in the background: they take a while (loading
// test programs), and kernel_info is the first thing a client asks.
func NewNotebook(opts *NotebookOptions) (*Notebook, error) {
	if opts == nil {
		opts = &NotebookOptions{}
	}
	nb := &Notebook{
		sess:     opts.Session,
		log:      opts.Logger,
		id:       uuid.NewString()[:8],
		infoDone: make(chan struct{}),
		set:      defaultSettings(),
		bg:       map[int]*bgRun{},
	}
	if nb.log == nil {
		nb.log = log.New(io.Discard, "", 0)
	}
	if nb.sess == nil {
		// The events thread runs niced: under a flood the heartbeat,
		// interrupts and replies must win over it (the ring buffer drops
		// and counts what it falls behind on).
		s, err := runtime.NewSession(&runtime.SessionOptions{Printf: render.Printf, ReaderNice: readerNice})
		if err != nil {
			return nil, err
		}
		nb.sess = s
	}
	nb.assist = newSystemAssist(nb.sess)
	nb.assist.bgIDs = func() []int {
		var ids []int
		for _, b := range nb.backgroundRuns() {
			ids = append(ids, b.run.ID())
		}
		return ids
	}
	go nb.KernelInfo()
	return nb, nil
}

// Session is the session cells run in.
func (nb *Notebook) Session() *runtime.Session { return nb.sess }

func (nb *Notebook) settings() settings {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	return nb.set
}

func (nb *Notebook) renderOptions() render.Options {
	return render.Options{TopN: nb.settings().TopN}
}

// Execute runs one cell: its line magics in order, then its program.
func (nb *Notebook) Execute(ctx context.Context, code string, opts ExecuteOptions, out Publisher) (Result, error) {
	var res Result
	cell, err := parseCell(code)
	if err != nil {
		return res, err
	}
	for _, m := range cell.lines {
		payloads, err := nb.lineMagic(m, out)
		res.Payloads = append(res.Payloads, payloads...)
		if err != nil {
			return res, err
		}
	}
	if strings.TrimSpace(cell.body) == "" {
		if cell.cellMagic {
			return res, usageError("%s: the cell has no program to run", map[bool]string{true: "%%bg", false: "%%trace"}[cell.run.bg])
		}
		return res, nil
	}
	name := fmt.Sprintf("cell[%d]", opts.ExecutionCount)
	return res, nb.runCell(ctx, name, cell, out)
}

// runCell compiles and runs a cell's program.
func (nb *Notebook) runCell(ctx context.Context, name string, cell cellSource, out Publisher) error {
	set := nb.settings()
	src := []byte(cell.body)
	nb.sess.SetCellOptions(runtime.CellOptions{StrLen: set.StrLen, MaxMapEntries: set.MapSize, Unsafe: set.Unsafe,
		HaveCmd: cell.run.command != ""})
	t0 := time.Now()
	prog, errs := nb.sess.CompileCell(runtime.Source{Name: name, Text: src, Cell: true})
	if prog == nil {
		return compileError(errs, src, set.Unsafe)
	}
	if w := errs.Warnings(); len(w) > 0 {
		out.Stream("stderr", render.DiagsText(runtime.Diagnostics(w, src)))
	}
	if len(prog.AST.Probes) > 0 && prog.ProbeCount() == 0 {
		return &CellError{Name: "AttachError", Value: "No probes to attach",
			Traceback: []string{"AttachError: No probes to attach (every attach point matched nothing)"}}
	}

	c := &cellRun{nb: nb, name: name, prog: prog, out: out, set: set, opts: nb.renderOptions()}
	var bg *bgRun
	sink := c.events
	write := out.Stream
	runCtx := ctx
	if cell.run.bg {
		bg = &bgRun{cell: name, prog: prog, set: set, opts: c.opts, idPrefix: fmt.Sprintf("tracebook-%s-%s", nb.id, name)}
		sink, write = bg.events, bg.write
		// A background run outlives the cell: only %stop, %reset,
		// exit() or its duration end it.
		runCtx = context.Background()
	} else {
		if set.Format != "json" {
			c.prints = newPrintSeries(fmt.Sprintf("tracebook-%s-%s", nb.id, name), c.opts)
		}
		if attachable(prog) {
			c.live = newLiveDisplay(c)
		}
	}
	var child *runtime.Child
	if cell.run.command != "" {
		var err error
		child, err = c.startChild(cell.run.command, write)
		if err != nil {
			return &CellError{Name: "CommandError", Value: err.Error(),
				Traceback: []string{"CommandError: Failed to fork child: " + err.Error()}}
		}
		if bg == nil {
			c.child = child
			defer c.endChild(child)
		}
	}
	var attached time.Time
	run, err := nb.sess.StartCell(runCtx, prog, &runtime.RunOptions{
		Sink:       sink,
		Duration:   cell.run.duration,
		Child:      child,
		Background: cell.run.bg,
		OnAttached: func() { attached = time.Now() },
		MapLimit:   notebookMapLimit,
	})
	if err != nil {
		if bg != nil && child != nil {
			c.endChild(child)
		}
		return startError(err, prog, src, set.Verbose)
	}
	c.run = run
	c.attachTime = attached.Sub(t0)
	// Plots over time count seconds from the run's start.
	started := time.Now().Add(-run.Status().Elapsed)
	c.prints.setStart(started)
	if c.live != nil {
		c.live.tl.Start = started
	}
	if bg != nil {
		bg.run, bg.child, bg.started = run, child, started
		nb.addBackground(bg, c.attachTime, out)
		return nil
	}
	return exitError(c.wait())
}

// exitError fails a cell whose program called exit() with a non-zero
// code: bpftrace makes it the process's exit status, which tells a script
// the run failed; in a notebook it stops "run all" the same way. The
// cell's output and maps are shown first.
func exitError(res *runtime.RunResult) error {
	// The exit code counts whatever ended the run first: a -c command's
	// end can win the race against the exit() its probe called.
	if res == nil || res.ExitCode == 0 {
		return nil
	}
	msg := fmt.Sprintf("the program called exit(%d)", res.ExitCode)
	return &CellError{Name: "Exit", Value: msg, Traceback: []string{"Exit: " + msg}}
}

// compileError reports parse and check errors: ename CompileError, the
// first message as evalue, every diagnostic with its caret excerpt as the
// traceback.
func compileError(errs lang.ErrorList, src []byte, unsafe bool) *CellError {
	diags := runtime.Diagnostics(errs, src)
	if !unsafe {
		for i, d := range diags {
			if strings.Contains(d.Msg, "unsafe function being used in safe mode") {
				diags[i].Notes = append(append([]string(nil), d.Notes...), "HINT: %unsafe on allows it in this notebook")
			}
		}
	}
	first := ""
	for _, d := range diags {
		if !d.Warning {
			first = d.Msg
			break
		}
	}
	return &CellError{Name: "CompileError", Value: first, Traceback: render.DiagTraceback(diags)}
}

// startError reports a program the kernel refused or whose probes could
// not be attached, pointing at the source where it can.
func startError(err error, prog *runtime.Program, src []byte, verbose bool) *CellError {
	name := "LoadError"
	var ae *runtime.AttachError
	if errors.As(err, &ae) {
		name = "AttachError"
	}
	diags := runtime.ErrorDiagnostics(err, src)
	if len(diags) > 0 && diags[0].Line == 0 {
		if ap := blamedAttachPoint(prog, ae); ap != nil {
			pos, end := ap.Span()
			lines := strings.Split(string(src), "\n")
			d := &diags[0]
			d.File = prog.Name
			d.Line, d.Col, d.EndLine, d.EndCol = pos.Line, pos.Col, end.Line, end.Col
			if pos.Line >= 1 && pos.Line <= len(lines) {
				d.SourceLine = lines[pos.Line-1]
			}
		}
	}
	var tb []string
	first := err.Error()
	for i, d := range diags {
		if i == 0 {
			first = d.Msg
		}
		if verbose {
			var notes []string
			for _, n := range d.Notes {
				if !strings.Contains(n, "run with -v") {
					notes = append(notes, n)
				}
			}
			d.Notes = notes
		} else {
			for j, n := range d.Notes {
				if strings.Contains(n, "run with -v") {
					d.Notes = append([]string(nil), d.Notes...)
					d.Notes[j] = "HINT: %verbose on shows the verifier's log"
				}
			}
		}
		tb = append(tb, render.DiagTraceback([]value.Diagnostic{d})...)
		if verbose && d.Detail != "" {
			tb = append(tb, "", "verifier log:")
			tb = append(tb, strings.Split(d.Detail, "\n")...)
		}
	}
	if len(tb) == 0 {
		tb = []string{name + ": " + first}
	}
	return &CellError{Name: name, Value: first, Traceback: tb}
}

// blamedAttachPoint finds the attach point a start error is about: the
// one that failed to attach, or else the first whose provider this
// kernel lacks (a refused kfunc load says only "operation not
// permitted").
func blamedAttachPoint(prog *runtime.Program, ae *runtime.AttachError) *lang.AttachPoint {
	for _, pr := range prog.AST.Probes {
		for _, ap := range pr.Attach {
			if ae != nil {
				if ap.Name() == ae.Probe || ap.Raw == ae.Probe {
					return ap
				}
				for _, m := range ap.Matches {
					if m.Name() == ae.Probe {
						return ap
					}
				}
				continue
			}
			if runtime.ProviderError(ap.Provider) != nil {
				return ap
			}
		}
	}
	return nil
}

// cellRun is one foreground run of a cell.
type cellRun struct {
	nb         *Notebook
	name       string
	prog       *runtime.Program
	run        *runtime.Run
	out        Publisher
	set        settings
	opts       render.Options
	attachTime time.Duration

	live   *liveDisplay
	prints *printSeries // maps printed again and again (exec_series.go)
	child  *runtime.Child

	pipes sync.WaitGroup // the -c command's output copiers
}

// events is the run's sink: printf-like output to the streams, print()
// of maps and values as displays.
func (c *cellRun) events(batch []value.Event) {
	publishEvents(c.out, batch, c.set.Format == "json", c.opts, c.live, c.prints, time.Now())
}

// publishEvents shows a batch of events. A clear-screen escape in text
// output (printf("\033[2J"), or system("clear")'s output, the idiom of
// top-like bpftrace tools) clears the cell's output instead; the live
// display, if any, is shown again at its next tick. Prints of a map that
// make a time series go through ps (nil for none), which dates them at.
func publishEvents(out Publisher, batch []value.Event, json bool, opts render.Options, live *liveDisplay, ps *printSeries, at time.Time) {
	for _, e := range batch {
		if pm, ok := e.(value.PrintMap); ok && !json && ps.show(out, pm, at) {
			continue
		}
		if w, ok := e.(value.Warning); ok {
			e = notebookWording(w)
		}
		if !json {
			if b := render.EventBundle(e, opts); b != nil {
				if pm, ok := e.(value.PrintMap); ok {
					noteCut(b, pm.Map)
				}
				out.Display(Bundle{Data: map[string]any(b)}, "")
				continue
			}
		}
		var s string
		var stream render.Stream
		if json {
			s, stream = render.EventJSON(e)
		} else {
			s, stream = render.EventText(e)
		}
		if s == "" {
			continue
		}
		name := "stdout"
		if stream == render.Stderr {
			name = "stderr"
		}
		for {
			i := strings.Index(s, clearScreen)
			if i < 0 {
				break
			}
			out.Stream(name, strings.TrimSuffix(s[:i], cursorHome))
			out.ClearOutput(true)
			if live != nil {
				live.cleared()
			}
			s = strings.TrimPrefix(s[i+len(clearScreen):], cursorHome)
		}
		s = strings.ReplaceAll(s, cursorHome, "")
		out.Stream(name, s)
	}
}

// notebookWording names the notebook's setting where a runtime warning
// names the command line's: a full map's hint is %set mapsize, not
// BPFTRACE_MAP_KEYS_MAX.
func notebookWording(w value.Warning) value.Warning {
	w.Msg = strings.Replace(w.Msg, "BPFTRACE_MAP_KEYS_MAX", "%set mapsize", 1)
	return w
}

// The escapes clear(1) writes: cursor home, then erase the screen.
const (
	clearScreen = "\x1b[2J"
	cursorHome  = "\x1b[H"
)

// wait follows a foreground run to its end: the live display while it
// runs, then its maps and result.
func (c *cellRun) wait() *runtime.RunResult {
	if c.live != nil {
		c.live.follow(c.run)
	}
	res, err := c.run.Wait()
	if c.child != nil {
		c.child.Kill() // the trace ended first (its duration, exit(), an interrupt)
	}
	c.waitPipes()
	if err != nil {
		c.out.Stream("stderr", "WARNING: "+err.Error()+"\n")
	}
	if res == nil {
		return nil
	}
	if c.live != nil {
		c.live.finish(res)
	}
	c.prints.final(c.out)
	c.showMaps(res)
	return res
}

// showMaps shows what a finished run left: the maps the cell wrote, as
// bpftrace prints them at exit, and its result.
func (c *cellRun) showMaps(res *runtime.RunResult) {
	if len(c.prog.AST.Probes) > 0 {
		showExitMaps(c.out, writtenMaps(c.prog, res.Maps), c.set.Format == "json", c.opts)
	}
	if res.Result != nil {
		// Out[n] shows its value without the newlines that end bpftrace's
		// printout, as consoles and notebooks show every other result.
		b := mapBundle(res.Result, c.set.Format == "json", c.opts)
		b.Data["text/plain"] = strings.TrimRight(b.Data["text/plain"].(string), "\n")
		c.out.Result(b)
	}
}

// showExitMaps shows maps as bpftrace's exit dump, one display each.
// Empty maps, which bpftrace prints as a blank line (the @start[tid] of a
// latency trace, emptied as it goes), are left out.
func showExitMaps(out Publisher, maps []*value.Map, json bool, opts render.Options) {
	for _, m := range render.SortMaps(maps) {
		if len(m.Entries) == 0 {
			continue
		}
		out.Display(mapBundle(m, json, opts), "")
	}
}

// mapBundle is a map's display: bpftrace's text (or its -f json line)
// with a plot or table beside.
func mapBundle(m *value.Map, json bool, opts render.Options) Bundle {
	b := render.MapBundle(m, opts)
	data := map[string]any(b)
	if json {
		data[render.MIMEText] = render.MapJSON(m, 0, 0)
	} else {
		noteCut(data, m)
	}
	return Bundle{Data: data}
}

// notebookMapLimit bounds the entries of a map a cell shows (at exit, in
// print(@m), as its result): a notebook cannot show a million-entry map,
// and reading one whole would hold hundreds of MB. bpftrace prints the
// largest entries last, and those are the ones kept. The same number as
// the stream cap's lines.
const notebookMapLimit = 10000

// printBundle is print(@m)'s display, saying what was cut.
func printBundle(e value.PrintMap, opts render.Options) Bundle {
	b := render.PrintMapBundle(e, opts)
	noteCut(b, e.Map)
	return Bundle{Data: map[string]any(b)}
}

// noteCut says, under a map's text, how many entries were left out.
func noteCut(data map[string]any, m *value.Map) {
	if m == nil || !m.Truncated {
		return
	}
	if text, ok := data[render.MIMEText].(string); ok {
		data[render.MIMEText] = text + fmt.Sprintf("[... %d more entries of %s cut: the %d largest of %d are shown]\n",
			m.Total-len(m.Entries), m.Name, len(m.Entries), m.Total)
	}
}

// writtenMaps keeps the maps the program writes: a cell that only reads
// a map an earlier cell filled does not print it again.
func writtenMaps(p *runtime.Program, maps []*value.Map) []*value.Map {
	var out []*value.Map
	for _, m := range maps {
		if mi := p.Info.Maps[m.Name]; mi != nil && mi.Written {
			out = append(out, m)
		}
	}
	return out
}

// writtenMapNames lists the maps the program writes, sorted.
func writtenMapNames(p *runtime.Program) []string {
	var names []string
	for name, mi := range p.Info.Maps {
		if mi.Written {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// attachable reports whether the program has probes that fire after it
// starts (anything but BEGIN and END): only those get a live display.
func attachable(p *runtime.Program) bool {
	for _, pr := range p.AST.Probes {
		for _, ap := range pr.Attach {
			if ap.Provider != "BEGIN" && ap.Provider != "END" {
				return true
			}
		}
	}
	return false
}

// startChild starts a -c command, held until the probes are attached,
// with its output copied to write (the cell's streams, or a background
// run's buffer).
func (c *cellRun) startChild(command string, write func(name, text string)) (*runtime.Child, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	child, err := runtime.StartChild(command, devnull, outW, errW)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	for _, p := range []struct {
		r    *os.File
		name string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		c.pipes.Add(1)
		go func() {
			defer c.pipes.Done()
			defer p.r.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := p.r.Read(buf)
				if n > 0 {
					write(p.name, string(buf[:n]))
				}
				if err != nil {
					return
				}
			}
		}()
	}
	return child, nil
}

// endChild kills the command if the run ended first (an interrupt, the
// duration, exit()), and waits a little for the last of its output.
func (c *cellRun) endChild(child *runtime.Child) {
	child.Kill()
	c.waitPipes()
}

// waitPipes waits for the command's output to be copied: until the pipes
// close, or a second at most (a grandchild may hold them open; its output
// is not the cell's).
func (c *cellRun) waitPipes() {
	done := make(chan struct{})
	go func() { c.pipes.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// Complete proposes completions (exec_complete.go).
func (nb *Notebook) Complete(code string, cursor int) Completion {
	return nb.assist.complete(code, cursor)
}

// Inspect documents what is under the cursor (exec_inspect.go).
func (nb *Notebook) Inspect(code string, cursor int, detail int) Inspection {
	return nb.assist.inspect(code, cursor, detail)
}

// IsComplete tells a console whether a cell can run (exec_complete.go).
func (nb *Notebook) IsComplete(code string) IsCompleteResult { return isComplete(code) }

// Shutdown detaches every probe (background runs' too, and ends their -c
// commands) and frees every map.
func (nb *Notebook) Shutdown(restart bool) error {
	err := nb.sess.Close()
	nb.dropBackground()
	return err
}
