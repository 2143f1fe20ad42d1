package codegen

import (
	"net"

	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// isMemKind reports whether values of t live in memory (strings, arrays,
// records, tuples, buffers and the multi-field resolved values).
func isMemKind(t *lang.Type) bool { return t != nil && !isIntLike(t) }

// str lowers str(p[, n]): at most n (and at most the string size less
// one) bytes up to a NUL, read with probe_read_*_str into a zeroed buffer
// (zeroed because strings are compared and used as keys bytewise).
func (g *gen) str(call *lang.CallExpr) val {
	t := call.Type()
	if t == nil || t.Kind != lang.KindString {
		t = lang.StringType(g.c.strLen)
	}
	arg := call.Args[0]
	at := arg.Type()
	if isMemKind(at) {
		// Already a string or a char array: copy it.
		src := g.expr(arg)
		dst := g.memVal(t)
		g.storeInto(dst.off, t, val{t: lang.StringType(at.Size), kind: vMem, off: src.off})
		if len(call.Args) > 1 {
			g.truncStr(dst.off, t.Size, call.Args[1])
		}
		return dst
	}
	dst := g.memVal(t)
	g.strInto(dst.off, t, call)
	return dst
}

// strInto reads str(p[, n]) of a pointer p into scratch off as string
// type t.
func (g *gen) strInto(off int, t *lang.Type, call *lang.CallExpr) {
	arg := call.Args[0]
	p := g.intExpr(arg)
	var n val
	if len(call.Args) > 1 {
		n = g.intExpr(call.Args[1])
	}
	g.zeroScratch(off, t.Size)
	if len(call.Args) > 1 {
		// size = min(n+1, t.Size)
		g.load(n, asm.R2)
		g.free(n)
		g.emit(asm.Add.Imm(asm.R2, 1))
		ok := g.label("strlen")
		g.emit(asm.JLE.Imm(asm.R2, int32(t.Size), ok))
		g.emit(asm.Mov.Imm(asm.R2, int32(t.Size)))
		g.mark(ok)
	} else {
		g.emit(asm.Mov.Imm(asm.R2, int32(t.Size)))
	}
	g.load(p, asm.R3)
	g.free(p)
	g.scratchPtr(asm.R1, off)
	fn := probeRead(g.spaceOf(arg), true)
	g.call(fn)
	g.checkHelper(fn, call)
}

// truncStr puts a NUL at min(n, size-1) of the string at scratch off.
func (g *gen) truncStr(off, size int, nExpr lang.Expr) {
	n := g.intExpr(nExpr)
	g.load(n, asm.R1)
	g.free(n)
	ok := g.label("trunc")
	g.emit(asm.JLT.Imm(asm.R1, int32(size), ok))
	g.emit(asm.Mov.Imm(asm.R1, int32(size-1)))
	g.mark(ok)
	g.scratchPtr(asm.R2, off)
	g.emit(asm.Add.Reg(asm.R2, asm.R1), asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R2, 0, asm.R1, asm.Byte))
}

// buf lowers buf(p[, n]): a u8 length and the bytes (lang.BufferType).
func (g *gen) buf(call *lang.CallExpr) val {
	t := call.Type()
	arg := call.Args[0]
	at := arg.Type()
	if t == nil || t.Kind != lang.KindBuffer || t.Size < 2 {
		n := g.c.strLen
		if at != nil && at.Kind == lang.KindArray {
			n = at.Size
		}
		t = lang.BufferType(n)
	}
	capacity := t.Size - 1
	var n val
	if len(call.Args) > 1 {
		n = g.intExpr(call.Args[1])
	} else {
		size := capacity
		if at != nil && isMemKind(at) && at.Size < size {
			size = at.Size
		}
		n = val{t: lang.TypeUint64, kind: vConst, c: int64(size)}
	}
	if isMemKind(at) {
		src := g.expr(arg)
		dst := g.memVal(t)
		g.zeroScratch(dst.off, t.Size)
		// The length is n (bounded by the buffer), even past the source's
		// end: those bytes read as zeros (buf("ok", 4) is "ok\0\0").
		g.copyScratch(dst.off+1, src.off, min(capacity, at.Size))
		g.load(n, asm.R1)
		g.free(n)
		ok := g.label("buflen")
		g.emit(asm.JLE.Imm(asm.R1, int32(capacity), ok))
		g.emit(asm.Mov.Imm(asm.R1, int32(capacity)))
		g.mark(ok)
		g.storeScratch(dst.off, asm.R1, 1)
		return dst
	}
	p := g.intExpr(arg)
	dst := g.memVal(t)
	g.zeroScratch(dst.off, t.Size)
	g.load(n, asm.R2)
	g.free(n)
	ok := g.label("buflen")
	g.emit(asm.JLE.Imm(asm.R2, int32(capacity), ok))
	g.emit(asm.Mov.Imm(asm.R2, int32(capacity)))
	g.mark(ok)
	g.storeScratch(dst.off, asm.R2, 1)
	g.load(p, asm.R3)
	g.free(p)
	g.scratchPtr(asm.R1, dst.off+1)
	fn := probeRead(g.spaceOf(arg), false)
	g.call(fn)
	g.checkHelper(fn, call)
	return dst
}

