package lang

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// The checker.
//
// Check walks a parsed program and gives every expression its type, as
// bpftrace 0.17's semantic analyser does, reporting every error it finds
// rather than the first (go/types' way). The files are split by topic:
//
//	check.go         the entry point, passes, statements, scratch variables
//	check_expr.go    operators, literals, identifiers, fields, casts
//	check_call.go    builtin functions, one rule each
//	check_map.go     map typing: keys and values fixed by first use,
//	                 across the probes of a program and across cells
//	check_probe.go   attach points, and which builtins each probe type has
//	check_ctypes.go  C types: casts, sizeof, struct definitions and BTF
//	check_types.go   how types print in messages, type comparisons
//	printf.go        format strings and their arguments
//
// # Passes
//
// A map may be read in one probe before the probe that assigns it, so its
// value type is not known at its first use in source order. bpftrace runs
// its analyser up to ten times, letting each pass learn map types from the
// previous one, and reports errors from the last. The checker does the
// same in a cheaper way: silent passes (errors discarded) repeat until no
// map's value type changes (at most maxPasses times), then one reporting
// pass annotates the tree and reports. Scratch variables are per probe and
// must be assigned before they are used, in source order, as in bpftrace.
//
// # Errors and cascades
//
// An expression that is in error gets the invalid type (KindInvalid), and
// every rule that meets an invalid operand stays quiet, so one mistake
// gives one error. The same error at the same place is reported once even
// when a probe has several attach points.
//
// # Messages
//
// Where bpftrace 0.17 has a message for an error, the checker uses it word
// for word, with a few deliberate corrections of plain typos (a missing
// closing quote in "Type mismatch ... 'count'", "str() cannot use negative
// length" for "strcannot ...", "join() only supports ..." for "() only
// supports ...", "tracepoint/kfunc/uprobe probes" for ".../uprobeprobes").
// Where bpftrace has none (cells, tracebook's own limits) the message is
// written in the same style. Hints, such as did-you-mean, go in
// Error.Notes.

// maxPasses bounds the silent passes; bpftrace uses ten passes in all.
const maxPasses = 9

// Type used for expressions in error; it silences further checks.
var typeInvalid = &Type{Kind: KindInvalid}

// Check annotates prog and reports its errors and warnings; see info.go.
func Check(prog *Program, cfg *Config) (info *Info, errs ErrorList) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := newChecker(prog, cfg)
	defer func() {
		// A bug in the checker must not take its host (the notebook
		// kernel) down: report it as an error instead.
		if r := recover(); r != nil {
			c.errs = append(c.errs, &Error{File: c.file, Msg: fmt.Sprintf("internal error in the checker: %v", r)})
			info, errs = c.info, c.errs
		}
	}()
	c.run()
	return c.info, c.errs
}

// useCtx says how the value of an expression is used; only calls care
// (aggregations must be assigned to a map, statement functions must not
// be used as values).
type useCtx uint8

const (
	useValue    useCtx = iota // an operand, an argument
	useStmt                   // the whole of an expression statement
	useMapValue               // @m = call(...)
	useVarValue               // $v = call(...)
	useMapKey                 // @m[call(...)]
)

type checker struct {
	prog   *Program
	cfg    *Config
	types  TypeSource
	file   string
	strlen int

	info  *Info
	errs  ErrorList
	seen  map[errKey]bool
	final bool // the reporting pass

	maps    map[string]*mapState
	changed bool // a map's value type changed in this pass

	// C definitions and type lookups.
	records    map[string]*recordState  // program-defined structs/unions by "struct x"
	enumConsts map[string]int64         // program-defined enumerators
	typedefs   map[string]*typedefState // typedefs of included headers
	// hdr is the header whose C definitions are being checked, nil for
	// the program's own: its errors name the header and quote its text.
	hdr        *Header
	defines    map[string]string
	btfCache   map[string]btfResult
	expansions map[*AttachPoint]expansion
	tpCache    map[string]*Type
	targets    map[string]bool    // targetExists answers
	symSizes   map[string]symSize // userSymbolSize answers, by binary and symbol

	// Per probe.
	pc        *probeCtx
	vars      map[string]*Type
	loopDepth int
	consts    map[Expr]int64
	strConsts map[Expr]string

	hasBegin, hasEnd bool
}

