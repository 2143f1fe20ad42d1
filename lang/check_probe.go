package lang

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Attach points and the builtin variables whose availability and type
// depend on the probe.

// expansion is the cached answer of TypeSource.Expand for one attach point.
type expansion struct {
	matches []*AttachPoint
	err     error
}

var softwareEvents = map[string]bool{
	"alignment-faults": true, "bpf-output": true, "context-switches": true, "cs": true,
	"cpu-clock": true, "cpu": true, "cpu-migrations": true, "dummy": true,
	"emulation-faults": true, "major-faults": true, "minor-faults": true,
	"page-faults": true, "faults": true, "task-clock": true,
}

var hardwareEvents = map[string]bool{
	"backend-stalls": true, "branch-instructions": true, "branches": true,
	"branch-misses": true, "bus-cycles": true, "cache-misses": true,
	"cache-references": true, "cpu-cycles": true, "cycles": true,
	"frontend-stalls": true, "instructions": true, "ref-cycles": true,
}

// knownProviders are the canonical providers the checker accepts.
var knownProviders = map[string]bool{
	"BEGIN": true, "END": true, "kprobe": true, "kretprobe": true, "uprobe": true,
	"uretprobe": true, "usdt": true, "tracepoint": true, "rawtracepoint": true,
	"profile": true, "interval": true, "software": true, "hardware": true,
	"watchpoint": true, "asyncwatchpoint": true, "kfunc": true, "kretfunc": true, "iter": true,
}

// attachProbe checks a probe's attach points, expands them, and returns
// the context its body is checked in.
func (c *checker) attachProbe(p *Probe) *probeCtx {
	pc := &probeCtx{probe: p}
	for _, ap := range p.Attach {
		if ap == nil {
			continue
		}
		pc.providers = append(pc.providers, ap.Provider)
		pc.aps = append(pc.aps, ap)
	}
	for _, ap := range pc.aps {
		if ap.Provider == "iter" && len(pc.aps) > 1 {
			c.errorf(ap, "Only single iter attach point is allowed.")
			return pc
		}
	}
	for _, ap := range pc.aps {
		c.checkAttachPoint(pc, ap)
	}
	return pc
}

