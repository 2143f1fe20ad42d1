package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// A run is one program's lifetime: load, BEGIN (and a cell's top-level
// statements), attach, events until it stops, detach, END, the final map
// snapshots. Start does everything up to the attach and returns; the run
// then goes on by itself until exit(), its context, its duration, its -c
// command or -p process, or Stop ends it; Wait returns its result.

// StopReason says why a run ended.
type StopReason uint8

const (
	StopNone        StopReason = iota
	StopExit                   // the program called exit()
	StopInterrupt              // the run's context was cancelled (Ctrl-C, SIGTERM, a notebook interrupt)
	StopDuration               // RunOptions.Duration elapsed
	StopChildExited            // the -c command exited
	StopPIDExited              // the -p process exited
	StopDetached               // Stop, Session.Detach, Reset or Close
	StopDone                   // a cell of top-level statements only, which ends once they ran; an iterator that has iterated
)

var stopNames = [...]string{"", "exit", "interrupt", "duration", "child exited", "process exited", "detached", "done"}

func (r StopReason) String() string {
	if int(r) < len(stopNames) {
		return stopNames[r]
	}
	return fmt.Sprintf("StopReason(%d)", r)
}

// RunOptions configure a run.
type RunOptions struct {
	// Sink receives the run's output events (printf, print, time, cat,
	// join, system, lost events, warnings) in order, in batches, from the
	// session's reader goroutine. It must not keep the slice. Nil drops
	// them.
	Sink func(batch []value.Event)
	// Duration ends the run after this long (0: no limit).
	Duration time.Duration
	// Child is the -c command: cpid, uprobes filtered on it, released
	// once every probe is attached, and the run ends when it exits.
	Child *Child
	// Background marks a run whose caller does not wait (a notebook's
	// %%bg cell); it only shows in RunInfo. A run stops when its context
	// is done, so a background run needs a context that outlives the call.
	Background bool
	// OnAttached is called once every probe is attached (after BEGIN),
	// before the -c command is released: the CLI prints the
	// __BPFTRACE_NOTIFY_PROBES_ATTACHED marker there.
	OnAttached func()
	// MapLimit bounds the entries decoded per map in the final snapshots,
	// in print(@m) and in a cell's result (0: all, as the CLI's exit
	// dump needs); a map that holds more keeps its largest entries and
	// is marked Truncated.
	MapLimit int
}

// RunResult is what a run left.
type RunResult struct {
	// Maps are the program's maps after END, sorted by name, every one
	// (empty ones too): what bpftrace prints at exit.
	Maps []*value.Map
	// Result is a notebook cell's result, its trailing bare @m, read when
	// the statement ran; nil when it has none.
	Result *value.Map
	// ExitCode is exit(code)'s code (0 for exit() and other endings).
	ExitCode int
	Reason   StopReason
	// Events is how many events the run's programs sent, Drops how many
	// the ring buffer lost while it ran (for the whole session).
	Events, Drops uint64
	Started       time.Time
	Elapsed       time.Duration
}

// Run is a started program.
type Run struct {
	s       *Session
	id      int
	prog    *Program
	opts    RunOptions
	ld      *loaded
	started time.Time
	// slotBase is each map's count of events its slots' flushes could not
	// add (the map was full) when the run started: the run reports what
	// it adds to them.
	slotBase map[string]uint64

	linksMu  sync.Mutex
	links    []io.Closer         // nil where unwatch() detached one
	linkAPs  []*lang.AttachPoint // the attach point of each link
	probes   []string
	detached bool // finish has taken the links: a watchpoint armed now is closed at once

	// Written by the dispatcher goroutine only.
	pending []value.Event
	touched bool
	result  *value.Map
	plans   map[uint64]*printfPlan
	// armed is the address each watchpoint:func+argN (by its event id)
	// was last armed on.
	armed map[uint64]uint64

	discard  atomic.Bool
	events   atomic.Uint64
	exitCode atomic.Int64
	reason   atomic.Uint32

	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
	res      *RunResult
	err      error
	drops0   uint64
	limits   limitState // limits.go
}