type errKey struct {
	pos Pos
	msg string
}

type btfResult struct {
	t   *Type
	err error
}

func newChecker(prog *Program, cfg *Config) *checker {
	c := &checker{
		prog:    prog,
		cfg:     cfg,
		types:   cfg.Types,
		file:    prog.File,
		strlen:  cfg.StrLen,
		maps:    make(map[string]*mapState),
		defines: make(map[string]string),
	}
	if c.strlen <= 0 {
		c.strlen = 64
	}
	c.info = &Info{
		Maps:      make(map[string]*MapInfo),
		Vars:      make(map[*Probe]map[string]*Type),
		Formats:   make(map[*CallExpr]*Format),
		StrLen:    c.strlen,
		Consts:    make(map[Expr]int64),
		StrConsts: make(map[Expr]string),
	}
	return c
}

func (c *checker) run() {
	if c.cfg.StrLen > 200 {
		c.errs = append(c.errs, &Error{File: c.file, Msg: fmt.Sprintf(
			"'BPFTRACE_STRLEN' %d exceeds the current maximum of 200 bytes.", c.cfg.StrLen)})
		c.strlen = 200
		c.info.StrLen = 200
	}
	for _, d := range c.prog.Defines {
		c.defines[d.Name] = d.Value
	}
	for name, mi := range c.cfg.Session {
		c.maps[name] = sessionMap(mi)
	}
	c.final = true // C definitions are checked once, reporting
	c.declareCDefs()
	c.final = false

	for pass := 0; pass < maxPasses; pass++ {
		c.changed = false
		c.pass()
		if !c.changed {
			break
		}
	}
	c.final = true
	c.pass()
	c.finishMaps()
	c.errs.Sort()
}

// pass walks the whole program once.
func (c *checker) pass() {
	c.hasBegin, c.hasEnd = false, false
	for _, m := range c.maps {
		m.resetPass()
	}
	for _, p := range c.prog.Probes {
		c.checkProbe(p)
	}
	if len(c.prog.Stmts) > 0 {
		c.checkCellStmts(c.prog.Stmts)
	}
}

// errorf reports an error spanning node n, in the reporting pass.
func (c *checker) errorf(n Node, format string, args ...any) *Error {
	start, end := nodeSpan(n)
	return c.report(start, end, SevError, fmt.Sprintf(format, args...))
}

// warnf reports a warning spanning node n, in the reporting pass.
func (c *checker) warnf(n Node, format string, args ...any) *Error {
	start, end := nodeSpan(n)
	return c.report(start, end, SevWarning, fmt.Sprintf(format, args...))
}

// errorAt reports an error over an explicit span.
func (c *checker) errorAt(start, end Pos, format string, args ...any) *Error {
	return c.report(start, end, SevError, fmt.Sprintf(format, args...))
}

// discard receives diagnostics of the silent passes.
var discard = &Error{}

func (c *checker) report(start, end Pos, sev Severity, msg string) *Error {
	if !c.final {
		return discard
	}
	k := errKey{start, msg}
	if c.seen == nil {
		c.seen = make(map[errKey]bool)
	}
	if c.seen[k] {
		return discard
	}
	c.seen[k] = true
	e := &Error{File: c.file, Pos: start, End: end, Msg: msg, Severity: sev}
	if c.hdr != nil {
		e.File, e.Src = c.hdr.Name, c.hdr.Src
	}
	c.errs = append(c.errs, e)
	return e
}

// note adds a hint line to an error (no-op on discarded ones).
func (e *Error) note(s string) {
	if e != discard && s != "" {
		e.Notes = append(e.Notes, s)
	}
}

func nodeSpan(n Node) (Pos, Pos) {
	if n == nil {
		return Pos{}, Pos{}
	}
	return n.Span()
}

// ---- probes and statements ----

