package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// BPF_RB_NO_WAKEUP: the reader polls rather than being woken per record,
// which is four times as fast on these machines. exit() is the exception
// (BPF_RB_FORCE_WAKEUP): the sooner the reader sees it, the sooner the
// probes are detached, and the fewer times they fire after it.
const (
	rbNoWakeup    = 1
	rbForceWakeup = 2
)

// newEvent adds an event to the Object's table. Its arguments are laid out
// as a tuple of their types after the 8-byte id.
func (g *gen) newEvent(kind EventKind, call lang.Node, types []*lang.Type) *Event {
	ev := &Event{ID: g.c.opts.EventBase + uint64(len(g.c.events)), Kind: kind, Call: call, Size: 8}
	if len(types) > 0 {
		tup := lang.TupleOf(types...)
		for i, f := range tup.Fields {
			ev.Args = append(ev.Args, Arg{Offset: 8 + f.Offset, Type: types[i]})
		}
		ev.Size = 8 + tup.Size
	}
	g.c.events = append(g.c.events, ev)
	return ev
}

// emitEvent builds ev's record in scratch from vals (already lowered, in
// order) and writes it to the ring buffer.
func (g *gen) emitEvent(ev *Event, args []lang.Expr) {
	buf := g.scratchAlloc(ev.Size)
	if hasPadding(ev) {
		g.zeroScratch(buf, ev.Size)
	}
	g.movImm(asm.R0, int64(ev.ID))
	g.storeScratch(buf, asm.R0, 8)
	for i, a := range args {
		if i >= len(ev.Args) {
			break
		}
		g.exprInto(buf+ev.Args[i].Offset, ev.Args[i].Type, a)
	}
	g.output(buf, ev.Size)
}

// emitEventVals is emitEvent for arguments already lowered.
func (g *gen) emitEventVals(ev *Event, vals []val) {
	buf := g.scratchAlloc(ev.Size)
	if hasPadding(ev) {
		g.zeroScratch(buf, ev.Size)
	}
	g.movImm(asm.R0, int64(ev.ID))
	g.storeScratch(buf, asm.R0, 8)
	for i, v := range vals {
		g.storeInto(buf+ev.Args[i].Offset, ev.Args[i].Type, v)
	}
	g.output(buf, ev.Size)
}

// hasPadding reports whether ev's record has bytes no argument covers;
// they are zeroed so records carry no stale scratch.
func hasPadding(ev *Event) bool {
	end := 8
	for _, a := range ev.Args {
		if a.Offset != end {
			return true
		}
		end = a.Offset + a.Type.Size
	}
	return end != ev.Size
}

// output writes size bytes of scratch at buf to the ring buffer, counting
// a failure (the buffer is full) in MapDrops.
func (g *gen) output(buf, size int) {
	g.ringbufOutput(size, func() { g.scratchPtr(asm.R2, buf) })
}

// ringbufOutput writes size bytes to the ring buffer, from where record
// (called after R1 is set) points R2, counting a failure in MapDrops.
func (g *gen) ringbufOutput(size int, record func()) {
	flags := int32(rbNoWakeup)
	if g.wakeReader {
		flags, g.wakeReader = rbForceWakeup, false
	}
	g.mapPtr(asm.R1, MapEvents)
	record()
	g.emit(asm.Mov.Imm(asm.R3, int32(size)), asm.Mov.Imm(asm.R4, flags))
	g.call(asm.FnRingbufOutput)
	ok := g.label("out_ok")
	g.emit(asm.JEq.Imm(asm.R0, 0, ok))
	slot := g.stackAlloc(8)
	g.emit(asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R10, slot, asm.R1, asm.Word))
	g.mapPtr(asm.R1, MapDrops)
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(slot)))
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, ok))
	g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	g.mark(ok)
}

// formatCall lowers printf, system and cat: the format is in the event
// table, the arguments in the record.
func (g *gen) formatCall(kind EventKind, call *lang.CallExpr) {
	if len(call.Args) == 0 {
		g.errorf(call, "%s() needs a format", call.Name)
		return
	}
	args := call.Args[1:]
	types := make([]*lang.Type, len(args))
	for i, a := range args {
		types[i] = a.Type()
		if types[i] == nil || types[i].Size <= 0 {
			g.errorf(a, "%s() argument %d has no type", call.Name, i+1)
			return
		}
	}
	ev := g.newEvent(kind, call, types)
	if f := g.c.info.Formats[call]; f != nil {
		ev.Format = f
	}
	if s, ok := g.constLit(call.Args[0]); ok {
		ev.Text = s.Value
	}
	g.emitEvent(ev, args)
}

// exitCall lowers exit([code]): an exit event, then the end of the probe.
func (g *gen) exitCall(call *lang.CallExpr) {
	var types []*lang.Type
	if len(call.Args) > 0 {
		types = []*lang.Type{lang.TypeInt64}
	}
	ev := g.newEvent(EventExit, call, types)
	g.wakeReader = true
	g.emitEvent(ev, call.Args)
	g.leave()
}

// mapEvent lowers clear(@m), zero(@m) and print(@m[, top[, div]]).
func (g *gen) mapEvent(kind EventKind, call *lang.CallExpr, m *lang.MapExpr, extra []lang.Expr) {
	if g.layout(m, m.Name) == nil {
		return
	}
	var types []*lang.Type
	if kind == EventPrintMap {
		types = []*lang.Type{lang.TypeUint64, lang.TypeUint64}
	}
	ev := g.newEvent(kind, call, types)
	ev.Map = m.Name
	vals := make([]val, len(types))
	for i := range vals {
		vals[i] = val{t: lang.TypeUint64, kind: vConst}
		if i < len(extra) {
			vals[i] = g.intExpr(extra[i])
		}
	}
	g.emitEventVals(ev, vals)
}
