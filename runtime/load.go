package runtime

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
)

// Compiling a program against the session, and loading it: its new maps
// are created, the maps earlier programs made and the shared internal maps
// are given to it as MapReplacements (codegen's specs are a pure function
// of the map types, so they are Compatible), and its programs are loaded.

// Source is one program's text.
type Source struct {
	// Name names the text in diagnostics: "stdin" (bpftrace's name for
	// -e and -), a file name, or a notebook cell's "cell[3]".
	Name string
	Text []byte
	// Cell allows statements outside any probe (a notebook cell's
	// "print(@lat)" or a bare "@lat"), run once like BEGIN.
	Cell bool
	// Defines are extra macros for the preprocessor.
	Defines map[string]string
}

// Program is a checked and compiled program, ready to Start. It holds no
// kernel object.
type Program struct {
	Name   string
	Src    []byte
	AST    *lang.Program
	Info   *lang.Info
	Object *codegen.Object
	// Warnings are the checker's warnings (the errors, if any, made
	// Compile fail).
	Warnings lang.ErrorList

	eventBase uint64
	events    []*codegen.Event // by id - eventBase
}

// ProbeCount is the number bpftrace prints in "Attaching N probes...":
// BEGIN and END count one each, every other probe one per concrete attach
// point (a wildcard counts its matches, an attach point that matches
// nothing counts none). A usdt probe counts one per location, as bpftrace attaches a uprobe per
// site (a probe inlined at two places counts two).
func (p *Program) ProbeCount() int {
	n := 0
	for _, pr := range p.AST.Probes {
		for _, ap := range pr.Attach {
			for _, m := range ap.Matches {
				if m.Provider == "usdt" {
					if up, err := USDTProbeFor(m); err == nil && len(up.Locations) > 1 {
						n += len(up.Locations)
						continue
					}
				}
				n++
			}
		}
	}
	return n
}

// event returns the event with the given id, nil when it is not this
// program's.
func (p *Program) event(id uint64) *codegen.Event {
	if id < p.eventBase || id-p.eventBase >= uint64(len(p.events)) {
		return nil
	}
	return p.events[id-p.eventBase]
}

// Compile parses and checks src against the session's maps (a map used
// with other types than an earlier program gave it is an error naming
// that program) and compiles it. The error list holds every error and
// warning, sorted; the program is nil when there are errors. Compiling
// reserves the program's event ids but creates nothing in the kernel: a
// program that is never started leaves no trace.
func (s *Session) Compile(src Source) (*Program, lang.ErrorList) {
	s.mu.Lock()
	opts := s.opts
	s.mu.Unlock()
	popts := &lang.ParseOptions{
		Cell:    src.Cell,
		Params:  opts.Params,
		Defines: src.Defines,
		HaveBTF: s.types.HaveBTF(),
		PID:     opts.PID,
		// A user's own headers are read; kernel and system ones are
		// checked to exist (missingIncludes).
		ReadInclude:  IncludeReader(opts.IncludeDirs),
		IncludeFiles: opts.IncludeFiles,
	}
	ast, errs := lang.Parse(src.Name, src.Text, popts)
	if ast == nil || errs.HasErrors() {
		errs.Sort()
		return nil, errs
	}
	inc := missingIncludes(ast, src.Name, opts.IncludeDirs)
	for _, f := range opts.IncludeFiles {
		if !includeExists(f, true, src.Name, opts.IncludeDirs) {
			inc = append(inc, &lang.Error{File: src.Name, Msg: "'" + f + "' file not found (--include)"})
		}
	}
	if len(inc) > 0 {
		errs = append(errs, inc...)
		errs.Sort()
		return nil, errs
	}
	info, cerrs := lang.Check(ast, &lang.Config{
		Types:   s.types,
		Session: s.MapTypes(),
		Cell:    src.Name,
		Params:  opts.Params,
		Unsafe:  opts.Unsafe,
		StrLen:  opts.StrLen,
		HaveCmd: opts.HaveCmd,
		PID:     opts.PID,
	})
	errs = append(errs, cerrs...)
	errs.Sort()
	if errs.HasErrors() {
		return nil, errs
	}

	s.mu.Lock()
	base := s.nextBase
	obj, err := codegen.Compile(ast, info, s.codegenOptions(&opts, base))
	if err == nil {
		s.nextBase += uint64(len(obj.Events)) + 1
	}
	s.mu.Unlock()
	if err != nil {
		errs = append(errs, compileError(src.Name, err))
		errs.Sort()
		return nil, errs
	}
	p := &Program{Name: src.Name, Src: src.Text, AST: ast, Info: info, Object: obj, Warnings: errs.Warnings(),
		eventBase: base, events: make([]*codegen.Event, len(obj.Events))}
	for id, ev := range obj.Events {
		p.events[id-base] = ev
	}
	s.addNames(obj.Names)
	return p, errs
}

