package codegen

import (
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// Write-combining slots. A keyed count() or sum() (@m[comm] = count())
// costs a per-CPU hash lookup per event: a call into the kernel's hash
// code and its memcmp, the larger part of the program on a syscall
// tracepoint. Events on one CPU mostly repeat the key of the one before
// (a task makes many syscalls in a row), so each such map has a slot per
// CPU (MapLayout.Slot, a one-entry per-CPU array, looked up inline) that
// holds the last key and what was added to it since: an event with the
// same key adds to the slot, one with another key first flushes the
// slot's sum into the hash. Nothing reads a slot but the code here:
//
//   - user space flushes every CPU's slot before it reads, clears, zeroes
//     or deletes from the map, with FlushProgram run on each CPU
//     (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU), so what it reads is
//     exact;
//   - a program that reads the map in BPF, deletes from it, or asks
//     has_key, len or for about it (Object.GlobalMaps) needs every CPU's
//     adds in the hash at once: before it runs, user space flushes the
//     slots and disables them for good (FlushProgram with mode 1), and
//     every program then updates the hash directly;
//   - a program that interrupts another on the same CPU (an NMI, a probe
//     in a helper) finds the slot busy and updates the hash directly, and
//     so does the flush program, which then reports "busy" to be run
//     again;
//   - a flush that finds the map full counts the events it held as failed
//     updates, as the direct path counts each.
//
// With -k and -kk the slots are not used: a failed update is reported at
// the statement whose event failed. A CPU taken offline keeps what its
// slot holds until it is back: user space flushes the online CPUs.
//
// The slot's value:
//
//	key       KeySize bytes, 8-aligned
//	pending   i64   what the events since the last flush add
//	events    u64   how many they were (for full-map accounting)
//	used      u64   the slot holds a key
//	state     u64   0 free, 1 busy (being updated)
//	disabled  u64   set for good by a flush in mode 1
//
// No atomics are needed: a slot is only ever touched on its own CPU, by
// programs that may interrupt one another there (and the flush, which
// runs there too). An update reads what it relies on after it has marked
// the slot busy, so one that interrupts it between its test of state and
// that mark runs to its end first and is seen; that is also why disabled
// is a word of its own (a mark written over a "disabled" state would
// lose it).

// Slot states.
const (
	slotFree = 0
	slotBusy = 1
)

// slotSuffix makes a slot's reference name from its map's.
const slotSuffix = "#slot"

// SlotName is the reference name of map name's write-combining slot.
func SlotName(name string) string { return name + slotSuffix }

// SlotParent returns the map whose slot the reference name is, if it is one.
func SlotParent(name string) (string, bool) { return strings.CutSuffix(name, slotSuffix) }

// slotOffsets are the offsets in a slot value.
type slotOffsets struct{ pending, events, used, state, disabled int16 }

func (l *MapLayout) slotOffsets() slotOffsets {
	k := int16(align8(l.KeySize))
	return slotOffsets{pending: k, events: k + 8, used: k + 16, state: k + 24, disabled: k + 32}
}

func align8(n int) int { return (n + 7) &^ 7 }

// slotSpec is the spec of a keyed count() or sum() map's slot.
func slotSpec(l *MapLayout) *ebpf.MapSpec {
	return &ebpf.MapSpec{
		Name:       kernelName("SL_" + strings.TrimPrefix(l.Name, "@")),
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  uint32(align8(l.KeySize) + 40),
		MaxEntries: 1,
	}
}

// useSlot reports whether the update of l at hand goes through its slot.
func (g *gen) useSlot(l *MapLayout) bool {
	return l.Slot != nil && g.c.opts.HelperChecks == 0
}

// noteGlobal records that the program needs every CPU's adds to l in the
// hash: it reads, deletes, or asks has_key, len or for.
func (g *gen) noteGlobal(l *MapLayout) {
	if l.Slot != nil {
		g.c.globalMaps[l.Name] = true
	}
}

// aggregateSlot adds to @m[key] through m's slot (see above): delta is 1
// for count(), x for sum(). When the slot cannot take the event (this is
// a nested program, or the slot is disabled) it jumps to direct, where the
// caller updates the hash; otherwise to done.
func (g *gen) aggregateSlot(l *MapLayout, key int, x val, direct, done string) {
	off := l.slotOffsets()
	zkey := g.stackAlloc(8)
	g.emit(asm.StoreImm(asm.R10, zkey, 0, asm.Word))
	g.mapPtr(asm.R1, SlotName(l.Name))
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(zkey)))
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, direct))
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.state, asm.DWord), asm.JNE.Imm(asm.R1, slotFree, direct))
	g.emit(asm.Mov.Imm(asm.R1, slotBusy), asm.StoreMem(asm.R0, off.state, asm.R1, asm.DWord))
	claim, miss, enabled := g.label("slot_claim"), g.label("slot_miss"), g.label("slot_enabled")
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.disabled, asm.DWord), asm.JEq.Imm(asm.R1, 0, enabled))
	g.emit(asm.Mov.Imm(asm.R1, slotFree), asm.StoreMem(asm.R0, off.state, asm.R1, asm.DWord), asm.Ja.Label(direct))
	g.mark(enabled)
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.used, asm.DWord), asm.JEq.Imm(asm.R1, 0, claim))
	g.usesScratch = true
	for i, sz := range chunks(l.KeySize) {
		g.emit(asm.LoadMem(asm.R1, regScratch, int16(key+i), sz), asm.LoadMem(asm.R2, asm.R0, int16(i), sz),
			asm.JNE.Reg(asm.R1, asm.R2, miss))
	}
	// The same key: add to the slot.
	g.loadDelta(l, x, asm.R2)
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.pending, asm.DWord), asm.Add.Reg(asm.R1, asm.R2),
		asm.StoreMem(asm.R0, off.pending, asm.R1, asm.DWord))
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.events, asm.DWord), asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, off.events, asm.R1, asm.DWord))
	g.emit(asm.Mov.Imm(asm.R1, slotFree), asm.StoreMem(asm.R0, off.state, asm.R1, asm.DWord))
	g.emit(asm.Ja.Label(done))

	// Another key: flush the slot's, then take this one.
	g.mark(miss)
	spill := g.stackAlloc(8)
	g.emit(asm.StoreMem(asm.R10, spill, asm.R0, asm.DWord))
	g.flushSlot(l, spill, func() {
		// The map is full: every event the slot held failed.
		idx := g.c.mapIndex[l.Name]
		slot := g.stackAlloc(8)
		g.emit(asm.StoreImm(asm.R10, slot, int64(idx), asm.Word))
		g.mapPtr(asm.R1, MapErrors)
		g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(slot)))
		g.call(asm.FnMapLookupElem)
		ok := g.label("slot_counted")
		g.emit(asm.JEq.Imm(asm.R0, 0, ok))
		g.emit(asm.LoadMem(asm.R1, asm.R10, spill, asm.DWord), asm.LoadMem(asm.R2, asm.R1, off.events, asm.DWord),
			asm.StoreXAdd(asm.R0, asm.R2, asm.DWord))
		g.mark(ok)
	})
	g.emit(asm.LoadMem(asm.R0, asm.R10, spill, asm.DWord))
	g.mark(claim)
	for i, sz := range chunks(l.KeySize) {
		g.emit(asm.LoadMem(asm.R1, regScratch, int16(key+i), sz), asm.StoreMem(asm.R0, int16(i), asm.R1, sz))
	}
	g.loadDelta(l, x, asm.R2)
	g.emit(asm.StoreMem(asm.R0, off.pending, asm.R2, asm.DWord), asm.Mov.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, off.events, asm.R1, asm.DWord), asm.StoreMem(asm.R0, off.used, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R1, slotFree), asm.StoreMem(asm.R0, off.state, asm.R1, asm.DWord))
	g.emit(asm.Ja.Label(done))
}

