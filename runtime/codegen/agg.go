package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// aggregate lowers @m[k] = count() (sum, min, max, avg, stats, hist,
// lhist): an update of this CPU's value in a per-CPU map.
//
//	count  u64 n                   n += 1
//	sum    i64 v                   v += x
//	min    i64 v, u64 set          if !set || x < v { v = x; set = 1 }
//	max    i64 v, u64 set          if !set || x > v { v = x; set = 1 }
//	avg    u64 count, i64 total    count += 1; total += x
//	stats  u64 count, i64 total    count += 1; total += x
//	hist   u64 bucket[66]          bucket[log2 bucket of x] += 1
//	lhist  u64 bucket[n]           bucket[linear bucket of x] += 1
//
// Values are per-CPU, so plain loads and stores suffice. A new entry is
// created from the first value; hist and lhist entries start as zeros
// (copied from MapZero) and are then looked up again.
func (g *gen) aggregate(target *lang.MapExpr, call *lang.CallExpr) {
	l := g.layout(target, target.Name)
	if l == nil {
		return
	}
	kind := l.Value.Kind
	// The argument first: it may call helpers, and the value pointer must
	// not live across calls.
	var x val
	signed := true
	switch kind {
	case lang.KindCount:
	case lang.KindHist, lang.KindLhist:
		if len(call.Args) < 1 {
			g.errorf(call, "%s() needs a value", call.Name)
			return
		}
		arg := g.intExpr(call.Args[0])
		if at := call.Args[0].Type(); at != nil && !at.Signed {
			signed = false
		}
		g.load(arg, asm.R1)
		g.free(arg)
		if kind == lang.KindHist {
			g.log2Bucket(signed)
		} else {
			g.linearBucket(l.Value.LhistMin, l.Value.LhistMax, l.Value.LhistStep)
		}
		x = g.intResult(lang.TypeUint64, asm.R2)
	default:
		if len(call.Args) < 1 {
			g.errorf(call, "%s() needs a value", call.Name)
			return
		}
		x = g.intExpr(call.Args[0])
		if at := call.Args[0].Type(); at != nil && !at.Signed {
			signed = false
		}
		if x.kind == vConst {
			g.load(x, asm.R0)
			x = g.intResult(x.t, asm.R0)
		}
	}
	key := g.mapKey(l, target.Keys)
	slotDone := ""
	if !l.InArray && g.useSlot(l) {
		direct := g.label("slot_direct")
		slotDone = g.label("agg_done")
		g.aggregateSlot(l, key, x, direct, slotDone)
		g.mark(direct)
	}
	g.lookup(l.Name, key)
	// bpftrace 0.17 looks a scalar count() up without a check, and avg()
	// and stats() up twice (their count and total are two entries
	// there): -kk reports a new entry as many times.
	checks := 1
	switch {
	case kind == lang.KindCount && !l.Keyed:
		checks = 0
	case kind == lang.KindAvg || kind == lang.KindStats:
		checks = 2
	}
	if l.InArray {
		done := g.label("agg_done")
		// The entry is always there: mark this CPU's value written, then
		// update it.
		g.emit(asm.JEq.Imm(asm.R0, 0, done))
		g.checkArrayLookup(l, key, call, checks, done)
		g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreMem(asm.R0, int16(l.ValueSize), asm.R1, asm.DWord))
		g.aggUpdate(l, call, x, signed, done)
		g.mark(done)
		g.free(x)
		return
	}
	for i := 0; i < checks; i++ {
		g.checkHelper(asm.FnMapLookupElem, call)
	}
	create, done := g.label("agg_new"), g.label("agg_done")
	g.emit(asm.JEq.Imm(asm.R0, 0, create))

	// The entry exists: update it in place.
	g.aggUpdate(l, call, x, signed, done)
	g.emit(asm.Ja.Label(done))

	// No entry yet: create it.
	g.mark(create)
	switch kind {
	case lang.KindHist, lang.KindLhist:
		// Insert zeros from MapZero, look the entry up again, count.
		zkey := g.stackAlloc(8)
		g.emit(asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R10, zkey, asm.R1, asm.Word))
		g.mapPtr(asm.R1, MapZero)
		g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(zkey)))
		g.call(asm.FnMapLookupElem)
		g.emit(asm.JEq.Imm(asm.R0, 0, done))
		g.emit(asm.Mov.Reg(asm.R3, asm.R0))
		g.mapPtr(asm.R1, l.Name)
		g.scratchPtr(asm.R2, key)
		g.emit(asm.Mov.Imm(asm.R4, bpfNoExist))
		g.call(asm.FnMapUpdateElem)
		// EEXIST means another CPU created it first: fine. A 32-bit
		// compare, as in countMapError: before 6.4 the error is not
		// sign-extended.
		exists := g.label("agg_exists")
		g.emit(asm.JEq.Imm32(asm.R0, -17, exists))
		g.checkHelper(asm.FnMapUpdateElem, call)
		g.countMapError(l)
		g.mark(exists)
		g.lookup(l.Name, key)
		g.emit(asm.JEq.Imm(asm.R0, 0, done))
		g.bumpBucket(l, x)
	default:
		v := g.scratchAlloc(l.ValueSize)
		switch kind {
		case lang.KindCount:
			g.emit(asm.Mov.Imm(asm.R1, 1))
			g.storeScratch(v, asm.R1, 8)
		case lang.KindSum:
			g.load(x, asm.R1)
			g.storeScratch(v, asm.R1, 8)
		case lang.KindMin, lang.KindMax:
			g.load(x, asm.R1)
			g.storeScratch(v, asm.R1, 8)
			g.emit(asm.Mov.Imm(asm.R1, 1))
			g.storeScratch(v+8, asm.R1, 8)
		case lang.KindAvg, lang.KindStats:
			g.emit(asm.Mov.Imm(asm.R1, 1))
			g.storeScratch(v, asm.R1, 8)
			g.load(x, asm.R1)
			g.storeScratch(v+8, asm.R1, 8)
		}
		g.update(l, key, v, bpfAny, call)
	}
	g.mark(done)
	if slotDone != "" {
		g.mark(slotDone)
	}
	g.free(x)
}

