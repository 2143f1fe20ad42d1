package codegen

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/value"
)

// Object is a compiled bpftrace program: the specs of its eBPF programs and
// maps, and the tables the runtime needs to run them and to read what they
// produce. It is deterministic: the same program, Info and Options give an
// Object whose specs are identical, byte for byte.
type Object struct {
	// Programs in the order of their probes in the source, then the
	// top-level statements' program last. A probe whose attach points need
	// different program types or attach targets has one Program per group.
	Programs []*Program

	// Maps are the program's bpftrace maps, by bpftrace name ("@x", "@").
	// A map's Spec depends only on its name and lang types and
	// Options.MaxMapEntries, so a later Object's spec for the same map is
	// Compatible with the map a session already holds.
	Maps map[string]*MapLayout

	// GlobalMaps are the maps with write-combining slots (MapLayout.Slot)
	// that the program reads, deletes from, or asks has_key, len or for
	// about: before it runs, their slots must be flushed and disabled
	// (FlushProgram, mode 1). Sorted.
	GlobalMaps []string

	// Internal are the maps code generation adds, by reference name
	// (MapEvents, MapDrops, ...). See the Map* constants for which of them
	// a session shares between Objects and which belong to one Object.
	Internal map[string]*ebpf.MapSpec

	// Events are the asynchronous actions (printf, print, clear, exit, ...)
	// by id. Every ring buffer record starts with its event's id as a u64.
	Events map[uint64]*Event

	// Names maps the ids that values carry in place of strings (probe
	// names, strftime formats, map names in error counters) back to the
	// strings. The ids are NameID(string), the same in every Object, so a
	// session can merge these tables.
	Names map[uint64]string

	// ScratchSize is the value size of the per-CPU scratch maps.
	ScratchSize int
}

// ProgramKind says when a program runs.
type ProgramKind uint8

const (
	// KindAttach programs are attached to their attach points.
	KindAttach ProgramKind = iota
	// KindBegin is the BEGIN probe: the runtime runs it once, before
	// attaching the others, with BPF_PROG_TEST_RUN (a raw tracepoint
	// program: any context of 8-byte slots will do, it reads none; set
	// MapGlobals first).
	KindBegin
	// KindEnd is the END probe, run with BPF_PROG_TEST_RUN after the
	// others are detached.
	KindEnd
	// KindTopLevel is a notebook cell's statements outside any probe, run
	// once with BPF_PROG_TEST_RUN like BEGIN.
	KindTopLevel
	// KindWatchpoint is the body of watchpoint:func+argN: it is attached
	// to a hardware breakpoint at run time, once its setup program (a
	// uprobe on func, KindAttach) has sent the address in an
	// EventWatchpoint. Its Attach holds the watchpoint attach point.
	KindWatchpoint
)

func (k ProgramKind) String() string {
	switch k {
	case KindBegin:
		return "BEGIN"
	case KindEnd:
		return "END"
	case KindTopLevel:
		return "top-level"
	case KindWatchpoint:
		return "watchpoint"
	}
	return "attach"
}

// Program is one eBPF program and what it serves.
type Program struct {
	// Name is the program's key in CollectionSpec().Programs.
	Name string
	Spec *ebpf.ProgramSpec
	Kind ProgramKind
	// Probe is the probe the program implements, nil for top-level
	// statements; ProbeIndex is its index in lang.Program.Probes (-1 for
	// top-level statements).
	Probe      *lang.Probe
	ProbeIndex int
	// Attach are the concrete attach points (after wildcard expansion)
	// this program is to be attached to. Empty for BEGIN, END and
	// top-level programs. The program's code is valid for every one of
	// them; a runtime may retarget a rawtracepoint program to tp_btf
	// (Tracing, AttachTraceRawTp) or attach kprobes with kprobe_multi:
	// the context is read the same way.
	Attach []*lang.AttachPoint
	// USDTLocations are, for a usdt program, the indexes of the probe's
	// locations it serves (the ones whose arguments are where it reads
	// them; runtime.AttachOptions.USDTLocations); nil means all of them.
	USDTLocations []int
}

// MapLayout describes one bpftrace map: its spec and how its keys and
// values are laid out, for the runtime to read, clear, zero and delete
// entries and decode them into runtime/value.
type MapLayout struct {
	Name string // "@x"
	Spec *ebpf.MapSpec
	Info *lang.MapInfo

	// Keyed is false for a scalar map (@x = 1): its one key is KeySize
	// zero bytes.
	Keyed   bool
	KeySize int
	// Keys are the key's parts, @m[a, b] having two, each at its offset in
	// the key. A single part starts at 0 and fills the key.
	Keys []KeyPart

	// Value is the map's value type; for aggregations its Kind says which
	// (lang.KindCount, ...). ValueSize is the size of one value, per CPU
	// for per-CPU maps.
	Value     *lang.Type
	ValueSize int
	// Kind is the aggregation kind as runtime/value names it.
	Kind value.MapKind
	// PerCPU is set for aggregations: a lookup returns one value per
	// possible CPU, which user space reduces (see doc.go for each kind's
	// value layout and reduction).
	PerCPU bool
	// Buckets is the number of u64 counters in a hist or lhist value: 66
	// for hist, (max-min)/step + 2 for lhist.
	Buckets int
	// InArray is set for a scalar aggregation (@x = count(), @h =
	// hist(v)): it lives in a one-entry per-CPU array, whose lookup the
	// verifier inlines, instead of a per-CPU hash, whose lookup is a
	// call (half the cost of a hist on a syscall tracepoint). An array's
	// entry always exists, so each CPU's value is followed by a u64 at
	// ValueSize that is set when that CPU writes it: the entry exists,
	// as a hash's would, once any CPU has written it (a scalar count()
	// always exists, as bpftrace 0.17 keeps it in an array too). KeySize
	// is then 4, the array's index 0.
	InArray bool
	// Slot is the spec of the map's write-combining slot (slot.go): set
	// for keyed count() and sum() maps, nil for the others. Its reference
	// name is SlotName(Name).
	Slot *ebpf.MapSpec
}

