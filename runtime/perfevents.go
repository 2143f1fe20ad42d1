package runtime

import (
	"sort"

	"golang.org/x/sys/unix"
)

// PerfEventKind is one software or hardware event bpftrace knows by name.
type PerfEventKind struct {
	Name  string // "page-faults"
	Alias string // "faults", or ""
	// Type and Config are perf_event_attr's (PERF_TYPE_SOFTWARE,
	// PERF_COUNT_SW_PAGE_FAULTS).
	Type   uint32
	Config uint64
	// DefaultPeriod is the sample period when the probe gives no count
	// (software:page-faults fires every 100 faults).
	DefaultPeriod uint64
}

// SoftwareEvents and HardwareEvents are the events of the software: and
// hardware: providers with bpftrace's names, aliases and default periods.
var SoftwareEvents = []PerfEventKind{
	{"alignment-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
	{"bpf-output", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_BPF_OUTPUT, 1},
	{"context-switches", "cs", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
	{"cpu-clock", "cpu", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
	{"cpu-migrations", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_MIGRATIONS, 1},
	{"dummy", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_DUMMY, 1},
	{"emulation-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_EMULATION_FAULTS, 1},
	{"major-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
	{"minor-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
	{"page-faults", "faults", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
	{"task-clock", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_TASK_CLOCK, 1},
}

var HardwareEvents = []PerfEventKind{
	{"backend-stalls", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
	{"branch-instructions", "branches", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
	{"branch-misses", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_MISSES, 100000},
	{"bus-cycles", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BUS_CYCLES, 100000},
	{"cache-misses", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_MISSES, 1000000},
	{"cache-references", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
	{"cpu-cycles", "cycles", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
	{"frontend-stalls", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
	{"instructions", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_INSTRUCTIONS, 1000000},
	{"ref-cycles", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
}

// LookupPerfEvent finds a software (provider "software") or hardware event
// by name or alias.
func LookupPerfEvent(provider, name string) (PerfEventKind, bool) {
	list := SoftwareEvents
	if provider == "hardware" {
		list = HardwareEvents
	}
	for _, e := range list {
		if e.Name == name || (e.Alias != "" && e.Alias == name) {
			return e, true
		}
	}
	return PerfEventKind{}, false
}

// perfEventNames returns the names of a provider's events, with aliases
// when withAliases is set, sorted.
func perfEventNames(provider string, withAliases bool) []string {
	list := SoftwareEvents
	if provider == "hardware" {
		list = HardwareEvents
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Name)
		if withAliases && e.Alias != "" {
			out = append(out, e.Alias)
		}
	}
	sort.Strings(out)
	return out
}

// Breakpoint types of perf_event_attr.bp_type (HW_BREAKPOINT_*).
const (
	hwBreakpointR  = 1
	hwBreakpointW  = 2
	hwBreakpointRW = 3
	hwBreakpointX  = 4
)