// aggUpdate updates the value R0 points to with x, as the aggregation of l
// says (see aggregate); min and max jump to done when they keep the old
// value.
func (g *gen) aggUpdate(l *MapLayout, call *lang.CallExpr, x val, signed bool, done string) {
	kind := l.Value.Kind
	switch kind {
	case lang.KindCount:
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	case lang.KindSum:
		g.load(x, asm.R2)
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), asm.Add.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	case lang.KindMin, lang.KindMax:
		g.load(x, asm.R2)
		set := g.label("agg_set")
		g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord), asm.JEq.Imm(asm.R1, 0, set))
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		// Keep the old value unless the new one is better.
		op := lang.Le // min: keep when old <= new
		if kind == lang.KindMax {
			op = lang.Ge
		}
		g.emit(jumpOp(op, signed).Reg(asm.R1, asm.R2, done))
		g.mark(set)
		g.emit(asm.StoreMem(asm.R0, 0, asm.R2, asm.DWord), asm.Mov.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord))
	case lang.KindAvg, lang.KindStats:
		g.load(x, asm.R2)
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
		g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord), asm.Add.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord))
	case lang.KindHist, lang.KindLhist:
		g.bumpBucket(l, x)
	default:
		g.errorf(call, "%s() does not make an aggregation", call.Name)
	}
}

// bumpBucket adds one to counter idx of the hist/lhist value R0 points to.
func (g *gen) bumpBucket(l *MapLayout, idx val) {
	g.load(idx, asm.R1)
	// Bound the index for the verifier (it is in range by construction).
	ok := g.label("bucket_ok")
	g.emit(asm.JLT.Imm(asm.R1, int32(l.Buckets), ok))
	g.emit(asm.Mov.Imm(asm.R1, int32(l.Buckets-1)))
	g.mark(ok)
	g.emit(asm.LSh.Imm(asm.R1, 3), asm.Add.Reg(asm.R0, asm.R1))
	g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
}

// log2Bucket computes hist()'s bucket of R1 into R2 (clobbering R1, R3):
// 0 for negative values (when signed), 1 for 0, and 2 + floor(log2(x))
// otherwise, by halving the search range: 32, 16, 8, 4, 2, 1 bits.
func (g *gen) log2Bucket(signed bool) {
	done, zero := g.label("log2_done"), g.label("log2_zero")
	g.emit(asm.Mov.Imm(asm.R2, 0))
	if signed {
		g.emit(asm.JSLT.Imm(asm.R1, 0, done))
	}
	g.emit(asm.Mov.Imm(asm.R2, 1))
	g.emit(asm.JEq.Imm(asm.R1, 0, zero))
	g.emit(asm.Mov.Imm(asm.R2, 2))
	for _, shift := range []int32{32, 16, 8, 4, 2, 1} {
		skip := g.label("log2")
		g.emit(asm.Mov.Reg(asm.R3, asm.R1), asm.RSh.Imm(asm.R3, shift), asm.JEq.Imm(asm.R3, 0, skip))
		g.emit(asm.Mov.Reg(asm.R1, asm.R3), asm.Add.Imm(asm.R2, shift))
		g.mark(skip)
	}
	g.mark(zero)
	g.mark(done)
	// A label needs an instruction to sit on.
	g.emit(asm.Mov.Reg(asm.R1, asm.R2))
}

// linearBucket computes lhist()'s bucket of R1 into R2 (clobbering R1,
// R3), as bpftrace does: 0 below min, 1 + (max-min)/step above max, and
// 1 + (x-min)/step in between.
func (g *gen) linearBucket(lo, hi, step int64) {
	done, over := g.label("lin_done"), g.label("lin_over")
	g.movImm(asm.R3, lo)
	g.emit(asm.Mov.Imm(asm.R2, 0))
	g.emit(asm.JSLT.Reg(asm.R1, asm.R3, done))
	g.movImm(asm.R3, hi)
	g.emit(asm.JSGT.Reg(asm.R1, asm.R3, over))
	g.movImm(asm.R3, lo)
	g.emit(asm.Sub.Reg(asm.R1, asm.R3))
	g.movImm(asm.R3, step)
	g.emit(asm.Div.Reg(asm.R1, asm.R3))
	g.emit(asm.Add.Imm(asm.R1, 1), asm.Mov.Reg(asm.R2, asm.R1))
	g.emit(asm.Ja.Label(done))
	g.mark(over)
	g.movImm(asm.R2, int64(LhistBuckets(lo, hi, step)-1))
	g.mark(done)
	g.emit(asm.Mov.Reg(asm.R1, asm.R2))
}
