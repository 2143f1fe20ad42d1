package codegen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// watchpoint:func+argN:len:mode watches an address that is known only when
// func runs, as bpftrace 0.17 does it: a setup program, a uprobe on func
// in the -c command's or -p process's binary, reads argument N and sends
// it to user space (EventWatchpoint), which attaches the probe's body to a
// hardware breakpoint on that address for the process. So that the
// process does not run past the first access before the breakpoint is
// armed, the setup program stops it (SIGSTOP) and user space continues it
// (SIGCONT) once the breakpoint is there; asyncwatchpoint lets it run.

// Signal numbers of the setup program.
const (
	sigCont = 18
	sigStop = 19
)

// funcWatchpoint reports whether ap is a watchpoint on a function's
// argument.
func funcWatchpoint(ap *lang.AttachPoint) bool {
	return (ap.Provider == "watchpoint" || ap.Provider == "asyncwatchpoint") && ap.Func != ""
}

// watchpointPrograms compiles the body of a function-argument watchpoint
// (KindWatchpoint, attached at run time) and its setup program.
func (c *compiler) watchpointPrograms(name string, p *lang.Probe, index int, wp *lang.AttachPoint) ([]*Program, error) {
	if wp.ArgN < 0 || wp.ArgN >= len(argRegs) {
		return nil, &Error{Msg: "watchpoint arguments past arg5 are not supported", Node: wp}
	}
	body, err := c.programFor(name, p, index, []*lang.AttachPoint{wp}, nil)
	if err != nil {
		return nil, err
	}
	body.Kind = KindWatchpoint
	setup, err := c.watchpointSetup(name+"_setup", p, index, wp, body.Name)
	if err != nil {
		return nil, err
	}
	return []*Program{body, setup}, nil
}

// watchpointSetup generates the uprobe that arms watchpoint wp with the
// program called body. Its record (the event id and the address) is
// built on the stack: the program needs no scratch. When the ring buffer
// is full it continues the process it has stopped and counts the drop.
func (c *compiler) watchpointSetup(name string, p *lang.Probe, index int, wp *lang.AttachPoint, body string) (*Program, error) {
	up := &lang.AttachPoint{Raw: wp.Raw, Provider: "uprobe", Target: wp.Target, Func: wp.Func}
	up.SetSpan(wp.Span())
	g := &gen{c: c, probe: p, ap: up, provider: "uprobe", kind: KindAttach, src: c.prog.Src,
		aliases: make(map[string]string), vars: make(map[string]*variable), retFlag: -1, scratchMap: MapScratch}
	g.f = &fn{name: name, exit: "exit"}
	g.ctxSlot = g.stackAlloc(8)

	ev := g.newEvent(EventWatchpoint, wp, []*lang.Type{lang.TypeUint64})
	ev.Program, ev.Watch = body, wp

	g.f.pendSrc = "watchpoint setup: " + wp.Name()
	g.emit(asm.Mov.Reg(regCtx, asm.R1))
	if !wp.Async {
		g.emit(asm.Mov.Imm(asm.R1, sigStop))
		g.call(asm.FnSendSignal)
	}
	rec := g.stackAlloc(16)
	g.movImm(asm.R0, int64(ev.ID))
	g.emit(asm.StoreMem(asm.R10, rec, asm.R0, asm.DWord))
	g.ctxLoad(asm.R0, ptRegs[argRegs[wp.ArgN]], asm.DWord)
	g.emit(asm.StoreMem(asm.R10, rec+8, asm.R0, asm.DWord))
	g.mapPtr(asm.R1, MapEvents)
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(rec)))
	// The reader is woken: the process waits for it.
	g.emit(asm.Mov.Imm(asm.R3, 16), asm.Mov.Imm(asm.R4, rbForceWakeup))
	g.call(asm.FnRingbufOutput)
	g.emit(asm.JEq.Imm(asm.R0, 0, g.f.exit))
	if !wp.Async {
		g.emit(asm.Mov.Imm(asm.R1, sigCont))
		g.call(asm.FnSendSignal)
	}
	slot := g.stackAlloc(8)
	g.emit(asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R10, slot, asm.R1, asm.Word))
	g.mapPtr(asm.R1, MapDrops)
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(slot)))
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, g.f.exit))
	g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	g.finishFunc()
	if g.err != nil {
		return nil, g.err
	}
	ptype, atype := ProgramType("uprobe")
	spec := &ebpf.ProgramSpec{Name: kernelName(name), Type: ptype, AttachType: atype,
		Instructions: peephole(g.f.insns), License: "GPL"}
	return &Program{Name: name, Spec: spec, Kind: KindAttach, Probe: p, ProbeIndex: index,
		Attach: []*lang.AttachPoint{up}}, nil
}
