package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// The session's events: one ring buffer for every program, one reader
// goroutine (the dispatcher) that hands each record to the run whose event
// ids contain its id (codegen gives every compile its own range), decodes
// it into a runtime/value event, acts on the ones that are actions (clear,
// zero, print of a map, exit) and passes the rest to the run's sink, one
// batch at a time.
//
// Barriers: a run that ends must know that every record its probes and
// its END probe wrote has been delivered. It runs a tiny program that
// writes a marker record with a fresh id (and wakes the reader); records
// are in the ring in the order they were reserved, so once the dispatcher
// reaches the marker, everything before it has been handed over.

// syncBase is the first id of barrier markers, far above any program's
// event ids.
const syncBase = 1 << 62

// barrierTimeout bounds the wait for a marker.
const barrierTimeout = 5 * time.Second

// dispatcher reads the ring buffer and routes records.
type dispatcher struct {
	s    *Session
	rd   *EventReader
	runs atomic.Pointer[[]*Run] // sorted by event base; copy on write
	mu   sync.Mutex             // guards runs' writers and syncs
	sync map[uint64]chan struct{}
	seq  atomic.Uint64
	errc chan error

	// Owned by the reader goroutine.
	touched   []*Run
	lastCheck time.Time
	drops     atomic.Uint64 // drops seen so far
	dropsMap  *ebpf.Map

	// The reader's thread when it runs niced (ReaderNice), and the
	// barriers waiting for it, which run it at normal priority.
	prioMu  sync.Mutex
	tid     int
	waiters int
}

// hurry runs a niced reader at normal priority while a barrier waits for
// it: a run that ends (an interrupt during a flood) must not wait for a
// niced thread to drain a full ring on a busy machine. Best effort: it
// needs CAP_SYS_NICE (root has it).
func (d *dispatcher) hurry() {
	d.prioMu.Lock()
	defer d.prioMu.Unlock()
	d.waiters++
	if d.waiters == 1 && d.tid != 0 {
		_ = unix.Setpriority(unix.PRIO_PROCESS, d.tid, 0)
	}
}

// relax undoes hurry.
func (d *dispatcher) relax() {
	d.prioMu.Lock()
	defer d.prioMu.Unlock()
	d.waiters--
	if d.waiters == 0 && d.tid != 0 {
		_ = unix.Setpriority(unix.PRIO_PROCESS, d.tid, d.s.opts.ReaderNice)
	}
}

// ensureDispatcher starts the session's reader once the events map exists.
func (s *Session) ensureDispatcher() error {
	s.dispOnce.Do(func() {
		ev := s.sharedMap(codegen.MapEvents)
		if ev == nil {
			s.dispErr = errors.New("no events ring buffer")
			return
		}
		rd, err := NewEventReader(ev, &EventReaderOptions{PollInterval: s.opts.PollInterval})
		if err != nil {
			s.dispErr = err
			return
		}
		d := &dispatcher{s: s, rd: rd, sync: make(map[uint64]chan struct{}), errc: make(chan error, 1),
			dropsMap: s.sharedMap(codegen.MapDrops)}
		empty := []*Run{}
		d.runs.Store(&empty)
		s.disp = d
		go func() {
			if n := s.opts.ReaderNice; n > 0 {
				// The goroutine keeps this thread to itself, and the
				// thread ends with it, so no other goroutine runs niced.
				goruntime.LockOSThread()
				d.prioMu.Lock()
				d.tid = unix.Gettid()
				if d.waiters == 0 {
					_ = unix.Setpriority(unix.PRIO_PROCESS, d.tid, n)
				}
				d.prioMu.Unlock()
			}
			err := rd.Run(d.handle)
			d.prioMu.Lock()
			d.tid = 0 // the thread ends with this goroutine
			d.prioMu.Unlock()
			d.errc <- err
		}()
	})
	return s.dispErr
}

// close stops the reader after it has delivered what is in the ring.
func (d *dispatcher) close() error {
	err := d.rd.Close()
	select {
	case rerr := <-d.errc:
		err = errors.Join(err, rerr)
	case <-time.After(2 * time.Second):
	}
	return err
}

