package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// placeKind says where a value to be read lives.
type placeKind uint8

const (
	pScratch placeKind = iota // in scratch at off
	pCtx                      // in the probe context at off
	pAddr                     // in memory at base+off, read with a probe_read helper
)

// place is the location of a field, element or pointee before it is read:
// chains like a->b.c[2] only add offsets, and one read fetches the end.
type place struct {
	kind  placeKind
	off   int64
	base  val // pAddr: the address the offset is added to
	space lang.AddrSpace
}

// access lowers x.f, x->f, x[i], t.N and *p.
func (g *gen) access(e lang.Expr) val {
	t := e.Type()
	if f, ok := e.(*lang.FieldExpr); ok && g.isArgs(f.X) {
		if fld := g.argsField(f); fld != nil && fld.DataLoc {
			return g.dataLoc(fld)
		}
	}
	p := g.place(e)
	if g.err != nil {
		return val{t: t}
	}
	var bits *lang.Field
	if f, ok := e.(*lang.FieldExpr); ok {
		if fld := g.fieldOf(f); fld != nil && fld.BitSize > 0 {
			bits = fld
		}
	}
	// -kk places a failed read at the expression, a dereference's at
	// its '*' (bpftrace's locations).
	g.readSite = e
	if u, ok := e.(*lang.UnaryExpr); ok && u.Op == lang.Deref {
		g.readSite = opNode(e, 1)
	}
	v := g.read(p, t)
	g.readSite = nil
	if bits != nil && v.kind != vConst {
		g.load(v, asm.R1)
		g.free(v)
		if bits.BitOffset > 0 {
			g.emit(asm.RSh.Imm(asm.R1, int32(bits.BitOffset)))
		}
		if bits.BitSize < 64 {
			if bits.BitSize < 32 {
				g.emit(asm.And.Imm(asm.R1, int32(1)<<bits.BitSize-1))
			} else {
				g.emit(asm.LoadImm(asm.R2, int64(1)<<bits.BitSize-1, asm.DWord), asm.And.Reg(asm.R1, asm.R2))
			}
		}
		return g.intResult(t, asm.R1)
	}
	return v
}

// isArgs reports whether e is the `args` builtin (or a cast of ctx that
// the checker marked as the context).
func (g *gen) isArgs(e lang.Expr) bool {
	t := e.Type()
	if t == nil {
		return false
	}
	if t.IsCtx {
		return true
	}
	return t.Kind == lang.KindPointer && t.Elem != nil && t.Elem.IsCtx
}

// recordOf returns the record a field access looks into.
func recordOf(x lang.Expr, arrow bool) *lang.Type {
	t := x.Type()
	if t == nil {
		return nil
	}
	if t.Kind == lang.KindPointer {
		return t.Elem
	}
	return t
}

// argsField returns the field of this program's args record that f names:
// the record of the attach point being compiled, which may differ from the
// one the checker saw first.
func (g *gen) argsField(f *lang.FieldExpr) *lang.Field {
	if g.args != nil {
		if fld := g.args.Field(f.Field); fld != nil {
			return fld
		}
	}
	if rec := recordOf(f.X, f.Arrow); rec != nil {
		return rec.Field(f.Field)
	}
	return nil
}

// fieldOf returns the field a FieldExpr names.
func (g *gen) fieldOf(f *lang.FieldExpr) *lang.Field {
	if g.isArgs(f.X) {
		return g.argsField(f)
	}
	if rec := recordOf(f.X, f.Arrow); rec != nil {
		if fld := rec.Field(f.Field); fld != nil {
			return fld
		}
	}
	return nil
}

