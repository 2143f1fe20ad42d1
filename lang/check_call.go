package lang

import (
	"errors"
	"net/netip"
	"regexp"
	"strings"
)

// Calls of builtin functions.
//
// Every call goes through the same steps, in bpftrace 0.17's order:
// unsafe functions in safe mode, availability in the probe's types, where
// the result may go (aggregations only straight into a map, statement
// functions never into one), the number of arguments, then the rules of
// the function itself. Arity and availability come from the table in
// builtins.go.

// stmtFuncs are functions with no value: they may only be statements.
var stmtFuncs = map[string]bool{
	"delete": true, "clear": true, "zero": true, "print": true, "printf": true,
	"system": true, "cat": true, "debugf": true, "exit": true, "join": true,
	"time": true, "signal": true, "override": true, "unwatch": true,
}

// x86Registers are the names reg() accepts on x86_64.
var x86Registers = map[string]bool{
	"r15": true, "r14": true, "r13": true, "r12": true, "bp": true, "bx": true,
	"r11": true, "r10": true, "r9": true, "r8": true, "ax": true, "cx": true,
	"dx": true, "si": true, "di": true, "orig_ax": true, "ip": true, "cs": true,
	"flags": true, "sp": true, "ss": true,
}

var symbolRE = regexp.MustCompile(`^[a-zA-Z0-9./_-]+$`)

// maxStackLimit is the most frames kstack/ustack may keep.
const maxStackLimit = 1024

func (c *checker) call(e *CallExpr, ctx useCtx) *Type {
	f := funcIndex[e.Name]
	if f == nil {
		for _, a := range e.Args {
			c.expr(a)
		}
		start, _ := e.Span()
		end := e.NameEnd
		if !end.IsValid() {
			end = Pos{start.Line, start.Col + len(e.Name)}
		}
		err := c.errorAt(start, end, "Unknown function: %s", e.Name)
		if s := suggest(e.Name, funcNames()); s != "" {
			err.note(didYouMean(s))
		}
		return typeInvalid
	}
	e.Func = f
	if f.Unsafe && !c.cfg.Unsafe {
		c.errorf(e, "%s() is an unsafe function being used in safe mode", e.Name)
	}
	c.checkAvailable(e, f)

	ok := true
	switch {
	case f.Aggregation != KindInvalid:
		if ctx != useMapValue {
			c.errorf(e, "%s() should be directly assigned to a map", e.Name)
			ok = false
		}
	case e.Name == "skboutput":
		if ctx != useVarValue {
			c.errorf(e, "%s() should be assigned to a variable", e.Name)
			ok = false
		}
	case stmtFuncs[e.Name]:
		switch ctx {
		case useMapValue, useVarValue, useMapKey:
			c.errorf(e, "%s() should not be used in an assignment or as a map key", e.Name)
			ok = false
		case useValue:
			c.errorf(e, "%s() has no value and can only be used as a statement", e.Name)
			ok = false
		}
	}
	if !c.arity(e, f) {
		for i := range e.Args {
			c.argExpr(e, i)
		}
		return typeInvalid
	}
	t := c.callRule(e, f, ctx)
	if !ok || t == nil {
		return typeInvalid
	}
	return t
}

