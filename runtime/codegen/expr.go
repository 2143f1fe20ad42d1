package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// expr lowers an expression. Integer-like results come back as vConst or
// vInt (or vMem for a variable, read when loaded); everything else as vMem,
// a value in scratch.
func (g *gen) expr(e lang.Expr) val {
	if g.err != nil {
		return val{t: e.Type(), kind: vConst}
	}
	t := e.Type()
	// What the checker evaluated at compile time is a constant here.
	if s, ok := g.c.info.StrConsts[e]; ok && t != nil && t.Kind == lang.KindString {
		v := g.strLit(s, t)
		g.strConstLen(e, v.off, t.Size)
		return v
	}
	if c, ok := g.c.info.Consts[e]; ok && isIntLike(t) && foldable(e) {
		return val{t: t, kind: vConst, c: c}
	}
	switch e := e.(type) {
	case *lang.IntLit:
		if t == nil {
			t = lang.TypeInt64
		}
		return val{t: t, kind: vConst, c: int64(e.Value)}
	case *lang.StrLit:
		return g.strLit(e.Value, t)
	case *lang.PositionalExpr:
		return g.positional(e)
	case *lang.ParamCountExpr:
		return val{t: typeOr(t, lang.TypeInt64), kind: vConst, c: int64(len(g.c.opts.Params))}
	case *lang.IdentExpr:
		switch e.Kind {
		case lang.IdentConst:
			return val{t: typeOr(t, lang.TypeInt64), kind: vConst, c: e.Const}
		case lang.IdentStackMode:
			g.errorf(e, "%s is only a mode argument of kstack/ustack", e.Name)
			return val{t: t}
		}
		return g.builtin(e)
	case *lang.VarExpr:
		v := g.vars[e.Name]
		if v == nil {
			g.errorf(e, "variable $%s has no type", e.Name)
			return val{t: t}
		}
		if v.onStack {
			return val{t: v.t, kind: vVar, slot: v.slot}
		}
		return val{t: v.t, kind: vMem, off: v.off}
	case *lang.MapExpr:
		return g.mapRead(e)
	case *lang.CallExpr:
		return g.callExpr(e)
	case *lang.BinaryExpr:
		return g.binary(e)
	case *lang.UnaryExpr:
		return g.unary(e)
	case *lang.PostfixExpr:
		return g.incDec(e.X, e.Op == lang.PostInc, true, t, e)
	case *lang.TernaryExpr:
		return g.ternary(e)
	case *lang.FieldExpr, *lang.IndexExpr, *lang.TupleIndexExpr:
		return g.access(e)
	case *lang.CastExpr:
		return g.cast(e)
	case *lang.TupleExpr:
		return g.tuple(e)
	case *lang.SizeofExpr:
		return val{t: typeOr(t, lang.TypeUint64), kind: vConst, c: int64(e.Size)}
	case *lang.OffsetofExpr:
		return val{t: typeOr(t, lang.TypeUint64), kind: vConst, c: int64(e.Offset)}
	}
	g.errorf(e, "cannot compile expression %T", e)
	return val{t: t}
}

// foldable reports whether the checker's constant for e can be trusted:
// its folding of binary operators is signed arithmetic whatever the
// operands' types ((uint64)-1 % 16 folds to -1), so those are computed
// here instead, at run time.
func foldable(e lang.Expr) bool {
	switch e.(type) {
	case *lang.BinaryExpr, *lang.TernaryExpr:
		return false
	}
	return true
}

func typeOr(t, def *lang.Type) *lang.Type {
	if t == nil {
		return def
	}
	return t
}

// intExpr lowers an integer-like expression and returns it in a loc or as
// a constant (never as a variable alias, which a later statement of the
// same expression could change).
func (g *gen) intExpr(e lang.Expr) val {
	v := g.expr(e)
	if (v.kind == vMem || v.kind == vVar) && isIntLike(v.t) {
		g.load(v, asm.R0)
		return g.intResult(v.t, asm.R0)
	}
	if v.kind == vMem {
		g.errorf(e, "expected an integer, got %s", v.t)
	}
	return v
}

