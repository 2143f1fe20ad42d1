package codegen

import (
	"strings"

	"github.com/cilium/ebpf"
)

// The internal maps, by the names programs reference them with (keys of
// Object.Internal and of CollectionSpec().Maps). Their specs depend only on
// Options, never on the program, so that a session can create the shared
// ones once and pass them to every later Object as MapReplacements.
//
// Shared by a session (create once, replace in every Object):
//
//	MapEvents  ring buffer of event records (Event), written with
//	           bpf_ringbuf_output(..., BPF_RB_NO_WAKEUP): the reader polls.
//	MapDrops   per-CPU array[1] of u64: records the ring buffer could not
//	           take. (These two names and specs are the runtime's
//	           EventsMapName/DropsMapName contract, runtime/ringbuf.go.)
//	MapStacks  stack-trace map the kstack/ustack ids index (StackMapName:
//	           one per frame limit).
//	MapZero    array[1] of ZeroSize zero bytes, read-only for programs: the
//	           initial value of new hist/lhist entries.
//
// Private to one Object (create with the Object; they hold nothing across
// runs, or hold something that belongs to one run):
//
//	MapGlobals  array[1] of GlobalsSize bytes the runtime writes before it
//	            runs anything: u64 start time (CLOCK_MONOTONIC ns, the base of
//	            `elapsed`) at GlobalStart, u64 pid of the -c child (`cpid`)
//	            at GlobalCpid.
//	MapErrors   array of u64, one per bpftrace map in Object.MapNames()
//	            order: failed map updates (the map was full).
//	MapScratch  per-CPU array[1] of ScratchSize bytes: strings, tuples, map
//	            keys and event records under construction (doc.go).
//	MapScratchNMI  the same for perf-event programs, which run in NMI context
//	            and may interrupt another program in the middle of its use
//	            of MapScratch on the same CPU.
const (
	MapEvents     = "events"
	MapDrops      = "drops"
	MapErrors     = "tb_map_errors"
	MapStacks     = "tb_stacks"
	MapZero       = "tb_zero"
	MapGlobals    = "tb_globals"
	MapScratch    = "tb_scratch"
	MapScratchNMI = "tb_scratch_nmi"
)

// Offsets in MapGlobals' value.
const (
	GlobalStart = 0
	GlobalCpid  = 8
	GlobalsSize = 16
)

// SharedInternalMaps are the shared internal maps every Object has.
// Stack maps (MapStacks and StackMapName's others) are shared too, but an
// Object has them only when its programs take stacks.
var SharedInternalMaps = []string{MapEvents, MapDrops, MapZero}

// IsSharedInternal reports whether an internal map is one a session
// creates once and shares between Objects (by MapReplacements): the ring
// buffer, the drop counter, the zero value and the stack maps. The others
// belong to one Object.
func IsSharedInternal(name string) bool {
	switch name {
	case MapEvents, MapDrops, MapZero:
		return true
	}
	return strings.HasPrefix(name, MapStacks)
}

const (
	// ZeroSize is the value size of MapZero: room for the largest lhist
	// (1000 buckets plus two) and any other zero value.
	ZeroSize = 8192
	// StackFrames is the depth the stack map keeps (perf_event_max_stack's
	// default); kstack(N)/ustack(N) are cut to N when printed.
	StackFrames = 127
	// JoinArgs and the string size bound what join() copies: at most
	// JoinArgs arguments of StrLen bytes each (bpftrace's limits).
	JoinArgs = 16
	// maxScratch is the largest per-CPU value the kernel allows
	// (PCPU_MIN_UNIT_SIZE).
	maxScratch = 32 << 10
)

// Map flags (uapi/linux/bpf.h).
const (
	flagNoPrealloc = 1 << 0 // BPF_F_NO_PREALLOC
	flagRdonlyProg = 1 << 7 // BPF_F_RDONLY_PROG
)

// internalSpec returns the spec of an internal map.
func internalSpec(name string, opts *Options, scratchSize int) *ebpf.MapSpec {
	switch name {
	case MapEvents:
		return &ebpf.MapSpec{Name: name, Type: ebpf.RingBuf, MaxEntries: uint32(opts.RingBufSize)}
	case MapDrops:
		return &ebpf.MapSpec{Name: name, Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}
	case MapZero:
		return &ebpf.MapSpec{Name: name, Type: ebpf.Array, KeySize: 4, ValueSize: ZeroSize, MaxEntries: 1,
			Flags: flagRdonlyProg}
	case MapGlobals:
		return &ebpf.MapSpec{Name: name, Type: ebpf.Array, KeySize: 4, ValueSize: GlobalsSize, MaxEntries: 1}
	case MapScratch, MapScratchNMI:
		return &ebpf.MapSpec{Name: name, Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: uint32(scratchSize),
			MaxEntries: 1}
	}
	panic("codegen: unknown internal map " + name)
}

// InternalMapSpec returns the spec of one of the session-shared internal
// maps (SharedInternalMaps) under opts, for a runtime that creates them
// before it compiles anything. It returns nil for other names.
func InternalMapSpec(name string, opts *Options) *ebpf.MapSpec {
	for _, n := range SharedInternalMaps {
		if n == name {
			return internalSpec(name, opts.withDefaults(), 0)
		}
	}
	return nil
}

// stackMapSpec is the spec of a stack map keeping depth frames.
func stackMapSpec(name string, depth int, opts *Options) *ebpf.MapSpec {
	return &ebpf.MapSpec{Name: kernelName(name), Type: ebpf.StackTrace, KeySize: 4,
		ValueSize: uint32(8 * depth), MaxEntries: uint32(opts.StackMapEntries)}
}
