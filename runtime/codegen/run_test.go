package codegen

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/value"
)

// Running compiled programs for real (tier 2): load an Object, run its
// BEGIN, top-level and END programs with BPF_PROG_TEST_RUN, and read back
// its maps and ring buffer records, decoded with Decoder.

// requireRoot skips a test that needs to load BPF programs, or fails it
// in CI, where the kernel tier must run.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("kernel tier: not run with -short")
	}
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("loading BPF programs needs root (CI=true: the kernel tier must run)")
	}
	tb.Skip("loading BPF programs needs root")
}

// rawVal receives map keys and values (per CPU) as bytes.
type rawVal []byte

func (r *rawVal) UnmarshalBinary(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// loaded is an Object loaded into the kernel.
type loaded struct {
	obj  *Object
	coll *ebpf.Collection
	rd   *ringbuf.Reader
}

// load creates the Object's maps and programs, and sets MapGlobals' start
// time.
func load(tb testing.TB, obj *Object) *loaded {
	tb.Helper()
	coll, err := ebpf.NewCollection(obj.CollectionSpec())
	if err != nil {
		tb.Fatalf("load: %+v", err)
	}
	tb.Cleanup(func() { coll.Close() })
	l := &loaded{obj: obj, coll: coll}
	if g := coll.Maps[MapGlobals]; g != nil {
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		buf := make([]byte, GlobalsSize)
		le.PutUint64(buf[GlobalStart:], uint64(ts.Nano()))
		if err := g.Put(uint32(0), buf); err != nil {
			tb.Fatal(err)
		}
	}
	rd, err := ringbuf.NewReader(coll.Maps[MapEvents])
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rd.Close() })
	l.rd = rd
	return l
}

// runKind runs every program of the given kind once.
func (l *loaded) runKind(tb testing.TB, kind ProgramKind) {
	tb.Helper()
	for _, p := range l.obj.Programs {
		if p.Kind != kind {
			continue
		}
		if _, err := l.coll.Programs[p.Name].Run(&ebpf.RunOptions{Context: make([]byte, 64)}); err != nil {
			tb.Fatalf("run %s: %v", p.Name, err)
		}
	}
}

// records reads the ring buffer records waiting.
func (l *loaded) records(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	l.rd.SetDeadline(time.Now())
	for {
		rec, err := l.rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, rec.RawSample)
	}
}

// dumpMaps prints every bpftrace map of the Object, entries sorted, one
// per line: "@m[k1, k2]: v".
func (l *loaded) dumpMaps(tb testing.TB) string {
	tb.Helper()
	l.flushSlots(tb)
	d := &Decoder{Names: l.obj.Names}
	var lines []string
	for _, name := range l.obj.MapNames() {
		ml := l.obj.Maps[name]
		m := l.coll.Maps[name]
		it := m.Iterate()
		var key rawVal
		var entries []string
		if ml.PerCPU {
			var per []rawVal
			for it.Next(&key, &per) {
				bs := make([][]byte, len(per))
				for i := range per {
					bs[i] = per[i]
				}
				entries = append(entries, formatEntry(tb, d, ml, key, bs))
			}
		} else {
			var val rawVal
			for it.Next(&key, &val) {
				entries = append(entries, formatEntry(tb, d, ml, key, [][]byte{val}))
			}
		}
		if err := it.Err(); err != nil {
			tb.Fatal(err)
		}
		sort.Strings(entries)
		lines = append(lines, entries...)
	}
	return strings.Join(lines, "\n")
}

func formatEntry(tb testing.TB, d *Decoder, ml *MapLayout, key []byte, val [][]byte) string {
	parts, err := d.Key(ml, key)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := d.MapValue(ml, val)
	if err != nil {
		tb.Fatal(err)
	}
	s := ml.Name
	if ml.Keyed {
		ks := make([]string, len(parts))
		for i, p := range parts {
			ks[i] = formatValue(p)
		}
		s += "[" + strings.Join(ks, ", ") + "]"
	}
	return s + ": " + formatValue(v)
}