// probeCtx describes the probe whose body is being checked.
type probeCtx struct {
	probe     *Probe // nil for a cell's top-level statements
	providers []string
	aps       []*AttachPoint
	// tpArgs are the `args` records of every tracepoint the probe's
	// attach points match; the first is the type args has.
	tpArgs []*Type
	// funcArgs/funcRet describe a kfunc/kretfunc/rawtracepoint probe.
	funcArgs, funcRet *Type
	argsErr           string // why args is unavailable, when known
}

func (c *checker) checkProbe(p *Probe) {
	c.pc = c.attachProbe(p)
	c.beginBody(p)
	if p.Pred != nil {
		t := c.expr(p.Pred)
		if t.Kind != KindInvalid && !t.IsInt() && t.Kind != KindPointer {
			c.errorf(p.Pred, "Invalid type for predicate: %s", kindClass(t))
		}
	}
	if p.Body != nil {
		c.stmts(p.Body.Stmts, false)
	}
	c.endBody(p)
}

// checkCellStmts checks a notebook cell's statements outside probes, which
// run once like a BEGIN block.
func (c *checker) checkCellStmts(stmts []Stmt) {
	c.pc = &probeCtx{providers: []string{"BEGIN"}}
	c.beginBody(nil)
	for _, s := range stmts {
		// A bare map without keys names the whole map, as print(@m)
		// does: the cell shows it (codegen's EventResult), whatever its
		// keys, so it is not a read of a scalar map.
		if es, ok := s.(*ExprStmt); ok {
			if me, ok := es.X.(*MapExpr); ok && len(me.Keys) == 0 {
				es.X.SetType(c.mapOperand(me, "print"))
				continue
			}
		}
		c.stmt(s)
	}
	c.endBody(nil)
}

func (c *checker) beginBody(p *Probe) {
	c.vars = make(map[string]*Type)
	c.loopDepth = 0
	c.consts = make(map[Expr]int64)
	c.strConsts = make(map[Expr]string)
}

func (c *checker) endBody(p *Probe) {
	if !c.final {
		return
	}
	c.info.Vars[p] = c.vars
	for e, v := range c.consts {
		c.info.Consts[e] = v
	}
	for e, s := range c.strConsts {
		c.info.StrConsts[e] = s
	}
}

// stmts checks a statement list. nested says it is the body of an if,
// unroll or loop, where bpftrace warns about code after a jump.
func (c *checker) stmts(list []Stmt, nested bool) {
	for i, s := range list {
		c.stmt(s)
		if j, ok := s.(*JumpStmt); ok && nested && i < len(list)-1 {
			c.warnf(j, "All code after a '%s' is unreachable.", jumpName(j.Kind))
		}
	}
}

func jumpName(k Token) string {
	switch k {
	case BREAK:
		return "break"
	case CONTINUE:
		return "continue"
	}
	return "return"
}

func (c *checker) stmt(s Stmt) {
	switch s := s.(type) {
	case *ExprStmt:
		c.exprIn(s.X, useStmt)
	case *AssignStmt:
		c.assign(s)
	case *IfStmt:
		t := c.expr(s.Cond)
		if t.Kind != KindInvalid && !t.IsInt() {
			c.errorf(s, "Invalid condition in if(): %s", kindClass(t))
		}
		c.stmts(s.Then.Stmts, true)
		if s.Else != nil {
			c.stmts(s.Else.Stmts, true)
		}
	case *UnrollStmt:
		c.unroll(s)
	case *WhileStmt:
		t := c.expr(s.Cond)
		if t.Kind != KindInvalid && !t.IsInt() && t.Kind != KindPointer {
			c.errorf(s, "Invalid condition in while(): %s", kindClass(t))
		}
		c.loopDepth++
		c.stmts(s.Body.Stmts, true)
		c.loopDepth--
	case *ForStmt:
		c.forMap(s)
	case *JumpStmt:
		if s.Kind != RETURN && c.loopDepth == 0 {
			c.errorf(s, "%s used outside of a loop", jumpName(s.Kind))
		}
	case *Block:
		c.stmts(s.Stmts, true)
	case nil:
	default:
		c.errorf(s, "unexpected statement %T", s)
	}
}