// strCompare emits a byte loop comparing the strings at scratch a and b
// over at most n bytes, stopping after a NUL common to both. It jumps to
// ne when they differ and falls through when they are equal. R1-R5 are
// clobbered.
func (g *gen) strCompare(a, b, n int, ne string) {
	g.usesScratch = true
	loop, eq := g.label("strcmp"), g.label("strcmp_eq")
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.mark(loop)
	g.emit(asm.JGE.Imm(asm.R4, int32(n), eq))
	g.emit(asm.Mov.Reg(asm.R2, regScratch), asm.Add.Reg(asm.R2, asm.R4))
	g.emit(asm.LoadMem(asm.R1, asm.R2, int16(a), asm.Byte), asm.LoadMem(asm.R3, asm.R2, int16(b), asm.Byte))
	g.emit(asm.JNE.Reg(asm.R1, asm.R3, ne))
	g.emit(asm.JEq.Imm(asm.R1, 0, eq))
	g.emit(asm.Add.Imm(asm.R4, 1), asm.Ja.Label(loop))
	g.mark(eq)
}

// memEqual lowers == and != on strings (up to a NUL), and bytewise on
// buffers, tuples, arrays and the other memory values.
func (g *gen) memEqual(e *lang.BinaryExpr, t *lang.Type) val {
	x := g.expr(e.X)
	y := g.expr(e.Y)
	if x.kind != vMem || y.kind != vMem {
		g.errorf(e, "cannot compare %s and %s", x.t, y.t)
		return val{t: t}
	}
	ne, end := g.label("ne"), g.label("eq_end")
	n := min(x.t.Size, y.t.Size)
	if x.t.Kind == lang.KindString && y.t.Kind == lang.KindString {
		g.strCompare(x.off, y.off, n, ne)
	} else {
		// Buffers of different capacities compare over the smaller: the
		// length byte comes first and the bytes past the length are zero.
		if x.t.Size != y.t.Size && (x.t.Kind != lang.KindBuffer || y.t.Kind != lang.KindBuffer) {
			g.errorf(e, "cannot compare %s and %s of different sizes", x.t, y.t)
		}
		for i, sz := range chunks(n) {
			g.emit(asm.LoadMem(asm.R1, regScratch, int16(x.off+i), sz),
				asm.LoadMem(asm.R2, regScratch, int16(y.off+i), sz),
				asm.JNE.Reg(asm.R1, asm.R2, ne))
		}
	}
	eqVal, neVal := int32(1), int32(0)
	if e.Op == lang.Ne {
		eqVal, neVal = 0, 1
	}
	g.emit(asm.Mov.Imm(asm.R0, eqVal), asm.Ja.Label(end))
	g.mark(ne)
	g.emit(asm.Mov.Imm(asm.R0, neVal))
	g.mark(end)
	return g.intResult(t, asm.R0)
}