// checkAvailable reports a function used in a probe type that does not
// support it, once per provider.
func (c *checker) checkAvailable(e *CallExpr, f *Func) {
	if f.Probes == nil {
		return
	}
	seen := map[string]bool{}
	for _, p := range c.pc.providers {
		if seen[p] || contains(f.Probes, p) {
			continue
		}
		seen[p] = true
		switch e.Name {
		case "override":
			c.errorf(e, "override can only be used with kprobes.")
		case "path":
			c.errorf(e, "The path function can only be used with 'kfunc', 'kretfunc', 'iter' probes")
		default:
			c.errorf(e, "%s can not be used with \"%s\" probes", e.Name, p)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// arity checks the number of arguments, with bpftrace's two wordings.
func (c *checker) arity(e *CallExpr, f *Func) bool {
	n := len(e.Args)
	if !f.varargs && f.MinArgs == f.MaxArgs {
		if n == f.MinArgs {
			return true
		}
		switch f.MinArgs {
		case 0:
			c.errorf(e, "%s() requires no arguments (%d provided)", e.Name, n)
		case 1:
			c.errorf(e, "%s() requires one argument (%d provided)", e.Name, n)
		default:
			c.errorf(e, "%s() requires %d arguments (%d provided)", e.Name, f.MinArgs, n)
		}
		return false
	}
	switch {
	case n < f.MinArgs:
		if f.MinArgs == 1 {
			c.errorf(e, "%s() requires at least one argument (%d provided)", e.Name, n)
		} else {
			c.errorf(e, "%s() requires at least %d arguments (%d provided)", e.Name, f.MinArgs, n)
		}
		return false
	case f.MaxArgs >= 0 && n > f.MaxArgs:
		switch f.MaxArgs {
		case 0:
			c.errorf(e, "%s() requires no arguments (%d provided)", e.Name, n)
		case 1:
			c.errorf(e, "%s() takes up to one argument (%d provided)", e.Name, n)
		default:
			c.errorf(e, "%s() takes up to %d arguments (%d provided)", e.Name, f.MaxArgs, n)
		}
		return false
	}
	return true
}

// compileTimeArgs lists, by function, the arguments read only when the
// program is compiled (formats, symbol names, paths): string literals
// there may be longer than a string value can be.
var compileTimeArgs = map[string]int{
	"printf": 0, "system": 0, "cat": 0, "debugf": 0, "time": 0, "strftime": 0,
	"kaddr": 0, "uaddr": 0, "cgroupid": 0, "reg": 0, "pton": 0, "signal": 0,
	"skboutput": 0, "join": 1, "cgroup_path": 1,
}

// argExpr types argument i of a call.
func (c *checker) argExpr(e *CallExpr, i int) *Type {
	a := e.Args[i]
	if s, ok := a.(*StrLit); ok {
		if j, ok := compileTimeArgs[e.Name]; ok && j == i {
			t := StringType(len(s.Value) + 1)
			s.SetType(t)
			return t
		}
	}
	return c.expr(a)
}

// literalString returns the compile-time text of a string argument.
func (c *checker) literalString(a Expr) (string, bool) {
	switch a := a.(type) {
	case *StrLit:
		return a.Value, true
	case *CallExpr:
		if a.Name == "str" && len(a.Args) >= 1 {
			if s, ok := c.strConsts[a]; ok {
				return s, true
			}
		}
	}
	s, ok := c.strConsts[a]
	return s, ok
}

// wantLiteral checks that argument i is a compile-time constant of class
// ("integer" or "string"), with bpftrace's message.
func (c *checker) wantLiteral(e *CallExpr, i int, class string) bool {
	a := e.Args[i]
	t := a.Type()
	if t == nil || t.Kind == KindInvalid {
		return false
	}
	lit := false
	if class == "integer" {
		_, lit = c.constInt(a)
		lit = lit && t.IsInt()
	} else if class == "stack mode" {
		lit = t.Kind == KindStackMode
	} else {
		_, lit = c.literalString(a)
		lit = lit && t.Kind == KindString
	}
	if lit {
		return true
	}
	err := c.errorf(e, "%s() expects a %s literal (%s provided)", e.Name, class, kindClass(t))
	if p, ok := a.(*PositionalExpr); ok && class == "string" {
		err.note("HINT: use str($" + itoa(p.N) + ") to treat $" + itoa(p.N) + " as a string")
	}
	return false
}

// wantArg checks that argument i is of class, with bpftrace's message.
func (c *checker) wantArg(e *CallExpr, i int, class string) bool {
	t := e.Args[i].Type()
	if t == nil || t.Kind == KindInvalid {
		return false
	}
	if kindClass(t) == class {
		return true
	}
	c.errorf(e, "%s() only supports %s arguments (%s provided)", e.Name, class, kindClass(t))
	return false
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// typeArgs types every argument.
func (c *checker) typeArgs(e *CallExpr) []*Type {
	ts := make([]*Type, len(e.Args))
	for i := range e.Args {
		ts[i] = c.argExpr(e, i)
	}
	return ts
}

// anyInvalid reports whether any argument is in error.
func anyInvalid(ts []*Type) bool {
	for _, t := range ts {
		if t.Kind == KindInvalid {
			return true
		}
	}
	return false
}

func (c *checker) callRule(e *CallExpr, f *Func, ctx useCtx) *Type {
	name := e.Name
	if f.Alias != "" {
		name = f.Alias
	}
	switch name {
	case "count":
		return &Type{Kind: KindCount, Size: 8}
	case "sum", "min", "max", "avg", "stats", "hist":
		ts := c.typeArgs(e)
		if anyInvalid(ts) || !c.wantArg(e, 0, "integer") {
			return typeInvalid
		}
		signed := ts[0].Signed
		if name == "avg" || name == "stats" {
			signed = true
		}
		return &Type{Kind: f.Aggregation, Size: 8, Signed: signed}
	case "lhist":
		return c.lhist(e)
	case "delete":
		return c.deleteCall(e)
	case "clear", "zero", "len":
		me, ok := e.Args[0].(*MapExpr)
		if !ok {
			c.expr(e.Args[0])
			c.errorf(e, "%s() expects a map to be provided", e.Name)
			return typeInvalid
		}
		c.mapOperand(me, e.Name)
		if name == "len" {
			return TypeInt64
		}
		return TypeNone
	case "has_key":
		me, ok := e.Args[0].(*MapExpr)
		if !ok {
			c.expr(e.Args[0])
			c.expr(e.Args[1])
			c.errorf(e, "%s() expects a map to be provided", e.Name)
			return typeInvalid
		}
		c.mapOperand(me, e.Name)
		c.keyedUse(me, e.Args[1])
		return TypeUint8
	case "print":
		return c.printCall(e)
	case "printf", "system", "cat", "debugf":
		return c.formatCall(e)
	case "exit":
		ts := c.typeArgs(e)
		if len(ts) == 1 && !anyInvalid(ts) {
			c.wantArg(e, 0, "integer")
		}
		return TypeNone
	case "time":
		c.typeArgs(e)
		if len(e.Args) == 1 {
			c.wantLiteral(e, 0, "string")
		}
		return TypeNone
	case "join":
		ts := c.typeArgs(e)
		if !anyInvalid(ts[:1]) && !ts[0].IsInt() && ts[0].Kind != KindPointer {
			c.errorf(e, "join() only supports int or pointer arguments (%s provided)", kindClass(ts[0]))
		}
		if len(e.Args) == 2 {
			c.wantLiteral(e, 1, "string")
		}
		return TypeNone
	case "str":
		return c.strCall(e)
	case "buf":
		return c.bufCall(e)
	case "strncmp":
		ts := c.typeArgs(e)
		if anyInvalid(ts) {
			return TypeUint64
		}
		if c.wantArg(e, 0, "string") && c.wantArg(e, 1, "string") && c.wantLiteral(e, 2, "integer") {
			n, _ := c.literalInt(e.Args[2])
			if n < 0 {
				c.errorf(e, "Builtin strncmp requires a non-negative size")
			}
			// bpftrace compiles the literal reading of a parameter here.
			c.consts[e.Args[2]] = n
		}
		return TypeUint64
	case "strcontains":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			_ = c.wantArg(e, 0, "string") && c.wantArg(e, 1, "string")
		}
		return TypeUint64
	case "strerror":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			c.wantArg(e, 0, "integer")
		}
		return TypeStrerror
	case "strftime":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			_ = c.wantLiteral(e, 0, "string") && c.wantArg(e, 1, "integer")
		}
		return TypeTimestamp
	case "ksym", "usym":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) && !ts[0].IsInt() && ts[0].Kind != KindPointer {
			c.errorf(e, "%s() expects an integer or pointer argument", e.Name)
		}
		if name == "ksym" {
			return TypeKSym
		}
		return TypeUSym
	case "kaddr":
		c.typeArgs(e)
		c.wantLiteral(e, 0, "string")
		return withAS(TypeUint64, AddrKernel)
	case "uaddr":
		c.typeArgs(e)
		elem := TypeInt64
		if c.wantLiteral(e, 0, "string") {
			s, _ := c.literalString(e.Args[0])
			if !symbolRE.MatchString(s) {
				c.errorf(e, "uaddr() expects a string that is a valid symbol (^[a-zA-Z0-9./_-]+$) as input (\"%s\" provided)", s)
			} else {
				elem = c.uaddrElem(e, s)
			}
		}
		return PointerTo(elem, AddrUser)
	case "cgroupid":
		c.typeArgs(e)
		c.wantLiteral(e, 0, "string")
		return TypeUint64
	case "reg":
		c.typeArgs(e)
		if c.wantLiteral(e, 0, "string") {
			s, _ := c.literalString(e.Args[0])
			if !x86Registers[s] {
				err := c.errorf(e, "'%s' is not a valid register on this architecture (x86_64)", s)
				var regs []string
				for r := range x86Registers {
					regs = append(regs, r)
				}
				if sg := suggest(s, regs); sg != "" {
					err.note(didYouMean(sg))
				}
			}
		}
		return withAS(TypeUint64, c.probeAddrSpace())
	case "kstack", "ustack":
		return c.stackCall(e, name == "ustack")
	case "ntop":
		return c.ntopCall(e)
	case "pton":
		return c.ptonCall(e)
	case "macaddr":
		ts := c.typeArgs(e)
		if anyInvalid(ts) {
			return TypeMacaddr
		}
		t := ts[0]
		if !t.IsInt() && t.Kind != KindArray && t.Kind != KindString && t.Kind != KindBuffer && t.Kind != KindPointer {
			c.errorf(e, "macaddr() only supports array or pointer arguments (%s provided)", kindClass(t))
		}
		if (t.Kind == KindArray || t.Kind == KindString || t.Kind == KindBuffer) && t.Size != 6 {
			c.errorf(e, "macaddr() argument must be 6 bytes in size")
		}
		if _, ok := e.Args[0].(*StrLit); ok {
			c.errorf(e, "macaddr() does not support literal string arguments")
		}
		return TypeMacaddr
	case "bswap":
		ts := c.typeArgs(e)
		if anyInvalid(ts) {
			return typeInvalid
		}
		if !ts[0].IsInt() {
			c.errorf(e, "bswap() only supports integer arguments (%s provided)", kindClass(ts[0]))
			return typeInvalid
		}
		return IntType(ts[0].Size, false)
	case "kptr", "uptr":
		ts := c.typeArgs(e)
		if anyInvalid(ts) {
			return typeInvalid
		}
		if !ts[0].IsInt() && ts[0].Kind != KindPointer {
			c.errorf(e, "%s() only supports integer or pointer arguments (%s provided)", e.Name, kindClass(ts[0]))
			return typeInvalid
		}
		if name == "kptr" {
			return withAS(ts[0], AddrKernel)
		}
		return withAS(ts[0], AddrUser)
	case "cgroup_path":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			if c.wantArg(e, 0, "integer") && len(ts) > 1 {
				c.wantArg(e, 1, "string")
			}
		}
		return TypeCgroupPath
	case "signal":
		return c.signalCall(e)
	case "override":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			c.wantArg(e, 0, "integer")
		}
		return TypeNone
	case "unwatch":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			c.wantArg(e, 0, "integer")
		}
		return TypeNone
	case "path":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) && ts[0].Kind != KindRecord && ts[0].Kind != KindPointer {
			c.errorf(e, "path() only supports pointer or record argument (%s provided)", kindClass(ts[0]))
		}
		return StringType(c.strlen)
	case "skboutput":
		ts := c.typeArgs(e)
		if !anyInvalid(ts) {
			_ = c.wantLiteral(e, 0, "string") && c.wantArg(e, 1, "pointer") &&
				c.wantArg(e, 2, "integer") && c.wantArg(e, 3, "integer")
		}
		return TypeUint32
	case "sizeof":
		t := c.expr(e.Args[0])
		if t.Kind == KindInvalid {
			return typeInvalid
		}
		c.consts[e] = int64(c.complete(t).Size)
		return TypeUint64
	case "offsetof":
		c.errorf(e, "offsetof() takes a struct type and a field name")
		return typeInvalid
	}
	c.typeArgs(e)
	c.errorf(e, "Unknown function: %s", e.Name)
	return typeInvalid
}

