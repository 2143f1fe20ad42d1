package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// Helper checks are bpftrace's -k and -kk: after a helper call, a failure
// (a negative return, or a map lookup that found nothing) sends an
// EventHelperError with the return value, and user space prints
// "WARNING: Failed to <helper>: <strerror> (<ret>)" at the call's place in
// the source. As in bpftrace 0.17, -k (Options.HelperChecks 1) checks the
// helpers whose failure a program cannot see otherwise (map updates and
// deletes, bpf_send_signal, bpf_get_stackid, bpf_get_current_comm,
// bpf_d_path); -kk (2) adds the probe reads and map lookups, whose failure
// reads as zero.

// helperNames are the names bpftrace prints for the helpers it checks
// (libbpf's bpf_func_name).
var helperNames = map[asm.BuiltinFunc]string{
	asm.FnMapLookupElem:      "map_lookup_elem",
	asm.FnMapUpdateElem:      "map_update_elem",
	asm.FnMapDeleteElem:      "map_delete_elem",
	asm.FnProbeRead:          "probe_read",
	asm.FnProbeReadStr:       "probe_read_str",
	asm.FnProbeReadKernel:    "probe_read_kernel",
	asm.FnProbeReadKernelStr: "probe_read_kernel_str",
	asm.FnProbeReadUser:      "probe_read_user",
	asm.FnProbeReadUserStr:   "probe_read_user_str",
	asm.FnGetStackid:         "get_stackid",
	asm.FnGetCurrentComm:     "get_current_comm",
	asm.FnSendSignal:         "send_signal",
	asm.FnDPath:              "d_path",
	asm.FnSeqPrintf:          "seq_printf",
	asm.FnSeqWrite:           "seq_write",
}

// zeroOnError reports whether a failure of fn reads as zero in the
// program (so only -kk checks it).
func zeroOnError(fn asm.BuiltinFunc) bool {
	switch fn {
	case asm.FnProbeRead, asm.FnProbeReadStr, asm.FnProbeReadKernel, asm.FnProbeReadKernelStr,
		asm.FnProbeReadUser, asm.FnProbeReadUserStr, asm.FnMapLookupElem:
		return true
	}
	return false
}

// posNode is a place in the source that is not a whole node: bpftrace
// places a dereference's failed read at the '*' alone.
type posNode struct{ start, end lang.Pos }

func (p posNode) Span() (lang.Pos, lang.Pos) { return p.start, p.end }

// opNode returns the node of the first n characters of node at.
func opNode(at lang.Node, n int) lang.Node {
	start, _ := at.Span()
	return posNode{start, lang.Pos{Line: start.Line, Col: start.Col + n}}
}

// checkHelper follows a call of fn whose result is in R0: under the
// helper checks it reports a failure at node at (nothing when at is nil).
// R0 is the same afterwards.
func (g *gen) checkHelper(fn asm.BuiltinFunc, at lang.Node) {
	level := g.c.opts.HelperChecks
	if level <= 0 || level == 1 && zeroOnError(fn) || at == nil {
		return
	}
	name := helperNames[fn]
	if name == "" {
		return
	}
	ok := g.label("helper_ok")
	if fn == asm.FnMapLookupElem {
		g.emit(asm.JNE.Imm(asm.R0, 0, ok))
	} else {
		// The helpers return an int: a 32-bit test, as bpftrace's.
		g.emit(asm.JSGE.Imm32(asm.R0, 0, ok))
	}
	g.reportHelper(fn, at)
	g.mark(ok)
}

// checkArrayLookup follows the lookup (at key) of a scalar aggregation
// kept in an array (MapLayout.InArray), R0 not NULL: under -kk, when this
// CPU has not written the value yet, it reports the failed lookup bpftrace
// 0.17 reports when it creates the entry in its hash, times times, and
// then looks the value up again into R0 (NULL jumps to done). On a
// machine where several CPUs write the value, each reports its first
// write; bpftrace reports the first overall.
func (g *gen) checkArrayLookup(l *MapLayout, key int, at lang.Node, times int, done string) {
	if g.c.opts.HelperChecks < 2 || at == nil || times == 0 {
		return
	}
	written := g.label("written")
	g.emit(asm.LoadMem(asm.R1, asm.R0, int16(l.ValueSize), asm.DWord), asm.JNE.Imm(asm.R1, 0, written))
	for i := 0; i < times; i++ {
		g.emit(asm.Mov.Imm(asm.R0, 0))
		g.reportHelper(asm.FnMapLookupElem, at)
	}
	g.lookup(l.Name, key)
	g.emit(asm.JEq.Imm(asm.R0, 0, done))
	g.mark(written)
}

// reportHelper sends the EventHelperError of a failed call of fn, whose
// result is in R0, placed at node at. R0 is the same afterwards.
func (g *gen) reportHelper(fn asm.BuiltinFunc, at lang.Node) {
	name := helperNames[fn]
	ev := g.newEvent(EventHelperError, at, []*lang.Type{lang.TypeInt64})
	ev.Text = name
	rec := g.stackAlloc(16)
	// The record: the event id and the return value as an int.
	g.emit(asm.LSh.Imm(asm.R0, 32), asm.ArSh.Imm(asm.R0, 32))
	g.emit(asm.StoreMem(asm.R10, rec+8, asm.R0, asm.DWord))
	g.movImm(asm.R1, int64(ev.ID))
	g.emit(asm.StoreMem(asm.R10, rec, asm.R1, asm.DWord))
	g.ringbufOutput(16, func() { g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(rec))) })
	// The failed result, for what follows the call. A failed lookup is
	// NULL: say so with a constant, because the verifiers of 6.1 and 6.12
	// forget that the spilled copy is zero and then refuse the
	// dereference on the path that follows ("R0 invalid mem access
	// 'scalar'", seen in the kernel matrix; 6.18 keeps track).
	if fn == asm.FnMapLookupElem {
		g.emit(asm.Mov.Imm(asm.R0, 0))
	} else {
		g.emit(asm.LoadMem(asm.R0, asm.R10, rec+8, asm.DWord))
	}
}
