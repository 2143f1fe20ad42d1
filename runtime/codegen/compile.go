package codegen

import (
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
)

// compiler holds what the programs of one Object share.
type compiler struct {
	prog     *lang.Program
	info     *lang.Info
	opts     *Options
	strLen   int
	layouts  map[string]*MapLayout
	mapIndex map[string]int
	// globalMaps are the slot maps a program reads, deletes from or asks
	// has_key, len or for about (Object.GlobalMaps).
	globalMaps map[string]bool
	events     []*Event
	names      map[uint64]string
	// stackMaps are the stack-trace maps used, by name, with their depth.
	stackMaps map[string]int
	// scratchMaps are the scratch maps used.
	scratchMaps map[string]bool
	scratchMax  int
	argsCache   map[string]*lang.Type
	// commOff is task_struct.comm's offset when comm is read through the
	// task's BTF pointer, -1 when not; commKnown once it has been asked
	// (taskCommOffset).
	commOff   int
	commKnown bool
}

// NameID is the id a string travels as in values and keys (probe names,
// strftime formats): the 64-bit FNV-1a hash of its bytes. It is the same
// in every Object, so ids written by one cell's programs decode with any
// later cell's Names.
func NameID(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (c *compiler) nameID(s string) uint64 {
	id := NameID(s)
	c.names[id] = s
	return id
}

func (c *compiler) useStackMap(name string, limit int) {
	if limit <= 0 || limit > StackFrames {
		limit = StackFrames
	}
	c.stackMaps[name] = limit
}

// Compile turns a checked program into an Object. prog must have been
// checked without errors, and info is what the checker returned for it.
// The result depends only on its arguments: compiling the same program
// twice gives identical specs.
func Compile(prog *lang.Program, info *lang.Info, opts *Options) (obj *Object, err error) {
	// A bug here must not bring down the notebook kernel that hosts it:
	// it becomes an error that says what it is (and FuzzCompile reports
	// it as a failure).
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("codegen: internal error: %v", r)
		}
	}()
	o := opts.withDefaults()
	if info == nil {
		info = &lang.Info{}
	}
	c := &compiler{
		prog:        prog,
		info:        info,
		opts:        o,
		layouts:     make(map[string]*MapLayout),
		mapIndex:    make(map[string]int),
		globalMaps:  make(map[string]bool),
		names:       make(map[uint64]string),
		stackMaps:   make(map[string]int),
		scratchMaps: make(map[string]bool),
		argsCache:   make(map[string]*lang.Type),
	}
	c.strLen = o.StrLen
	if c.strLen <= 0 {
		c.strLen = info.StrLen
	}
	if c.strLen <= 0 {
		c.strLen = 64
	}
	if c.strLen > 200 {
		return nil, fmt.Errorf("codegen: string size %d is above the limit of 200", c.strLen)
	}

	obj = &Object{
		Maps:     make(map[string]*MapLayout),
		Internal: make(map[string]*ebpf.MapSpec),
		Events:   make(map[uint64]*Event),
		Names:    c.names,
	}
	names := make([]string, 0, len(info.Maps))
	for name := range info.Maps {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		l, err := Layout(info.Maps[name], o)
		if err != nil {
			return nil, fmt.Errorf("codegen: %w", err)
		}
		c.layouts[name] = l
		c.mapIndex[name] = i
		obj.Maps[name] = l
		c.nameID(name)
	}

	for i, p := range prog.Probes {
		progs, err := c.probe(i, p)
		if err != nil {
			return nil, err
		}
		obj.Programs = append(obj.Programs, progs...)
	}
	if len(prog.Stmts) > 0 {
		p, err := c.programWith("top", KindTopLevel, nil, -1, nil, nil, prog.Stmts)
		if err != nil {
			return nil, err
		}
		obj.Programs = append(obj.Programs, p)
	}

	for _, ev := range c.events {
		obj.Events[ev.ID] = ev
	}
	for name := range c.globalMaps {
		obj.GlobalMaps = append(obj.GlobalMaps, name)
	}
	sort.Strings(obj.GlobalMaps)
	scratch := (c.scratchMax + 7) &^ 7
	if scratch == 0 {
		scratch = 8
	}
	if scratch > maxScratch {
		return nil, fmt.Errorf("codegen: the program needs %d bytes of scratch space, more than the %d a per-CPU value can hold", scratch, maxScratch)
	}
	obj.ScratchSize = scratch
	for _, name := range SharedInternalMaps {
		obj.Internal[name] = internalSpec(name, o, 0)
	}
	obj.Internal[MapGlobals] = internalSpec(MapGlobals, o, 0)
	obj.Internal[MapErrors] = &ebpf.MapSpec{Name: MapErrors, Type: ebpf.Array, KeySize: 4, ValueSize: 8,
		MaxEntries: uint32(max(1, len(names)))}
	for name := range c.scratchMaps {
		obj.Internal[name] = internalSpec(name, o, scratch)
	}
	for name, depth := range c.stackMaps {
		obj.Internal[name] = stackMapSpec(name, depth, o)
	}
	return obj, nil
}