func (c *checker) lhist(e *CallExpr) *Type {
	ts := c.typeArgs(e)
	if anyInvalid(ts) {
		return typeInvalid
	}
	if !c.wantArg(e, 0, "integer") {
		return typeInvalid
	}
	for i := 1; i <= 3; i++ {
		if !c.wantLiteral(e, i, "integer") {
			return typeInvalid
		}
	}
	min, _ := c.literalInt(e.Args[1])
	max, _ := c.literalInt(e.Args[2])
	step, _ := c.literalInt(e.Args[3])
	bad := false
	if step <= 0 {
		c.errorf(e, "lhist() step must be >= 1 (%d provided)", step)
		bad = true
	} else if buckets := (max - min) / step; buckets > 1000 {
		c.errorf(e, "lhist() too many buckets, must be <= 1000 (would need %d)", buckets)
		bad = true
	}
	if min < 0 {
		c.errorf(e, "lhist() min must be non-negative (provided min %d)", min)
		bad = true
	}
	if min > max {
		c.errorf(e, "lhist() min must be less than max (provided min %d and max %d)", min, max)
		bad = true
	}
	if max-min < step {
		c.errorf(e, "lhist() step is too large for the given range (provided step %d for range %d)", step, max-min)
		bad = true
	}
	if bad {
		return typeInvalid
	}
	return &Type{Kind: KindLhist, Size: 8, LhistMin: min, LhistMax: max, LhistStep: step}
}