// strLit writes a string literal into scratch, NUL-padded to its type's
// size (or just past its text when the checker gave none).
func (g *gen) strLit(s string, t *lang.Type) val {
	if t == nil || t.Size == 0 {
		t = lang.StringType(len(s) + 1)
	}
	if len(s) >= t.Size {
		s = s[:t.Size-1]
	}
	v := g.memVal(t)
	g.writeBytes(v.off, []byte(s), t.Size)
	return v
}

// writeBytes stores b into scratch at off, zero-filled to n bytes.
func (g *gen) writeBytes(off int, b []byte, n int) {
	buf := make([]byte, (n+7)&^7)
	copy(buf, b)
	g.usesScratch = true
	for i := 0; i < n; {
		switch {
		case n-i >= 8:
			w := int64(0)
			for k := 7; k >= 0; k-- {
				w = w<<8 | int64(buf[i+k])
			}
			g.movImm(asm.R0, w)
			g.emit(asm.StoreMem(regScratch, int16(off+i), asm.R0, asm.DWord))
			i += 8
		default:
			g.emit(asm.Mov.Imm(asm.R0, int32(buf[i])))
			g.emit(asm.StoreMem(regScratch, int16(off+i), asm.R0, asm.Byte))
			i++
		}
	}
}

// strConstLen applies str(s, n)'s length to a constant string s written
// at scratch off: the checker's constant is the whole text.
func (g *gen) strConstLen(e lang.Expr, off, size int) {
	call, ok := e.(*lang.CallExpr)
	if !ok || call.Name != "str" || len(call.Args) < 2 {
		return
	}
	g.truncStr(off, size, call.Args[1])
}

// positional lowers $N: the checker's value when it typed it as an integer
// (lang parses it with bpftrace's bases: "0775" is octal; unset is 0),
// else the parameter's text (empty when absent).
func (g *gen) positional(e *lang.PositionalExpr) val {
	t := e.Type()
	if t != nil && t.Kind == lang.KindString {
		text := ""
		if e.N >= 1 && e.N <= len(g.c.opts.Params) {
			text = g.c.opts.Params[e.N-1]
		}
		return g.strLit(text, t)
	}
	return val{t: typeOr(t, lang.TypeInt64), kind: vConst, c: g.c.info.Consts[e]}
}

// binary lowers X op Y.
func (g *gen) binary(e *lang.BinaryExpr) val {
	t := typeOr(e.Type(), lang.TypeInt64)
	xt, yt := e.X.Type(), e.Y.Type()
	switch e.Op {
	case lang.LAnd, lang.LOr, lang.Eq, lang.Ne, lang.Lt, lang.Le, lang.Gt, lang.Ge:
		if (e.Op == lang.Eq || e.Op == lang.Ne) && !isIntLike(xt) {
			return g.memEqual(e, t)
		}
		// A comparison as a value: 1 or 0.
		l := g.newLoc()
		fls, end := g.label("false"), g.label("cmp_end")
		g.branch(e, false, fls)
		g.emit(asm.Mov.Imm(asm.R0, 1))
		g.storeLoc(l, asm.R0)
		g.emit(asm.Ja.Label(end))
		g.mark(fls)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		g.storeLoc(l, asm.R0)
		g.mark(end)
		return val{t: t, kind: vInt, l: l, tmp: true}
	}
	x := g.intExpr(e.X)
	y := g.intExpr(e.Y)
	signed := xt != nil && yt != nil && xt.Signed && yt.Signed && xt.Kind == lang.KindInt && yt.Kind == lang.KindInt
	if (e.Op == lang.Div || e.Op == lang.Mod) && y.kind == vConst && y.c > 0 && y.c&(y.c-1) == 0 {
		g.load(x, asm.R1)
		g.free(x)
		g.divPow2(e.Op, asm.R1, y.c, signed)
		g.normalize(asm.R1, t)
		return g.intResult(t, asm.R1)
	}
	if (e.Op == lang.Div || e.Op == lang.Mod) && y.kind == vConst && y.c != 0 && y.c > -1<<31 && y.c < 1<<31 {
		g.load(x, asm.R1)
		g.free(x)
		g.divConst(e.Op, asm.R1, y.c, signed)
		g.normalize(asm.R1, t)
		return g.intResult(t, asm.R1)
	}
	g.load(x, asm.R1)
	g.load(y, asm.R2)
	g.free(x)
	g.free(y)
	// Pointer arithmetic scales by the pointee's size, as in C.
	if e.Op == lang.Add || e.Op == lang.Sub {
		if xt != nil && xt.Kind == lang.KindPointer && !isPtr(yt) {
			g.scale(asm.R2, xt)
		} else if yt != nil && yt.Kind == lang.KindPointer && !isPtr(xt) {
			g.scale(asm.R1, yt)
		}
	}
	g.arith(e.Op, asm.R1, asm.R2, signed, xt != nil && xt.Signed && xt.Kind == lang.KindInt)
	g.normalize(asm.R1, t)
	return g.intResult(t, asm.R1)
}