// Start loads p into the session, runs its BEGIN probe and top-level
// statements, attaches its probes, and returns the running Run. The run
// stops by itself (exit(), ctx, RunOptions.Duration, the -c command or -p
// process ending) or with Stop; Wait waits for its end and returns its
// result.
//
// Errors: a *LoadError when the kernel refuses the program (Diag places
// the verifier's complaint in the source), an *AttachError naming the
// probe that could not be attached. Either way nothing stays loaded.
func (s *Session) Start(ctx context.Context, p *Program, opts *RunOptions) (*Run, error) {
	r := &Run{s: s, prog: p, stopCh: make(chan struct{}), done: make(chan struct{}), plans: make(map[uint64]*printfPlan)}
	if opts != nil {
		r.opts = *opts
	}
	// A provider this kernel lacks is reported in its feature's words
	// before anything is loaded.
	for _, prog := range p.Object.Programs {
		for _, ap := range prog.Attach {
			if err := CheckAttachable(ap); err != nil {
				return nil, err
			}
			switch ap.Provider {
			case "uprobe", "uretprobe", "usdt":
				s.res.usyms.AddExecutable(ap.Target)
			}
		}
	}
	if r.opts.Child != nil {
		s.res.usyms.AddExecutable(r.opts.Child.Path)
	}
	ld, err := s.load(p)
	if err != nil {
		return nil, err
	}
	r.ld = ld
	r.initLimits()
	r.slotBase = make(map[string]uint64)
	for _, name := range p.Object.MapNames() {
		r.slotBase[name] = s.slotFailed(name)
	}
	if err := s.ensureDispatcher(); err != nil {
		ld.close()
		return nil, err
	}
	if err := r.writeGlobals(); err != nil {
		ld.close()
		return nil, err
	}
	s.mu.Lock()
	s.nextRun++
	r.id = s.nextRun
	s.runs[r.id] = r
	s.mu.Unlock()
	s.disp.add(r)
	r.drops0 = s.disp.totalDrops()
	r.started = time.Now()

	fail := func(err error) (*Run, error) {
		CloseAll(r.links)
		r.links = nil
		s.disp.remove(r)
		ld.close()
		// The session is left as it was: the maps this program created
		// go, so a failed program fixes no map types.
		s.mu.Lock()
		delete(s.runs, r.id)
		s.mu.Unlock()
		s.dropMaps(ld.created)
		return nil, err
	}
	// A program that needs a map whole in BPF disables its slots first.
	for _, name := range p.Object.GlobalMaps {
		if sm := s.bpfMap(name); sm != nil {
			if err := s.flushSlots(sm, true); err != nil {
				return fail(err)
			}
		}
	}
	if err := r.runKind(codegen.KindBegin); err != nil {
		return fail(err)
	}
	if err := r.runKind(codegen.KindTopLevel); err != nil {
		return fail(err)
	}
	if err := r.attach(); err != nil {
		return fail(err)
	}
	r.started = time.Now()
	if r.opts.OnAttached != nil {
		r.opts.OnAttached()
	}
	if r.opts.Child != nil {
		if err := r.opts.Child.Release(); err != nil {
			return fail(err)
		}
	}
	go r.loop(ctx)
	r.startIterators()
	return r, nil
}

// startIterators runs the run's iterators (iter:task, iter:task_file)
// once, as bpftrace 0.17 does: reading an iterator's file runs its program
// on every object (its printf() output comes through the ring buffer like
// any other), and the run ends when all have iterated. An iterator with a
// pin path (iter:task:/sys/fs/bpf/NAME, or a name under /sys/fs/bpf) is
// pinned instead, for others to read.
func (r *Run) startIterators() {
	r.linksMu.Lock()
	var iters []*link.Iter
	var aps []*lang.AttachPoint
	for i, ap := range r.linkAPs {
		if it, ok := r.links[i].(*link.Iter); ok && ap.Provider == "iter" {
			iters = append(iters, it)
			aps = append(aps, ap)
		}
	}
	r.linksMu.Unlock()
	if len(iters) == 0 {
		return
	}
	go func() {
		for i, it := range iters {
			if pin := aps[i].Target; pin != "" {
				if !strings.HasPrefix(pin, "/") {
					pin = "/sys/fs/bpf/" + pin
				}
				if err := it.Pin(pin); err != nil {
					r.warn(fmt.Sprintf("Failed to pin iter probe link: %v", CleanError(err)))
				} else if r.opts.Sink != nil {
					r.opts.Sink([]value.Event{value.Message{Text: "Program pinned to " + pin}})
				}
				continue
			}
			rd, err := it.Open()
			if err != nil {
				r.warn(fmt.Sprintf("Failed to open iter probe link: %v", CleanError(err)))
				continue
			}
			// The programs print through the ring buffer; what they
			// wrote to the iterator's own file (nothing) is dropped.
			_, _ = io.Copy(io.Discard, rd)
			rd.Close()
		}
		r.requestStop(StopDone)
	}()
}