// compileError turns a code generation failure into a diagnostic, placed
// at the node codegen blames when there is one.
func compileError(file string, err error) *lang.Error {
	e := &lang.Error{File: file, Msg: err.Error()}
	var ce *codegen.Error
	if errors.As(err, &ce) {
		e.Msg = ce.Msg
		if ce.Node != nil {
			e.Pos, e.End = ce.Node.Span()
		}
	}
	return e
}

// codegenOptions are the options every program of the session is
// compiled with; only EventBase differs between programs.
func (s *Session) codegenOptions(opts *SessionOptions, base uint64) *codegen.Options {
	return &codegen.Options{
		StrLen:        opts.StrLen,
		MaxMapEntries: opts.MaxMapEntries,
		RingBufSize:   opts.RingBufSize,
		EventBase:     base,
		Params:        opts.Params,
		Types:         s.types,
		Kaddr: func(name string) (uint64, error) {
			ks, err := LoadKernelSymbols()
			if err != nil {
				return 0, err
			}
			if a, ok := ks.Addr(name); ok {
				return a, nil
			}
			return 0, fmt.Errorf("Failed to resolve kernel symbol: %s", name)
		},
		Uaddr: func(binary, name string) (uint64, error) {
			return s.res.usyms.Addr(opts.PID, binary, name)
		},
		CgroupID: func(path string) (uint64, error) {
			var st unix.Stat_t
			if err := unix.Stat(path, &st); err != nil {
				return 0, fmt.Errorf("cgroupid(%q): %w", path, err)
			}
			return st.Ino, nil
		},
		USDTArgs:     usdtArgs,
		HelperChecks: opts.HelperChecks,
		// Asked only by a program that reads comm: the feature probe loads
		// a program, and the offset comes from a scan of raw BTF.
		TaskCommOffset: func() (int, bool) {
			if !s.types.HaveBTF() || CheckFeature(FeatureTaskBTF) != nil {
				return 0, false
			}
			return TaskCommOffset()
		},
	}
}

// Map allocation. A hash map preallocates MaxEntries entries when it is
// created: about 2 ms per 4096 entries of a per-CPU hash, and all its
// memory up front. The session creates small keyed maps with
// BPF_F_NO_PREALLOC instead, where perf-event programs may use such maps
// (Linux 6.1); large ones stay preallocated, because per-entry per-CPU
// allocations run out of per-CPU memory (a no-prealloc per-CPU hash took
// about 240 000 entries here). A program's spec is given the flags and
// size of the map the session holds, so it stays Compatible.
const noPreallocMax = 16384

const flagNoPrealloc = 1 // BPF_F_NO_PREALLOC

// creationSpec is the spec the session creates a new bpftrace map with.
func creationSpec(ms *ebpf.MapSpec) *ebpf.MapSpec {
	ms = ms.Copy()
	if (ms.Type == ebpf.Hash || ms.Type == ebpf.PerCPUHash) && ms.MaxEntries > 1 && ms.MaxEntries <= noPreallocMax &&
		KernelAtLeast("6.1") {
		ms.Flags |= flagNoPrealloc
	}
	return ms
}

// usdtArgs gives codegen the arguments of each location of a usdt probe.
func usdtArgs(ap *lang.AttachPoint) ([][]codegen.USDTArg, error) {
	p, err := USDTProbeFor(ap)
	if err != nil {
		return nil, err
	}
	out := make([][]codegen.USDTArg, len(p.Locations))
	for i, loc := range p.Locations {
		if loc.ArgsErr != nil {
			// Reading an argument of this location is the error; a
			// program that reads none still attaches.
			continue
		}
		for _, a := range loc.Args {
			ca := codegen.USDTArg{Size: a.Size, Signed: a.Signed, Offset: a.Offset, Scale: a.Scale,
				RegSize: a.RegSize, RegShift: a.RegShift}
			switch a.Kind {
			case USDTArgConst:
				ca.Kind = codegen.USDTConst
			case USDTArgReg:
				ca.Kind = codegen.USDTReg
			case USDTArgMem:
				ca.Kind = codegen.USDTMem
			}
			ca.Reg = ptRegsName(a.Reg)
			if a.Index != "" {
				ca.Index = ptRegsName(a.Index)
			}
			if ca.RegSize == 8 {
				ca.RegSize = 0
			}
			out[i] = append(out[i], ca)
		}
	}
	return out, nil
}