func (c *checker) unroll(s *UnrollStmt) {
	c.expr(s.Count)
	n, ok := c.literalInt(s.Count)
	// bpftrace points at "unroll(N)", not the body.
	start, _ := s.Span()
	end := endOf(s.Count)
	head := &posNode{start, Pos{end.Line, end.Col + 1}}
	switch {
	case !ok:
		c.errorf(head, "invalid unroll value")
	case n > 100:
		c.errorf(head, "unroll maximum value is 100")
	case n < 1:
		c.errorf(head, "unroll minimum value is 1")
	default:
		s.N = int(n)
	}
	c.stmts(s.Body.Stmts, true)
}

// forMap checks "for ($kv : @m) { ... }": $kv is a tuple of the key and
// the value of each element.
func (c *checker) forMap(s *ForStmt) {
	mt := c.mapOperand(s.Map, "for")
	var kv *Type = typeInvalid
	if m := c.maps[s.Map.Name]; m != nil && mt.Kind != KindInvalid && m.info.Value != nil {
		key := mapKeyType(m.info.KeyParts)
		val := loopValueType(m.info.Value)
		switch {
		case key == nil:
			c.errorf(s.Map, "%s has no keys to loop over", s.Map.Name)
		case val == nil:
			c.errorf(s.Map, "Loop over map %s with values of type '%s' is not supported", s.Map.Name, typeStr(m.info.Value))
		default:
			kv = TupleOf(key, val)
		}
	}
	if old, ok := c.vars[s.Var.Name]; ok && kv.Kind != KindInvalid && !sameVarType(old, kv) {
		c.errorf(s.Var, "Type mismatch for $%s: trying to assign value of type '%s' when variable already contains a value of type '%s'",
			s.Var.Name, typeStr(kv), typeStr(old))
	} else if !ok || old.Kind == KindInvalid {
		c.vars[s.Var.Name] = kv
	}
	s.Var.SetType(kv)
	c.loopDepth++
	c.stmts(s.Body.Stmts, true)
	c.loopDepth--
}

// loopValueType is the type a map's value has inside a for loop: plain
// values as they are, count/sum/min/max/avg summed over CPUs as integers;
// histograms and stats have no single value.
func loopValueType(v *Type) *Type {
	switch v.Kind {
	case KindCount:
		return TypeUint64
	case KindSum, KindMin, KindMax, KindAvg:
		return IntType(8, v.Signed)
	case KindStats, KindHist, KindLhist:
		return nil
	}
	return v
}

// ---- assignments and scratch variables ----

func (c *checker) assign(s *AssignStmt) {
	switch target := s.Target.(type) {
	case *MapExpr:
		c.assignMap(s, target)
	case *VarExpr:
		c.assignVar(s, target)
	case *TupleIndexExpr:
		c.expr(target)
		c.expr(s.Value)
		c.errorf(s, "Tuples are immutable once created. Consider creating a new tuple and assigning it instead.")
	default:
		c.expr(s.Target)
		c.expr(s.Value)
		c.errorf(s.Target, "Can only assign to a map or a variable")
	}
}

// assignOp returns a node spanning the operator of an assignment ("=",
// "+=", ...), which is where bpftrace points errors about the
// assignment; the AST does not record it, so it is found in the source
// after the target. It returns s itself when the source does not match.
func (c *checker) assignOp(s *AssignStmt) Node { return AssignOpNode(s, c.prog.Src) }

// AssignOpNode returns a node spanning the operator of assignment s ("=",
// "+=", ...) in its source src: where bpftrace places what it reports
// about an assignment, errors and -k's failed map updates alike. It
// returns s itself when the source does not match.
func AssignOpNode(s *AssignStmt, src []byte) Node {
	end := endOf(s.Target)
	off, ok := offsetIn(src, end)
	if !ok {
		return s
	}
	i := off
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	j := i
	for j < len(src) && j-i < 3 && strings.IndexByte("=+-*/%&|^<>", src[j]) >= 0 {
		j++
		if src[j-1] == '=' {
			break
		}
	}
	if j == i || src[j-1] != '=' {
		return s
	}
	col := end.Col + (i - off)
	return &posNode{Pos{end.Line, col}, Pos{end.Line, col + j - i}}
}