// probe compiles one probe into one program per group of attach points
// that can share code.
func (c *compiler) probe(index int, p *lang.Probe) ([]*Program, error) {
	if len(p.Attach) == 0 {
		return nil, fmt.Errorf("codegen: probe %d has no attach point", index)
	}
	var out []*Program
	groups := c.groups(p)
	for gi, grp := range groups {
		name := fmt.Sprintf("p%d", index)
		if len(groups) > 1 {
			name = fmt.Sprintf("p%d_%d", index, gi)
		}
		switch grp[0].Provider {
		case "BEGIN", "END":
			// Run on demand, never attached: "BEGIN, END { ... }" is two
			// programs.
			kind := KindBegin
			if grp[0].Provider == "END" {
				kind = KindEnd
			}
			prog, err := c.programWith(name, kind, p, index, grp[0], nil, p.Body.Stmts)
			if err != nil {
				return nil, err
			}
			out = append(out, prog)
			continue
		}
		if funcWatchpoint(grp[0]) {
			progs, err := c.watchpointPrograms(name, p, index, grp[0])
			if err != nil {
				return nil, err
			}
			out = append(out, progs...)
			continue
		}
		sets := []usdtSet{{}}
		if grp[0].Provider == "usdt" {
			var err error
			sets, err = c.usdtLocations(grp[0])
			if err != nil {
				return nil, &Error{Msg: fmt.Sprintf("%s: %v", grp[0].Name(), err), Node: grp[0]}
			}
		}
		for si, set := range sets {
			pname := name
			if len(sets) > 1 {
				pname = fmt.Sprintf("%s_%d", name, si)
			}
			prog, err := c.programFor(pname, p, index, grp, set.args)
			if err != nil {
				return nil, err
			}
			if len(sets) > 1 {
				prog.USDTLocations = set.locations
			}
			out = append(out, prog)
		}
	}
	return out, nil
}

// groups splits a probe's concrete attach points into sets that one
// program serves: same provider, and each alone when the code depends on
// which one fired (the probe builtin, a tracepoint's args layout, the
// attach target of a trampoline or iterator, a usdt location's arguments),
// or when it is armed at run time (a watchpoint on a function argument).
func (c *compiler) groups(p *lang.Probe) [][]*lang.AttachPoint {
	var groups [][]*lang.AttachPoint
	byProvider := map[string]int{}
	body := []lang.Node{p}
	usesProbe := usesBuiltin("probe", body...)
	usesArgs := usesBuiltin("args", body...)
	for _, ap := range p.Attach {
		matches := ap.Matches
		if len(matches) == 0 {
			matches = []*lang.AttachPoint{ap}
		}
		for _, m := range matches {
			alone := usesProbe || funcWatchpoint(m)
			switch m.Provider {
			case "BEGIN", "END", "kfunc", "kretfunc", "iter", "usdt":
				alone = true
			case "tracepoint", "rawtracepoint":
				alone = alone || usesArgs
			}
			if alone {
				groups = append(groups, []*lang.AttachPoint{m})
				continue
			}
			if i, ok := byProvider[m.Provider]; ok {
				groups[i] = append(groups[i], m)
				continue
			}
			byProvider[m.Provider] = len(groups)
			groups = append(groups, []*lang.AttachPoint{m})
		}
	}
	return groups
}

