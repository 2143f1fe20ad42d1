package codegen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// x86-64 struct pt_regs offsets: kprobe, uprobe and usdt contexts are a
// pt_regs, and a perf event's bpf_perf_event_data starts with one.
var ptRegs = map[string]int{
	"r15": 0, "r14": 8, "r13": 16, "r12": 24, "bp": 32, "bx": 40, "r11": 48, "r10": 56,
	"r9": 64, "r8": 72, "ax": 80, "cx": 88, "dx": 96, "si": 104, "di": 112, "orig_ax": 120,
	"ip": 128, "cs": 136, "flags": 144, "sp": 152, "ss": 160,
}

// argRegs are the registers of the first six integer arguments (SysV ABI).
var argRegs = [...]string{"di", "si", "dx", "cx", "r8", "r9"}

// hasRegs reports whether the probe's context is (or starts with) a pt_regs.
func (g *gen) hasRegs() bool {
	switch g.provider {
	case "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt",
		"profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint":
		return true
	}
	return false
}

// builtin lowers a builtin variable.
func (g *gen) builtin(e *lang.IdentExpr) val {
	t := e.Type()
	name := e.Name
	switch name {
	case "pid", "tid":
		g.call(asm.FnGetCurrentPidTgid)
		if name == "pid" {
			g.emit(asm.RSh.Imm(asm.R0, 32))
		} else {
			g.emit(asm.Mov.Reg32(asm.R0, asm.R0))
		}
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "uid", "gid", "username":
		g.call(asm.FnGetCurrentUidGid)
		if name == "gid" {
			g.emit(asm.RSh.Imm(asm.R0, 32))
		} else {
			g.emit(asm.Mov.Reg32(asm.R0, asm.R0))
		}
		if name == "username" {
			return g.intResult(typeOr(t, lang.TypeUsername), asm.R0)
		}
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "nsecs":
		g.call(asm.FnKtimeGetNs)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "elapsed":
		return g.elapsed(t)
	case "cpu":
		g.call(asm.FnGetSmpProcessorId)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "numaid":
		g.call(asm.FnGetNumaNodeId)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "comm":
		if t == nil || t.Size == 0 {
			t = lang.StringType(16)
		}
		dst := g.memVal(t)
		g.commInto(dst.off, t, e)
		return dst
	case "cgroup":
		g.call(asm.FnGetCurrentCgroupId)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "curtask":
		g.call(asm.FnGetCurrentTask)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "rand":
		g.call(asm.FnGetPrandomU32)
		return g.intResult(typeOr(t, lang.TypeUint32), asm.R0)
	case "jiffies":
		g.call(asm.FnJiffies64)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "ctx":
		g.ctxInto(asm.R0)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "probe":
		name := g.probeName()
		return val{t: typeOr(t, lang.TypeProbe), kind: vConst, c: int64(g.c.nameID(name))}
	case "func":
		return g.funcBuiltin(e, t)
	case "retval":
		return g.retval(e, t)
	case "cpid":
		return g.global(GlobalCpid, typeOr(t, lang.TypeUint64))
	case "kstack", "ustack":
		st := t
		if st == nil || st.Kind != lang.KindStack {
			st = lang.StackType(lang.StackInfo{User: name == "ustack", Limit: StackFrames})
		}
		return g.stack(st, e)
	case "args":
		g.errorf(e, "args can only be used with a field (args->name)")
		return val{t: t}
	}
	if n, ok := argN(name, "arg"); ok {
		return g.arg(e, n, t)
	}
	if n, ok := argN(name, "sarg"); ok {
		return g.sarg(e, n, t)
	}
	g.errorf(e, "unknown builtin %s", name)
	return val{t: t}
}

// commInto writes comm at scratch off as string type t (16 bytes or
// more; get_current_comm pads with NULs, the rest is zeroed); -k reports
// a failure at at.
//
// Where the task's BTF pointer is usable (taskCommOffset), comm is copied
// from task_struct.comm with two 8-byte loads: the kernel keeps that array
// NUL-terminated and zero-padded (set_task_comm pads it), which is what
// bpf_get_current_comm would have written, and a per-event helper call
// that copies it byte by byte costs three times as much as the loads. That
// path cannot fail, so -k has nothing to check there.
func (g *gen) commInto(off int, t *lang.Type, at lang.Node) {
	if t.Size > 16 {
		g.zeroScratch(off+16, t.Size-16)
	}
	if coff, ok := g.taskCommOffset(); ok && t.Size >= 16 {
		g.call(asm.FnGetCurrentTaskBtf)
		for i := 0; i < 16; i += 8 {
			g.emit(asm.LoadMem(asm.R1, asm.R0, int16(coff+i), asm.DWord),
				asm.StoreMem(regScratch, int16(off+i), asm.R1, asm.DWord))
		}
		return
	}
	g.scratchPtr(asm.R1, off)
	g.emit(asm.Mov.Imm(asm.R2, int32(min(t.Size, 16))))
	g.call(asm.FnGetCurrentComm)
	g.checkHelper(asm.FnGetCurrentComm, at)
}