// keyedUse checks key as a key of the map me (delete(@m, k), has_key).
func (c *checker) keyedUse(me *MapExpr, key Expr) {
	tmp := &MapExpr{Name: me.Name, Keys: []Expr{key}}
	tmp.SetSpan(me.Span())
	c.mapKeys(tmp, true)
}

func (c *checker) deleteCall(e *CallExpr) *Type {
	me, ok := e.Args[0].(*MapExpr)
	if !ok {
		c.typeArgs(e)
		c.errorf(e, "delete() expects a map to be provided")
		return TypeNone
	}
	if len(e.Args) == 2 {
		c.mapOperand(me, "delete")
		c.keyedUse(me, e.Args[1])
		return TypeNone
	}
	c.expr(me)
	return TypeNone
}

func (c *checker) printCall(e *CallExpr) *Type {
	if c.loopDepth > 0 {
		c.warnf(e, "Due to it's asynchronous nature using 'print()' in a loop can lead to unexpected behavior. The map will likely be updated before the runtime can 'print' it.")
	}
	if me, ok := e.Args[0].(*MapExpr); ok {
		mt := c.mapOperand(me, "print")
		for i := 1; i < len(e.Args); i++ {
			if t := c.expr(e.Args[i]); t.Kind != KindInvalid {
				c.wantLiteral(e, i, "integer")
			}
		}
		if mt.Kind == KindStats && len(e.Args) > 1 {
			c.warnf(e, "print()'s top and div arguments are ignored when used on stats() maps.")
		}
		return TypeNone
	}
	ts := c.typeArgs(e)
	t := ts[0]
	switch {
	case t.Kind == KindInvalid:
	case isPrintable(t):
		if len(e.Args) != 1 {
			c.errorf(e, "Non-map print() only takes 1 argument, %d found", len(e.Args))
		}
	default:
		c.errorf(e, "%s type passed to print() is not printable", typeStr(t))
	}
	return TypeNone
}