// ID is the run's id in the session (Session.Runs, Detach).
func (r *Run) ID() int { return r.id }

// Program is the program the run runs.
func (r *Run) Program() *Program { return r.prog }

// Stop asks the run to end as an interrupt does (END runs, maps are
// read). It does not wait; Wait does.
func (r *Run) Stop() { r.requestStop(StopDetached) }

// Done is closed when the run has ended and its result is ready.
func (r *Run) Done() <-chan struct{} { return r.done }

// Wait waits for the run to end and returns its result.
func (r *Run) Wait() (*RunResult, error) {
	<-r.done
	return r.res, r.err
}

// Status is the run's state for a live display.
func (r *Run) Status() value.Status {
	st := value.Status{Elapsed: time.Since(r.started), Duration: r.opts.Duration, Events: r.events.Load(),
		Probes: len(r.probes)}
	if r.s.disp != nil {
		st.Drops = r.s.disp.totalDrops() - r.drops0
	}
	select {
	case <-r.done:
		st.Done = true
	default:
	}
	return st
}

// VerifierStats returns, with SessionOptions.VerifierStats, what the
// verifier said about each program it accepted ("processed 45 insns ...
// peak_states 3 mark_read 1"), by codegen program name.
func (r *Run) VerifierStats() map[string]string {
	out := make(map[string]string, len(r.ld.stats))
	for k, v := range r.ld.stats {
		out[k] = v
	}
	return out
}

// Info describes the run for Session.Runs.
func (r *Run) Info() RunInfo {
	ri := RunInfo{ID: r.id, Name: r.prog.Name, Probes: append([]string(nil), r.probes...), Started: r.started,
		Events: r.events.Load(), Hits: -1, Background: r.opts.Background}
	if r.ld != nil {
		var hits int64
		ok := false
		for _, p := range r.ld.progs {
			if st, err := p.Stats(); err == nil {
				hits += int64(st.RunCount)
				ok = true
			}
		}
		if ok {
			ri.Hits = hits
		}
	}
	return ri
}

func (r *Run) requestStop(reason StopReason) {
	r.reason.CompareAndSwap(0, uint32(reason))
	r.stopOnce.Do(func() { close(r.stopCh) })
}

// writeGlobals gives the programs the start time (elapsed) and cpid.
func (r *Run) writeGlobals() error {
	g := r.ld.private[codegen.MapGlobals]
	if g == nil {
		return nil
	}
	buf := make([]byte, g.ValueSize())
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	binary.LittleEndian.PutUint64(buf[codegen.GlobalStart:], uint64(ts.Nano()))
	if c := r.opts.Child; c != nil {
		binary.LittleEndian.PutUint64(buf[codegen.GlobalCpid:], uint64(c.Pid))
	}
	if err := g.Put(uint32(0), buf); err != nil {
		return fmt.Errorf("writing the program's globals: %w", CleanError(err))
	}
	return nil
}

// runKind runs every program of a kind (BEGIN, END, top-level) once with
// BPF_PROG_TEST_RUN.
func (r *Run) runKind(kind codegen.ProgramKind) error {
	for _, p := range r.prog.Object.Programs {
		if p.Kind != kind {
			continue
		}
		prog := r.ld.progs[p.Name]
		if prog == nil {
			continue
		}
		if _, err := prog.Run(&ebpf.RunOptions{Context: make([]byte, 64)}); err != nil {
			return fmt.Errorf("running %s: %w", kind, CleanError(err))
		}
	}
	return nil
}

// targetPID is the process that -c or -p names, 0 when none.
func (r *Run) targetPID() int {
	if r.opts.Child != nil {
		return r.opts.Child.Pid
	}
	return r.s.opts.PID
}

// attach attaches every probe's programs to their attach points, in
// program order. A wildcard's match that cannot be attached is skipped
// with bpftrace's warning; any other failure is the run's error.
func (r *Run) attach() error {
	pid := r.targetPID()
	for _, p := range attachOrder(r.prog.Object.Programs) {
		prog := r.ld.progs[p.Name]
		for _, ap := range p.Attach {
			c, err := Attach(prog, ap, &AttachOptions{PID: pid, USDTLocations: p.USDTLocations})
			if err != nil {
				if fromWildcard(p.Probe, ap) {
					r.warn(fmt.Sprintf("could not attach probe %s, skipping.", ap.Name()))
					continue
				}
				return err
			}
			r.linksMu.Lock()
			r.links = append(r.links, c)
			r.linkAPs = append(r.linkAPs, ap)
			r.probes = append(r.probes, ap.Name())
			r.linksMu.Unlock()
		}
	}
	return nil
}