// taskCommOffset returns the offset of comm in struct task_struct when
// this program can read it through bpf_get_current_task_btf: the kernel
// has the helper and kernel BTF lays comm out as 16 bytes at an 8-aligned
// offset (Options.TaskCommOffset, asked once per compilation), and the
// program type is one of the tracing types the helper is given to (all of
// ProgramType's: kprobe, tracepoint, raw_tp, perf_event, tracing).
func (g *gen) taskCommOffset() (int, bool) {
	switch pt, _ := ProgramType(g.provider); pt {
	case ebpf.Kprobe, ebpf.TracePoint, ebpf.RawTracepoint, ebpf.PerfEvent, ebpf.Tracing:
	default:
		return 0, false
	}
	c := g.c
	if !c.commKnown {
		c.commKnown = true
		c.commOff = -1
		if c.opts.TaskCommOffset != nil {
			if off, ok := c.opts.TaskCommOffset(); ok && off%8 == 0 && off+16 <= math.MaxInt16 {
				c.commOff = off
			}
		}
	}
	return c.commOff, c.commOff >= 0
}

// argN parses "arg3" into 3.
func argN(name, prefix string) (int, bool) {
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	n, err := strconv.Atoi(name[len(prefix):])
	return n, err == nil && n >= 0
}

// probeName is the name `probe` has in this program.
func (g *gen) probeName() string {
	switch g.kind {
	case KindBegin:
		return "BEGIN"
	case KindEnd:
		return "END"
	case KindTopLevel:
		return "top-level"
	}
	if g.ap != nil {
		return g.ap.Name()
	}
	return ""
}

// global loads the u64 at off of MapGlobals (0 if the lookup fails).
func (g *gen) global(off int, t *lang.Type) val {
	slot := g.stackAlloc(8)
	g.emit(asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.R10, slot, asm.R1, asm.Word))
	g.mapPtr(asm.R1, MapGlobals)
	g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(slot)))
	g.call(asm.FnMapLookupElem)
	done := g.label("global")
	g.emit(asm.JEq.Imm(asm.R0, 0, done))
	g.emit(asm.LoadMem(asm.R0, asm.R0, int16(off), asm.DWord))
	g.mark(done)
	return g.intResult(t, asm.R0)
}

// elapsed is nsecs minus the run's start time in MapGlobals.
func (g *gen) elapsed(t *lang.Type) val {
	start := g.global(GlobalStart, lang.TypeUint64)
	g.call(asm.FnKtimeGetNs)
	g.load(start, asm.R1)
	g.free(start)
	g.emit(asm.Sub.Reg(asm.R0, asm.R1))
	return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
}

// regLoad reads register name from the pt_regs context.
func (g *gen) regLoad(e lang.Node, name string, t *lang.Type) val {
	off, ok := ptRegs[name]
	if !ok {
		g.errorf(e, "unknown register %q", name)
		return val{t: t}
	}
	if !g.hasRegs() {
		g.errorf(e, "registers are not available in %s probes", g.providerName())
		return val{t: t}
	}
	g.ctxLoad(asm.R0, off, asm.DWord)
	g.normalize(asm.R0, t)
	return g.intResult(t, asm.R0)
}

func (g *gen) providerName() string {
	if g.provider == "" {
		return "top-level"
	}
	return g.provider
}

// arg lowers argN: a register (or the stack beyond six) in kprobes and
// uprobes, the usdt argument spec in usdt probes, the context's u64 array
// in raw tracepoints.
func (g *gen) arg(e lang.Node, n int, t *lang.Type) val {
	t = typeOr(t, lang.TypeUint64)
	switch g.provider {
	case "kprobe", "uprobe":
		if n < len(argRegs) {
			return g.regLoad(e, argRegs[n], t)
		}
		// Past the registers, arguments are on the stack above the
		// return address.
		return g.stackSlot(int64(8*(n-len(argRegs)+1)), t)
	case "usdt":
		return g.usdtArg(e, n, t)
	case "rawtracepoint":
		g.ctxLoad(asm.R0, 8*n, asm.DWord)
		g.normalize(asm.R0, t)
		return g.intResult(t, asm.R0)
	}
	g.errorf(e, "arg%d is not available in %s probes", n, g.providerName())
	return val{t: t}
}

// sarg lowers sargN: the Nth stack argument, *(sp + 8*(N+1)).
func (g *gen) sarg(e lang.Node, n int, t *lang.Type) val {
	t = typeOr(t, lang.TypeUint64)
	if !g.hasRegs() {
		g.errorf(e, "sarg%d is not available in %s probes", n, g.providerName())
		return val{t: t}
	}
	return g.stackSlot(int64(8*(n+1)), t)
}

