package codegen

import (
	"fmt"
	"iter"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
)

// Register roles (doc.go draws the whole picture).
const (
	regCtx     = asm.R6 // the probe context in a main function; in a callback, a pointer to the slot holding it
	regScratch = asm.R9 // this CPU's scratch value
)

// pool are the callee-saved registers that hold integer temporaries; when
// both are taken, temporaries live in stack slots.
var pool = [...]asm.Register{asm.R7, asm.R8}

// fn is one BPF function under construction: a program's main body or a
// callback (for-each body, len's counter).
type fn struct {
	name     string
	insns    asm.Instructions
	pendSyms []string
	pendSrc  string
	stack    int // bytes of stack in use below r10
	maxStack int
	used     [len(pool)]bool
	callback bool
	// exit is the label of the function's final "return 0".
	exit string
	// btfProto is the callback's BTF prototype (nil for main functions
	// that need none).
	btfFunc *btf.Func
	// dead is set after an unconditional jump or exit: what follows is
	// unreachable until a label that some jump names. The verifier
	// rejects unreachable instructions, so they are not emitted.
	dead bool
	// refs are the labels jumps have named so far.
	refs map[string]bool
}

// loc is where an integer temporary lives: a pool register, or a stack
// slot at r10+off when reg is R0.
type loc struct {
	reg asm.Register
	off int16
}

func (l loc) spilled() bool { return l.reg == asm.R0 }

// valKind says how a val is held.
type valKind uint8

const (
	vNone  valKind = iota // no value (a statement-only call)
	vConst                // an integer known at compile time
	vInt                  // an integer (or pointer, id, address) in a loc
	vMem                  // a value of t.Size bytes in scratch at off
	vVar                  // an integer variable in main's stack slot at slot
)

// val is the result of lowering an expression.
type val struct {
	t    *lang.Type
	kind valKind
	c    int64
	l    loc
	off  int
	slot int16
	// tmp is set for vInt values the consumer must free.
	tmp bool
}

// alias records labels defined at an instruction that already has one.
type gen struct {
	// wakeReader makes the next ring buffer output wake the reader
	// (exit(); see rbForceWakeup).
	wakeReader bool
	c          *compiler
	probe      *lang.Probe
	ap         *lang.AttachPoint
	provider   string
	kind       ProgramKind
	// args is the `args` record of this program's attach point, nil when
	// the provider has none.
	args *lang.Type
	// usdt are the argument specs of the usdt location compiled for.
	usdt []USDTArg
	// stmts source, for comments.
	src []byte

	f         *fn
	callbacks []*fn
	labelN    int
	aliases   map[string]string
	// vars are the scratch variables: each has a region of scratch.
	vars map[string]*variable
	// scratch is the scratch allocator's top; scratchMax its high-water mark.
	scratch    int
	scratchMax int
	scratchMap string
	// usesScratch is set once anything is placed in scratch.
	usesScratch bool
	// ctxSlot is the stack offset where main saves ctx for callbacks.
	ctxSlot      int16
	hasCallbacks bool
	// lenCallback is the symbol of the program's len() callback, once made.
	lenCallback string
	loop        *loopCtx
	// retFlag is the scratch offset of the flag a callback sets when
	// the body executes `return` (the probe must end after the loop).
	retFlag int
	// readSite is where -kk reports a failed read of the value being
	// read (the field access, index or dereference), nil elsewhere.
	readSite lang.Node
	err      error
}

// variable is a scratch variable ($x). Integers live in 8-byte slots of
// main's stack, where the verifier tracks their values precisely (a loop
// counter must be there for a while loop to be bounded); everything else
// in a region of scratch.
type variable struct {
	t       *lang.Type
	onStack bool
	slot    int16 // main's stack offset, when onStack
	off     int   // scratch offset, otherwise
}

type loopCtx struct {
	brk, cont string
	// callback loops end differently: break returns 1, continue returns 0.
	callback bool
	outer    *loopCtx
}

// errorf records the first error; generation goes on so that the caller
// gets one error even from deep inside an expression.
func (g *gen) errorf(n lang.Node, format string, args ...any) {
	if g.err != nil {
		return
	}
	g.err = &Error{Msg: fmt.Sprintf(format, args...), Node: n}
}

// Error is a program that cannot be compiled, with the node at fault. Msg
// does not repeat the node's position; Error() adds it.
type Error struct {
	Msg  string
	Node lang.Node
}

