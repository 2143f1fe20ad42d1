package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// BPF_MAP_UPDATE_ELEM flags.
const (
	bpfAny     = 0
	bpfNoExist = 1
)

// layout returns the layout of the map an expression names.
func (g *gen) layout(n lang.Node, name string) *MapLayout {
	l := g.c.layouts[name]
	if l == nil {
		g.errorf(n, "map %s has no type", name)
	}
	return l
}

// mapKey builds the key of m (its keys, or keys given apart as with
// delete(@m, k)) in scratch in l's layout and returns its offset.
func (g *gen) mapKey(l *MapLayout, keys []lang.Expr) int {
	off := g.scratchAlloc(l.KeySize)
	if !l.Keyed {
		g.zeroScratch(off, l.KeySize)
		return off
	}
	if len(keys) != len(l.Keys) {
		g.errorf(nil, "map %s takes %d keys, got %d", l.Name, len(l.Keys), len(keys))
		return off
	}
	sum := 0
	for _, k := range l.Keys {
		sum += k.Type.Size
	}
	if sum < l.KeySize {
		// Padding between parts must be zero: keys compare bytewise.
		g.zeroScratch(off, l.KeySize)
	}
	for i, k := range keys {
		g.exprInto(off+l.Keys[i].Offset, l.Keys[i].Type, k)
	}
	return off
}

// lookup emits bpf_map_lookup_elem(map, scratch+key); the result is in R0.
func (g *gen) lookup(mapName string, key int) {
	g.mapPtr(asm.R1, mapName)
	g.scratchPtr(asm.R2, key)
	g.call(asm.FnMapLookupElem)
}

// update emits bpf_map_update_elem(map, scratch+key, scratch+value, flags)
// and counts a failure in MapErrors (and with -k reports it at node at).
func (g *gen) update(l *MapLayout, key, value int, flags int32, at lang.Node) {
	g.mapPtr(asm.R1, l.Name)
	g.scratchPtr(asm.R2, key)
	g.scratchPtr(asm.R3, value)
	g.emit(asm.Mov.Imm(asm.R4, flags))
	g.call(asm.FnMapUpdateElem)
	g.checkHelper(asm.FnMapUpdateElem, at)
	g.countMapError(l)
}

// countMapError adds one to the map's counter in MapErrors when R0, a
// helper's result, is negative: an update failed because the map is full
// (or, with BPF_NOEXIST, a racing insert won).
//
// The test looks at R0's low 32 bits only: before Linux 6.4 the map
// operations the verifier turns into direct calls returned an int, so a
// JIT'd bpf_map_update_elem left -E2BIG zero-extended in R0
// (0x00000000fffffff9) and a 64-bit sign test saw success (measured on
// Debian's 6.1 in the kernel matrix).
func (g *gen) countMapError(l *MapLayout) {
	ok := g.label("upd_ok")
	g.emit(asm.JSGE.Imm32(asm.R0, 0, ok))
	idx := g.c.mapIndex[l.Name]
	slot := g.stackAlloc(8)
	g.emit(asm.Mov.Imm(asm.R1, int32(idx)), asm.StoreMem(asm.R10, slot, asm.R1, asm.Word))
	g.mapPtr(asm.R1, MapErrors)
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(slot)))
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, ok))
	g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	g.mark(ok)
}

// mapRead lowers @m or @m[k] as a value: the entry's value, or zero when
// there is none. Aggregations read as this CPU's number (count, sum, min,
// max: the value; avg: total/count).
func (g *gen) mapRead(e *lang.MapExpr) val { return g.mapReadAt(e, e) }