// stackSlot reads the 8 bytes at sp+off of the probed code's stack.
func (g *gen) stackSlot(off int64, t *lang.Type) val {
	sp := g.regLoad(nil, "sp", lang.TypeUint64)
	as := lang.AddrKernel
	if g.provider == "uprobe" || g.provider == "uretprobe" || g.provider == "usdt" {
		as = lang.AddrUser
	}
	return g.read(place{kind: pAddr, base: sp, off: off, space: as}, t)
}

// retval lowers retval: rax in return probes, the slot after the
// arguments in kretfunc.
func (g *gen) retval(e lang.Node, t *lang.Type) val {
	t = typeOr(t, lang.TypeUint64)
	switch g.provider {
	case "kretprobe", "uretprobe":
		return g.regLoad(e, "ax", t)
	case "kretfunc":
		n := 0
		if g.args != nil {
			n = len(g.args.Fields)
		}
		g.ctxLoad(asm.R0, 8*n, asm.DWord)
		g.normalize(asm.R0, t)
		return g.intResult(t, asm.R0)
	}
	g.errorf(e, "retval is not available in %s probes", g.providerName())
	return val{t: t}
}

// funcBuiltin lowers func: the traced function's address, resolved to a
// symbol in user space (a ksym in kernel probes, a usym with the pid in
// uprobes), or its name where the program serves one function.
func (g *gen) funcBuiltin(e lang.Node, t *lang.Type) val {
	if t != nil && t.Kind == lang.KindString {
		name := ""
		if g.ap != nil {
			name = g.ap.Func
		}
		return g.strLit(name, t)
	}
	switch g.provider {
	case "kprobe", "kretprobe", "kfunc", "kretfunc":
		g.ctxInto(asm.R1)
		g.call(asm.FnGetFuncIp)
		return g.intResult(typeOr(t, lang.TypeKSym), asm.R0)
	case "uprobe", "uretprobe", "usdt":
		ip := g.regLoad(e, "ip", lang.TypeUint64)
		return g.usym(ip, typeOr(t, lang.TypeUSym))
	}
	g.errorf(e, "func is not available in %s probes", g.providerName())
	return val{t: t}
}

// usym builds a usym value: the address and the current pid.
func (g *gen) usym(addr val, t *lang.Type) val {
	if t == nil || t.Kind != lang.KindUSym {
		t = lang.TypeUSym
	}
	dst := g.memVal(t)
	g.load(addr, asm.R0)
	g.free(addr)
	g.storeScratch(dst.off, asm.R0, 8)
	g.call(asm.FnGetCurrentPidTgid)
	g.emit(asm.RSh.Imm(asm.R0, 32))
	g.storeScratch(dst.off+8, asm.R0, 8)
	return dst
}

// StackMapName is the stack-trace map that holds the stacks of kstack and
// ustack values with the given frame limit: MapStacks for the full depth,
// "tb_stacks_N" for kstack(N). Stacks cut at different depths need
// different maps, because the map dedupes whole stacks: two stacks that
// differ only below frame N must get the same id under kstack(N).
func StackMapName(limit int) string {
	if limit <= 0 || limit >= StackFrames {
		return MapStacks
	}
	return fmt.Sprintf("%s_%d", MapStacks, limit)
}

// stack lowers kstack/ustack: a stack id from bpf_get_stackid (and the pid
// for ustack), in the layout lang.StackType describes; -k reports a
// failure at at.
func (g *gen) stack(t *lang.Type, at lang.Node) val {
	if t.Stack.Limit > StackFrames {
		// bpftrace 0.17 fails to create the stack map then; say why.
		fn := "kstack"
		if t.Stack.User {
			fn = "ustack"
		}
		g.errorf(at, "%s: a stack keeps at most %d frames (kernel.perf_event_max_stack), %d asked for", fn, StackFrames, t.Stack.Limit)
		return val{t: t}
	}
	dst := g.memVal(t)
	name := StackMapName(t.Stack.Limit)
	g.c.useStackMap(name, t.Stack.Limit)
	g.ctxInto(asm.R1)
	g.mapPtr(asm.R2, name)
	flags := int32(0)
	if t.Stack.User {
		flags = 1 << 8 // BPF_F_USER_STACK
	}
	g.emit(asm.Mov.Imm(asm.R3, flags))
	g.call(asm.FnGetStackid)
	g.checkHelper(asm.FnGetStackid, at)
	g.storeScratch(dst.off, asm.R0, 8)
	if t.Stack.User && t.Size >= 16 {
		g.call(asm.FnGetCurrentPidTgid)
		g.emit(asm.RSh.Imm(asm.R0, 32))
		g.storeScratch(dst.off+8, asm.R0, 8)
	}
	return dst
}