// add registers a run's event ids.
func (d *dispatcher) add(r *Run) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := *d.runs.Load()
	runs := append(append([]*Run(nil), old...), r)
	sort.Slice(runs, func(i, j int) bool { return runs[i].prog.eventBase < runs[j].prog.eventBase })
	d.runs.Store(&runs)
}

// remove forgets a run: later records with its ids are dropped.
func (d *dispatcher) remove(r *Run) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := *d.runs.Load()
	runs := make([]*Run, 0, len(old))
	for _, x := range old {
		if x != r {
			runs = append(runs, x)
		}
	}
	d.runs.Store(&runs)
}

// find returns the run owning event id.
func findRun(runs []*Run, id uint64) *Run {
	i := sort.Search(len(runs), func(i int) bool {
		p := runs[i].prog
		return p.eventBase+uint64(len(p.events)) > id
	})
	if i < len(runs) && runs[i].prog.eventBase <= id {
		return runs[i]
	}
	return nil
}

func (r *Run) owns(id uint64) bool {
	p := r.prog
	return id >= p.eventBase && id < p.eventBase+uint64(len(p.events))
}

// handle is the reader's callback: one batch of records in ring order.
func (d *dispatcher) handle(batch [][]byte) error {
	runs := *d.runs.Load()
	var last *Run
	for _, rec := range batch {
		if len(rec) < 8 {
			continue
		}
		id := binary.LittleEndian.Uint64(rec)
		if id >= syncBase {
			d.checkDrops(true)
			d.flush()
			d.signal(id)
			continue
		}
		r := last
		if r == nil || !r.owns(id) {
			if r = findRun(runs, id); r == nil {
				continue
			}
			last = r
		}
		r.record(id, rec)
		if !r.touched {
			r.touched = true
			d.touched = append(d.touched, r)
		}
	}
	d.checkDrops(false)
	d.flush()
	return nil
}

// flush hands every run its pending events.
func (d *dispatcher) flush() {
	for _, r := range d.touched {
		r.touched = false
		if len(r.pending) > 0 {
			if r.opts.Sink != nil {
				r.opts.Sink(r.pending)
			}
			clear(r.pending)
			r.pending = r.pending[:0]
		}
	}
	d.touched = d.touched[:0]
}

// checkDrops reads the drop counter (at most every 100 ms unless forced)
// and tells every run how many events were lost since the last look.
func (d *dispatcher) checkDrops(force bool) {
	if d.dropsMap == nil || !force && time.Since(d.lastCheck) < 100*time.Millisecond {
		return
	}
	d.lastCheck = time.Now()
	n, err := ReadDrops(d.dropsMap)
	if err != nil {
		return
	}
	prev := d.drops.Load()
	if n <= prev {
		return
	}
	d.drops.Store(n)
	for _, r := range *d.runs.Load() {
		r.pending = append(r.pending, value.LostEvents{N: n - prev})
		if !r.touched {
			r.touched = true
			d.touched = append(d.touched, r)
		}
	}
}

// totalDrops is the number of lost events seen so far.
func (d *dispatcher) totalDrops() uint64 { return d.drops.Load() }