// ptRegsName turns a full register name ("rdi", "r8", "rip") into its
// struct pt_regs member name ("di", "r8", "ip").
func ptRegsName(full string) string {
	if _, _, _, n, ok := PtRegsOffset(full); ok {
		full = n
	}
	switch full {
	case "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "rip":
		return full[1:]
	}
	return full
}

// loaded is a program in the kernel: its programs and private maps, and
// the session maps its load created.
type loaded struct {
	progs   map[string]*ebpf.Program
	private map[string]*ebpf.Map
	created []string
	stats   map[string]string // the verifier's statistics per program (VerifierStats)
}

// LoadError is a program the kernel refused: the verifier rejected it, or
// a map could not be created. Diagnostic places it in the source when it
// can; Log is the full verifier log.
type LoadError struct {
	Err   error
	Diag  *lang.Error // the message, positioned at the rejected statement when known
	Log   string      // the verifier's log, "" when there is none
	Stats string      // the verifier's last line ("processed 1234 insns ...")
}

func (e *LoadError) Error() string {
	if e.Diag != nil {
		return e.Diag.Msg
	}
	return CleanError(e.Err).Error()
}
func (e *LoadError) Unwrap() error { return e.Err }

// load creates what the program needs in the kernel and loads its
// programs. New maps join the session only once every program loaded, so
// a rejected program fixes no map types.
func (s *Session) load(p *Program) (*loaded, error) {
	obj := p.Object
	spec := obj.CollectionSpec()
	for _, prog := range obj.Programs {
		if prog.Kind != codegen.KindAttach || len(prog.Attach) == 0 {
			continue
		}
		ps := spec.Programs[prog.Name]
		pt, at, to := ProgramTypeFor(prog.Attach[0])
		if pt == ebpf.UnspecifiedProgram || to != "" && len(prog.Attach) > 1 {
			// A BTF-targeted program serves one target; codegen's type
			// serves several (a raw tracepoint program on many).
			continue
		}
		ps.Type, ps.AttachType = pt, at
		if to != "" {
			ps.AttachTo = to
		}
	}

	repl, created, err := s.createMaps(obj, spec)
	if err != nil {
		return nil, err
	}
	ld := &loaded{progs: make(map[string]*ebpf.Program), private: make(map[string]*ebpf.Map), created: created,
		stats: make(map[string]string)}
	fail := func(err error) (*loaded, error) {
		ld.close()
		s.dropMaps(created)
		return nil, err
	}
	// The program's private maps (globals, scratch, full-map counters).
	for name, ms := range spec.Maps {
		if repl[name] != nil {
			continue
		}
		m, err := ebpf.NewMap(ms)
		if err != nil {
			return fail(&LoadError{Err: fmt.Errorf("creating map %s: %w", name, CleanError(err))})
		}
		ld.private[name] = m
		repl[name] = m
	}

	// The programs, each verified on its own so that the verifier's work
	// spreads over the CPUs; every map is a replacement, so nothing but the
	// program is created.
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(goruntime.NumCPU(), 1))
	for name, ps := range spec.Programs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			one := &ebpf.CollectionSpec{Maps: make(map[string]*ebpf.MapSpec), Programs: map[string]*ebpf.ProgramSpec{name: ps}}
			for mn, ms := range spec.Maps {
				one.Maps[mn] = ms.Copy()
			}
			co := ebpf.CollectionOptions{MapReplacements: repl, Cache: s.cache}
			if s.opts.VerifierStats {
				co.Programs.LogLevel = ebpf.LogLevelStats
			}
			coll, err := ebpf.NewCollectionWithOptions(one, co)
			if err != nil && s.opts.VerifierStats {
				// The statistics' log level leaves out the instructions
				// a rejection is placed by: load again for the full log.
				co.Programs.LogLevel = ebpf.LogLevelBranch | ebpf.LogLevelStats
				if again, err2 := ebpf.NewCollectionWithOptions(one, co); err2 != nil {
					err = err2
				} else {
					again.Close()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("program %s: %w", name, err)
				}
				return
			}
			prog := coll.DetachProgram(name)
			ld.progs[name] = prog
			if log := strings.TrimSpace(prog.VerifierLog); log != "" {
				ld.stats[name] = log
			}
			coll.Close()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fail(s.loadError(p, firstErr))
	}
	return ld, nil
}