// strncmp lowers strncmp(a, b, n): 0 when the strings agree on their
// first n bytes (or up to a common NUL), 1 otherwise.
func (g *gen) strncmp(call *lang.CallExpr) val {
	t := typeOr(call.Type(), lang.TypeInt64)
	a := g.expr(call.Args[0])
	b := g.expr(call.Args[1])
	nv := g.expr(call.Args[2])
	if a.kind != vMem || b.kind != vMem || nv.kind != vConst {
		g.errorf(call, "strncmp() needs two strings and a constant length")
		return val{t: t}
	}
	n := int(min(nv.c, int64(min(a.t.Size, b.t.Size))))
	if n < 0 {
		n = 0
	}
	ne, end := g.label("ne"), g.label("strncmp_end")
	g.strCompare(a.off, b.off, n, ne)
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Ja.Label(end))
	g.mark(ne)
	g.emit(asm.Mov.Imm(asm.R0, 1))
	g.mark(end)
	return g.intResult(t, asm.R0)
}

// strcontains lowers strcontains(haystack, needle): 1 when needle occurs
// in haystack (an empty needle always does). Two nested bounded loops;
// the verifier walks haystack×needle iterations.
func (g *gen) strcontains(call *lang.CallExpr) val {
	t := typeOr(call.Type(), lang.TypeInt64)
	h := g.expr(call.Args[0])
	nd := g.expr(call.Args[1])
	if h.kind != vMem || nd.kind != vMem {
		g.errorf(call, "strcontains() needs two strings")
		return val{t: t}
	}
	g.usesScratch = true
	hs, ns := h.t.Size, nd.t.Size
	outer, inner, next := g.label("sc_outer"), g.label("sc_inner"), g.label("sc_next")
	found, notFound, end := g.label("sc_found"), g.label("sc_none"), g.label("sc_end")
	// R4 = i over the haystack, R5 = j over the needle.
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.mark(outer)
	g.emit(asm.JGE.Imm(asm.R4, int32(hs), notFound))
	g.emit(asm.Mov.Imm(asm.R5, 0))
	g.mark(inner)
	g.emit(asm.JGE.Imm(asm.R5, int32(ns), found))
	// c = needle[j]; a NUL ends a match.
	g.emit(asm.Mov.Reg(asm.R2, regScratch), asm.Add.Reg(asm.R2, asm.R5),
		asm.LoadMem(asm.R3, asm.R2, int16(nd.off), asm.Byte))
	g.emit(asm.JEq.Imm(asm.R3, 0, found))
	// k = i + j must stay inside the haystack.
	g.emit(asm.Mov.Reg(asm.R1, asm.R4), asm.Add.Reg(asm.R1, asm.R5))
	g.emit(asm.JGE.Imm(asm.R1, int32(hs), notFound))
	g.emit(asm.Mov.Reg(asm.R2, regScratch), asm.Add.Reg(asm.R2, asm.R1),
		asm.LoadMem(asm.R1, asm.R2, int16(h.off), asm.Byte))
	g.emit(asm.JEq.Imm(asm.R1, 0, notFound))
	g.emit(asm.JNE.Reg(asm.R1, asm.R3, next))
	g.emit(asm.Add.Imm(asm.R5, 1), asm.Ja.Label(inner))
	g.mark(next)
	g.emit(asm.Add.Imm(asm.R4, 1), asm.Ja.Label(outer))
	g.mark(found)
	g.emit(asm.Mov.Imm(asm.R0, 1), asm.Ja.Label(end))
	g.mark(notFound)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.mark(end)
	return g.intResult(t, asm.R0)
}

// ntop lowers ntop([af,] addr) into lang.TypeInet's layout: the family,
// then the address bytes. Without af, a 4-byte (or integer) address is
// IPv4 and a 16-byte one IPv6.
func (g *gen) ntop(call *lang.CallExpr) val {
	t := call.Type()
	if t == nil || t.Kind != lang.KindInet {
		t = lang.TypeInet
	}
	var af val
	addrExpr := call.Args[len(call.Args)-1]
	at := addrExpr.Type()
	if len(call.Args) > 1 {
		af = g.intExpr(call.Args[0])
	} else {
		fam := int64(2) // AF_INET
		if at != nil && isMemKind(at) && at.Size >= 16 {
			fam = 10 // AF_INET6
		}
		af = val{t: lang.TypeInt64, kind: vConst, c: fam}
	}
	addr := g.expr(addrExpr)
	dst := g.memVal(t)
	g.zeroScratch(dst.off, t.Size)
	g.load(af, asm.R0)
	g.free(af)
	g.storeScratch(dst.off, asm.R0, 8)
	if addr.kind == vMem && isMemKind(addr.t) {
		g.copyScratch(dst.off+8, addr.off, min(16, addr.t.Size))
	} else {
		g.load(addr, asm.R0)
		g.free(addr)
		size := 4
		if at != nil && at.Size == 8 {
			size = 8
		}
		g.storeScratch(dst.off+8, asm.R0, size)
	}
	return dst
}