func (e *Error) Error() string {
	if e.Node != nil {
		if start, _ := e.Node.Span(); start.IsValid() {
			return fmt.Sprintf("codegen: %s: %s", start, e.Msg)
		}
	}
	return "codegen: " + e.Msg
}

// label returns a new label unique in the program.
func (g *gen) label(hint string) string {
	g.labelN++
	return fmt.Sprintf("%s_%d", hint, g.labelN)
}

// emit appends instructions to the current function, attaching pending
// labels and the pending source comment to the first.
func (g *gen) emit(insns ...asm.Instruction) {
	f := g.f
	if f.refs == nil {
		f.refs = make(map[string]bool)
	}
	for i, ins := range insns {
		if f.dead {
			live := false
			for _, s := range f.pendSyms {
				if f.refs[s] {
					live = true
				}
			}
			if !live {
				// Unreachable: drop it, with the labels and comment
				// meant for it.
				f.pendSyms = f.pendSyms[:0]
				f.pendSrc = ""
				continue
			}
			f.dead = false
		}
		if i == 0 || len(f.pendSyms) > 0 || f.pendSrc != "" {
			if len(f.pendSyms) > 0 {
				// One symbol per instruction: the others become aliases
				// (the function's exit label wins, for readable listings).
				sym := f.pendSyms[0]
				for _, s := range f.pendSyms {
					if s == f.exit {
						sym = s
					}
				}
				ins = ins.WithSymbol(sym)
				for _, s := range f.pendSyms {
					if s != sym {
						g.aliases[s] = sym
					}
				}
				f.pendSyms = f.pendSyms[:0]
			}
			if f.pendSrc != "" {
				// The comment becomes BTF line info, which cannot hold
				// a NUL (a program's text may: the fuzzer found it).
				ins = ins.WithSource(asm.Comment(strings.ReplaceAll(f.pendSrc, "\x00", `\0`)))
				f.pendSrc = ""
			}
		}
		if ref := ins.Reference(); ref != "" && ins.OpCode.Class().IsJump() {
			f.refs[ref] = true
		}
		f.insns = append(f.insns, ins)
		if op := ins.OpCode.JumpOp(); ins.OpCode.Class() == asm.JumpClass && (op == asm.Ja || op == asm.Exit) {
			f.dead = true
		}
	}
}

// mark defines label at the next instruction emitted.
func (g *gen) mark(label string) {
	g.f.pendSyms = append(g.f.pendSyms, label)
}

// source sets the comment the next instruction carries.
func (g *gen) source(n lang.Node) {
	if s := sourceText(g.src, n); s != "" {
		g.f.pendSrc = s
	}
}

// sourceText returns the text of n for a listing comment: its first line,
// up to an opening brace, with runs of blanks collapsed.
func sourceText(src []byte, n lang.Node) string {
	if n == nil || len(src) == 0 {
		return ""
	}
	start, end := n.Span()
	a, b := offsetOf(src, start), offsetOf(src, end)
	if a < 0 || b < a {
		return ""
	}
	text := string(src[a:b])
	if i := strings.IndexByte(text, '{'); i >= 0 {
		text = text[:i]
	}
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return strings.Join(strings.Fields(text), " ")
}