// unwatch detaches the watchpoints on addr (unwatch(addr)); the run goes
// on.
func (r *Run) unwatch(addr uint64) {
	r.linksMu.Lock()
	var cs []io.Closer
	for i, ap := range r.linkAPs {
		if (ap.Provider == "watchpoint" || ap.Provider == "asyncwatchpoint") && ap.Address == addr && r.links[i] != nil {
			cs = append(cs, r.links[i])
			r.links[i] = nil
		}
	}
	r.linksMu.Unlock()
	if len(cs) > 0 {
		go CloseAll(cs)
	}
}

// armWatchpoint handles a watchpoint:func+argN setup program's event: it
// attaches the watchpoint's program to a breakpoint on addr in the target
// process, then continues the process the setup program stopped. As in
// bpftrace 0.17, a probe called again with the address it watches already
// arms nothing, and a new address adds a breakpoint without removing the
// earlier ones (unwatch(addr) removes them); when the CPU has no debug
// register left, the run goes on with a message on the output.
func (r *Run) armWatchpoint(ev *codegen.Event, addr uint64) {
	wp := ev.Watch
	defer func() {
		if wp != nil && !wp.Async {
			if pid := r.targetPID(); pid > 0 {
				_ = unix.Kill(pid, unix.SIGCONT)
			}
		}
	}()
	if wp == nil || r.discard.Load() {
		return
	}
	if r.armed == nil {
		r.armed = make(map[uint64]uint64)
	}
	if last, ok := r.armed[ev.ID]; ok && last == addr {
		return
	}
	r.armed[ev.ID] = addr
	prog := r.ld.progs[ev.Program]
	if prog == nil {
		return
	}
	armed := *wp
	armed.Address = addr
	c, err := AttachWatchpoint(prog, addr, wp.Len, wp.Mode, r.targetPID())
	if errors.Is(err, unix.ENOSPC) {
		r.pending = append(r.pending, value.Message{Type: "lost_events",
			Text: "Failed to attach watchpoint probe. You are out of watchpoint registers."})
		return
	}
	if err != nil {
		r.pending = append(r.pending, value.Warning{Error: true,
			Msg: fmt.Sprintf("Unable to attach real watchpoint probe %s on 0x%x: %v", wp.Name(), addr, CleanError(err))})
		return
	}
	r.linksMu.Lock()
	if r.detached {
		r.linksMu.Unlock()
		c.Close()
		return
	}
	r.links = append(r.links, c)
	r.linkAPs = append(r.linkAPs, &armed)
	r.probes = append(r.probes, wp.Name())
	r.linksMu.Unlock()
}

// attachOrder is the order probes are attached in, bpftrace's: the kernel
// runs the programs of some providers on one event in the order they were
// attached and others in reverse, so bpftrace attaches those in reverse,
// and the probes of a script fire in the order they are written.
func attachOrder(progs []*codegen.Program) []*codegen.Program {
	var fwd, rev []*codegen.Program
	for _, p := range progs {
		if p.Kind != codegen.KindAttach || len(p.Attach) == 0 {
			continue
		}
		switch p.Attach[0].Provider {
		case "kprobe", "uprobe", "uretprobe", "usdt", "software", "kfunc", "iter":
			rev = append(rev, p)
		default:
			fwd = append(fwd, p)
		}
	}
	for i := len(rev) - 1; i >= 0; i-- {
		fwd = append(fwd, rev[i])
	}
	return fwd
}

// fromWildcard reports whether ap is one match of a wildcard attach point
// of probe (or one of several attach points bpftrace would expand).
func fromWildcard(probe *lang.Probe, ap *lang.AttachPoint) bool {
	if probe == nil {
		return false
	}
	for _, orig := range probe.Attach {
		if !orig.Wildcard {
			continue
		}
		for _, m := range orig.Matches {
			if m == ap {
				return true
			}
		}
	}
	return false
}

// warn sends a warning to the sink at once (outside the dispatcher).
func (r *Run) warn(msg string) {
	if r.opts.Sink != nil {
		r.opts.Sink([]value.Event{value.Warning{Msg: msg}})
	}
}