// loadDelta puts what one event adds into dst: 1 for count(), x for sum().
func (g *gen) loadDelta(l *MapLayout, x val, dst asm.Register) {
	if l.Value.Kind == lang.KindSum {
		g.load(x, dst)
		return
	}
	g.emit(asm.Mov.Imm(dst, 1))
}

// flushSlot adds the pending sum of the slot whose address is in the
// stack slot spill to this CPU's value of its key in the hash, creating
// the entry if need be; when the map is full it emits failed (which may
// use R0-R5 and reload the slot's address from spill). The slot itself is
// left as it was: the caller reuses or clears it. Clobbers R0-R5.
func (g *gen) flushSlot(l *MapLayout, spill int16, failed func()) {
	off := l.slotOffsets()
	create, done := g.label("flush_new"), g.label("flushed")
	g.mapPtr(asm.R1, l.Name)
	g.emit(asm.LoadMem(asm.R2, asm.R10, spill, asm.DWord))
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, create))
	g.emit(asm.LoadMem(asm.R1, asm.R10, spill, asm.DWord), asm.LoadMem(asm.R2, asm.R1, off.pending, asm.DWord),
		asm.LoadMem(asm.R3, asm.R0, 0, asm.DWord), asm.Add.Reg(asm.R3, asm.R2), asm.StoreMem(asm.R0, 0, asm.R3, asm.DWord))
	g.emit(asm.Ja.Label(done))
	g.mark(create)
	// A new entry: this CPU's value is the pending sum, the others' zero
	// (or, when another CPU created it meanwhile, only this CPU's value is
	// written: per-CPU hash updates from BPF touch this CPU's value).
	g.mapPtr(asm.R1, l.Name)
	g.emit(asm.LoadMem(asm.R2, asm.R10, spill, asm.DWord), asm.Mov.Reg(asm.R3, asm.R2), asm.Add.Imm(asm.R3, int32(off.pending)),
		asm.Mov.Imm(asm.R4, bpfAny))
	g.call(asm.FnMapUpdateElem)
	// A 32-bit test, as in countMapError.
	g.emit(asm.JSGE.Imm32(asm.R0, 0, done))
	failed()
	g.mark(done)
}