// offsetOf converts a position to a byte offset in the program's source.
func (c *checker) offsetOf(p Pos) (int, bool) { return offsetIn(c.prog.Src, p) }

// offsetIn converts a position to a byte offset in src.
func offsetIn(src []byte, p Pos) (int, bool) {
	if !p.IsValid() {
		return 0, false
	}
	off := 0
	for line := 1; line < p.Line; line++ {
		k := bytes.IndexByte(src[off:], '\n')
		if k < 0 {
			return 0, false
		}
		off += k + 1
	}
	off += p.Col - 1
	if off > len(src) {
		return 0, false
	}
	return off, true
}

// compoundValue checks the value of "x op= v" as "x op v".
func (c *checker) compoundValue(s *AssignStmt, cur *Type) *Type {
	v := c.expr(s.Value)
	if cur.Kind == KindInvalid || v.Kind == KindInvalid {
		return typeInvalid
	}
	// Errors and warnings point at the operator ("/="), as bpftrace's do.
	return c.binaryTypes(s, s.Op, s.Target, s.Value, cur, v, c.assignOp(s))
}

func (c *checker) assignVar(s *AssignStmt, v *VarExpr) {
	var t *Type
	if s.Op != Assign {
		cur, ok := c.vars[v.Name]
		if !ok {
			c.errorf(v, "Undefined or undeclared variable: $%s", v.Name)
			cur = typeInvalid
		}
		v.SetType(cur)
		t = c.compoundValue(s, cur)
	} else {
		t = c.exprIn(s.Value, useVarValue)
	}
	op := c.assignOp(s)
	if id, ok := s.Value.(*IdentExpr); ok && id.Name == "args" && t.Kind == KindPointer && c.pc.funcArgs != nil {
		c.errorf(op, "args cannot be assigned to a variable")
	}
	old, ok := c.vars[v.Name]
	switch {
	case !ok || old.Kind == KindInvalid:
		c.vars[v.Name] = t
	case t.Kind == KindInvalid:
	case (old.Kind == KindString && t.Kind == KindString) || (old.Kind == KindTuple && t.Kind == KindTuple):
		if old.Kind == KindTuple && !fitsInto(t, old) && !fitsInto(old, t) {
			c.errorf(op, "Tuple type mismatch: %s != %s.", typeStr(old), typeStr(t))
		} else {
			c.vars[v.Name] = growStrings(old, t)
		}
	case old.Kind == KindBuffer && t.Kind == KindBuffer:
		if old.Size != t.Size {
			tail := ". The value may contain garbage."
			if old.Size < t.Size {
				tail = ". The value may be truncated."
			}
			c.warnf(op, "Buffer size mismatch: %d != %d%s", old.Size, t.Size, tail)
		}
	case !sameVarType(old, t):
		c.errorf(op, "Type mismatch for $%s: trying to assign value of type '%s' when variable already contains a value of type '%s'",
			v.Name, typeStr(t), typeStr(old))
	}
	v.SetType(c.vars[v.Name])
}

// varRead types a read of $name.
func (c *checker) varRead(v *VarExpr) *Type {
	t, ok := c.vars[v.Name]
	if !ok {
		e := c.errorf(v, "Undefined or undeclared variable: $%s", v.Name)
		names := make([]string, 0, len(c.vars))
		for n := range c.vars {
			names = append(names, n)
		}
		if s := suggest(v.Name, names); s != "" {
			e.note(didYouMean("$" + s))
		}
		return typeInvalid
	}
	return t
}

// finishMaps publishes the maps' final types in Info.
func (c *checker) finishMaps() {
	names := make([]string, 0, len(c.maps))
	for n := range c.maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := c.maps[n]
		if !m.used {
			continue
		}
		if m.info.Value == nil {
			m.info.Value = typeInvalid
		}
		if m.info.KeyParts != nil && m.info.Key == nil {
			m.info.Key = mapKeyType(m.info.KeyParts)
		}
		c.info.Maps[n] = m.info
	}
}