func isPtr(t *lang.Type) bool { return t != nil && t.Kind == lang.KindPointer }

// scale multiplies r by the size of what pointer type p points to.
func (g *gen) scale(r asm.Register, p *lang.Type) {
	n := 1
	if p.Elem != nil && p.Elem.Size > 0 {
		n = p.Elem.Size
	}
	if n != 1 {
		g.emit(asm.Mul.Imm(r, int32(n)))
	}
}

// divPow2 computes r = r / n or r = r % n for n a power of two with a
// shift or a mask: the verifier follows those bit by bit, where it loses
// track of a value after BPF's division and modulo (a loop whose counter
// goes through "% 2" would otherwise never be proved to end). Signed
// operands round toward zero, as C does.
func (g *gen) divPow2(op lang.Op, r asm.Register, n int64, signed bool) {
	k := int32(0)
	for int64(1)<<k < n {
		k++
	}
	apply := func() {
		if op == lang.Div {
			if k > 0 {
				g.emit(asm.RSh.Imm(r, k))
			}
		} else if n-1 <= 1<<31-1 {
			g.emit(asm.And.Imm(r, int32(n-1)))
		} else {
			g.emit(asm.LoadImm(asm.R2, n-1, asm.DWord), asm.And.Reg(r, asm.R2))
		}
	}
	if !signed {
		apply()
		return
	}
	neg, done := g.label("pow2_neg"), g.label("pow2_done")
	g.emit(asm.JSLT.Imm(r, 0, neg))
	apply()
	g.emit(asm.Ja.Label(done))
	g.mark(neg)
	g.emit(asm.Neg.Imm(r, 0))
	apply()
	g.emit(asm.Neg.Imm(r, 0))
	g.mark(done)
}

// divConst computes r = r / c or r = r % c for a constant c (non-zero, a
// 32-bit immediate) with the immediate forms of BPF's division: the
// verifier needs no run-time zero check for them (with a register divisor
// it patches one in). The verifier does not follow the values of either
// form: a loop counter should go through / and % by powers of two only
// (divPow2), or the loop cannot be proved to end.
func (g *gen) divConst(op lang.Op, r asm.Register, c int64, signed bool) {
	apply := func(d int64) {
		if op == lang.Div {
			g.emit(asm.Div.Imm(r, int32(d)))
		} else {
			g.emit(asm.Mod.Imm(r, int32(d)))
		}
	}
	if !signed {
		// A negative c divides by a huge unsigned number, as in C; the
		// immediate is sign-extended to the same 64 bits.
		apply(c)
		return
	}
	mag := c
	if mag < 0 {
		mag = -mag
	}
	neg, done := g.label("sdivc_neg"), g.label("sdivc_done")
	g.emit(asm.JSLT.Imm(r, 0, neg))
	apply(mag)
	if op == lang.Div && c < 0 {
		g.emit(asm.Neg.Imm(r, 0))
	}
	g.emit(asm.Ja.Label(done))
	g.mark(neg)
	g.emit(asm.Neg.Imm(r, 0))
	apply(mag)
	// r = -(|x| op |c|), negated back for division unless c < 0.
	if !(op == lang.Div && c < 0) {
		g.emit(asm.Neg.Imm(r, 0))
	}
	g.mark(done)
}