// place computes where e's value lives without reading it.
func (g *gen) place(e lang.Expr) place {
	switch e := e.(type) {
	case *lang.FieldExpr:
		off := int64(e.Offset)
		if fld := g.fieldOf(e); fld != nil {
			off = int64(fld.Offset)
		}
		if g.isArgs(e.X) {
			return place{kind: pCtx, off: off}
		}
		if e.Arrow {
			base := g.intExpr(e.X)
			return place{kind: pAddr, base: base, off: off, space: g.spaceOf(e.X)}
		}
		p := g.place(e.X)
		p.off += off
		return p
	case *lang.TupleIndexExpr:
		p := g.place(e.X)
		if t := e.X.Type(); t != nil && e.Index < len(t.Fields) {
			p.off += int64(t.Fields[e.Index].Offset)
		}
		return p
	case *lang.UnaryExpr:
		if e.Op == lang.Deref {
			base := g.intExpr(e.X)
			return place{kind: pAddr, base: base, space: g.spaceOf(e.X)}
		}
	case *lang.IndexExpr:
		xt := e.X.Type()
		if xt == nil {
			break
		}
		elem := xt.Elem
		esize := int64(1)
		if elem != nil && elem.Size > 0 {
			esize = int64(elem.Size)
		}
		var p place
		if xt.Kind == lang.KindPointer {
			base := g.intExpr(e.X)
			p = place{kind: pAddr, base: base, space: g.spaceOf(e.X)}
		} else {
			p = g.place(e.X)
		}
		idx := g.intExpr(e.Index)
		if idx.kind == vConst {
			if xt.Kind == lang.KindArray && xt.Len > 0 && (idx.c < 0 || idx.c >= int64(xt.Len)) {
				g.errorf(e, "index %d is out of bounds for %s", idx.c, xt)
			}
			p.off += idx.c * esize
			return p
		}
		// A variable index: compute the address and read it with a
		// helper, bounded for arrays.
		g.load(idx, asm.R1)
		g.free(idx)
		if xt.Kind == lang.KindArray && xt.Len > 0 {
			ok := g.label("idx_ok")
			g.emit(asm.JLT.Imm(asm.R1, int32(xt.Len), ok))
			g.emit(asm.Mov.Imm(asm.R1, 0))
			g.mark(ok)
		}
		g.emit(asm.Mul.Imm(asm.R1, int32(esize)))
		switch p.kind {
		case pScratch:
			g.scratchPtr(asm.R2, int(p.off))
			g.emit(asm.Add.Reg(asm.R1, asm.R2))
			return place{kind: pAddr, base: g.intResult(lang.TypeUint64, asm.R1), space: lang.AddrKernel}
		case pCtx:
			g.ctxInto(asm.R2)
			g.emit(asm.Add.Reg(asm.R1, asm.R2))
			if p.off != 0 {
				g.emit(asm.Add.Imm(asm.R1, int32(p.off)))
			}
			return place{kind: pAddr, base: g.intResult(lang.TypeUint64, asm.R1), space: lang.AddrKernel}
		default:
			g.load(p.base, asm.R2)
			g.free(p.base)
			g.emit(asm.Add.Reg(asm.R1, asm.R2))
			p.base = g.intResult(lang.TypeUint64, asm.R1)
			return p
		}
	}
	// Anything else is a value: evaluate it into scratch.
	v := g.expr(e)
	if v.kind == vMem {
		return place{kind: pScratch, off: int64(v.off)}
	}
	if v.kind == vInt || v.kind == vConst {
		// An integer used as an address (an int cast to a struct
		// pointer, say).
		return place{kind: pAddr, base: v, space: g.spaceOf(e)}
	}
	g.errorf(e, "cannot take the place of %T", e)
	return place{}
}

// space returns the address space to read through pointer type t: its
// own when it has one, else the probe type's (user for uprobes, usdt and
// syscall tracepoints, whose pointer arguments are user addresses; kernel
// for kernel probes), else none: the legacy helpers, which read either on
// x86-64 (other tracepoints' pointers may point anywhere).
func (g *gen) space(t *lang.Type) lang.AddrSpace {
	if t != nil && t.AddrSpace != lang.AddrNone {
		return t.AddrSpace
	}
	switch g.provider {
	case "uprobe", "uretprobe", "usdt":
		return lang.AddrUser
	case "tracepoint":
		if g.ap != nil && g.ap.Target == "syscalls" {
			return lang.AddrUser
		}
	case "kprobe", "kretprobe", "kfunc", "kretfunc", "rawtracepoint", "iter":
		return lang.AddrKernel
	}
	return lang.AddrNone
}

// spaceOf returns the address space of the pointer (or address) e: its
// type's, or, when the type does not say, the probe type's. The checker
// gives a value read through a pointer (x->f, x.f, x[i], *p) the space of
// what it was read through, as bpftrace does, so the type says where a
// pointer loaded from kernel memory points.
func (g *gen) spaceOf(e lang.Expr) lang.AddrSpace {
	if t := e.Type(); t != nil && t.AddrSpace != lang.AddrNone {
		return t.AddrSpace
	}
	return g.space(nil)
}