// programFor compiles a probe for a group of attach points.
func (c *compiler) programFor(name string, p *lang.Probe, index int, grp []*lang.AttachPoint, usdtArgs []USDTArg) (*Program, error) {
	ap := grp[0]
	prog, err := c.programWith(name, KindAttach, p, index, ap, usdtArgs, p.Body.Stmts)
	if err != nil {
		return nil, err
	}
	prog.Attach = grp
	return prog, nil
}

// programWith generates one program.
func (c *compiler) programWith(name string, kind ProgramKind, p *lang.Probe, index int, ap *lang.AttachPoint,
	usdtArgs []USDTArg, stmts []lang.Stmt) (*Program, error) {
	provider := ""
	if ap != nil {
		provider = ap.Provider
	}
	ptype, atype := ProgramType(provider)
	if ptype == ebpf.UnspecifiedProgram {
		return nil, &Error{Msg: fmt.Sprintf("probe type %q is not supported", provider), Node: ap}
	}
	g := &gen{
		c:        c,
		probe:    p,
		ap:       ap,
		provider: provider,
		kind:     kind,
		src:      c.prog.Src,
		aliases:  make(map[string]string),
		vars:     make(map[string]*variable),
		retFlag:  -1,
	}
	if kind != KindAttach {
		g.provider = ""
		if kind == KindBegin || kind == KindEnd {
			g.provider = provider
		}
	}
	g.scratchMap = MapScratch
	if ptype == ebpf.PerfEvent {
		g.scratchMap = MapScratchNMI
	}
	var body []lang.Node
	if p != nil {
		body = []lang.Node{p}
	} else {
		for _, s := range stmts {
			body = append(body, s)
		}
	}
	if kind == KindAttach && ap != nil {
		g.args = c.argsFor(ap, body)
	}
	g.usdt = usdtArgs

	g.f = &fn{name: name, exit: "exit"}
	g.ctxSlot = g.stackAlloc(8)

	// Variables: a region of scratch each, zeroed by the prologue.
	var vars map[string]*lang.Type
	if c.info.Vars != nil {
		vars = c.info.Vars[p]
	}
	varNames := make([]string, 0, len(vars))
	for n := range vars {
		varNames = append(varNames, n)
	}
	sort.Strings(varNames)
	for _, n := range varNames {
		t := vars[n]
		if t == nil || t.Size <= 0 {
			continue
		}
		if isIntLike(t) {
			g.vars[n] = &variable{t: t, onStack: true, slot: g.stackAlloc(8)}
		} else {
			g.vars[n] = &variable{t: t, off: g.scratchAlloc(t.Size)}
		}
	}
	varsEnd := g.scratch

	if p != nil && p.Pred != nil {
		g.source(p.Pred)
		g.branch(p.Pred, false, g.f.exit)
	}
	g.block(stmts)
	g.finishFunc()
	if g.err != nil {
		return nil, g.err
	}

	// The prologue, now that the body says what it needs.
	body0 := g.f.insns
	g.f.insns, g.f.dead = nil, false
	// Every function's first instruction needs a line (the kernel wants
	// line info there once any instruction has one): the probe's header.
	g.f.pendSrc = programHeader(g, p, ap)
	g.emit(asm.Mov.Reg(regCtx, asm.R1))
	if g.usesScratch {
		g.emit(asm.StoreImm(asm.R10, g.ctxSlot, 0, asm.Word))
		g.mapPtr(asm.R1, g.scratchMap)
		g.emit(asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, int32(g.ctxSlot)))
		g.call(asm.FnMapLookupElem)
		g.emit(asm.JEq.Imm(asm.R0, 0, g.f.exit))
		g.emit(asm.Mov.Reg(regScratch, asm.R0))
		if varsEnd > 0 {
			g.zeroScratch(0, varsEnd)
		}
		c.scratchMaps[g.scratchMap] = true
	}
	if g.hasCallbacks {
		g.emit(asm.StoreMem(asm.R10, g.ctxSlot, regCtx, asm.DWord))
	}
	zeroed := false
	for _, n := range varNames {
		if v := g.vars[n]; v != nil && v.onStack {
			if !zeroed {
				g.emit(asm.Mov.Imm(asm.R1, 0))
				zeroed = true
			}
			g.emit(asm.StoreMem(asm.R10, v.slot, asm.R1, asm.DWord))
		}
	}
	insns := peephole(append(g.f.insns, body0...))

	// Callbacks follow main; with them, every function needs BTF.
	if len(g.callbacks) > 0 {
		insns[0] = btf.WithFuncMetadata(insns[0], mainBTF(kernelName(name)))
		for _, cb := range g.callbacks {
			cb.insns = peephole(cb.insns)
			cb.insns[0] = btf.WithFuncMetadata(cb.insns[0], cb.btfFunc)
			insns = append(insns, cb.insns...)
		}
	}
	for i := range insns {
		if ref := insns[i].Reference(); ref != "" {
			if to := g.resolveAlias(ref); to != ref {
				insns[i] = insns[i].WithReference(to)
			}
		}
	}
	if g.scratchMax > c.scratchMax {
		c.scratchMax = g.scratchMax
	}

	spec := &ebpf.ProgramSpec{
		Name:         kernelName(name),
		Type:         ptype,
		AttachType:   atype,
		Instructions: insns,
		License:      "GPL",
	}
	if kind == KindAttach && ap != nil {
		switch provider {
		case "kfunc", "kretfunc", "iter":
			spec.AttachTo = ap.Func
		}
	}
	return &Program{Name: name, Spec: spec, Kind: kind, Probe: p, ProbeIndex: index}, nil
}