// arith computes a = a op b for integer registers a and b (which may be
// clobbered, as may R0 and R3). signed selects signed division and modulo
// (both operands signed, C's rule) and leftSigned an arithmetic right
// shift. BPF's signed division needs cpu v4 (Linux 6.6), so it is built
// from unsigned division on magnitudes here.
func (g *gen) arith(op lang.Op, a, b asm.Register, signed, leftSigned bool) {
	switch op {
	case lang.Add:
		g.emit(asm.Add.Reg(a, b))
	case lang.Sub:
		g.emit(asm.Sub.Reg(a, b))
	case lang.Mul:
		g.emit(asm.Mul.Reg(a, b))
	case lang.Div, lang.Mod:
		if !signed {
			if op == lang.Div {
				g.emit(asm.Div.Reg(a, b))
			} else {
				g.emit(asm.Mod.Reg(a, b))
			}
			return
		}
		// r3 = 1 when the result is negative.
		l1, l2, l3 := g.label("sdiv"), g.label("sdiv"), g.label("sdiv")
		g.emit(asm.Mov.Imm(asm.R3, 0))
		g.emit(asm.JSGE.Imm(a, 0, l1))
		g.emit(asm.Neg.Imm(a, 0), asm.Xor.Imm(asm.R3, 1))
		g.mark(l1)
		g.emit(asm.JSGE.Imm(b, 0, l2))
		g.emit(asm.Neg.Imm(b, 0))
		if op == lang.Div {
			g.emit(asm.Xor.Imm(asm.R3, 1))
		}
		g.mark(l2)
		if op == lang.Div {
			g.emit(asm.Div.Reg(a, b))
		} else {
			g.emit(asm.Mod.Reg(a, b))
		}
		g.emit(asm.JEq.Imm(asm.R3, 0, l3))
		g.emit(asm.Neg.Imm(a, 0))
		g.mark(l3)
	case lang.And:
		g.emit(asm.And.Reg(a, b))
	case lang.Or:
		g.emit(asm.Or.Reg(a, b))
	case lang.Xor:
		g.emit(asm.Xor.Reg(a, b))
	case lang.Shl:
		g.emit(asm.LSh.Reg(a, b))
	case lang.Shr:
		if leftSigned {
			g.emit(asm.ArSh.Reg(a, b))
		} else {
			g.emit(asm.RSh.Reg(a, b))
		}
	default:
		g.errorf(nil, "operator %s is not an arithmetic operator", op)
	}
}

// jumpOps are the conditional jumps for each comparison, unsigned and
// signed, taken when the comparison holds.
func jumpOp(op lang.Op, signed bool) asm.JumpOp {
	switch op {
	case lang.Eq:
		return asm.JEq
	case lang.Ne:
		return asm.JNE
	case lang.Lt:
		if signed {
			return asm.JSLT
		}
		return asm.JLT
	case lang.Le:
		if signed {
			return asm.JSLE
		}
		return asm.JLE
	case lang.Gt:
		if signed {
			return asm.JSGT
		}
		return asm.JGT
	case lang.Ge:
		if signed {
			return asm.JSGE
		}
		return asm.JGE
	}
	return asm.InvalidJumpOp
}