func (c *checker) checkAttachPoint(pc *probeCtx, ap *AttachPoint) {
	name := ap.Name()
	switch ap.Provider {
	case "BEGIN", "END":
		if ap.Provider == "BEGIN" {
			if c.hasBegin {
				c.errorf(ap, "More than one BEGIN probe defined")
			}
			c.hasBegin = true
		} else {
			if c.hasEnd {
				c.errorf(ap, "More than one END probe defined")
			}
			c.hasEnd = true
		}
		ap.Matches = []*AttachPoint{ap}
		return
	case "kprobe", "kretprobe":
		if ap.Func == "" {
			c.errorf(ap, "kprobes should be attached to a function")
			return
		}
		if ap.Provider == "kretprobe" && bannedKretprobes[ap.Func] {
			c.bannedKretprobe(ap, ap.Func)
			return
		}
	// The parser already rejects uprobes, usdt probes and tracepoints
	// without their parts, offsets in return probes and malformed
	// watchpoint modes.
	case "uprobe", "uretprobe", "usdt", "tracepoint":
	case "rawtracepoint":
		if ap.Func == "" {
			c.errorf(ap, "rawtracepoint should be attached to a tracepoint")
			return
		}
	case "profile", "interval":
		switch {
		case ap.Unit == "":
			c.errorf(ap, "%s probe must have unit of time", ap.Provider)
		case ap.Unit != "hz" && ap.Unit != "s" && ap.Unit != "ms" && ap.Unit != "us":
			c.errorf(ap, "%s is not an accepted unit of time", ap.Unit)
		case ap.Freq == 0:
			c.errorf(ap, "%s frequency should be a positive integer", ap.Provider)
		}
		ap.Matches = []*AttachPoint{ap}
		return
	case "software", "hardware":
		events := softwareEvents
		if ap.Provider == "hardware" {
			events = hardwareEvents
		}
		switch {
		case ap.Func == "":
			c.errorf(ap, "%s probe must have a %s event name", ap.Provider, ap.Provider)
		case ap.Wildcard:
			c.errorf(ap, "wildcards are not allowed for %s probe type", ap.Provider)
		case !events[ap.Func]:
			err := c.errorf(ap, "%s is not a %s probe", ap.Func, ap.Provider)
			var names []string
			for n := range events {
				names = append(names, n)
			}
			if s := suggest(ap.Func, names); s != "" {
				err.note(didYouMean(s))
			}
		}
		ap.Matches = []*AttachPoint{ap}
		return
	case "watchpoint", "asyncwatchpoint":
		c.checkWatchpoint(ap)
		if ap.Func == "" || c.cfg.PID <= 0 && !c.cfg.HaveCmd {
			ap.Matches = []*AttachPoint{ap}
			return
		}
		// A watchpoint on a function's argument: the TypeSource finds
		// the function (or a wildcard's functions) in the binary of the
		// -c command or -p process.
	case "kfunc", "kretfunc":
		if ap.Func == "" {
			c.errorf(ap, "kfunc should specify a function")
			return
		}
	case "iter":
		if ap.Func != "task" && ap.Func != "task_file" {
			c.errorf(ap, "iter %s not available for your kernel version.", ap.Func)
			return
		}
		// The TypeSource knows whether the kernel has the iterator.
	}

	// Providers whose targets live in the running system.
	ex := c.expand(ap)
	if ex.err != nil {
		c.expandError(ap, name, ex.err)
		return
	}
	if ap.Provider == "kretprobe" {
		for _, m := range ex.matches {
			if bannedKretprobes[m.Func] {
				c.bannedKretprobe(ap, m.Func)
				return
			}
		}
	}
	if c.final {
		ap.Matches = ex.matches
	}
	if c.types == nil {
		return
	}
	switch ap.Provider {
	case "tracepoint":
		for _, m := range ex.matches {
			t := c.tracepointArgs(m)
			if t != nil {
				pc.tpArgs = append(pc.tpArgs, t)
			}
		}
	case "kfunc", "kretfunc", "rawtracepoint":
		if pc.funcArgs == nil && len(ex.matches) > 0 {
			m := ex.matches[0]
			args, ret, err := c.types.FuncArgs(m.Target, FuncArgsName(ap.Provider, m.Func))
			if err != nil {
				if !errors.Is(err, ErrNotFound) {
					c.errorf(ap, "%s", err.Error())
				} else {
					c.errorf(ap, "No BTF found for %s", m.Name())
				}
				return
			}
			pc.funcArgs, pc.funcRet = args, ret
		}
	}
}

// bannedKretprobes are the functions whose return probe can deadlock the
// kernel (bpftrace 0.17's list: kretprobes take locks these functions
// hold).
var bannedKretprobes = map[string]bool{
	"_raw_spin_lock": true, "_raw_spin_lock_irqsave": true, "_raw_spin_unlock_irqrestore": true,
	"queued_spin_lock_slowpath": true,
}

// bannedKretprobe reports a kretprobe on one of bannedKretprobes in
// bpftrace's words (which begin with "error:" after its "ERROR:"). bpftrace
// says it when attaching; it is known before anything is loaded.
func (c *checker) bannedKretprobe(ap *AttachPoint, fn string) {
	c.errorf(ap, "error: kretprobe:%s can't be used as it might lock up your system.", fn)
}

func (c *checker) checkWatchpoint(ap *AttachPoint) {
	if ap.Func != "" {
		if c.cfg.PID <= 0 && !c.cfg.HaveCmd {
			c.errorf(ap, "-p PID or -c CMD required for watchpoint")
		}
		if ap.ArgN > maxArgRegs {
			c.errorf(ap, "x86_64 doesn't support arg%d", ap.ArgN)
		}
	} else if ap.Provider == "asyncwatchpoint" {
		c.errorf(ap, "%s requires a function name", ap.Provider)
	} else if ap.Address == 0 {
		c.errorf(ap, "watchpoint must be attached to a non-zero address")
	}
	if ap.Len != 1 && ap.Len != 2 && ap.Len != 4 && ap.Len != 8 {
		c.errorf(ap, "watchpoint length must be one of (1,2,4,8)")
	}
	// The parser checked that the mode is made of r, w and x, once each.
	mode := []byte(ap.Mode)
	sort.Slice(mode, func(i, j int) bool { return mode[i] < mode[j] })
	switch string(mode) {
	case "r", "rx", "wx", "rwx":
		c.errorf(ap, "invalid watchpoint mode: %s", mode)
	}
}

