package codegen

import (
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// callExpr lowers a function call.
func (g *gen) callExpr(call *lang.CallExpr) val {
	t := call.Type()
	name := call.Name
	nargs := len(call.Args)
	need := func(n int) bool {
		if nargs < n {
			g.errorf(call, "%s() needs %d arguments", name, n)
			return false
		}
		return true
	}
	none := val{t: lang.TypeNone, kind: vNone}
	switch name {
	case "printf":
		g.formatCall(EventPrintf, call)
		return none
	case "system":
		g.formatCall(EventSystem, call)
		return none
	case "cat":
		g.formatCall(EventCat, call)
		return none
	case "print":
		if !need(1) {
			return none
		}
		if m, ok := call.Args[0].(*lang.MapExpr); ok && len(m.Keys) == 0 {
			g.mapEvent(EventPrintMap, call, m, call.Args[1:])
			return none
		}
		at := call.Args[0].Type()
		if at == nil || at.Size <= 0 {
			g.errorf(call, "print() of a value without a type")
			return none
		}
		ev := g.newEvent(EventPrint, call, []*lang.Type{at})
		g.emitEvent(ev, call.Args[:1])
		return none
	case "time":
		ev := g.newEvent(EventTime, call, nil)
		ev.Text = "%H:%M:%S\n"
		if nargs > 0 {
			if s, ok := g.constLit(call.Args[0]); ok {
				ev.Text = s.Value
			}
		}
		g.emitEvent(ev, nil)
		return none
	case "join":
		if need(1) {
			g.join(call)
		}
		return none
	case "exit":
		g.exitCall(call)
		return none
	case "clear", "zero":
		if !need(1) {
			return none
		}
		m, ok := call.Args[0].(*lang.MapExpr)
		if !ok {
			g.errorf(call, "%s() needs a map", name)
			return none
		}
		kind := EventClear
		if name == "zero" {
			kind = EventZero
		}
		g.mapEvent(kind, call, m, nil)
		return none
	case "delete":
		if !need(1) {
			return none
		}
		m, ok := call.Args[0].(*lang.MapExpr)
		if !ok {
			g.errorf(call, "delete() needs a map")
			return none
		}
		if nargs > 1 {
			g.mapDelete(call, m, call.Args[1:])
		} else {
			g.mapDelete(call, m, m.Keys)
		}
		return none
	case "has_key":
		if !need(2) {
			return val{t: t}
		}
		m, ok := call.Args[0].(*lang.MapExpr)
		if !ok {
			g.errorf(call, "has_key() needs a map")
			return val{t: t}
		}
		return g.hasKey(call, m, call.Args[1:], t)
	case "len":
		if !need(1) {
			return val{t: t}
		}
		m, ok := call.Args[0].(*lang.MapExpr)
		if !ok {
			g.errorf(call, "len() needs a map")
			return val{t: t}
		}
		return g.mapLen(call, m, t)
	case "str":
		if need(1) {
			return g.str(call)
		}
	case "buf":
		if need(1) {
			return g.buf(call)
		}
	case "cgroup_path":
		if !need(1) {
			return val{t: t}
		}
		return g.cgroupPath(call, t)
	case "ksym", "kptr", "uptr", "strerror":
		if !need(1) {
			return val{t: t}
		}
		v := g.intExpr(call.Args[0])
		def := map[string]*lang.Type{"ksym": lang.TypeKSym, "strerror": lang.TypeStrerror}[name]
		v.t = typeOr(t, typeOr(def, call.Args[0].Type()))
		return v
	case "usym":
		if !need(1) {
			return val{t: t}
		}
		return g.usym(g.intExpr(call.Args[0]), t)
	case "kaddr", "uaddr", "cgroupid":
		if need(1) {
			return g.resolved(call, t)
		}
	case "ntop":
		if need(1) {
			return g.ntop(call)
		}
	case "pton":
		if need(1) {
			return g.pton(call)
		}
	case "macaddr":
		if need(1) {
			return g.macaddr(call)
		}
	case "strncmp":
		if need(3) {
			return g.strncmp(call)
		}
	case "strcontains":
		if need(2) {
			return g.strcontains(call)
		}
	case "bswap":
		if !need(1) {
			return val{t: t}
		}
		at := typeOr(call.Args[0].Type(), lang.TypeUint64)
		v := g.intExpr(call.Args[0])
		g.load(v, asm.R1)
		g.free(v)
		switch at.Size {
		case 2:
			g.emit(asm.HostTo(asm.BE, asm.R1, asm.Half))
		case 4:
			g.emit(asm.HostTo(asm.BE, asm.R1, asm.Word))
		case 8:
			g.emit(asm.HostTo(asm.BE, asm.R1, asm.DWord))
		}
		return g.intResult(typeOr(t, at), asm.R1)
	case "reg":
		if !need(1) {
			return val{t: t}
		}
		lit, ok := g.constLit(call.Args[0])
		if !ok {
			g.errorf(call, "reg() needs a register name")
			return val{t: t}
		}
		return g.regLoad(call, lit.Value, typeOr(t, lang.TypeUint64))
	case "kstack", "ustack":
		st := t
		if st == nil || st.Kind != lang.KindStack {
			st = lang.StackType(lang.StackInfo{User: name == "ustack", Limit: StackFrames})
		}
		return g.stack(st, call)
	case "nsecs":
		fn := asm.FnKtimeGetNs
		if nargs > 0 {
			if id, ok := call.Args[0].(*lang.IdentExpr); ok {
				switch id.Name {
				case "boot":
					fn = asm.FnKtimeGetBootNs
				case "tai":
					fn = asm.FnKtimeGetTaiNs
				}
			}
		}
		g.call(fn)
		return g.intResult(typeOr(t, lang.TypeUint64), asm.R0)
	case "strftime":
		if !need(2) {
			return val{t: t}
		}
		return g.strftime(call, t)
	case "signal":
		if need(1) {
			g.signal(call)
		}
		return none
	case "override":
		if !need(1) {
			return none
		}
		if g.provider != "kprobe" {
			g.errorf(call, "override() is only available in kprobes")
			return none
		}
		v := g.intExpr(call.Args[0])
		g.load(v, asm.R2)
		g.free(v)
		g.ctxInto(asm.R1)
		g.call(asm.FnOverrideReturn)
		return none
	case "debugf":
		if need(1) {
			g.debugf(call)
		}
		return none
	case "path":
		if need(1) {
			return g.path(call)
		}
	case "unwatch":
		if !need(1) {
			return none
		}
		ev := g.newEvent(EventUnwatch, call, []*lang.Type{lang.TypeUint64})
		g.emitEvent(ev, call.Args[:1])
		return none
	case "skboutput":
		// bpf_skb_output is for fentry/fexit programs, and writing pcap
		// files is not done here.
		g.errorf(call, "skboutput() is not supported: tracebook does not write pcap files (bpf_skb_output is only for kfunc/kretfunc probes)")
		return val{t: t}
	case "count", "sum", "min", "max", "avg", "stats", "hist", "lhist":
		g.errorf(call, "%s() must be assigned to a map", name)
		return val{t: t}
	default:
		g.errorf(call, "function %s() is not supported", name)
	}
	return val{t: t}
}

// constLit returns a string known at compile time as a literal: the
// literal itself, or a positional parameter the checker resolved
// (kaddr(str($1))).
func (g *gen) constLit(e lang.Expr) (*lang.StrLit, bool) {
	if lit, ok := e.(*lang.StrLit); ok {
		return lit, true
	}
	if s, ok := g.c.info.StrConsts[e]; ok {
		return &lang.StrLit{Value: s}, true
	}
	return nil, false
}

// resolved lowers kaddr, uaddr and cgroupid, which user space resolves
// at compile time through Options.
func (g *gen) resolved(call *lang.CallExpr, t *lang.Type) val {
	t = typeOr(t, lang.TypeUint64)
	lit, ok := g.constLit(call.Args[0])
	if !ok {
		g.errorf(call, "%s() needs a string literal", call.Name)
		return val{t: t}
	}
	var (
		n   uint64
		err error
	)
	o := g.c.opts
	switch call.Name {
	case "kaddr":
		if o.Kaddr == nil {
			g.errorf(call, "kaddr(%q): no kernel symbol resolver", lit.Value)
			return val{t: t}
		}
		n, err = o.Kaddr(lit.Value)
	case "uaddr":
		if o.Uaddr == nil || g.ap == nil {
			g.errorf(call, "uaddr(%q): no user symbol resolver", lit.Value)
			return val{t: t}
		}
		n, err = o.Uaddr(g.ap.Target, lit.Value)
	case "cgroupid":
		if o.CgroupID == nil {
			g.errorf(call, "cgroupid(%q): no cgroup resolver", lit.Value)
			return val{t: t}
		}
		n, err = o.CgroupID(lit.Value)
	}
	if err != nil {
		g.errorf(call, "%s(%q): %v", call.Name, lit.Value, err)
		return val{t: t}
	}
	return val{t: t, kind: vConst, c: int64(n)}
}

// cgroupPath lowers cgroup_path(id[, filter]) into lang.TypeCgroupPath's
// layout: the id and the filter's NameID (0 without one).
func (g *gen) cgroupPath(call *lang.CallExpr, t *lang.Type) val {
	if t == nil || t.Kind != lang.KindCgroupPath || t.Size < 16 {
		t = lang.TypeCgroupPath
	}
	id := g.intExpr(call.Args[0])
	filter := int64(0)
	if len(call.Args) > 1 {
		lit, ok := g.constLit(call.Args[1])
		if !ok {
			g.errorf(call, "cgroup_path() needs a string literal filter")
			return val{t: t}
		}
		filter = int64(g.c.nameID(lit.Value))
	}
	dst := g.memVal(t)
	g.load(id, asm.R0)
	g.free(id)
	g.storeScratch(dst.off, asm.R0, 8)
	g.movImm(asm.R0, filter)
	g.storeScratch(dst.off+8, asm.R0, 8)
	return dst
}

// strftime lowers strftime(fmt, ns) into lang.TypeTimestamp's layout: the
// format's NameID and the nanoseconds.
func (g *gen) strftime(call *lang.CallExpr, t *lang.Type) val {
	if t == nil || t.Kind != lang.KindTimestamp {
		t = lang.TypeTimestamp
	}
	lit, ok := g.constLit(call.Args[0])
	if !ok {
		g.errorf(call, "strftime() needs a format string")
		return val{t: t}
	}
	ns := g.intExpr(call.Args[1])
	dst := g.memVal(t)
	g.movImm(asm.R0, int64(g.c.nameID(lit.Value)))
	g.storeScratch(dst.off, asm.R0, 8)
	g.load(ns, asm.R0)
	g.free(ns)
	g.storeScratch(dst.off+8, asm.R0, 8)
	return dst
}

// debugf lowers debugf(fmt, args...) to bpf_trace_printk (three
// arguments at most) or bpf_trace_vprintk (Linux 5.16): the text goes to
// the kernel's trace pipe, not to the ring buffer. Integers are passed as
// 64-bit values, strings as pointers to their scratch copy.
func (g *gen) debugf(call *lang.CallExpr) {
	lit, ok := g.constLit(call.Args[0])
	if !ok {
		g.errorf(call, "debugf() needs a format string")
		return
	}
	args := call.Args[1:]
	fmtOff := g.scratchAlloc(len(lit.Value) + 1)
	g.writeBytes(fmtOff, []byte(lit.Value), len(lit.Value)+1)
	data := g.scratchAlloc(8 * max(1, len(args)))
	for i, a := range args {
		v := g.expr(a)
		if v.kind == vMem && !isIntLike(v.t) {
			g.scratchPtr(asm.R0, v.off)
		} else {
			g.load(v, asm.R0)
			g.free(v)
		}
		g.storeScratch(data+8*i, asm.R0, 8)
	}
	g.scratchPtr(asm.R1, fmtOff)
	g.emit(asm.Mov.Imm(asm.R2, int32(len(lit.Value)+1)))
	if len(args) <= 3 {
		for i := range args {
			g.emit(asm.LoadMem(asm.R3+asm.Register(i), regScratch, int16(data+8*i), asm.DWord))
		}
		g.call(asm.FnTracePrintk)
		return
	}
	g.scratchPtr(asm.R3, data)
	g.emit(asm.Mov.Imm(asm.R4, int32(8*len(args))))
	g.call(asm.FnTraceVprintk)
}

// path lowers path(p): bpf_d_path, which resolves a struct path to a file
// name (allowed in iterators and some fentry/fexit programs). p is a
// pointer, or a struct path record reached through one (x->f_path).
func (g *gen) path(call *lang.CallExpr) val {
	t := call.Type()
	if t == nil || t.Kind != lang.KindString {
		t = lang.StringType(g.c.strLen)
	}
	// The pointer stays in a register from its load to the call: the
	// verifier must see the type it was loaded with.
	var base val
	var off int64
	if at := call.Args[0].Type(); at != nil && at.Kind == lang.KindRecord {
		// path(ctx->file->f_path): the address of the record, reached
		// through a pointer.
		pl := g.place(call.Args[0])
		if pl.kind != pAddr {
			g.errorf(call, "path() needs a struct path reached through a pointer")
			return val{t: t}
		}
		base, off = pl.base, pl.off
	} else {
		base = g.intExpr(call.Args[0])
	}
	dst := g.memVal(t)
	g.zeroScratch(dst.off, t.Size)
	g.load(base, asm.R1)
	g.free(base)
	// A NULL pointer (an iterator's last call) leaves the string empty.
	skip := g.label("path_null")
	g.emit(asm.JEq.Imm(asm.R1, 0, skip))
	if off != 0 {
		g.emit(asm.Add.Imm(asm.R1, int32(off)))
	}
	g.scratchPtr(asm.R2, dst.off)
	g.emit(asm.Mov.Imm(asm.R3, int32(t.Size)))
	g.call(asm.FnDPath)
	g.checkHelper(asm.FnDPath, call)
	g.mark(skip)
	return dst
}

// signals are the names signal() takes.
var signals = map[string]int{
	"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGBUS": 7,
	"SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13,
	"SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19,
	"SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25,
	"SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31,
}

// SignalNumber returns the number of a signal name ("SIGKILL" or "KILL").
func SignalNumber(name string) (int, bool) {
	name = strings.ToUpper(name)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	n, ok := signals[name]
	return n, ok
}

// signal lowers signal(sig): bpf_send_signal to the current process.
func (g *gen) signal(call *lang.CallExpr) {
	if lit, ok := g.constLit(call.Args[0]); ok {
		n, ok := SignalNumber(lit.Value)
		if !ok {
			g.errorf(call, "signal(): unknown signal %q", lit.Value)
			return
		}
		g.emit(asm.Mov.Imm(asm.R1, int32(n)))
	} else {
		v := g.intExpr(call.Args[0])
		g.load(v, asm.R1)
		g.free(v)
	}
	g.call(asm.FnSendSignal)
	g.checkHelper(asm.FnSendSignal, call)
}