func negate(op lang.Op) lang.Op {
	switch op {
	case lang.Eq:
		return lang.Ne
	case lang.Ne:
		return lang.Eq
	case lang.Lt:
		return lang.Ge
	case lang.Le:
		return lang.Gt
	case lang.Gt:
		return lang.Le
	case lang.Ge:
		return lang.Lt
	}
	return op
}

// branch jumps to target when e's truth equals when, and falls through
// otherwise. Comparisons become one conditional jump; && and || short-
// circuit.
func (g *gen) branch(e lang.Expr, when bool, target string) {
	if g.err != nil {
		return
	}
	switch x := e.(type) {
	case *lang.BinaryExpr:
		switch x.Op {
		case lang.LAnd:
			if when {
				skip := g.label("and")
				g.branch(x.X, false, skip)
				g.branch(x.Y, true, target)
				g.mark(skip)
			} else {
				g.branch(x.X, false, target)
				g.branch(x.Y, false, target)
			}
			return
		case lang.LOr:
			if when {
				g.branch(x.X, true, target)
				g.branch(x.Y, true, target)
			} else {
				skip := g.label("or")
				g.branch(x.X, true, skip)
				g.branch(x.Y, false, target)
				g.mark(skip)
			}
			return
		case lang.Eq, lang.Ne, lang.Lt, lang.Le, lang.Gt, lang.Ge:
			xt, yt := x.X.Type(), x.Y.Type()
			if !isIntLike(xt) || !isIntLike(yt) {
				break
			}
			op := x.Op
			if !when {
				op = negate(op)
			}
			signed := xt.Kind == lang.KindInt && yt.Kind == lang.KindInt && xt.Signed && yt.Signed
			a := g.intExpr(x.X)
			b := g.intExpr(x.Y)
			g.load(a, asm.R1)
			g.free(a)
			if b.kind == vConst && b.c >= -1<<31 && b.c < 1<<31 {
				g.emit(jumpOp(op, signed).Imm(asm.R1, int32(b.c), target))
			} else {
				g.load(b, asm.R2)
				g.emit(jumpOp(op, signed).Reg(asm.R1, asm.R2, target))
			}
			g.free(b)
			return
		}
	case *lang.UnaryExpr:
		if x.Op == lang.Not {
			g.branch(x.X, !when, target)
			return
		}
	}
	v := g.expr(e)
	if v.kind == vConst {
		// Jump conditionally even so: both ways must stay reachable in
		// the control-flow graph, which the verifier checks before it
		// knows the value.
		g.movImm(asm.R1, v.c)
		if when {
			g.emit(asm.JNE.Imm(asm.R1, 0, target))
		} else {
			g.emit(asm.JEq.Imm(asm.R1, 0, target))
		}
		return
	}
	if !isIntLike(v.t) {
		g.errorf(e, "a condition must be an integer, not %s", v.t)
		return
	}
	g.load(v, asm.R1)
	g.free(v)
	if when {
		g.emit(asm.JNE.Imm(asm.R1, 0, target))
	} else {
		g.emit(asm.JEq.Imm(asm.R1, 0, target))
	}
}

// unary lowers !x, ~x, -x, *p, ++x and --x.
func (g *gen) unary(e *lang.UnaryExpr) val {
	t := typeOr(e.Type(), lang.TypeInt64)
	switch e.Op {
	case lang.PreInc, lang.PreDec:
		return g.incDec(e.X, e.Op == lang.PreInc, false, t, e)
	case lang.Deref:
		return g.access(e)
	case lang.Not:
		x := g.intExpr(e.X)
		g.load(x, asm.R1)
		g.free(x)
		l := g.label("not")
		g.emit(asm.Mov.Imm(asm.R0, 1))
		g.emit(asm.JEq.Imm(asm.R1, 0, l))
		g.emit(asm.Mov.Imm(asm.R0, 0))
		g.mark(l)
		return g.intResult(t, asm.R0)
	}
	x := g.intExpr(e.X)
	g.load(x, asm.R1)
	g.free(x)
	switch e.Op {
	case lang.BitNot:
		g.emit(asm.Xor.Imm(asm.R1, -1))
	case lang.Neg:
		g.emit(asm.Neg.Imm(asm.R1, 0))
	default:
		g.errorf(e, "unknown unary operator %s", e.Op)
	}
	g.normalize(asm.R1, t)
	return g.intResult(t, asm.R1)
}