// KeyPart is one part of a map key.
type KeyPart struct {
	Offset int
	Type   *lang.Type
}

// EventKind says what an event asks user space to do.
type EventKind uint8

const (
	EventPrintf   EventKind = iota + 1 // printf(fmt, args...)
	EventPrint                         // print(value) or print(@m[k]): Args[0] is the value
	EventPrintMap                      // print(@m[, top[, div]]): Args are top and div (u64)
	EventResult                        // a bare @m as a notebook cell's statement: show the map
	EventClear                         // clear(@m)
	EventZero                          // zero(@m)
	EventTime                          // time([fmt]): Text is the format
	EventCat                           // cat(fmt, args...): the file to print, as a format
	EventJoin                          // join(argv[, delim]): Args[0] is [JoinArgs][StrLen]byte, Text the delimiter
	EventSystem                        // system(fmt, args...)
	EventExit                          // exit([code]): Args[0] is the code (i64) when given
	EventUnwatch                       // unwatch(addr): Args[0] is the address (u64) whose watchpoint to remove
	// EventWatchpoint is sent by the setup program of watchpoint:func+argN
	// when func is called: Args[0] is the address (u64, argument N) to
	// watch with the program Event.Program, as Event.Watch says (length,
	// mode, async). Unless the watchpoint is async, the setup program has
	// stopped the process (SIGSTOP), and user space continues it
	// (SIGCONT) once the breakpoint is armed.
	EventWatchpoint
	// EventHelperError is a helper call that failed, under -k or -kk
	// (Options.HelperChecks): Args[0] is its return value (i64), Text
	// the helper's name ("map_update_elem"), Call the expression or
	// statement it served.
	EventHelperError
)

var eventKindNames = [...]string{
	EventPrintf: "printf", EventPrint: "print", EventPrintMap: "print_map", EventResult: "result",
	EventClear: "clear", EventZero: "zero", EventTime: "time", EventCat: "cat", EventJoin: "join",
	EventSystem: "system", EventExit: "exit", EventUnwatch: "unwatch", EventWatchpoint: "watchpoint",
	EventHelperError: "helper_error",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return fmt.Sprintf("event(%d)", k)
}

// Event describes one asynchronous action in the program: a ring buffer
// record with this ID is laid out as a u64 ID followed by Args at their
// offsets (offsets count from the record's start, so the first is 8 or
// more). Size is the record's size.
type Event struct {
	ID   uint64
	Kind EventKind
	// Format is the parsed format of printf, system and cat.
	Format *lang.Format
	Args   []Arg
	Size   int
	// Map is the map print(@m), clear, zero and a bare @m name.
	Map string
	// Text is time()'s format ("%H:%M:%S\n" when none was given),
	// join()'s delimiter (" " when none was given), or the helper of an
	// EventHelperError.
	Text string
	// Call is where the action is in the source, for diagnostics.
	Call lang.Node
	// Program and Watch are an EventWatchpoint's: the name of the
	// KindWatchpoint program to attach, and its watchpoint attach point.
	Program string
	Watch   *lang.AttachPoint
}

// Arg is one argument of an event.
type Arg struct {
	Offset int
	Type   *lang.Type
}

// CollectionSpec returns the Object's maps and programs as one cilium
// collection spec: maps keyed by their reference names ("@x", MapEvents,
// ...), programs by Program.Name. Each call returns fresh copies.
func (o *Object) CollectionSpec() *ebpf.CollectionSpec {
	cs := &ebpf.CollectionSpec{
		Maps:     make(map[string]*ebpf.MapSpec),
		Programs: make(map[string]*ebpf.ProgramSpec),
	}
	for name, m := range o.Maps {
		cs.Maps[name] = m.Spec.Copy()
		if m.Slot != nil {
			cs.Maps[SlotName(name)] = m.Slot.Copy()
		}
	}
	for name, m := range o.Internal {
		cs.Maps[name] = m.Copy()
	}
	for _, p := range o.Programs {
		cs.Programs[p.Name] = p.Spec.Copy()
	}
	return cs
}

// MapNames returns the names of the Object's bpftrace maps, sorted.
func (o *Object) MapNames() []string {
	names := make([]string, 0, len(o.Maps))
	for n := range o.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// EventIDs returns the ids of the Object's events, in increasing order.
func (o *Object) EventIDs() []uint64 {
	ids := make([]uint64, 0, len(o.Events))
	for id := range o.Events {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