// probeRead returns the helper that copies memory from space as.
func probeRead(as lang.AddrSpace, str bool) asm.BuiltinFunc {
	switch as {
	case lang.AddrKernel:
		if str {
			return asm.FnProbeReadKernelStr
		}
		return asm.FnProbeReadKernel
	case lang.AddrUser:
		if str {
			return asm.FnProbeReadUserStr
		}
		return asm.FnProbeReadUser
	}
	if str {
		return asm.FnProbeReadStr
	}
	return asm.FnProbeRead
}

// read fetches a value of type t from p.
func (g *gen) read(p place, t *lang.Type) val {
	if t == nil {
		g.errorf(nil, "read of an untyped value")
		return val{}
	}
	size := t.Size
	if size <= 0 {
		g.errorf(nil, "cannot read a value of type %s (size %d)", t, size)
		return val{t: t}
	}
	switch p.kind {
	case pScratch:
		return val{t: t, kind: vMem, off: int(p.off)}
	case pCtx:
		if isIntLike(t) && g.ctxLoadable(int(p.off), size) {
			ls := size
			if g.ctxWide() {
				ls = 8
			}
			g.ctxLoad(asm.R1, int(p.off), sizeOf(ls))
			g.normalize(asm.R1, t)
			if g.provider == "iter" && t.Kind == lang.KindPointer {
				// An iterator's context pointers may be NULL (the
				// last call), and the verifier allows no arithmetic
				// on them before a test: test, and make NULL a plain 0.
				ok := g.label("ctx_ptr")
				g.emit(asm.JNE.Imm(asm.R1, 0, ok), asm.Mov.Imm(asm.R1, 0))
				g.mark(ok)
			}
			return g.intResult(t, asm.R1)
		}
		dst := g.memVal(t)
		g.scratchPtr(asm.R1, dst.off)
		g.emit(asm.Mov.Imm(asm.R2, int32(size)))
		g.ctxInto(asm.R3)
		if p.off != 0 {
			g.emit(asm.Add.Imm(asm.R3, int32(p.off)))
		}
		g.call(asm.FnProbeReadKernel)
		if isIntLike(t) {
			return g.fromScratch(dst.off, t)
		}
		return dst
	case pAddr:
		dst := g.memVal(t)
		g.load(p.base, asm.R3)
		g.free(p.base)
		if p.off != 0 {
			if p.off >= -1<<31 && p.off < 1<<31 {
				g.emit(asm.Add.Imm(asm.R3, int32(p.off)))
			} else {
				g.emit(asm.LoadImm(asm.R2, p.off, asm.DWord), asm.Add.Reg(asm.R3, asm.R2))
			}
		}
		g.scratchPtr(asm.R1, dst.off)
		g.emit(asm.Mov.Imm(asm.R2, int32(size)))
		fn := probeRead(p.space, false)
		g.call(fn)
		g.checkHelper(fn, g.readSite)
		if isIntLike(t) {
			return g.fromScratch(dst.off, t)
		}
		return dst
	}
	return val{t: t}
}

// fromScratch loads an integer of type t stored at scratch off.
func (g *gen) fromScratch(off int, t *lang.Type) val {
	g.emit(asm.LoadMem(asm.R1, regScratch, int16(off), sizeOf(t.Size)))
	g.normalize(asm.R1, t)
	return g.intResult(t, asm.R1)
}

// ctxWide reports whether context loads must be 8 bytes wide (the u64
// argument arrays of raw tracepoints and trampolines).
func (g *gen) ctxWide() bool {
	switch g.provider {
	case "kfunc", "kretfunc", "rawtracepoint", "iter":
		return true
	}
	return false
}

// ctxLoadable reports whether size bytes at off of the context can be
// loaded directly; tracepoint programs cannot read the common fields (the
// first 8 bytes) nor unaligned ones.
func (g *gen) ctxLoadable(off, size int) bool {
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return false
	}
	if g.ctxWide() {
		return off%8 == 0
	}
	if off%size != 0 {
		return false
	}
	if g.provider == "tracepoint" && off < 8 {
		return false
	}
	return true
}

// dataLoc computes the address of a tracepoint's __data_loc field: the
// record's start plus the low 16 bits of the u32 at the field's offset.
func (g *gen) dataLoc(f *lang.Field) val {
	g.ctxLoad(asm.R1, f.Offset, asm.Word)
	g.emit(asm.And.Imm(asm.R1, 0xffff))
	g.ctxInto(asm.R2)
	g.emit(asm.Add.Reg(asm.R1, asm.R2))
	t := f.Type
	if t == nil || !isIntLike(t) {
		t = lang.TypeUint64
	}
	return g.intResult(t, asm.R1)
}