// mapReadAt is mapRead whose failed lookup -kk reports at node at.
func (g *gen) mapReadAt(e *lang.MapExpr, at lang.Node) val {
	l := g.layout(e, e.Name)
	if l == nil {
		return val{t: e.Type()}
	}
	g.noteGlobal(l)
	key := g.mapKey(l, e.Keys)
	g.lookup(l.Name, key)
	var zero, end string
	if l.InArray {
		// bpftrace 0.17's scalar count() is an array too: never a miss.
		zero, end = g.label("map_none"), g.label("map_read")
		if l.Value.Kind != lang.KindCount {
			g.emit(asm.JEq.Imm(asm.R0, 0, zero))
			g.checkArrayLookup(l, key, at, 1, zero)
		}
	} else {
		g.checkHelper(asm.FnMapLookupElem, at)
		zero, end = g.label("map_none"), g.label("map_read")
	}
	t := e.Type()
	if t == nil {
		t = l.Value
	}
	if l.PerCPU || isIntLike(t) {
		rt := t
		if !isIntLike(rt) {
			rt = lang.TypeInt64
			if l.Value.Kind == lang.KindCount {
				rt = lang.TypeUint64
			}
		}
		res := g.newLoc()
		g.emit(asm.JEq.Imm(asm.R0, 0, zero))
		switch l.Value.Kind {
		case lang.KindHist, lang.KindLhist:
			g.errorf(e, "a %s map cannot be read as a value", l.Value.Kind)
		case lang.KindAvg:
			g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord), asm.LoadMem(asm.R2, asm.R0, 0, asm.DWord))
			g.arith(lang.Div, asm.R1, asm.R2, true, true)
			g.emit(asm.Mov.Reg(asm.R0, asm.R1))
		case lang.KindStats:
			g.emit(asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord))
		default:
			size := l.ValueSize
			if size > 8 {
				size = 8
			}
			g.emit(asm.LoadMem(asm.R0, asm.R0, 0, sizeOf(size)))
			if !l.PerCPU {
				g.normalize(asm.R0, l.Value)
			}
		}
		g.storeLoc(res, asm.R0)
		g.emit(asm.Ja.Label(end))
		g.mark(zero)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		g.storeLoc(res, asm.R0)
		g.mark(end)
		return val{t: rt, kind: vInt, l: res, tmp: true}
	}
	dst := g.memVal(t)
	g.emit(asm.JEq.Imm(asm.R0, 0, zero))
	g.copyFromReg(dst.off, asm.R0, min(t.Size, l.ValueSize))
	if t.Size > l.ValueSize {
		g.zeroScratch(dst.off+l.ValueSize, t.Size-l.ValueSize)
	}
	g.emit(asm.Ja.Label(end))
	g.mark(zero)
	g.zeroScratch(dst.off, t.Size)
	g.mark(end)
	return dst
}

// copyFromReg copies n bytes from the address in base (not R1) to scratch.
func (g *gen) copyFromReg(dst int, base asm.Register, n int) {
	g.usesScratch = true
	for i, sz := range chunks(n) {
		g.emit(asm.LoadMem(asm.R1, base, int16(i), sz), asm.StoreMem(regScratch, int16(dst+i), asm.R1, sz))
	}
}

// mapAssign lowers @m[k] = v and @m[k] op= v for maps that are not
// aggregations; at is the statement.
func (g *gen) mapAssign(target *lang.MapExpr, op lang.Op, value lang.Expr, at lang.Node) {
	l := g.layout(target, target.Name)
	if l == nil {
		return
	}
	if l.PerCPU {
		g.errorf(target, "map %s holds %s values and cannot be assigned", l.Name, l.Value.Kind)
		return
	}
	if op != lang.Assign {
		// Read, combine, write back.
		cur := g.mapRead(target)
		v := g.intExpr(value)
		g.load(cur, asm.R1)
		g.load(v, asm.R2)
		g.free(cur)
		g.free(v)
		xt, yt := l.Value, value.Type()
		if (op == lang.Add || op == lang.Sub) && xt.Kind == lang.KindPointer {
			g.scale(asm.R2, xt)
		}
		signed := xt.Signed && yt != nil && yt.Signed
		g.arith(op, asm.R1, asm.R2, signed, xt.Signed)
		g.normalize(asm.R1, l.Value)
		res := g.intResult(l.Value, asm.R1)
		g.mapStore(l, target.Keys, res, at)
		return
	}
	g.mapStore(l, target.Keys, g.expr(value), at)
}

// mapStore writes v as the value of l[keys]; -k reports a failure at at.
func (g *gen) mapStore(l *MapLayout, keys []lang.Expr, v val, at lang.Node) {
	var valOff int
	if v.kind == vMem && v.t != nil && v.t.Equal(l.Value) && !isIntLike(v.t) {
		valOff = v.off
	} else {
		valOff = g.scratchAlloc(l.ValueSize)
		g.storeInto(valOff, l.Value, v)
	}
	key := g.mapKey(l, keys)
	g.update(l, key, valOff, bpfAny, at)
}

// mapDelete lowers delete(@m[k]) (and delete(@m, k)).
func (g *gen) mapDelete(n lang.Node, m *lang.MapExpr, keys []lang.Expr) {
	l := g.layout(n, m.Name)
	if l == nil {
		return
	}
	if l.InArray {
		g.deleteScalar(n, l)
		return
	}
	g.noteGlobal(l)
	key := g.mapKey(l, keys)
	g.mapPtr(asm.R1, l.Name)
	g.scratchPtr(asm.R2, key)
	g.call(asm.FnMapDeleteElem)
	g.checkHelper(asm.FnMapDeleteElem, n)
}

// hasKey lowers has_key(@m, k): 1 when the entry exists.
func (g *gen) hasKey(n lang.Node, m *lang.MapExpr, keys []lang.Expr, t *lang.Type) val {
	l := g.layout(n, m.Name)
	if l == nil {
		return val{t: t}
	}
	g.noteGlobal(l)
	key := g.mapKey(l, keys)
	g.lookup(l.Name, key)
	no := g.label("no_key")
	g.emit(asm.JEq.Imm(asm.R0, 0, no))
	g.emit(asm.Mov.Imm(asm.R0, 1))
	g.mark(no)
	return g.intResult(typeOr(t, lang.TypeUint8), asm.R0)
}