// FlushProgram returns the program that flushes this CPU's slot of the
// keyed count() or sum() map l into its hash (see above), to be run with
// BPF_PROG_TEST_RUN on each CPU in turn. Its context is one u64, the mode:
// 0 flushes, 1 flushes and disables the slot for good. It returns 1 when
// the slot was busy (run it again), else twice the number of events that
// failed because the map is full. It references l.Name and
// SlotName(l.Name).
func FlushProgram(l *MapLayout) (*ebpf.ProgramSpec, error) {
	if l.Slot == nil {
		return nil, nil
	}
	off := l.slotOffsets()
	g := &gen{aliases: make(map[string]string), vars: make(map[string]*variable), retFlag: -1}
	g.f = &fn{name: "tb_flush", exit: "exit"}
	g.f.pendSrc = "flush the slot of " + l.Name
	zkey, spill, failed := g.stackAlloc(8), g.stackAlloc(8), g.stackAlloc(8)
	g.emit(asm.LoadMem(asm.R7, asm.R1, 0, asm.DWord)) // the mode
	g.emit(asm.StoreImm(asm.R10, zkey, 0, asm.Word), asm.StoreImm(asm.R10, failed, 0, asm.Word),
		asm.StoreImm(asm.R10, failed+4, 0, asm.Word))
	g.mapPtr(asm.R1, SlotName(l.Name))
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(zkey)))
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, g.f.exit))
	g.emit(asm.StoreMem(asm.R10, spill, asm.R0, asm.DWord))
	notBusy := g.label("not_busy")
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.state, asm.DWord), asm.JNE.Imm(asm.R1, slotBusy, notBusy))
	g.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())
	g.mark(notBusy)
	g.emit(asm.Mov.Imm(asm.R1, slotBusy), asm.StoreMem(asm.R0, off.state, asm.R1, asm.DWord))
	release := g.label("release")
	g.emit(asm.LoadMem(asm.R1, asm.R0, off.used, asm.DWord), asm.JEq.Imm(asm.R1, 0, release))
	g.flushSlot(l, spill, func() {
		g.emit(asm.LoadMem(asm.R1, asm.R10, spill, asm.DWord), asm.LoadMem(asm.R2, asm.R1, off.events, asm.DWord),
			asm.LoadMem(asm.R3, asm.R10, failed, asm.DWord), asm.Add.Reg(asm.R3, asm.R2),
			asm.StoreMem(asm.R10, failed, asm.R3, asm.DWord))
	})
	g.emit(asm.LoadMem(asm.R0, asm.R10, spill, asm.DWord), asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.R0, off.pending, asm.R1, asm.DWord), asm.StoreMem(asm.R0, off.events, asm.R1, asm.DWord),
		asm.StoreMem(asm.R0, off.used, asm.R1, asm.DWord))
	g.mark(release)
	// Mode 1 disables for good.
	keep := g.label("keep_enabled")
	g.emit(asm.LoadMem(asm.R0, asm.R10, spill, asm.DWord), asm.JEq.Imm(asm.R7, 0, keep),
		asm.StoreMem(asm.R0, off.disabled, asm.R7, asm.DWord))
	g.mark(keep)
	g.emit(asm.Mov.Imm(asm.R1, slotFree), asm.StoreMem(asm.R0, off.state, asm.R1, asm.DWord))
	g.emit(asm.LoadMem(asm.R0, asm.R10, failed, asm.DWord), asm.LSh.Imm(asm.R0, 1), asm.Return())
	g.finishFunc()
	if g.err != nil {
		return nil, g.err
	}
	insns := g.f.insns
	for i := range insns {
		if ref := insns[i].Reference(); ref != "" {
			if to := g.resolveAlias(ref); to != ref {
				insns[i] = insns[i].WithReference(to)
			}
		}
	}
	return &ebpf.ProgramSpec{Name: "tb_flush", Type: ebpf.RawTracepoint, Instructions: insns, License: "GPL"}, nil
}