// loop waits for the run's end and finishes it.
func (r *Run) loop(ctx context.Context) {
	var timer <-chan time.Time
	if r.opts.Duration > 0 {
		t := time.NewTimer(r.opts.Duration)
		defer t.Stop()
		timer = t.C
	}
	var child <-chan struct{}
	if r.opts.Child != nil {
		child = r.opts.Child.Done()
	}
	var pidDone <-chan struct{}
	if r.s.opts.PID > 0 {
		pidDone = watchPID(r.s.opts.PID, r.stopCh)
	}
	if len(r.prog.AST.Probes) == 0 {
		r.requestStop(StopDone)
	}
	reason := StopNone
	select {
	case <-r.stopCh:
	case <-ctx.Done():
		reason = StopInterrupt
	case <-timer:
		reason = StopDuration
	case <-child:
		reason = StopChildExited
	case <-pidDone:
		reason = StopPIDExited
	}
	if reason != StopNone {
		r.requestStop(reason)
	}
	r.res, r.err = r.finish()
	close(r.done)
}

// watchPID returns a channel closed when process pid exits (or stop is
// closed).
func watchPID(pid int, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	fd, err := unix.PidfdOpen(pid, 0)
	go func() {
		defer close(done)
		if err == nil {
			defer unix.Close(fd)
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err == nil {
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				if n, _ := unix.Poll(fds, 100); n > 0 {
					return
				}
				continue
			}
			if unix.Kill(pid, 0) == unix.ESRCH {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return done
}

// finish ends the run: detach every probe at once, deliver what the probes
// sent (or drop it, after exit() or an interrupt, as bpftrace does), run
// END and deliver its output, then read the maps.
func (r *Run) finish() (*RunResult, error) {
	reason := StopReason(r.reason.Load())
	if reason == StopExit && r.opts.Child != nil {
		r.opts.Child.Terminate()
	}
	// After exit() or an interrupt, what the probes sent and was not
	// handled yet is dropped, as bpftrace drops events once it has seen
	// either (END's output is not). When the -c command ends or the time
	// is up, it is all delivered.
	if reason == StopInterrupt {
		r.discard.Store(true)
	}
	var errs []error
	r.linksMu.Lock()
	links := r.links
	r.links, r.linkAPs = nil, nil
	r.detached = true
	r.linksMu.Unlock()
	rest, err := detachAll(links)
	if err != nil {
		errs = append(errs, err)
	}
	r.s.release(rest)
	d := r.s.disp
	if err := d.barrier(); err != nil {
		errs = append(errs, err)
	}
	r.discard.Store(false)
	if err := r.runKind(codegen.KindEnd); err != nil {
		errs = append(errs, err)
	}
	if err := d.barrier(); err != nil {
		errs = append(errs, err)
	}
	d.remove(r)

	drops := d.totalDrops() - r.drops0
	res := &RunResult{Reason: reason, ExitCode: int(r.exitCode.Load()), Events: r.events.Load(), Drops: drops,
		Started: r.started, Elapsed: time.Since(r.started), Result: r.result}
	maps, err := r.s.ReadMaps(r.prog.Object.MapNames(), r.opts.MapLimit)
	if err != nil {
		errs = append(errs, err)
	}
	res.Maps = maps
	// Full maps, lost events, strings cut at their buffer, each at its
	// place in the program (limits.go).
	updates := r.mapUpdates()
	tail := append(r.mapErrors(updates), r.limitWarnings(drops, maps, updates)...)
	if len(tail) > 0 && r.opts.Sink != nil {
		r.opts.Sink(tail)
	}
	r.ld.close()
	r.s.mu.Lock()
	delete(r.s.runs, r.id)
	r.s.mu.Unlock()
	return res, errors.Join(errs...)
}

// mapErrors reads the program's full-map counters: a failed map update is
// never silent (bpftrace 0.17 drops them silently, bpftrace#2809).
func (r *Run) mapErrors(updates map[string][]*lang.AssignStmt) []value.Event {
	m := r.ld.private[codegen.MapErrors]
	if m == nil {
		return nil
	}
	counts, err := readU64Array(m)
	if err != nil {
		return nil
	}
	names := r.prog.Object.MapNames()
	var out []value.Event
	for i, n := range counts {
		if i >= len(names) {
			continue
		}
		// Events flushed from write-combining slots into a full map.
		n += r.s.slotFailed(names[i]) - r.slotBase[names[i]]
		if n == 0 {
			continue
		}
		out = append(out, value.Warning{Msg: fmt.Sprintf(
			"Map full; can't update element of %s (%d times). Try increasing BPFTRACE_MAP_KEYS_MAX (now %d)",
			names[i], n, r.s.opts.MaxMapEntries), Source: r.fullMapSource(names[i], updates)})
	}
	return out
}