// programHeader is the comment on a program's first instruction.
func programHeader(g *gen, p *lang.Probe, ap *lang.AttachPoint) string {
	switch {
	case p == nil:
		return "top-level statements"
	case ap != nil:
		return ap.Name()
	}
	return g.probeName()
}

// resolveAlias follows label aliases to the symbol the instruction has.
func (g *gen) resolveAlias(l string) string {
	for i := 0; i < 100; i++ {
		to, ok := g.aliases[l]
		if !ok {
			return l
		}
		l = to
	}
	return l
}

// argsFor returns the `args` record of a concrete attach point: asked of
// Options.Types when the probe uses args and the provider has per-target
// records, else what the checker gave.
func (c *compiler) argsFor(ap *lang.AttachPoint, body []lang.Node) *lang.Type {
	checked := argsRecord(body...)
	ts := c.opts.Types
	key := ap.Provider + ":" + ap.Target + ":" + ap.Func
	if t, ok := c.argsCache[key]; ok {
		return t
	}
	var t *lang.Type
	switch ap.Provider {
	case "tracepoint":
		if ts != nil && checked != nil {
			if r, err := ts.TracepointArgs(ap.Target, ap.Func); err == nil {
				t = r
			}
		}
	case "kfunc", "kretfunc", "rawtracepoint":
		if ts == nil {
			break
		}
		// A raw tracepoint is asked for as "btf_trace_<name>": a
		// function of the same name has other arguments.
		if r, _, err := ts.FuncArgs(ap.Target, lang.FuncArgsName(ap.Provider, ap.Func)); err == nil {
			t = r
		}
	}
	if t == nil {
		t = checked
	}
	c.argsCache[key] = t
	return t
}

// usdtSet is a group of usdt locations whose arguments are the same.
type usdtSet struct {
	args      []USDTArg
	locations []int
}

// usdtLocations groups the locations of a usdt probe by their arguments:
// one program serves each group.
func (c *compiler) usdtLocations(ap *lang.AttachPoint) ([]usdtSet, error) {
	if c.opts.USDTArgs == nil {
		return []usdtSet{{}}, nil
	}
	locs, err := c.opts.USDTArgs(ap)
	if err != nil {
		return nil, err
	}
	if len(locs) == 0 {
		return []usdtSet{{}}, nil
	}
	var sets []usdtSet
	index := map[string]int{}
	for i, args := range locs {
		key := fmt.Sprint(args)
		if j, ok := index[key]; ok {
			sets[j].locations = append(sets[j].locations, i)
			continue
		}
		index[key] = len(sets)
		sets = append(sets, usdtSet{args: args, locations: []int{i}})
	}
	return sets, nil
}