// signal wakes the barrier waiting for marker id.
func (d *dispatcher) signal(id uint64) {
	d.mu.Lock()
	ch := d.sync[id]
	delete(d.sync, id)
	d.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// barrier returns once every record written before it was called has been
// delivered.
func (d *dispatcher) barrier() error {
	prog, err := d.s.syncProgram()
	if err != nil {
		return err
	}
	d.hurry()
	defer d.relax()
	id := syncBase + d.seq.Add(1)
	ch := make(chan struct{})
	d.mu.Lock()
	d.sync[id] = ch
	d.mu.Unlock()
	ctx := make([]byte, 8)
	binary.LittleEndian.PutUint64(ctx, id)
	// A full ring has no room for the marker until the reader has
	// drained some of it, which it is doing (under a flood the ring is
	// full most of the time): try again until it fits.
	deadline := time.Now().Add(barrierTimeout)
	var ret uint32
	for {
		ret, err = prog.Run(&ebpf.RunOptions{Context: ctx})
		if err != nil || ret == 0 {
			break
		}
		if time.Now().After(deadline) {
			err = errors.New("the events ring buffer is full")
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	if err != nil {
		d.mu.Lock()
		delete(d.sync, id)
		d.mu.Unlock()
		return fmt.Errorf("flushing events: %w", CleanError(err))
	}
	select {
	case <-ch:
		return nil
	case <-time.After(barrierTimeout):
		return errors.New("flushing events: the events reader did not answer")
	}
}

// syncProgram loads the marker program: it writes its context's first
// u64 as an 8-byte record and wakes the reader (BPF_RB_FORCE_WAKEUP). It
// returns 0 when the record was written.
func (s *Session) syncProgram() (*ebpf.Program, error) {
	s.syncOnce.Do(func() {
		events := s.sharedMap(codegen.MapEvents)
		if events == nil {
			s.syncErr = errors.New("no events ring buffer")
			return
		}
		const forceWakeup = 2
		insns := asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
			asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
			asm.LoadMapPtr(asm.R1, events.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.Mov.Imm(asm.R3, 8),
			asm.Mov.Imm(asm.R4, forceWakeup),
			asm.FnRingbufOutput.Call(),
			asm.Return(),
		}
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "tb_sync", Type: ebpf.RawTracepoint, License: "GPL",
			Instructions: insns})
		if err != nil {
			s.syncErr = fmt.Errorf("loading the events barrier: %w", CleanError(err))
			return
		}
		s.syncProg = p
	})
	return s.syncProg, s.syncErr
}

// printfPlan is an event's format in runtime/value's terms, made once:
// which arguments print (a hidden conversion consumes one and prints
// nothing).
type printfPlan struct {
	format *value.Format
	keep   []bool
	all    bool
}

func newPrintfPlan(f *lang.Format) *printfPlan {
	p := &printfPlan{all: true}
	if f == nil {
		return p
	}
	p.format = codegen.Printf(f, nil).Format
	for _, seg := range f.Segments {
		if seg.Spec != nil {
			p.keep = append(p.keep, !seg.Spec.Hidden)
			if seg.Spec.Hidden {
				p.all = false
			}
		}
	}
	return p
}

func (p *printfPlan) args(vals []value.Value) []value.Value {
	if p.all {
		return vals
	}
	out := make([]value.Value, 0, len(vals))
	for i, v := range vals {
		if i < len(p.keep) && p.keep[i] {
			out = append(out, v)
		}
	}
	return out
}

func (r *Run) plan(ev *codegen.Event) *printfPlan {
	p := r.plans[ev.ID]
	if p == nil {
		p = newPrintfPlan(ev.Format)
		r.plans[ev.ID] = p
	}
	return p
}

// record decodes one record of the run and acts on it. It runs on the
// dispatcher goroutine.
func (r *Run) record(id uint64, rec []byte) {
	ev := r.prog.event(id)
	if ev == nil {
		return
	}
	if ev.Kind == codegen.EventWatchpoint && len(rec) >= 16 {
		// Even a run that is ending continues the process that the
		// setup program stopped.
		r.armWatchpoint(ev, binary.LittleEndian.Uint64(rec[8:]))
		return
	}
	if r.discard.Load() {
		return
	}
	r.events.Add(1)
	d := r.s.decoder()
	args, err := d.Args(ev, rec)
	if err != nil {
		r.pending = append(r.pending, value.Warning{Msg: err.Error()})
		return
	}
	r.noteEvent(id, args)
	switch ev.Kind {
	case codegen.EventPrintf:
		p := r.plan(ev)
		r.pending = append(r.pending, value.Printf{Format: p.format, Args: p.args(args)})
	case codegen.EventPrint:
		if len(args) > 0 {
			r.pending = append(r.pending, value.Print{Value: args[0]})
		}
	case codegen.EventPrintMap:
		m, err := r.s.ReadMap(ev.Map, r.opts.MapLimit)
		if err != nil {
			r.pending = append(r.pending, value.Warning{Msg: err.Error()})
			return
		}
		pm := value.PrintMap{Map: m}
		if len(args) > 0 {
			pm.Top = argUint(args[0])
		}
		if len(args) > 1 {
			pm.Div = argUint(args[1])
		}
		r.pending = append(r.pending, pm)
	case codegen.EventResult:
		if m, err := r.s.ReadMap(ev.Map, r.opts.MapLimit); err == nil {
			r.result = m
		} else {
			r.pending = append(r.pending, value.Warning{Msg: err.Error()})
		}
	case codegen.EventClear:
		if err := r.s.ClearMap(ev.Map); err != nil {
			r.pending = append(r.pending, value.Warning{Msg: err.Error()})
		}
	case codegen.EventZero:
		if err := r.s.ZeroMap(ev.Map); err != nil {
			r.pending = append(r.pending, value.Warning{Msg: err.Error()})
		}
	case codegen.EventTime:
		r.pending = append(r.pending, value.Time{Format: ev.Text, At: time.Now()})
	case codegen.EventCat:
		r.pending = append(r.pending, r.cat(ev, args))
	case codegen.EventJoin:
		text, err := d.JoinText(ev, rec)
		if err != nil {
			r.pending = append(r.pending, value.Warning{Msg: err.Error()})
			return
		}
		r.pending = append(r.pending, value.Join{Text: text})
	case codegen.EventSystem:
		r.pending = append(r.pending, r.system(ev, args))
	case codegen.EventHelperError:
		if len(args) > 0 {
			r.pending = append(r.pending, r.helperError(ev, args[0]))
		}
	case codegen.EventUnwatch:
		if len(args) > 0 {
			r.unwatch(argUint(args[0]))
		}
	case codegen.EventExit:
		if len(args) > 0 {
			if v, ok := args[0].(value.Int); ok {
				r.exitCode.Store(v.Int64())
			}
		}
		r.discard.Store(true)
		r.requestStop(StopExit)
	}
}

// helperError words a failed helper call as bpftrace 0.17 does: "Failed
// to map_delete_elem: No such file or directory (-2)" at the call, or
// "Failed to map_lookup_elem: 0" for a lookup that found nothing.
func (r *Run) helperError(ev *codegen.Event, ret value.Value) value.Event {
	var n int64
	if i, ok := ret.(value.Int); ok {
		n = i.Int64()
	}
	msg := fmt.Sprintf("Failed to %s: %d", ev.Text, n)
	if n < 0 {
		msg = fmt.Sprintf("Failed to %s: %s (%d)", ev.Text, Strerror(int(-n)), n)
	}
	e := &lang.Error{File: r.prog.Name, Msg: msg, Severity: lang.SevWarning}
	if ev.Call != nil {
		e.Pos, e.End = ev.Call.Span()
	}
	d := Diagnostics(lang.ErrorList{e}, r.prog.Src)[0]
	return value.HelperError{Helper: ev.Text, Ret: n, Pos: d}
}

func argUint(v value.Value) uint64 {
	if i, ok := v.(value.Int); ok {
		return i.Bits
	}
	return 0
}

// format formats a cat() or system() format with its arguments.
func (r *Run) format(ev *codegen.Event, args []value.Value) string {
	p := r.plan(ev)
	if p.format == nil {
		return ev.Text
	}
	if r.s.opts.Printf != nil {
		return r.s.opts.Printf(p.format, p.args(args))
	}
	var b strings.Builder
	for _, seg := range p.format.Segments {
		b.WriteString(seg.Literal)
	}
	return b.String()
}

// cat reads the file cat() names, at most CatBytesMax bytes of it.
func (r *Run) cat(ev *codegen.Event, args []value.Value) value.Event {
	name := r.format(ev, args)
	f, err := os.Open(name)
	if err != nil {
		return value.Warning{Msg: fmt.Sprintf("failed to open file '%s': %s", name, Strerror(errnoOf(err))), Error: true}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(r.s.opts.CatBytesMax)))
	if err != nil && len(b) == 0 {
		return value.Warning{Msg: fmt.Sprintf("failed to read file '%s': %s", name, Strerror(errnoOf(err))), Error: true}
	}
	return value.Cat{Text: string(b)}
}

// system runs system()'s command with /bin/sh and returns its output.
func (r *Run) system(ev *codegen.Event, args []value.Value) value.Event {
	cmdline := r.format(ev, args)
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	_ = cmd.Run()
	return value.System{Text: out.String()}
}

// errnoOf returns the errno inside err, or 0.
func errnoOf(err error) int {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int(en)
	}
	return 0
}