func (c *checker) formatCall(e *CallExpr) *Type {
	ts := c.typeArgs(e)
	if ts[0].Kind == KindInvalid || !c.wantLiteral(e, 0, "string") {
		return TypeNone
	}
	src, _ := c.literalString(e.Args[0])
	f := ParseFormat(src)
	if msg := formatArgsError(e.Name, f, ts[1:]); msg != "" {
		c.errorf(e, "%s", msg)
	}
	for i, spec := range f.Specs() {
		if i+1 < len(ts) {
			spec.ArgType = ts[i+1]
		}
	}
	if e.Name == "debugf" {
		c.warnf(e, "The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7).")
	}
	if c.final {
		c.info.Formats[e] = f
	}
	return TypeNone
}

// strCall checks str(x[, n]), including str($N) and str($N + k), which
// take a positional parameter as text at compile time.
func (c *checker) strCall(e *CallExpr) *Type {
	a := e.Args[0]
	result := StringType(c.strlen)
	switch x := a.(type) {
	case *ParamCountExpr:
		c.expr(x)
		c.errorf(e, "use $#, not str($#)")
		return typeInvalid
	case *PositionalExpr:
		if x.N <= 0 {
			c.expr(x)
			return typeInvalid
		}
		s := c.param(x.N)
		x.SetType(StringType(len(s) + 1))
		c.strConsts[x] = s
		c.strConsts[e] = s
		c.strLength(e)
		return result
	case *BinaryExpr:
		p, off := positionalOffset(x)
		if p != nil {
			s := c.param(p.N)
			p.SetType(StringType(len(s) + 1))
			offType := c.expr(off)
			v, isConst := c.constInt(off)
			if x.Op != Add || !isConst || !offType.IsInt() || v < 0 || v > int64(len(s)) {
				c.errorAt(x.OpPos, endOf(x.Y), "only addition of a single constant less or equal to the length of $%d (which is %d) is allowed inside str()", p.N, len(s))
				x.SetType(typeInvalid)
				return typeInvalid
			}
			x.SetType(StringType(len(s) + 1 - int(v)))
			c.strConsts[x] = s[v:]
			c.strConsts[e] = s[v:]
			c.strLength(e)
			return result
		}
	}
	t := c.expr(a)
	c.strLength(e)
	if t.Kind == KindInvalid {
		return typeInvalid
	}
	if !t.IsInt() && t.Kind != KindPointer {
		c.errorf(e, "str() expects an integer or a pointer type as first argument (%s provided)", typeStr(t))
		return typeInvalid
	}
	return result
}

