package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// block lowers a statement list.
func (g *gen) block(stmts []lang.Stmt) {
	for _, s := range stmts {
		if g.err != nil {
			return
		}
		g.stmt(s)
	}
}

// stmt lowers one statement. Scratch and stack temporaries it allocates
// are released when it ends (variables have their own regions).
func (g *gen) stmt(s lang.Stmt) {
	scratchMark, stackMark := g.scratch, g.stackMark()
	used := g.f.used
	defer func() {
		g.scratch = scratchMark
		g.stackRelease(stackMark)
		g.f.used = used
	}()
	switch s := s.(type) {
	case *lang.ExprStmt:
		g.source(s)
		g.exprStmt(s)
	case *lang.AssignStmt:
		g.source(s)
		g.assign(s)
	case *lang.IfStmt:
		g.source(s)
		els, end := g.label("else"), g.label("endif")
		if s.Else == nil {
			els = end
		}
		g.branch(s.Cond, false, els)
		g.block(s.Then.Stmts)
		if s.Else != nil {
			g.emit(asm.Ja.Label(end))
			g.mark(els)
			g.block(s.Else.Stmts)
		}
		g.mark(end)
	case *lang.UnrollStmt:
		g.source(s)
		n := s.N
		if n == 0 {
			if lit, ok := s.Count.(*lang.IntLit); ok {
				n = int(lit.Value)
			}
		}
		for i := 0; i < n; i++ {
			g.block(s.Body.Stmts)
		}
	case *lang.WhileStmt:
		g.source(s)
		top, end := g.label("while"), g.label("endwhile")
		g.mark(top)
		g.branch(s.Cond, false, end)
		g.loop = &loopCtx{brk: end, cont: top, outer: g.loop}
		g.block(s.Body.Stmts)
		g.loop = g.loop.outer
		g.emit(asm.Ja.Label(top))
		g.mark(end)
	case *lang.ForStmt:
		g.source(s)
		g.forMap(s)
	case *lang.JumpStmt:
		g.source(s)
		g.jump(s)
	case *lang.Block:
		g.block(s.Stmts)
	default:
		g.errorf(s, "cannot compile statement %T", s)
	}
}

// exprStmt lowers an expression statement: a call for its effect, ++/--,
// or a bare map (a notebook cell's result when at the top level).
func (g *gen) exprStmt(s *lang.ExprStmt) {
	if m, ok := s.X.(*lang.MapExpr); ok && len(m.Keys) == 0 && g.kind == KindTopLevel {
		g.mapEvent(EventResult, nil, m, nil)
		g.c.events[len(g.c.events)-1].Call = s
		return
	}
	v := g.expr(s.X)
	g.free(v)
}

// assign lowers "@m[k] = v", "@m = count()", "$x = v" and compound forms.
func (g *gen) assign(s *lang.AssignStmt) {
	switch t := s.Target.(type) {
	case *lang.MapExpr:
		if call, ok := s.Value.(*lang.CallExpr); ok && s.Op == lang.Assign && isAggregation(call) {
			g.aggregate(t, call)
			return
		}
		// -k places a failed update at the "=", as bpftrace does.
		g.mapAssign(t, s.Op, s.Value, lang.AssignOpNode(s, g.src))
	case *lang.VarExpr:
		v := g.vars[t.Name]
		if v == nil {
			g.errorf(t, "variable $%s has no type", t.Name)
			return
		}
		if s.Op != lang.Assign {
			cur := g.intExpr(t)
			x := g.intExpr(s.Value)
			g.load(cur, asm.R1)
			g.load(x, asm.R2)
			g.free(cur)
			g.free(x)
			yt := s.Value.Type()
			if (s.Op == lang.Add || s.Op == lang.Sub) && v.t.Kind == lang.KindPointer {
				g.scale(asm.R2, v.t)
			}
			signed := v.t.Signed && yt != nil && yt.Signed
			g.arith(s.Op, asm.R1, asm.R2, signed, v.t.Signed)
			g.normalize(asm.R1, v.t)
			g.storeVar(v, asm.R1)
			return
		}
		if v.onStack {
			x := g.intExpr(s.Value)
			g.load(x, asm.R1)
			g.free(x)
			g.normalize(asm.R1, v.t)
			g.storeVar(v, asm.R1)
			return
		}
		g.exprInto(v.off, v.t, s.Value)
	default:
		g.errorf(s, "cannot assign to %T", s.Target)
	}
}

// isAggregation reports whether call makes an aggregation value.
func isAggregation(call *lang.CallExpr) bool {
	if call.Func != nil && call.Func.Aggregation != lang.KindInvalid {
		return true
	}
	switch call.Name {
	case "count", "sum", "min", "max", "avg", "stats", "hist", "lhist":
		return true
	}
	return false
}

// jump lowers break, continue and return.
func (g *gen) jump(s *lang.JumpStmt) {
	switch s.Kind {
	case lang.RETURN:
		g.leave()
	case lang.BREAK, lang.CONTINUE:
		if g.loop == nil {
			g.errorf(s, "%s outside a loop", s.Kind)
			return
		}
		if g.loop.callback {
			// In a for-each callback: 1 stops the iteration.
			r := int32(0)
			if s.Kind == lang.BREAK {
				r = 1
			}
			g.emit(asm.Mov.Imm(asm.R0, r), asm.Return())
			return
		}
		if s.Kind == lang.BREAK {
			g.emit(asm.Ja.Label(g.loop.brk))
		} else {
			g.emit(asm.Ja.Label(g.loop.cont))
		}
	}
}

// leave ends the probe: a jump to the exit in a main function; in a
// for-each callback, a flag the caller tests and a stop of the iteration.
func (g *gen) leave() {
	if !g.f.callback {
		g.emit(asm.Ja.Label(g.f.exit))
		return
	}
	g.emit(asm.Mov.Imm(asm.R1, 1))
	g.storeScratch(g.retFlagOff(), asm.R1, 8)
	g.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())
}

// retFlagOff returns the scratch slot callbacks set to end the probe.
func (g *gen) retFlagOff() int {
	if g.retFlag < 0 {
		g.errorf(nil, "internal error: no return flag")
		return 0
	}
	return g.retFlag
}
