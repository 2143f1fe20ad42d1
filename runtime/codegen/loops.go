package codegen

import (
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
)

// forMap lowers "for ($kv : @m) body" with bpf_for_each_map_elem (Linux
// 5.13). The body becomes a callback function; it reaches the probe's
// context through a pointer to the stack slot where main saved it (r6 in
// the callback), and the variables through scratch, which the callback
// looks up again (the same per-CPU value: the helper runs it on this
// CPU). $kv is filled from the key and value pointers the helper passes.
func (g *gen) forMap(s *lang.ForStmt) {
	l := g.layout(s.Map, s.Map.Name)
	if l == nil {
		return
	}
	g.noteGlobal(l)
	kv := g.vars[s.Var.Name]
	if kv == nil || kv.t.Kind != lang.KindTuple || len(kv.t.Fields) != 2 {
		g.errorf(s.Var, "the variable of a for loop over a map must be a (key, value) tuple")
		return
	}
	if l.Buckets > 0 {
		g.errorf(s.Map, "cannot iterate over %s map %s", l.Value.Kind, l.Name)
		return
	}
	ownFlag := false
	if g.retFlag < 0 {
		g.retFlag = g.scratchAlloc(8)
		ownFlag = true
	}
	cbName := g.label("for_cb")

	// The callback.
	outerF, outerLoop := g.f, g.loop
	cb := g.newCallback(cbName, true)
	g.f = cb
	g.loop = &loopCtx{callback: true}
	// $kv.0 from the key (R7), $kv.1 from the value (R8).
	kf, vf := kv.t.Fields[0], kv.t.Fields[1]
	if !l.Keyed {
		g.zeroScratch(kv.off+kf.Offset, kf.Type.Size)
	} else {
		g.copyFromReg(kv.off+kf.Offset, asm.R7, min(l.KeySize, kf.Type.Size))
	}
	switch l.Value.Kind {
	case lang.KindAvg:
		g.emit(asm.LoadMem(asm.R1, asm.R8, 8, asm.DWord), asm.LoadMem(asm.R2, asm.R8, 0, asm.DWord))
		g.arith(lang.Div, asm.R1, asm.R2, true, true)
		g.storeScratch(kv.off+vf.Offset, asm.R1, vf.Type.Size)
	case lang.KindCount, lang.KindSum, lang.KindMin, lang.KindMax, lang.KindStats:
		g.emit(asm.LoadMem(asm.R1, asm.R8, 0, asm.DWord))
		g.storeScratch(kv.off+vf.Offset, asm.R1, min(8, vf.Type.Size))
	default:
		g.copyFromReg(kv.off+vf.Offset, asm.R8, min(l.ValueSize, vf.Type.Size))
	}
	g.f.used = [len(pool)]bool{}
	g.block(s.Body.Stmts)
	g.finishFunc()
	g.callbacks = append(g.callbacks, cb)
	g.f, g.loop = outerF, outerLoop

	// The call.
	g.emit(asm.Mov.Imm(asm.R1, 0))
	g.storeScratch(g.retFlag, asm.R1, 8)
	g.mapPtr(asm.R1, l.Name)
	g.emit(funcPtr(asm.R2, cbName))
	g.ctxSlotPtr(asm.R3)
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.call(asm.FnForEachMapElem)
	g.emit(asm.LoadMem(asm.R1, regScratch, int16(g.retFlag), asm.DWord))
	cont := g.label("for_end")
	g.emit(asm.JEq.Imm(asm.R1, 0, cont))
	g.leave()
	g.mark(cont)
	if ownFlag {
		g.retFlag = -1
	}
}