// incDec lowers ++/-- on a variable or map element; post selects the old
// value as the result; at is the whole expression.
func (g *gen) incDec(x lang.Expr, inc, post bool, t *lang.Type, at lang.Node) val {
	delta := int32(1)
	// A pointer steps by the size of what it points to, as in C.
	if xt := x.Type(); xt != nil && xt.Kind == lang.KindPointer && xt.Elem != nil && xt.Elem.Size > 0 {
		delta = int32(xt.Elem.Size)
	}
	if !inc {
		delta = -delta
	}
	switch x := x.(type) {
	case *lang.VarExpr:
		v := g.vars[x.Name]
		if v == nil || !isIntLike(v.t) {
			g.errorf(x, "++/-- needs an integer variable")
			return val{t: t}
		}
		old := g.intExpr(x)
		g.load(old, asm.R1)
		g.emit(asm.Add.Imm(asm.R1, delta))
		g.normalize(asm.R1, v.t)
		g.storeVar(v, asm.R1)
		if post {
			return old
		}
		g.free(old)
		return val{t: v.t, kind: vVar, slot: v.slot}
	case *lang.MapExpr:
		l := g.layout(x, x.Name)
		if l == nil {
			return val{t: t}
		}
		if l.PerCPU {
			g.errorf(x, "++/-- cannot be applied to %s map %s", l.Value.Kind, l.Name)
			return val{t: t}
		}
		old := g.mapReadAt(x, at)
		g.load(old, asm.R1)
		g.emit(asm.Add.Imm(asm.R1, delta))
		g.normalize(asm.R1, l.Value)
		nv := g.intResult(l.Value, asm.R1)
		g.load(nv, asm.R0)
		keep := g.intResult(l.Value, asm.R0)
		g.mapStore(l, x.Keys, nv, at)
		if post {
			g.free(keep)
			return old
		}
		g.free(old)
		return keep
	}
	g.errorf(x, "++/-- needs a variable or a map element")
	return val{t: t}
}

// eachCPUValue emits body once per possible CPU with R0 pointing to that
// CPU's value of the scalar aggregation l (MapLayout.InArray), found with
// bpf_map_lookup_percpu_elem; a CPU the kernel has no value for (beyond
// nr_cpu_ids) is skipped. body may clobber R0-R5.
func (g *gen) eachCPUValue(l *MapLayout, body func()) {
	key := g.stackAlloc(8)
	g.emit(asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R10, key, asm.R1, asm.DWord))
	for cpu := 0; cpu < g.c.opts.CPUs; cpu++ {
		next := g.label("next_cpu")
		g.mapPtr(asm.R1, l.Name)
		g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(key)), asm.Mov.Imm(asm.R3, int32(cpu)))
		g.call(asm.FnMapLookupPercpuElem)
		g.emit(asm.JEq.Imm(asm.R0, 0, next))
		body()
		g.mark(next)
	}
}

// writtenOnAnyCPU emits a loop over l's per-CPU values (eachCPUValue) that
// leaves in a stack slot, whose offset it returns, a nonzero u64 when any
// CPU has written its value; each value is zeroed on the way when clear
// is set.
func (g *gen) writtenOnAnyCPU(l *MapLayout, clear bool) int16 {
	written := g.stackAlloc(8)
	g.emit(asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R10, written, asm.R1, asm.DWord))
	g.eachCPUValue(l, func() {
		g.emit(asm.LoadMem(asm.R1, asm.R0, int16(l.ValueSize), asm.DWord),
			asm.LoadMem(asm.R2, asm.R10, written, asm.DWord), asm.Or.Reg(asm.R2, asm.R1),
			asm.StoreMem(asm.R10, written, asm.R2, asm.DWord))
		if clear {
			g.emit(asm.Mov.Imm(asm.R1, 0))
			for off := 0; off <= l.ValueSize; off += 8 {
				g.emit(asm.StoreMem(asm.R0, int16(off), asm.R1, asm.DWord))
			}
		}
	})
	return written
}

// deleteScalar lowers delete(@x) of a scalar aggregation kept in an
// array: every CPU's value goes back to zeros, unwritten, as the hash
// entry's deletion would leave it. -k reports a deletion of an entry no
// CPU had written (ENOENT, as from the hash).
func (g *gen) deleteScalar(n lang.Node, l *MapLayout) {
	written := g.writtenOnAnyCPU(l, true)
	found := g.label("deleted")
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.LoadMem(asm.R1, asm.R10, written, asm.DWord), asm.JNE.Imm(asm.R1, 0, found))
	g.emit(asm.Mov.Imm(asm.R0, -2))
	g.mark(found)
	g.checkHelper(asm.FnMapDeleteElem, n)
}