// createMaps gives the program the session's maps: those of earlier
// programs, the shared internal ones, and its new bpftrace maps, created
// now (created lists them). The returned replacements cover every map of
// the spec but the program's private ones.
func (s *Session) createMaps(obj *codegen.Object, spec *ebpf.CollectionSpec) (map[string]*ebpf.Map, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errors.New("the session is closed")
	}
	repl := make(map[string]*ebpf.Map)
	var created []string
	fail := func(err error) (map[string]*ebpf.Map, []string, error) {
		for _, n := range created {
			s.maps[n].close()
			delete(s.maps, n)
		}
		return nil, nil, err
	}
	for name, ms := range spec.Maps {
		if _, ok := codegen.SlotParent(name); ok {
			continue // given with its map
		}
		if l := obj.Maps[name]; l != nil {
			if sm := s.maps[name]; sm != nil {
				// The map keeps the size and flags it was created with
				// (a later program may have another MaxMapEntries).
				ms.MaxEntries, ms.Flags = sm.m.MaxEntries(), sm.m.Flags()
				if err := ms.Compatible(sm.m); err != nil {
					return fail(fmt.Errorf("map %s was created with other types by %s: %v", name, sm.layout.Info.Origin, err))
				}
				repl[name] = sm.m
				if sm.slot != nil {
					repl[codegen.SlotName(name)] = sm.slot.m
				}
				continue
			}
			cs := creationSpec(ms)
			m, err := ebpf.NewMap(cs)
			if err != nil {
				return fail(&LoadError{Err: fmt.Errorf("creating map %s: %w", name, CleanError(err))})
			}
			slot, err := newSlot(l)
			if err != nil {
				m.Close()
				return fail(err)
			}
			*ms = *cs
			s.maps[name] = &sessionMap{layout: l, m: m, slot: slot, created: time.Now()}
			created = append(created, name)
			repl[name] = m
			if slot != nil {
				repl[codegen.SlotName(name)] = slot.m
			}
			continue
		}
		if !codegen.IsSharedInternal(name) {
			continue
		}
		m := s.shared[name]
		if m == nil {
			var err error
			if m, err = ebpf.NewMap(ms); err != nil {
				return fail(&LoadError{Err: fmt.Errorf("creating map %s: %w", name, CleanError(err))})
			}
			s.shared[name] = m
		} else if err := ms.Compatible(m); err != nil {
			return fail(fmt.Errorf("internal map %s differs from the session's: %v", name, err))
		}
		repl[name] = m
	}
	return repl, created, nil
}

// dropMaps forgets and closes session maps a failed program created.
func (s *Session) dropMaps(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if sm := s.maps[n]; sm != nil {
			sm.close()
			delete(s.maps, n)
		}
	}
}

// close frees the programs and the private maps. Session maps stay.
func (l *loaded) close() error {
	if l == nil {
		return nil
	}
	var errs []error
	for name, p := range l.progs {
		errs = append(errs, p.Close())
		delete(l.progs, name)
	}
	for name, m := range l.private {
		errs = append(errs, m.Close())
		delete(l.private, name)
	}
	return errors.Join(errs...)
}

var progNameRE = regexp.MustCompile(`program (\w+):`)

// loadError explains a failed load. A verifier rejection is placed at the
// statement whose instructions the verifier stopped in (codegen puts each
// statement's source on its first instruction).
func (s *Session) loadError(p *Program, err error) error {
	le := &LoadError{Err: err}
	var prog *codegen.Program
	if m := progNameRE.FindStringSubmatch(err.Error()); m != nil {
		for _, pr := range p.Object.Programs {
			if pr.Name == m[1] {
				prog = pr
			}
		}
	}
	if prog != nil && len(prog.Attach) > 0 {
		// A program the kernel refuses because it lacks the provider
		// (fentry on a kernel that blocks trampolines) is an attach error
		// in the feature's words.
		var ae *AttachError
		if xerr := ExplainLoadError(prog.Attach[0], err); errors.As(xerr, &ae) {
			return ae
		}
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		le.Diag = &lang.Error{File: p.Name, Msg: CleanError(err).Error()}
		if errors.Is(err, unix.EPERM) {
			le.Diag.Msg = "the kernel refused to load the program (operation not permitted): " + permHint(p)
		}
		return le
	}
	le.Log = strings.Join(ve.Log, "\n")
	for i := len(ve.Log) - 1; i >= 0; i-- {
		if strings.HasPrefix(ve.Log[i], "processed ") {
			le.Stats = ve.Log[i]
			break
		}
	}
	reason := verifierReason(ve.Log)
	if reason == "" {
		reason = CleanError(ve.Cause).Error()
	}
	d := &lang.Error{File: p.Name, Msg: "the kernel's BPF verifier rejected the program: " + reason}
	if prog != nil {
		if insn, ok := failingInsn(ve.Log); ok {
			if text := statementAt(prog.Spec.Instructions, insn); text != "" {
				d.Pos, d.End = findStatement(p, prog, text)
				if !d.Pos.IsValid() {
					d.Notes = append(d.Notes, "in: "+text)
				}
			}
		}
		if !d.Pos.IsValid() && prog.Probe != nil {
			d.Pos, d.End = prog.Probe.Span()
		}
	}
	d.Notes = append(d.Notes, "HINT: run with -v for the verifier's log")
	le.Diag = d
	return le
}