// expand asks the TypeSource for the attach points ap stands for.
func (c *checker) expand(ap *AttachPoint) expansion {
	if c.expansions == nil {
		c.expansions = make(map[*AttachPoint]expansion)
	}
	if ex, ok := c.expansions[ap]; ok {
		return ex
	}
	var ex expansion
	if c.types == nil {
		if ap.Wildcard {
			ex.err = errNoTypes
		} else {
			ex.matches = []*AttachPoint{ap}
		}
	} else {
		ex.matches, ex.err = c.types.Expand(ap)
		if ex.err == nil && len(ex.matches) == 0 {
			ex.err = ErrNotFound
		}
	}
	c.expansions[ap] = ex
	return ex
}

// expandError reports an attach point that matches nothing.
func (c *checker) expandError(ap *AttachPoint, name string, err error) {
	if errors.Is(err, errNoTypes) {
		c.errorf(ap, "cannot expand %s: kernel type information is unavailable", name)
		return
	}
	if !errors.Is(err, ErrNotFound) {
		c.errorf(ap, "%s", err.Error())
		return
	}
	// A TypeSource's not-found error may say more than "not found"; then
	// its text (less the wrapped "not found") is the message.
	detail := strings.TrimSuffix(err.Error(), ": "+ErrNotFound.Error())
	if err == ErrNotFound || detail == ErrNotFound.Error() {
		detail = ""
	}
	switch ap.Provider {
	case "kprobe", "kretprobe":
		// bpftrace only warns: the function may be attachable anyway, and
		// a tool lists alternatives of which some kernels have one.
		if ap.Wildcard {
			c.warnf(ap, "%s matches no traceable function; it will not be attached", name)
		} else {
			c.warnf(ap, "%s is not traceable (either non-existing, inlined, or marked as \"notrace\"); attaching to it will likely fail", ap.Func)
		}
	case "tracepoint":
		what := "tracepoint not found"
		if ap.Wildcard {
			what = "tracepoints not found"
		}
		e := c.errorf(ap, "%s: %s:%s", what, ap.Target, ap.Func)
		if !ap.Wildcard {
			e.note(c.suggestTracepoint(ap))
		}
	default:
		msg := detail
		if msg == "" {
			msg = "No probes found for " + name
		}
		if c.targetExists(ap) || ap.Provider == "watchpoint" || ap.Provider == "asyncwatchpoint" {
			// As with kprobes, bpftrace only finds out when attaching,
			// and then skips the attach point: a missing function in a
			// binary that exists is a warning.
			c.warnf(ap, "%s; attaching to %s will likely fail", msg, name)
			return
		}
		c.errorf(ap, "%s", msg)
	}
}

// targetExists reports whether the binary a uprobe or usdt attach point
// names has any probe at all, by expanding "target:*". (A watchpoint's
// binary is the -c command's or -p process's, which exists.)
func (c *checker) targetExists(ap *AttachPoint) bool {
	switch ap.Provider {
	case "uprobe", "uretprobe", "usdt":
	default:
		return false
	}
	if ap.Target == "" || c.types == nil {
		return false
	}
	key := ap.Provider + ":" + ap.Target
	if ok, seen := c.targets[key]; seen {
		return ok
	}
	all := *ap
	all.Func, all.NS, all.Offset, all.Address, all.Wildcard, all.Matches = "*", "", 0, 0, true, nil
	all.Raw = all.Name()
	m, err := c.types.Expand(&all)
	if c.targets == nil {
		c.targets = make(map[string]bool)
	}
	c.targets[key] = err == nil && len(m) > 0
	return c.targets[key]
}

// suggestTracepoint looks for a tracepoint whose name is close to ap's.
func (c *checker) suggestTracepoint(ap *AttachPoint) string {
	all, err := c.types.Expand(&AttachPoint{Provider: "tracepoint", Target: "*", Func: "*", Raw: "tracepoint:*:*", Wildcard: true})
	if err != nil {
		return ""
	}
	names := make([]string, 0, len(all))
	for _, m := range all {
		names = append(names, m.Target+":"+m.Func)
	}
	if s := suggest(ap.Target+":"+ap.Func, names); s != "" {
		return didYouMean("tracepoint:" + s)
	}
	return ""
}