// positionalOffset finds "$N op k" or "k op $N" in b.
func positionalOffset(b *BinaryExpr) (*PositionalExpr, Expr) {
	if p, ok := b.X.(*PositionalExpr); ok && p.N > 0 {
		return p, b.Y
	}
	if p, ok := b.Y.(*PositionalExpr); ok && p.N > 0 {
		return p, b.X
	}
	return nil, nil
}

// strLength checks str()'s optional length argument.
func (c *checker) strLength(e *CallExpr) {
	if len(e.Args) < 2 {
		return
	}
	t := c.expr(e.Args[1])
	if t.Kind == KindInvalid || !c.wantArg(e, 1, "integer") {
		return
	}
	if n, ok := c.constInt(e.Args[1]); ok && n < 0 {
		c.errorf(e, "str() cannot use negative length (%d)", n)
	}
}

func (c *checker) bufCall(e *CallExpr) *Type {
	ts := c.typeArgs(e)
	if anyInvalid(ts) {
		return typeInvalid
	}
	t := ts[0]
	if !t.IsInt() && t.Kind != KindString && t.Kind != KindPointer && t.Kind != KindArray {
		c.errorf(e, "buf() expects an integer, string, or array argument but saw %s", kindClass(t))
		return typeInvalid
	}
	size := c.strlen
	if len(e.Args) == 1 {
		if t.Kind == KindArray {
			size = t.Size
		} else {
			c.errorf(e, "buf() expects a length argument for non-array type %s", kindClass(t))
			return typeInvalid
		}
	} else {
		if !c.wantArg(e, 1, "integer") {
			return typeInvalid
		}
		if n, ok := c.literalInt(e.Args[1]); ok {
			if n < 0 {
				c.errorf(e, "buf cannot use negative length (%d)", n)
				return typeInvalid
			}
			size = int(min(n, 1<<20))
		}
	}
	if size > c.strlen {
		c.warnf(e, "buf() length is too long and will be shortened to %d bytes (see BPFTRACE_STRLEN)", c.strlen)
		size = c.strlen
	}
	return BufferType(size)
}