// ternary lowers c ? a : b into a fresh value.
func (g *gen) ternary(e *lang.TernaryExpr) val {
	t := e.Type()
	els, end := g.label("else"), g.label("tern_end")
	if t == nil || isIntLike(t) || t.Kind == lang.KindNone {
		l := g.newLoc()
		g.branch(e.Cond, false, els)
		a := g.intExpr(e.Then)
		g.load(a, asm.R0)
		g.free(a)
		g.storeLoc(l, asm.R0)
		g.emit(asm.Ja.Label(end))
		g.mark(els)
		b := g.intExpr(e.Else)
		g.load(b, asm.R0)
		g.free(b)
		g.storeLoc(l, asm.R0)
		g.mark(end)
		return val{t: typeOr(t, lang.TypeInt64), kind: vInt, l: l, tmp: true}
	}
	dst := g.memVal(t)
	g.branch(e.Cond, false, els)
	g.exprInto(dst.off, t, e.Then)
	g.emit(asm.Ja.Label(end))
	g.mark(els)
	g.exprInto(dst.off, t, e.Else)
	g.mark(end)
	return dst
}

// cast lowers (T) x: integers are truncated and extended to T; pointers
// and integers change type only.
func (g *gen) cast(e *lang.CastExpr) val {
	t := e.Type()
	x := g.expr(e.X)
	if t == nil {
		return x
	}
	if isIntLike(t) {
		if x.kind == vConst {
			return val{t: t, kind: vConst, c: truncConst(x.c, t)}
		}
		if !isIntLike(x.t) {
			// An array or record reinterpreted as an integer: read its
			// first bytes.
			if x.kind == vMem {
				g.emit(asm.LoadMem(asm.R1, regScratch, int16(x.off), sizeOf(t.Size)))
				g.normalize(asm.R1, t)
				return g.intResult(t, asm.R1)
			}
		}
		g.load(x, asm.R1)
		g.free(x)
		g.normalize(asm.R1, t)
		return g.intResult(t, asm.R1)
	}
	// An integer reinterpreted as an array of bytes (bpftrace ≥ 0.18:
	// (uint8[8])x).
	if isIntLike(x.t) && t.Kind == lang.KindArray {
		dst := g.memVal(t)
		g.load(x, asm.R1)
		g.free(x)
		g.storeScratch(dst.off, asm.R1, min(8, t.Size))
		return dst
	}
	x.t = t
	return x
}

// truncConst converts constant c to integer type t.
func truncConst(c int64, t *lang.Type) int64 {
	if t.Kind != lang.KindInt || t.Size >= 8 || t.Size <= 0 {
		return c
	}
	bits := uint(8 * t.Size)
	if t.Signed {
		return c << (64 - bits) >> (64 - bits)
	}
	return int64(uint64(c) & (1<<bits - 1))
}

// tuple builds (a, b, ...) in scratch in its type's layout.
func (g *gen) tuple(e *lang.TupleExpr) val {
	t := e.Type()
	if t == nil {
		elems := make([]*lang.Type, len(e.Elems))
		for i, x := range e.Elems {
			elems[i] = x.Type()
		}
		t = lang.TupleOf(elems...)
	}
	dst := g.memVal(t)
	g.tupleInto(dst.off, t, e)
	return dst
}