// mapLen lowers len(@m): bpf_for_each_map_elem with a callback that
// returns 0 visits every entry and returns how many it visited.
func (g *gen) mapLen(n lang.Node, m *lang.MapExpr, t *lang.Type) val {
	l := g.layout(n, m.Name)
	if l == nil {
		return val{t: t}
	}
	g.noteGlobal(l)
	if l.InArray {
		// One entry once any CPU has written it.
		written := g.writtenOnAnyCPU(l, false)
		g.emit(asm.LoadMem(asm.R0, asm.R10, written, asm.DWord), asm.Mov.Imm(asm.R1, 1))
		none := g.label("len_none")
		g.emit(asm.JEq.Imm(asm.R0, 0, none), asm.Mov.Reg(asm.R0, asm.R1))
		g.mark(none)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	}
	if g.lenCallback == "" {
		g.lenCallback = g.label("len_cb")
		outer := g.f
		cb := &fn{name: g.lenCallback, callback: true, exit: g.lenCallback + "_exit", btfFunc: callbackBTF(g.lenCallback)}
		g.f = cb
		g.mark(g.lenCallback)
		g.f.pendSrc = "callback " + g.lenCallback + ": count the entries"
		g.finishFunc()
		g.callbacks = append(g.callbacks, cb)
		g.f = outer
	}
	g.mapPtr(asm.R1, l.Name)
	g.emit(funcPtr(asm.R2, g.lenCallback))
	g.emit(asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0))
	g.call(asm.FnForEachMapElem)
	return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
}

// funcPtr loads the address of the function at symbol name (a callback)
// into dst: ld_imm64 with BPF_PSEUDO_FUNC, which the loader resolves.
func funcPtr(dst asm.Register, name string) asm.Instruction {
	return asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: dst, Src: asm.PseudoFunc, Constant: -1}.
		WithReference(name)
}

// ctxSlotPtr puts the address of the slot holding the context into dst:
// main's own slot, or the one a callback received.
func (g *gen) ctxSlotPtr(dst asm.Register) {
	if g.f.callback {
		g.emit(asm.Mov.Reg(dst, regCtx))
		return
	}
	g.hasCallbacks = true
	g.emit(asm.Mov.Reg(dst, asm.R10), asm.Add.Imm(dst, int32(g.ctxSlot)))
}

// newCallback starts a for-each callback function:
//
//	long cb(struct bpf_map *map, void *key, void *value, void *ctx)
//
// Its prologue keeps ctx (the pointer to main's context slot) in r6, the
// key and value pointers in r7 and r8 when keep is set, and looks up
// scratch into r9.
func (g *gen) newCallback(name string, keep bool) *fn {
	cb := &fn{name: name, callback: true, exit: name + "_exit", btfFunc: callbackBTF(name)}
	outer := g.f
	g.f = cb
	slot := g.stackAlloc(8)
	g.mark(name)
	g.f.pendSrc = "callback " + name
	g.emit(asm.Mov.Reg(regCtx, asm.R4))
	if keep {
		g.emit(asm.Mov.Reg(asm.R7, asm.R2), asm.Mov.Reg(asm.R8, asm.R3))
		cb.used = [len(pool)]bool{true, true}
	}
	g.emit(asm.StoreImm(asm.R10, slot, 0, asm.Word))
	g.mapPtr(asm.R1, g.scratchMap)
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(slot)))
	g.call(asm.FnMapLookupElem)
	ok := g.label("cb_scratch")
	g.emit(asm.JNE.Imm(asm.R0, 0, ok))
	g.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())
	g.mark(ok)
	g.emit(asm.Mov.Reg(regScratch, asm.R0))
	g.usesScratch = true
	g.f = outer
	return cb
}

// callbackBTF is the BTF signature of a for-each callback; the kernel
// wants func info for every function of a program with callbacks.
func callbackBTF(name string) *btf.Func {
	ptr := &btf.Pointer{Target: &btf.Void{}}
	return &btf.Func{
		Name:    name,
		Linkage: btf.StaticFunc,
		Type: &btf.FuncProto{
			Return: &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed},
			Params: []btf.FuncParam{
				{Name: "map", Type: ptr}, {Name: "key", Type: ptr},
				{Name: "value", Type: ptr}, {Name: "ctx", Type: ptr},
			},
		},
	}
}

// mainBTF is the BTF signature of a program's main function.
func mainBTF(name string) *btf.Func {
	return &btf.Func{
		Name:    name,
		Linkage: btf.GlobalFunc,
		Type: &btf.FuncProto{
			Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed},
			Params: []btf.FuncParam{{Name: "ctx", Type: &btf.Pointer{Target: &btf.Void{}}}},
		},
	}
}