// pton lowers pton("addr"): the address's bytes, known at compile time.
func (g *gen) pton(call *lang.CallExpr) val {
	lit, ok := g.constLit(call.Args[0])
	if !ok {
		g.errorf(call, "pton() needs a string literal")
		return val{t: call.Type()}
	}
	ip := net.ParseIP(lit.Value)
	if ip == nil {
		g.errorf(call, "pton(): %q is not an IP address", lit.Value)
		return val{t: call.Type()}
	}
	b := []byte(ip.To16())
	if v4 := ip.To4(); v4 != nil && !containsColon(lit.Value) {
		b = []byte(v4)
	}
	t := call.Type()
	if t == nil || t.Size != len(b) {
		t = &lang.Type{Kind: lang.KindArray, Size: len(b), Len: len(b), Elem: lang.TypeUint8}
	}
	v := g.memVal(t)
	g.writeBytes(v.off, b, t.Size)
	return v
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// macaddr lowers macaddr(p): six bytes, copied from an array or read
// through a pointer.
func (g *gen) macaddr(call *lang.CallExpr) val {
	t := call.Type()
	if t == nil || t.Kind != lang.KindMacaddr {
		t = lang.TypeMacaddr
	}
	arg := call.Args[0]
	if isMemKind(arg.Type()) {
		src := g.expr(arg)
		dst := g.memVal(t)
		g.copyScratch(dst.off, src.off, min(6, src.t.Size))
		return dst
	}
	p := g.intExpr(arg)
	g.readSite = call
	defer func() { g.readSite = nil }()
	return g.read(place{kind: pAddr, base: p, space: g.spaceOf(arg)}, t)
}

// join lowers join(argv[, delim]): an event holding the number of
// arguments read and up to JoinArgs strings, read through the char*
// array argv.
func (g *gen) join(call *lang.CallExpr) {
	strLen := g.c.strLen
	types := []*lang.Type{lang.TypeUint64, {Kind: lang.KindArray, Len: JoinArgs,
		Elem: lang.StringType(strLen), Size: JoinArgs * strLen}}
	ev := g.newEvent(EventJoin, call, types)
	ev.Text = " "
	if len(call.Args) > 1 {
		if s, ok := g.constLit(call.Args[1]); ok {
			ev.Text = s.Value
		}
	}
	argv := g.intExpr(call.Args[0])
	as := g.spaceOf(call.Args[0])
	buf := g.scratchAlloc(ev.Size)
	g.movImm(asm.R0, int64(ev.ID))
	g.storeScratch(buf, asm.R0, 8)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.storeScratch(buf+ev.Args[0].Offset, asm.R0, 8)
	ptr := g.scratchAlloc(8)
	done := g.label("join_done")
	for i := 0; i < JoinArgs; i++ {
		// ptr = argv[i]
		g.scratchPtr(asm.R1, ptr)
		g.emit(asm.Mov.Imm(asm.R2, 8))
		g.load(argv, asm.R3)
		g.emit(asm.Add.Imm(asm.R3, int32(8*i)))
		g.call(probeRead(as, false))
		g.emit(asm.LoadMem(asm.R3, regScratch, int16(ptr), asm.DWord))
		g.emit(asm.JEq.Imm(asm.R3, 0, done))
		g.scratchPtr(asm.R1, buf+ev.Args[1].Offset+i*strLen)
		g.emit(asm.Mov.Imm(asm.R2, int32(strLen)))
		g.call(probeRead(as, true))
		g.emit(asm.Mov.Imm(asm.R0, int32(i+1)))
		g.storeScratch(buf+ev.Args[0].Offset, asm.R0, 8)
	}
	g.mark(done)
	g.free(argv)
	g.output(buf, ev.Size)
}
