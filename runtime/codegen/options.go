package codegen

import (
	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
)

// Options configure Compile. The zero value (or nil) is usable: every field
// has a default. A session must compile every cell with the same
// MaxMapEntries, RingBufSize and StackMapEntries, since the specs of shared
// maps depend on them.
type Options struct {
	// StrLen is the default string size (BPFTRACE_STRLEN, at most 200);
	// 0 takes Info.StrLen, or 64.
	StrLen int
	// MaxMapEntries bounds every keyed bpftrace map (BPFTRACE_MAP_KEYS_MAX);
	// 0 means 4096.
	MaxMapEntries int
	// RingBufSize is the size of MapEvents in bytes, a power of two and a
	// multiple of the page size; 0 means 16 MiB.
	RingBufSize int
	// StackMapEntries bounds MapStacks; 0 means 4096.
	StackMapEntries int

	// EventBase is the id of the Object's first event; the others follow
	// in order. A session gives each Object its own range, so one ring
	// buffer reader can tell every cell's records apart.
	EventBase uint64

	// Params are the positional parameters $1..$N.
	Params []string

	// Types answers, per concrete attach point, what the checker answered
	// for the first one: a probe on several tracepoints whose `args`
	// records differ is compiled once per tracepoint, each against its own
	// record. Nil means every match is taken to have the first match's
	// record.
	Types lang.TypeSource

	// Kaddr resolves kaddr("sym") to a kernel address.
	Kaddr func(name string) (uint64, error)
	// Uaddr resolves uaddr("sym") in the binary a uprobe is attached to.
	Uaddr func(binary, name string) (uint64, error)
	// CgroupID resolves cgroupid("/sys/fs/cgroup/...") to a cgroup id.
	CgroupID func(path string) (uint64, error)
	// USDTArgs returns, for a concrete usdt attach point, the arguments
	// of each of its locations (ParseUSDTArg reads the note's strings;
	// the runtime's own parser also resolves %rip-relative operands).
	// Locations with the same arguments share a program.
	USDTArgs func(ap *lang.AttachPoint) ([][]USDTArg, error)

	// TaskCommOffset says where task_struct.comm lies (a 16-byte array
	// at an 8-aligned offset), when the kernel has BTF and
	// bpf_get_current_task_btf (5.11): comm is then two loads from the
	// current task instead of a call of bpf_get_current_comm, which costs
	// about three times as much. It is asked only when a program reads
	// comm; nil, or an answer of no, keeps the helper. (The runtime scans
	// raw BTF for it: converting task_struct through Types would cost a
	// command's start about 20 ms.)
	TaskCommOffset func() (int, bool)

	// HelperChecks is bpftrace's -k (1) or -kk (2): helper calls that
	// fail send an EventHelperError (helpercheck.go). 0 checks none.
	HelperChecks int

	// CPUs is the number of possible CPUs: delete(@x) and len(@x) of a
	// scalar aggregation visit each CPU's value (MapLayout.InArray). 0
	// means this machine's (ebpf.PossibleCPU).
	CPUs int
}

func (o *Options) withDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxMapEntries <= 0 {
		c.MaxMapEntries = 4096
	}
	if c.RingBufSize <= 0 {
		c.RingBufSize = 16 << 20
	}
	if c.StackMapEntries <= 0 {
		c.StackMapEntries = 4096
	}
	if c.CPUs <= 0 {
		c.CPUs = 1
		if n, err := ebpf.PossibleCPU(); err == nil && n > 0 {
			c.CPUs = n
		}
	}
	return &c
}