// tracepointArgs returns the args record of one concrete tracepoint,
// named as bpftrace names it, or nil when it cannot be had.
func (c *checker) tracepointArgs(m *AttachPoint) *Type {
	if c.tpCache == nil {
		c.tpCache = make(map[string]*Type)
	}
	key := m.Target + ":" + m.Func
	if t, ok := c.tpCache[key]; ok {
		return t
	}
	t, err := c.types.TracepointArgs(m.Target, m.Func)
	if err != nil || t == nil {
		c.tpCache[key] = nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			c.errorf(m, "%s", err.Error())
		}
		return nil
	}
	want := fmt.Sprintf("struct _tracepoint_%s_%s", m.Target, m.Func)
	if t.Name != want {
		cp := *t
		cp.Name = want
		t = &cp
	}
	c.tpCache[key] = t
	return t
}

// ---- builtin variables ----

func isBuiltinName(name string) bool {
	if builtinIndex[name] != nil {
		return true
	}
	return argNumber(name, "arg") >= 0 || argNumber(name, "sarg") >= 0
}

// argNumber returns N for "argN" (or "sargN") with one digit, else -1.
func argNumber(name, prefix string) int {
	if len(name) == len(prefix)+1 && strings.HasPrefix(name, prefix) && isASCIIDigit(name[len(prefix)]) {
		return int(name[len(prefix)] - '0')
	}
	return -1
}

// singleProvider is the provider all the probe's attach points share, or
// "" when they differ.
func (pc *probeCtx) singleProvider() string {
	kind := ""
	for _, p := range pc.providers {
		if kind == "" {
			kind = p
		} else if kind != p {
			return ""
		}
	}
	return kind
}

// probeTypeName names a probe type in messages as bpftrace does: BEGIN
// and END are "special", mixed types "invalid".
func probeTypeName(p string) string {
	switch p {
	case "BEGIN", "END":
		return "special"
	case "":
		return "invalid"
	}
	return p
}

// progType is the BPF program type a provider's probes load as.
func progType(p string) string {
	switch p {
	case "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt":
		return "kprobe"
	case "tracepoint":
		return "tracepoint"
	case "profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint":
		return "perf_event"
	case "kfunc", "kretfunc", "iter":
		return "tracing"
	case "rawtracepoint":
		return "raw_tracepoint"
	}
	return "special"
}

func (c *checker) builtin(e *IdentExpr) *Type {
	name := e.Name
	pc := c.pc
	switch name {
	case "pid", "tid", "uid", "gid", "nsecs", "elapsed", "cpu", "numaid", "rand", "cgroup":
		return TypeUint64
	case "comm":
		return StringType(16)
	case "kstack", "ustack":
		return StackType(StackInfo{User: name == "ustack", Limit: defaultStackLimit})
	case "curtask":
		return PointerTo(&Type{Kind: KindRecord, Name: "struct task_struct"}, AddrKernel)
	case "probe":
		return TypeProbe
	case "username":
		return TypeUsername
	case "cpid":
		if !c.cfg.HaveCmd {
			c.errorf(e, "cpid cannot be used without child command")
			return typeInvalid
		}
		return TypeUint32
	case "retval":
		return c.retval(e)
	case "func":
		var t *Type
		kernel, user := "", ""
		for _, p := range pc.providers {
			switch p {
			case "kprobe", "kretprobe", "kfunc", "kretfunc":
				t, kernel = TypeKSym, p
			case "uprobe", "uretprobe":
				t, user = TypeUSym, p
			default:
				c.errorf(e, "The func builtin can not be used with '%s' probes", p)
				return typeInvalid
			}
		}
		if kernel != "" && user != "" {
			// A kernel symbol and a user symbol are different values; one
			// action cannot produce both.
			c.errorf(e, "The func builtin can not be used with both '%s' and '%s' probes in one action", kernel, user)
			return typeInvalid
		}
		if t == nil {
			return typeInvalid
		}
		return t
	case "args":
		return c.argsBuiltin(e)
	case "ctx":
		return c.ctxBuiltin(e)
	}
	if n := argNumber(name, "arg"); n >= 0 {
		bad := false
		for _, p := range pc.providers {
			if p != "kprobe" && p != "uprobe" && p != "usdt" {
				c.errorf(e, "The %s builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes", name)
				bad = true
				break
			}
		}
		if n > maxArgRegs {
			c.errorf(e, "x86_64 doesn't support %s", name)
			bad = true
		}
		if bad {
			return typeInvalid
		}
		return withAS(TypeUint64, c.firstAddrSpace())
	}
	if argNumber(name, "sarg") >= 0 {
		for _, ap := range pc.aps {
			if ap.Provider != "kprobe" && ap.Provider != "uprobe" {
				c.errorf(e, "The %s builtin can only be used with 'kprobes' and 'uprobes' probes", name)
				return typeInvalid
			}
			if ap.Address != 0 || ap.Offset != 0 {
				c.warnf(e, "Using an address offset with the sargX built-in can lead to unexpected behavior")
			}
		}
		return withAS(TypeUint64, c.firstAddrSpace())
	}
	// isBuiltinName and this function must agree.
	c.errorf(e, "internal error: no type rule for the builtin %s", name)
	return typeInvalid
}