func (c *checker) stackCall(e *CallExpr, user bool) *Type {
	ts := c.typeArgs(e)
	st := StackInfo{User: user, Limit: defaultStackLimit}
	if anyInvalid(ts) {
		return typeInvalid
	}
	switch len(e.Args) {
	case 1:
		if ts[0].Kind == KindStackMode {
			st.Mode = ts[0].Stack.Mode
		} else if c.wantLiteral(e, 0, "integer") {
			n, _ := c.literalInt(e.Args[0])
			st.Limit = int(max(min(n, 1<<30), -1<<30))
		} else {
			return typeInvalid
		}
	case 2:
		if !c.wantLiteral(e, 0, "stack mode") || !c.wantLiteral(e, 1, "integer") {
			return typeInvalid
		}
		st.Mode = ts[0].Stack.Mode
		n, _ := c.literalInt(e.Args[1])
		st.Limit = int(max(min(n, 1<<30), -1<<30))
	}
	if st.Limit > maxStackLimit {
		c.errorf(e, "%s([int limit]): limit shouldn't exceed %d, %d given", e.Name, maxStackLimit, st.Limit)
		return typeInvalid
	}
	if st.Limit < 1 {
		c.errorf(e, "%s([int limit]): limit must be at least 1, %d given", e.Name, st.Limit)
		return typeInvalid
	}
	return StackType(st)
}

func (c *checker) ntopCall(e *CallExpr) *Type {
	ts := c.typeArgs(e)
	res := TypeInet
	if anyInvalid(ts) {
		return res
	}
	addr := ts[0]
	if len(ts) == 2 {
		c.wantArg(e, 0, "integer")
		addr = ts[1]
	}
	if !addr.IsInt() && addr.Kind != KindString && addr.Kind != KindArray {
		c.errorf(e, "ntop() expects an integer or array argument, got %s", kindClass(addr))
		return typeInvalid
	}
	if (addr.Kind == KindArray || addr.Kind == KindString) && addr.Size != 4 && addr.Size != 16 {
		c.errorf(e, "ntop() argument must be 4 or 16 bytes in size")
		return typeInvalid
	}
	return res
}

func (c *checker) ptonCall(e *CallExpr) *Type {
	c.typeArgs(e)
	if !c.wantLiteral(e, 0, "string") {
		return typeInvalid
	}
	s, _ := c.literalString(e.Args[0])
	var want int
	switch {
	case strings.Contains(s, "."):
		want = 4
	case strings.Contains(s, ":"):
		want = 16
	default:
		c.errorf(e, "pton() expects an string argument of an IPv4/IPv6 address, got %s", s)
		return typeInvalid
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" || (want == 4 && !ip.Is4()) || (want == 16 && !ip.Is6()) {
		c.errorf(e, "pton() expects a valid IPv4/IPv6 address, got %s", s)
		return typeInvalid
	}
	return &Type{Kind: KindArray, Elem: TypeUint8, Len: want, Size: want, AddrSpace: AddrKernel}
}