// dumpEvents prints the records as "kind args..." lines.
func (l *loaded) dumpEvents(tb testing.TB) string {
	tb.Helper()
	d := &Decoder{Names: l.obj.Names}
	var lines []string
	for _, rec := range l.records(tb) {
		id, _ := EventID(rec)
		ev := l.obj.Events[id]
		if ev == nil {
			tb.Fatalf("record with unknown event id %d", id)
		}
		line := ev.Kind.String()
		if ev.Map != "" {
			line += " " + ev.Map
		}
		if ev.Kind == EventJoin {
			s, err := d.JoinText(ev, rec)
			if err != nil {
				tb.Fatal(err)
			}
			lines = append(lines, line+" "+s)
			continue
		}
		if ev.Text != "" {
			line += fmt.Sprintf(" %q", ev.Text)
		}
		args, err := d.Args(ev, rec)
		if err != nil {
			tb.Fatal(err)
		}
		for _, a := range args {
			line += " " + formatValue(a)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// formatValue prints a decoded value compactly for tests.
func formatValue(v value.Value) string {
	switch v := v.(type) {
	case value.Int:
		if v.Signed {
			return fmt.Sprint(int64(v.Bits))
		}
		return fmt.Sprint(v.Bits)
	case value.Str:
		return v.S
	case value.Buffer:
		return fmt.Sprintf("%q", v.B)
	case value.Tuple:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = formatValue(e)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case value.Array:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case value.Pointer:
		return fmt.Sprintf("0x%x", v.Addr)
	case value.Text:
		if v.S != "" {
			return v.S
		}
		if v.Format != "" {
			return fmt.Sprintf("time(%q)", v.Format)
		}
		return fmt.Sprintf("raw(%d)", v.Raw)
	case value.Stack:
		return fmt.Sprintf("stack(user=%v)", v.User)
	case value.Count:
		return fmt.Sprint(v.N)
	case value.Sum:
		return fmt.Sprint(v.V)
	case value.Min:
		if !v.Set {
			return "unset"
		}
		return fmt.Sprint(v.V)
	case value.Max:
		if !v.Set {
			return "unset"
		}
		return fmt.Sprint(v.V)
	case value.Avg:
		if v.Count == 0 {
			return "0"
		}
		return fmt.Sprint(v.Total / int64(v.Count))
	case value.Stats:
		avg := int64(0)
		if v.Count > 0 {
			avg = v.Total / int64(v.Count)
		}
		return fmt.Sprintf("count %d, average %d, total %d", v.Count, avg, v.Total)
	case value.Hist:
		return formatBuckets(v.Buckets)
	case value.Lhist:
		return formatBuckets(v.Buckets)
	}
	return fmt.Sprintf("%#v", v)
}

func formatBuckets(b []uint64) string {
	var parts []string
	for i, n := range b {
		if n != 0 {
			parts = append(parts, fmt.Sprintf("%d:%d", i, n))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// runSource compiles src, loads it, runs BEGIN, top-level statements and
// END, and returns the maps and events.
func runSource(tb testing.TB, src string, fo fileOptions) (maps, events string) {
	tb.Helper()
	requireRoot(tb)
	obj, err := compileSource("test.bt", []byte(src), fixtureTypes{}, withRunningComm(fo))
	if err != nil {
		tb.Fatal(err)
	}
	l := load(tb, obj)
	l.runKind(tb, KindBegin)
	l.runKind(tb, KindTopLevel)
	l.runKind(tb, KindEnd)
	events = l.dumpEvents(tb)
	return l.dumpMaps(tb), events
}

var _ = lang.TypeInt64

// withRunningComm returns fo set to read comm where the running kernel
// keeps it, or through the helper when its BTF cannot say.
func withRunningComm(fo fileOptions) fileOptions {
	if off, ok := runningCommOffset(); ok {
		fo.commOffset = off
	} else {
		fo.commHelper = true
	}
	return fo
}

// runningCommOffset returns task_struct.comm's offset in the running
// kernel's BTF, so that programs run for real read comm from the task
// (commInto) at the right place; false when BTF cannot say (comm then
// takes the helper).
func runningCommOffset() (int, bool) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return 0, false
	}
	var ts *btf.Struct
	if err := spec.TypeByName("task_struct", &ts); err != nil {
		return 0, false
	}
	for _, m := range ts.Members {
		if m.Name == "comm" {
			return int(m.Offset.Bytes()), true
		}
	}
	return 0, false
}

// flushSlots moves what the write-combining slots of the Object's keyed
// count() and sum() maps hold into the maps, on every CPU, as the runtime
// does before it reads them.
func (l *loaded) flushSlots(tb testing.TB) {
	tb.Helper()
	for _, name := range l.obj.MapNames() {
		ml := l.obj.Maps[name]
		if ml.Slot == nil {
			continue
		}
		ps, err := FlushProgram(ml)
		if err != nil {
			tb.Fatal(err)
		}
		slot := SlotName(name)
		spec := &ebpf.CollectionSpec{
			Maps:     map[string]*ebpf.MapSpec{name: ml.Spec.Copy(), slot: ml.Slot.Copy()},
			Programs: map[string]*ebpf.ProgramSpec{"flush": ps},
		}
		coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
			MapReplacements: map[string]*ebpf.Map{name: l.coll.Maps[name], slot: l.coll.Maps[slot]}})
		if err != nil {
			tb.Fatalf("flush program of %s: %v", name, err)
		}
		for cpu := 0; cpu < goruntime.NumCPU(); cpu++ {
			for try := 0; ; try++ {
				ret, err := coll.Programs["flush"].Run(&ebpf.RunOptions{Context: make([]byte, 8), CPU: uint32(cpu),
					Flags: unix.BPF_F_TEST_RUN_ON_CPU})
				if err != nil {
					tb.Fatalf("flushing %s on CPU %d: %v", name, cpu, err)
				}
				if ret != 1 {
					break
				}
				if try == 1000 {
					tb.Fatalf("flushing %s: CPU %d's slot stays busy", name, cpu)
				}
			}
		}
		coll.Close()
	}
}