// defaultStackLimit is bpftrace's default number of frames.
const defaultStackLimit = 127

// firstAddrSpace is the address space of the first attach point's
// provider (bpftrace types argN by it).
func (c *checker) firstAddrSpace() AddrSpace {
	if len(c.pc.providers) == 0 {
		return AddrNone
	}
	saved := c.pc.providers
	c.pc.providers = saved[:1]
	as := c.probeAddrSpace()
	c.pc.providers = saved
	return as
}

func (c *checker) retval(e *IdentExpr) *Type {
	switch p := c.pc.singleProvider(); p {
	case "kretprobe", "uretprobe":
		return withAS(TypeUint64, c.probeAddrSpace())
	case "kretfunc":
		if c.pc.funcRet == nil {
			if c.pc.funcArgs != nil {
				c.errorf(e, "Can't find a field $retval")
			}
			return typeInvalid
		}
		return withAS(c.pc.funcRet, AddrKernel)
	default:
		hint := ""
		if p == "tracepoint" {
			hint = " (try to use args->ret instead)"
		}
		c.errorf(e, "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes%s", hint)
		return typeInvalid
	}
}

func (c *checker) argsBuiltin(e *IdentExpr) *Type {
	pc := c.pc
	switch p := pc.singleProvider(); p {
	case "tracepoint":
		if len(pc.tpArgs) == 0 {
			if c.types == nil {
				c.errorf(e, "The type of args is unknown: kernel type information is unavailable")
			}
			return typeInvalid
		}
		as := AddrKernel
		for _, ap := range pc.aps {
			if ap.Target == "syscalls" {
				as = AddrUser
			}
		}
		return withCtx(PointerTo(pc.tpArgs[0], as))
	case "kfunc", "kretfunc", "rawtracepoint":
		if pc.funcArgs == nil {
			if c.types == nil {
				c.errorf(e, "The type of args is unknown: kernel type information is unavailable")
			}
			return typeInvalid
		}
		return withCtx(PointerTo(pc.funcArgs, AddrKernel))
	case "uprobe":
		c.errorf(e, "The args builtin in uprobes needs the binary's DWARF debug information, which tracebook does not read; use arg0..arg5")
		return typeInvalid
	default:
		c.errorf(e, "The args builtin can only be used with tracepoint/kfunc/uprobe probes (%s used here)", probeTypeName(p))
		return typeInvalid
	}
}

func (c *checker) ctxBuiltin(e *IdentExpr) *Type {
	pc := c.pc
	if len(pc.providers) == 0 {
		return typeInvalid
	}
	first := progType(pc.providers[0])
	for _, p := range pc.providers[1:] {
		if pt := progType(p); pt != first {
			c.errorf(e, "ctx cannot be used in different BPF program types: %s and %s", first, pt)
			return typeInvalid
		}
	}
	var rec string
	switch first {
	case "kprobe":
		rec = "struct pt_regs"
	case "perf_event":
		rec = "struct bpf_perf_event_data"
	case "tracepoint":
		c.errorf(e, "Use args instead of ctx in tracepoint")
		return typeInvalid
	case "tracing":
		if pc.providers[0] == "iter" {
			switch pc.aps[0].Func {
			case "task":
				rec = "struct bpf_iter__task"
			case "task_file":
				rec = "struct bpf_iter__task_file"
			}
		}
	}
	if rec == "" {
		c.errorf(e, "invalid program type")
		return typeInvalid
	}
	return withCtx(PointerTo(&Type{Kind: KindRecord, Name: rec}, AddrKernel))
}