func (c *checker) signalCall(e *CallExpr) *Type {
	ts := c.typeArgs(e)
	if anyInvalid(ts) {
		return TypeNone
	}
	a := e.Args[0]
	t := ts[0]
	if s, ok := c.literalString(a); ok && t.Kind == KindString {
		n := signalNumber(s)
		if n < 1 {
			err := c.errorf(e, "%s is not a valid signal", s)
			var names []string
			for _, g := range constGroups {
				if g.Name == "SIG*" {
					for _, k := range g.Consts {
						names = append(names, k.Name)
					}
				}
			}
			if sg := suggest(strings.ToUpper(s), names); sg != "" {
				err.note(didYouMean(sg))
			}
		} else {
			c.consts[a] = n
		}
		return TypeNone
	}
	if _, ok := c.constInt(a); ok && t.IsInt() {
		// The range is checked on the literal reading of a parameter;
		// the signal sent is its value, as in bpftrace.
		if v, _ := c.literalInt(a); v < 1 || v > 64 {
			c.errorf(e, "%d is not a valid signal, allowed range: [1,64]", v)
		}
		return TypeNone
	}
	if !t.IsInt() {
		c.errorf(e, "signal only accepts string literals or integers")
	}
	return TypeNone
}

// uaddrElem returns what uaddr(name) points to: a signed integer of the
// symbol's size when that is 1, 2 or 4 bytes, else an int64, as bpftrace
// types it. Every binary the probe attaches to is asked; as in bpftrace,
// one without the symbol counts as size 0 after its error, and sizes that
// differ are an error.
func (c *checker) uaddrElem(e *CallExpr, name string) *Type {
	us, ok := c.types.(UserSymbolSource)
	if !ok {
		return TypeInt64
	}
	type sized struct {
		probe string // provider:target, as bpftrace names it here
		size  uint64
	}
	var sizes []sized
	seen := make(map[string]bool)
	for _, ap := range c.pc.aps {
		switch ap.Provider {
		case "uprobe", "uretprobe", "usdt":
		default:
			continue
		}
		for _, m := range c.expand(ap).matches {
			probe := m.Provider + ":" + m.Target
			if m.Target == "" || seen[probe] {
				continue
			}
			seen[probe] = true
			size, err := c.userSymbolSize(us, m.Target, name)
			if err != nil {
				if errors.Is(err, ErrNotFound) {
					c.errorf(e, "Could not resolve symbol: %s:%s", m.Target, name)
				} else {
					c.errorf(e, "%s", err.Error())
				}
				size = 0
			}
			sizes = append(sizes, sized{probe, size})
		}
	}
	if len(sizes) == 0 {
		return TypeInt64
	}
	for _, s := range sizes[1:] {
		if s.size != sizes[0].size {
			c.errorf(e, "Symbol size mismatch between probes. Symbol \"%s\" has size %d for probe \"%s\" but size %d for probe \"%s\"",
				name, sizes[0].size, sizes[0].probe, s.size, s.probe)
		}
	}
	switch sizes[0].size {
	case 1, 2, 4:
		return IntType(int(sizes[0].size), true)
	}
	return TypeInt64
}

// userSymbolSize asks the TypeSource once per binary and symbol.
func (c *checker) userSymbolSize(us UserSymbolSource, binary, name string) (uint64, error) {
	key := binary + "\x00" + name
	if r, ok := c.symSizes[key]; ok {
		return r.size, r.err
	}
	size, err := us.UserSymbolSize(binary, name)
	if c.symSizes == nil {
		c.symSizes = make(map[string]symSize)
	}
	c.symSizes[key] = symSize{size, err}
	return size, err
}

// symSize is a UserSymbolSize answer.
type symSize struct {
	size uint64
	err  error
}