// permHint says why a load may be refused with EPERM on this machine.
func permHint(p *Program) string {
	for _, pr := range p.Object.Programs {
		for _, ap := range pr.Attach {
			if err := ProviderError(ap.Provider); err != nil {
				return err.Error()
			}
		}
	}
	if os.Geteuid() != 0 {
		return "loading BPF programs needs root (or CAP_BPF and CAP_PERFMON)"
	}
	return "a security policy of this kernel (lockdown, an LSM) refused it"
}

var insnLineRE = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\)`)

// failingInsn finds the instruction the verifier stopped at: the last
// instruction it printed.
func failingInsn(log []string) (int, bool) {
	for i := len(log) - 1; i >= 0; i-- {
		if m := insnLineRE.FindStringSubmatch(log[i]); m != nil {
			n, err := strconv.Atoi(m[1])
			return n, err == nil
		}
	}
	return 0, false
}

// verifierReason is the verifier's own sentence: the first line after the
// last instruction it printed that is not a register dump.
func verifierReason(log []string) string {
	last := -1
	for i := len(log) - 1; i >= 0; i-- {
		if insnLineRE.MatchString(log[i]) {
			last = i
			break
		}
	}
	for i := last + 1; i < len(log); i++ {
		l := strings.TrimSpace(log[i])
		if l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "verification time") ||
			strings.HasPrefix(l, "stack depth") || strings.HasPrefix(l, "mark_precise") || insnLineRE.MatchString(l) {
			continue
		}
		if strings.Contains(l, "R0=") || strings.Contains(l, "R1=") || strings.Contains(l, "R10=") {
			continue
		}
		return l
	}
	return ""
}

// statementAt returns the source comment of the statement containing raw
// instruction offset insn (ld_imm64 counts two).
func statementAt(insns asm.Instructions, insn int) string {
	off := 0
	text := ""
	for _, ins := range insns {
		if off > insn {
			break
		}
		if c, ok := ins.Source().(asm.Comment); ok && c != "" {
			text = string(c)
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	return text
}

// findStatement places a statement's listing text (its first line, blanks
// collapsed) in the source, within its probe.
func findStatement(p *Program, prog *codegen.Program, text string) (lang.Pos, lang.Pos) {
	lines := strings.Split(string(p.Src), "\n")
	first, last := 1, len(lines)
	if prog.Probe != nil {
		a, b := prog.Probe.Span()
		if a.IsValid() {
			first, last = a.Line, b.Line
		}
	}
	want := strings.Join(strings.Fields(text), " ")
	for ln := first; ln <= last && ln <= len(lines); ln++ {
		line := lines[ln-1]
		for col := 0; col < len(line); col++ {
			if line[col] == ' ' || line[col] == '\t' {
				continue
			}
			if end, ok := matchCollapsed(line, col, want); ok {
				return lang.Pos{Line: ln, Col: col + 1}, lang.Pos{Line: ln, Col: end + 1}
			}
		}
	}
	return lang.Pos{}, lang.Pos{}
}

// matchCollapsed reports whether line[col:] starts with want when runs of
// blanks in the line count as one space; end is the byte after the match.
func matchCollapsed(line string, col int, want string) (int, bool) {
	i, j := col, 0
	for j < len(want) {
		if i >= len(line) {
			return 0, false
		}
		if want[j] == ' ' {
			if line[i] != ' ' && line[i] != '\t' {
				return 0, false
			}
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			j++
			continue
		}
		if line[i] != want[j] {
			return 0, false
		}
		i++
		j++
	}
	return i, true
}