// tupleInto builds tuple e at scratch off in the layout of tuple type t.
func (g *gen) tupleInto(off int, t *lang.Type, e *lang.TupleExpr) {
	// Padding must be zero: tuples are compared and used as keys bytewise.
	if tupleHasPadding(t) {
		g.zeroScratch(off, t.Size)
	}
	for i, x := range e.Elems {
		if i >= len(t.Fields) {
			break
		}
		f := t.Fields[i]
		g.exprInto(off+f.Offset, f.Type, x)
	}
}

// tupleHasPadding reports whether tuple t has bytes no element covers.
func tupleHasPadding(t *lang.Type) bool {
	end := 0
	for _, f := range t.Fields {
		if f.Offset != end {
			return true
		}
		end = f.Offset + f.Type.Size
	}
	return end != t.Size
}

// exprInto lowers e straight into scratch at off as type dt. Values that
// are built in memory (string literals, comm, str(), tuples) are built in
// place rather than built elsewhere and copied.
func (g *gen) exprInto(off int, dt *lang.Type, e lang.Expr) {
	if g.err != nil {
		return
	}
	if s, ok := g.c.info.StrConsts[e]; ok && dt.Kind == lang.KindString && len(s) < dt.Size {
		g.writeBytes(off, []byte(s), dt.Size)
		g.strConstLen(e, off, dt.Size)
		return
	}
	switch x := e.(type) {
	case *lang.StrLit:
		if dt.Kind == lang.KindString && len(x.Value) < dt.Size {
			g.writeBytes(off, []byte(x.Value), dt.Size)
			return
		}
	case *lang.IdentExpr:
		if x.Name == "comm" && x.Kind == lang.IdentBuiltin && dt.Kind == lang.KindString && dt.Size >= 16 {
			g.commInto(off, dt, x)
			return
		}
	case *lang.CallExpr:
		if x.Name == "str" && dt.Kind == lang.KindString && len(x.Args) > 0 && !isMemKind(x.Args[0].Type()) {
			g.strInto(off, dt, x)
			return
		}
	case *lang.TupleExpr:
		if dt.Kind == lang.KindTuple && len(dt.Fields) == len(x.Elems) {
			g.tupleInto(off, dt, x)
			return
		}
	}
	g.storeInto(off, dt, g.expr(e))
}

// storeInto writes v, converted to type dt, into scratch at off. Integers
// are truncated to dt's size; strings are copied and zero-padded (or cut,
// keeping a NUL at the end); tuples convert element by element.
func (g *gen) storeInto(off int, dt *lang.Type, v val) {
	if g.err != nil {
		return
	}
	if isIntLike(dt) {
		g.load(v, asm.R0)
		g.free(v)
		g.storeScratch(off, asm.R0, dt.Size)
		return
	}
	if v.kind != vMem {
		if v.kind == vNone {
			g.zeroScratch(off, dt.Size)
			return
		}
		// An integer into a memory type (a USym built from parts, say):
		// store its bits.
		g.load(v, asm.R0)
		g.free(v)
		g.zeroScratch(off, dt.Size)
		g.storeScratch(off, asm.R0, min(8, dt.Size))
		return
	}
	st := v.t
	if st == nil || st.Equal(dt) || st.Kind != dt.Kind || dt.Kind != lang.KindTuple {
		n := dt.Size
		if st != nil && st.Size < n {
			n = st.Size
		}
		if off == v.off {
			return
		}
		g.copyScratch(off, v.off, n)
		if dt.Size > n {
			g.zeroScratch(off+n, dt.Size-n)
		} else if dt.Kind == lang.KindString && st != nil && st.Size > dt.Size {
			g.emit(asm.Mov.Imm(asm.R0, 0))
			g.storeScratch(off+dt.Size-1, asm.R0, 1)
		}
		return
	}
	// Tuples of different element types.
	g.zeroScratch(off, dt.Size)
	for i, df := range dt.Fields {
		if i >= len(st.Fields) {
			break
		}
		sf := st.Fields[i]
		g.storeInto(off+df.Offset, df.Type, val{t: sf.Type, kind: vMem, off: v.off + sf.Offset})
	}
}