// offsetOf turns a 1-based line:col into a byte offset, -1 if outside.
func offsetOf(src []byte, p lang.Pos) int {
	if !p.IsValid() {
		return -1
	}
	line, off := 1, 0
	for line < p.Line {
		i := strings.IndexByte(string(src[off:]), '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
		line++
	}
	off += p.Col - 1
	if off > len(src) {
		return len(src)
	}
	return off
}

// --- integer temporaries ---

// newLoc returns a free pool register or a new stack slot.
func (g *gen) newLoc() loc {
	for i, r := range pool {
		if !g.f.used[i] {
			g.f.used[i] = true
			return loc{reg: r}
		}
	}
	return loc{off: g.stackAlloc(8)}
}

// freeLoc releases l. Stack slots are released in LIFO order by
// stackAlloc's caller through stackMark/stackRelease; a pool register is
// released at once.
func (g *gen) freeLoc(l loc) {
	if l.spilled() {
		return
	}
	for i, r := range pool {
		if r == l.reg {
			g.f.used[i] = false
		}
	}
}

// free releases a temporary value.
func (g *gen) free(v val) {
	if v.kind == vInt && v.tmp {
		g.freeLoc(v.l)
	}
}

// stackAlloc reserves n bytes (rounded to 8) of the current function's
// stack and returns their offset from r10.
func (g *gen) stackAlloc(n int) int16 {
	n = (n + 7) &^ 7
	g.f.stack += n
	if g.f.stack > g.f.maxStack {
		g.f.maxStack = g.f.stack
	}
	if g.f.stack > 512 {
		g.errorf(nil, "program needs more than 512 bytes of stack")
	}
	return int16(-g.f.stack)
}

// stackMark and stackRelease bracket a statement: temporaries allocated
// while lowering it are released together.
func (g *gen) stackMark() int        { return g.f.stack }
func (g *gen) stackRelease(mark int) { g.f.stack = mark }

// load puts integer value v into register dst.
func (g *gen) load(v val, dst asm.Register) {
	switch v.kind {
	case vConst:
		g.movImm(dst, v.c)
	case vInt:
		if v.l.spilled() {
			g.emit(asm.LoadMem(dst, asm.R10, v.l.off, asm.DWord))
		} else if v.l.reg != dst {
			g.emit(asm.Mov.Reg(dst, v.l.reg))
		}
	case vVar:
		base, adj := g.varBase()
		g.emit(asm.LoadMem(dst, base, v.slot+adj, asm.DWord))
	case vMem:
		if isIntLike(v.t) {
			// An integer held in scratch (a variable).
			g.usesScratch = true
			g.emit(asm.LoadMem(dst, regScratch, int16(v.off), sizeOf(v.t.Size)))
			g.normalize(dst, v.t)
			return
		}
		// A memory value used where an address is wanted.
		g.scratchPtr(dst, v.off)
	default:
		g.movImm(dst, 0)
	}
}

// movImm sets dst to a 64-bit constant.
func (g *gen) movImm(dst asm.Register, c int64) {
	if c >= -1<<31 && c < 1<<31 {
		g.emit(asm.Mov.Imm(dst, int32(c)))
	} else {
		g.emit(asm.LoadImm(dst, c, asm.DWord))
	}
}

// varBase returns the register and adjustment through which the current
// function reaches main's stack: r10 itself in main; in a callback, r6,
// which points at main's context slot.
func (g *gen) varBase() (asm.Register, int16) {
	if g.f.callback {
		return regCtx, -g.ctxSlot
	}
	return asm.R10, 0
}

// storeVar writes register r (canonical for the variable's type) to an
// integer variable.
func (g *gen) storeVar(v *variable, r asm.Register) {
	base, adj := g.varBase()
	g.emit(asm.StoreMem(base, v.slot+adj, r, asm.DWord))
}

// storeLoc writes register src to l.
func (g *gen) storeLoc(l loc, src asm.Register) {
	if l.spilled() {
		g.emit(asm.StoreMem(asm.R10, l.off, src, asm.DWord))
	} else if l.reg != src {
		g.emit(asm.Mov.Reg(l.reg, src))
	}
}

// intResult makes a new temporary of type t holding register r.
func (g *gen) intResult(t *lang.Type, r asm.Register) val {
	l := g.newLoc()
	g.storeLoc(l, r)
	return val{t: t, kind: vInt, l: l, tmp: true}
}

// reg returns a register holding integer v for reading: its pool
// register, or scratch register tmp loaded with it.
func (g *gen) reg(v val, tmp asm.Register) asm.Register {
	if v.kind == vInt && !v.l.spilled() {
		return v.l.reg
	}
	g.load(v, tmp)
	return tmp
}

// --- scratch ---

// scratchAlloc reserves n bytes of scratch, 8-aligned.
func (g *gen) scratchAlloc(n int) int {
	g.usesScratch = true
	off := g.scratch
	g.scratch += (n + 7) &^ 7
	if g.scratch > g.scratchMax {
		g.scratchMax = g.scratch
	}
	return off
}

// memVal allocates a scratch value of type t.
func (g *gen) memVal(t *lang.Type) val {
	return val{t: t, kind: vMem, off: g.scratchAlloc(t.Size)}
}

// scratchPtr sets dst to the address of scratch offset off.
func (g *gen) scratchPtr(dst asm.Register, off int) {
	g.usesScratch = true
	g.emit(asm.Mov.Reg(dst, regScratch))
	if off != 0 {
		g.emit(asm.Add.Imm(dst, int32(off)))
	}
}

// zeroScratch clears n bytes of scratch at off (n a multiple of 8 or not).
func (g *gen) zeroScratch(off, n int) {
	g.usesScratch = true
	g.emit(asm.Mov.Imm(asm.R0, 0))
	i := 0
	for ; i+8 <= n; i += 8 {
		g.emit(asm.StoreMem(regScratch, int16(off+i), asm.R0, asm.DWord))
	}
	for ; i < n; i++ {
		g.emit(asm.StoreMem(regScratch, int16(off+i), asm.R0, asm.Byte))
	}
}

// copyScratch copies n bytes within scratch.
func (g *gen) copyScratch(dst, src, n int) {
	if dst == src || n == 0 {
		return
	}
	g.usesScratch = true
	for i, sz := range chunks(n) {
		g.emit(asm.LoadMem(asm.R0, regScratch, int16(src+i), sz),
			asm.StoreMem(regScratch, int16(dst+i), asm.R0, sz))
	}
}

// storeScratch writes the low size bytes of register r at scratch off.
func (g *gen) storeScratch(off int, r asm.Register, size int) {
	g.usesScratch = true
	g.emit(asm.StoreMem(regScratch, int16(off), r, sizeOf(size)))
}

// sizeOf returns the asm size of an n-byte integer.
func sizeOf(n int) asm.Size {
	switch n {
	case 1:
		return asm.Byte
	case 2:
		return asm.Half
	case 4:
		return asm.Word
	}
	return asm.DWord
}

// chunks walks n bytes of memory in the widest accesses that fit, yielding
// each piece's offset and size: 8 bytes at a time, then one each of 4, 2 and
// 1 for the tail. Copies and comparisons of memory values all step this way,
// so a 13-byte value costs three loads, not thirteen, and every such loop in
// the listings has the same shape.
func chunks(n int) iter.Seq2[int, asm.Size] {
	return func(yield func(int, asm.Size) bool) {
		for i := 0; i < n; {
			sz := asm.DWord
			switch {
			case n-i >= 8:
			case n-i >= 4:
				sz = asm.Word
			case n-i >= 2:
				sz = asm.Half
			default:
				sz = asm.Byte
			}
			if !yield(i, sz) {
				return
			}
			i += sz.Sizeof()
		}
	}
}

// --- calls ---

// call emits a helper call.
func (g *gen) call(f asm.BuiltinFunc) { g.emit(f.Call()) }

// mapPtr loads the address of map name into dst.
func (g *gen) mapPtr(dst asm.Register, name string) {
	g.emit(asm.LoadMapPtr(dst, 0).WithReference(name))
}

// ctxInto puts the probe context into dst.
func (g *gen) ctxInto(dst asm.Register) {
	if g.f.callback {
		g.emit(asm.LoadMem(dst, regCtx, 0, asm.DWord))
		return
	}
	if dst != regCtx {
		g.emit(asm.Mov.Reg(dst, regCtx))
	}
}

// ctxLoad loads size bytes at offset off of the context into dst.
func (g *gen) ctxLoad(dst asm.Register, off int, size asm.Size) {
	base := regCtx
	if g.f.callback {
		g.emit(asm.LoadMem(dst, regCtx, 0, asm.DWord))
		base = dst
	}
	g.emit(asm.LoadMem(dst, base, int16(off), size))
}

// --- integer normalisation ---

// normalize brings register r, holding a 64-bit result, to the canonical
// form of type t: truncated to t's size, then sign- or zero-extended.
func (g *gen) normalize(r asm.Register, t *lang.Type) {
	if t == nil || !isIntLike(t) || t.Size >= 8 || t.Size <= 0 {
		return
	}
	bits := int32(64 - 8*t.Size)
	if t.Signed {
		g.emit(asm.LSh.Imm(r, bits), asm.ArSh.Imm(r, bits))
		return
	}
	if t.Size == 4 {
		// A 32-bit move zero-extends.
		g.emit(asm.Mov.Reg32(r, r))
		return
	}
	g.emit(asm.And.Imm(r, int32(1)<<(8*t.Size)-1))
}

// isIntLike reports whether values of t are held in registers: integers,
// pointers, and the 8-byte ids and addresses user space resolves.
func isIntLike(t *lang.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case lang.KindInt, lang.KindPointer, lang.KindKSym, lang.KindUsername, lang.KindProbe,
		lang.KindStrerror:
		return t.Size <= 8
	}
	return false
}

// exitInsns ends the current function with "return 0" at its exit label.
func (g *gen) finishFunc() {
	g.mark(g.f.exit)
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
}
