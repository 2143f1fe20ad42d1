package lang

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Expressions: literals, identifiers, operators, fields, casts.

// maxStringLiteral is bpftrace 0.17's limit on string literals outside
// compile-time arguments (STRING_SIZE - 1 characters).
const maxStringLiteral = 63

func (c *checker) expr(e Expr) *Type { return c.exprIn(e, useValue) }

// exprIn types e, used as ctx says, and records the type on the node.
func (c *checker) exprIn(e Expr, ctx useCtx) *Type {
	if e == nil {
		return typeInvalid
	}
	t := c.exprType(e, ctx)
	if t == nil {
		t = typeInvalid
	}
	e.SetType(t)
	return t
}

func (c *checker) exprType(e Expr, ctx useCtx) *Type {
	switch e := e.(type) {
	case *IntLit:
		c.consts[e] = int64(e.Value)
		return TypeInt64
	case *StrLit:
		if len(e.Value) > maxStringLiteral && len(e.Value) > c.strlen-1 {
			c.errorf(e, "String is too long (over %d bytes): %s", max(maxStringLiteral, c.strlen-1)+1, e.Value)
		}
		return StringType(len(e.Value) + 1)
	case *PositionalExpr:
		return c.positional(e)
	case *ParamCountExpr:
		c.consts[e] = int64(len(c.cfg.Params))
		return TypeInt64
	case *IdentExpr:
		return c.ident(e)
	case *VarExpr:
		return c.varRead(e)
	case *MapExpr:
		return c.mapRead(e)
	case *CallExpr:
		return c.call(e, ctx)
	case *BinaryExpr:
		lt := c.expr(e.X)
		rt := c.expr(e.Y)
		return c.binaryTypes(e, e.Op, e.X, e.Y, lt, rt, e)
	case *UnaryExpr:
		return c.unary(e)
	case *PostfixExpr:
		return c.incDec(e, e.Op, e.X)
	case *TernaryExpr:
		return c.ternary(e, ctx)
	case *FieldExpr:
		return c.field(e)
	case *TupleIndexExpr:
		return c.tupleIndex(e)
	case *IndexExpr:
		return c.index(e)
	case *CastExpr:
		return c.cast(e)
	case *TupleExpr:
		return c.tuple(e)
	case *SizeofExpr:
		return c.sizeof(e)
	case *OffsetofExpr:
		return c.offsetof(e)
	}
	c.errorf(e, "unexpected expression %T", e)
	return typeInvalid
}

// constInt returns the compile-time value of an integer expression that
// has been typed.
func (c *checker) constInt(e Expr) (int64, bool) {
	v, ok := c.consts[e]
	return v, ok
}

// param returns positional parameter n's text, "" when unset.
func (c *checker) param(n int) string {
	if n >= 1 && n <= len(c.cfg.Params) {
		return c.cfg.Params[n-1]
	}
	return ""
}

// parseParamInt parses a positional parameter used as a number as bpftrace
// 0.17 does, with std::stoll(s, &idx, 0) that must consume all of s: C's
// strtoll rules in base 0 (leading white space, an optional sign, 0x or 0X
// for hex, a leading 0 for octal, else decimal) and the int64 range. So
// "0775" is 509, "-0x10" is -16, and "08", "1e3", "0b101", "1_000" and
// "0xffffffffffffffff" are not numbers.
func parseParamInt(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	// ParseUint with an explicit base takes neither a sign nor
	// underscores: only digits of the base are left to accept.
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// paramLiteral is the value bpftrace 0.17 gives a numeric positional
// parameter where it needs a literal (unroll's count, lhist's bounds, a
// stack limit, strncmp's length, buf's size, a signal's range, sign
// warnings): std::stol(s), decimal digits after optional white space and
// sign, up to the first other character. So "010" is 10 there while $1
// reads as 8, and "0x3" is 0.
func paramLiteral(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	return v, err == nil
}

// literalInt is the value of an integer argument bpftrace requires to be
// a literal: a positional parameter's is paramLiteral's reading of its
// text, anything else its constant value.
func (c *checker) literalInt(e Expr) (int64, bool) {
	if p, ok := e.(*PositionalExpr); ok {
		if _, isInt := c.consts[e]; isInt && c.param(p.N) != "" {
			return paramLiteral(c.param(p.N))
		}
	}
	return c.constInt(e)
}

// positional types $N: an integer when its value parses as one (or when it
// is unset, which reads as 0), else a string literal of its text.
func (c *checker) positional(e *PositionalExpr) *Type {
	if e.N <= 0 {
		c.errorf(e, "param $%d is out of integer range [1, 9223372036854775807]", e.N)
		return typeInvalid
	}
	s := c.param(e.N)
	if s == "" {
		c.consts[e] = 0
		return TypeInt64
	}
	if v, ok := parseParamInt(s); ok {
		c.consts[e] = v
		return TypeInt64
	}
	c.strConsts[e] = s
	return StringType(len(s) + 1)
}

// ---- identifiers ----

func (c *checker) ident(e *IdentExpr) *Type {
	name := e.Name
	if v, ok := c.defineValue(name, 0); ok {
		e.Kind, e.Const = IdentConst, v
		c.consts[e] = v
		return TypeInt64
	}
	if isBuiltinName(name) {
		e.Kind = IdentBuiltin
		return c.builtin(e)
	}
	switch name {
	case "bpftrace", "perf", "raw":
		e.Kind = IdentStackMode
		return &Type{Kind: KindStackMode, Stack: StackInfo{Mode: stackModeOf(name)}}
	}
	if v, ok := c.enumConsts[name]; ok {
		e.Kind, e.Const = IdentConst, v
		c.consts[e] = v
		return TypeUint64
	}
	// Kernel enums first, as bpftrace sees them (unsigned 64-bit), then
	// the well-known constants that stand in for header #defines.
	if c.types != nil {
		if v, ok := c.types.Enum(name); ok {
			e.Kind, e.Const = IdentConst, v
			c.consts[e] = v
			return TypeUint64
		}
	}
	if v, ok := LookupConst(name); ok {
		e.Kind, e.Const = IdentConst, v
		c.consts[e] = v
		return TypeInt64
	}
	err := c.errorf(e, "Unknown identifier: '%s'", name)
	cands := append(constNames(), builtinNames()...)
	for n := range c.defines {
		cands = append(cands, n)
	}
	for n := range c.enumConsts {
		cands = append(cands, n)
	}
	if s := suggest(name, cands); s != "" {
		err.note(didYouMean(s))
	}
	return typeInvalid
}

func stackModeOf(name string) StackMode {
	switch name {
	case "perf":
		return StackPerf
	case "raw":
		return StackRaw
	}
	return StackBpftrace
}

// defineValue evaluates a #define'd name whose replacement is an integer
// (possibly in parentheses, negative, with C suffixes) or another such
// name.
func (c *checker) defineValue(name string, depth int) (int64, bool) {
	text, ok := c.defines[name]
	if !ok || depth > 8 {
		return 0, false
	}
	text = strings.TrimSpace(text)
	for strings.HasPrefix(text, "(") && strings.HasSuffix(text, ")") {
		text = strings.TrimSpace(text[1 : len(text)-1])
	}
	neg := false
	if strings.HasPrefix(text, "-") {
		neg, text = true, strings.TrimSpace(text[1:])
	}
	if v, ok := defineInt(text); ok {
		if neg {
			v = -v
		}
		return v, true
	}
	if v, ok := c.defineValue(text, depth+1); ok {
		if neg {
			v = -v
		}
		return v, true
	}
	if v, ok := LookupConst(text); ok {
		if neg {
			v = -v
		}
		return v, true
	}
	return 0, false
}

// defineInt parses a C integer constant: decimal, 0x hex, 0 octal, with
// U/L suffixes.
func defineInt(s string) (int64, bool) {
	s = strings.TrimRight(s, "uUlL")
	if s == "" {
		return 0, false
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, false
	}
	return int64(u), true
}

// ---- operators ----

// isConstNonNeg reports whether e is a literal that is not negative;
// bpftrace treats such literals as unsigned in sign checks. Only what
// bpftrace sees as a literal counts (a number, a negated number, a
// positional parameter, a #define'd or well-known constant), not constant
// arithmetic, so the warnings are the same as bpftrace's.
func (c *checker) isConstNonNeg(e Expr) bool {
	switch x := e.(type) {
	case *IntLit, *PositionalExpr, *ParamCountExpr:
	case *UnaryExpr:
		if _, ok := x.X.(*IntLit); !ok || x.Op != Neg {
			return false
		}
	case *IdentExpr:
		if x.Kind != IdentConst {
			return false
		}
	default:
		return false
	}
	v, ok := c.literalInt(e)
	return ok && v >= 0
}

// binaryTypes types "x op y" given the operand types; n is the node the
// result belongs to (for constant folding) and at where errors point.
func (c *checker) binaryTypes(n Node, op Op, x, y Expr, lt, rt *Type, at Node) *Type {
	if lt.Kind == KindInvalid || rt.Kind == KindInvalid {
		if !c.final && lt.Kind != KindPointer && rt.Kind != KindPointer {
			// bpftrace types a binary operation as a 64-bit integer
			// whatever its operands are in the passes before the last,
			// so a map read where it is first assigned
			// (@a[k] = @a[k] + 1) gets its type from the assignment.
			return IntType(8, lt.Signed && rt.Signed)
		}
		return typeInvalid
	}
	opPos := opNode(at)
	if lt.Kind == KindPointer || rt.Kind == KindPointer {
		return c.binaryPointer(op, lt, rt, opPos, x, y)
	}
	if lt.IsInt() && rt.IsInt() {
		return c.binaryInt(n, op, x, y, lt, rt, opPos)
	}
	if lt.Kind == KindArray && rt.Kind == KindArray {
		if op != Eq && op != Ne {
			c.errorf(opPos, "The %s operator cannot be used on arrays.", op)
		}
		if lt.Len != rt.Len {
			c.errorf(opPos, "Only arrays of same size support comparison operators.")
		}
		if lt.Elem == nil || !lt.Elem.IsInt() || !strictEqual(lt, rt) {
			c.errorf(opPos, "Only arrays of same sized integer support comparison operators.")
		}
		return TypeInt64
	}
	if kindClass(lt) != kindClass(rt) {
		c.errorAt(startOf(x), endOf(y), "Type mismatch for '%s': comparing '%s' with '%s'", op, typeStr(lt), typeStr(rt))
		return typeInvalid
	}
	if op != Eq && op != Ne {
		c.errorf(opPos, "The %s operator can not be used on expressions of types %s, %s", op, typeStr(lt), typeStr(rt))
		return typeInvalid
	}
	if lt.Kind == KindString && op == Eq {
		xl, xlit := c.stringLiteral(x)
		yl, ylit := c.stringLiteral(y)
		if xlit != ylit {
			lit, other := xl, rt
			if ylit {
				lit, other = yl, lt
			}
			if len(lit) > other.Size {
				c.warnAt(startOf(x), endOf(y), "The literal is longer than the variable string (size=%d), condition will always be false", other.Size)
			}
		}
	}
	return TypeInt64
}

// warnAt reports a warning over an explicit span.
func (c *checker) warnAt(start, end Pos, format string, args ...any) {
	c.report(start, end, SevWarning, fmt.Sprintf(format, args...))
}

func startOf(n Node) Pos { s, _ := nodeSpan(n); return s }
func endOf(n Node) Pos   { _, e := nodeSpan(n); return e }

// opNode returns a node spanning a binary expression's operator, which is
// where bpftrace points its operator errors, or at itself.
func opNode(at Node) Node {
	if b, ok := at.(*BinaryExpr); ok && b.OpPos.IsValid() {
		end := Pos{b.OpPos.Line, b.OpPos.Col + len(b.Op.String())}
		return &posNode{b.OpPos, end}
	}
	return at
}

// posNode is a bare span, for errors that point at part of a node.
type posNode struct{ start, end Pos }

func (p *posNode) Span() (Pos, Pos) { return p.start, p.end }

// stringLiteral returns the text of a string literal (or a string
// positional parameter).
func (c *checker) stringLiteral(e Expr) (string, bool) {
	switch e := e.(type) {
	case *StrLit:
		return e.Value, true
	}
	if s, ok := c.strConsts[e]; ok {
		return s, true
	}
	return "", false
}

func (c *checker) binaryInt(n Node, op Op, x, y Expr, lt, rt *Type, at Node) *Type {
	lsign, rsign := lt.Signed, rt.Signed
	if lsign != rsign {
		switch {
		case lsign && !rsign && c.isConstNonNeg(x):
			lsign = false
		case !lsign && rsign && c.isConstNonNeg(y):
			rsign = false
		default:
			switch op {
			case Eq, Ne, Le, Ge, Lt, Gt:
				c.warnf(at, "comparison of integers of different signs: '%s' and '%s' can lead to undefined behavior", typeStr(lt), typeStr(rt))
			case Add, Sub, Mul, Div, Mod:
				c.warnf(at, "arithmetic on integers of different signs: '%s' and '%s' can lead to undefined behavior", typeStr(lt), typeStr(rt))
			}
		}
	}
	if op == Div || op == Mod {
		if lsign && c.isConstNonNeg(x) {
			lsign = false
		}
		if rsign && c.isConstNonNeg(y) {
			rsign = false
		}
		if lsign || rsign {
			c.warnf(at, "signed operands for '%s' can lead to undefined behavior (cast to unsigned to silence warning)", op)
		}
	}
	signed := lt.Signed && rt.Signed
	if op == Shl || op == Shr {
		signed = lt.Signed
	}
	res := IntType(8, signed)
	// An address plus an offset is still an address in the same space.
	switch {
	case lt.AddrSpace != AddrNone && rt.AddrSpace != AddrNone && lt.AddrSpace != rt.AddrSpace:
		c.warnf(at, "Addrspace mismatch")
	case lt.AddrSpace != AddrNone:
		res = withAS(res, lt.AddrSpace)
	case rt.AddrSpace != AddrNone:
		res = withAS(res, rt.AddrSpace)
	}
	if e, ok := n.(Expr); ok {
		a, aok := c.constInt(x)
		b, bok := c.constInt(y)
		if aok && bok {
			if v, ok := foldInt(op, a, b, !signed); ok {
				c.consts[e] = v
			}
		}
	}
	return res
}

// foldInt evaluates a constant integer operation as the program would:
// with unsigned division, remainder, right shift and comparisons when the
// operation is unsigned (bpftrace's rule: unless both operands are
// signed; for shifts, the left one). Division by zero and oversized
// shifts are not folded.
func foldInt(op Op, a, b int64, unsigned bool) (int64, bool) {
	if unsigned {
		ua, ub := uint64(a), uint64(b)
		switch op {
		case Div:
			if ub == 0 {
				return 0, false
			}
			return int64(ua / ub), true
		case Mod:
			if ub == 0 {
				return 0, false
			}
			return int64(ua % ub), true
		case Shr:
			if ub > 63 {
				return 0, false
			}
			return int64(ua >> ub), true
		case Lt:
			return boolInt(ua < ub), true
		case Le:
			return boolInt(ua <= ub), true
		case Gt:
			return boolInt(ua > ub), true
		case Ge:
			return boolInt(ua >= ub), true
		}
	}
	switch op {
	case Add:
		return a + b, true
	case Sub:
		return a - b, true
	case Mul:
		return a * b, true
	case Div:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	case Mod:
		if b == 0 {
			return 0, false
		}
		return a % b, true
	case And:
		return a & b, true
	case Or:
		return a | b, true
	case Xor:
		return a ^ b, true
	case Shl:
		if b < 0 || b > 63 {
			return 0, false
		}
		return a << uint(b), true
	case Shr:
		if b < 0 || b > 63 {
			return 0, false
		}
		return a >> uint(b), true
	case Eq:
		return boolInt(a == b), true
	case Ne:
		return boolInt(a != b), true
	case Lt:
		return boolInt(a < b), true
	case Le:
		return boolInt(a <= b), true
	case Gt:
		return boolInt(a > b), true
	case Ge:
		return boolInt(a >= b), true
	case LAnd:
		return boolInt(a != 0 && b != 0), true
	case LOr:
		return boolInt(a != 0 || b != 0), true
	}
	return 0, false
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// binaryPointer types operations with a pointer operand, as C does:
// comparisons of two pointers, pointer ± integer, integer + pointer, and
// comparisons with integers.
func (c *checker) binaryPointer(op Op, lt, rt *Type, at Node, x, y Expr) *Type {
	leftPtr := lt.Kind == KindPointer
	ptr, other := lt, rt
	if !leftPtr {
		ptr, other = rt, lt
	}
	compare := false
	switch op {
	case Eq, Ne, Le, Ge, Lt, Gt:
		compare = true
	}
	invalid := func() *Type {
		c.errorf(at, "The %s operator can not be used on expressions of types %s, %s", op, typeStr(lt), typeStr(rt))
		return typeInvalid
	}
	switch {
	case other.Kind == KindPointer:
		if !compare {
			return invalid()
		}
		if lt.Elem != nil && rt.Elem != nil && !strictEqual(lt.Elem, rt.Elem) {
			c.warnAt(startOf(x), endOf(y), "comparison of distinct pointer types ('%s, '%s')", typeStr(lt.Elem), typeStr(rt.Elem))
		}
		return TypeUint64
	case other.IsInt():
		switch {
		case op == Sub && !leftPtr:
			return invalid()
		case op == Add || op == Sub:
			return PointerTo(ptr.Elem, ptr.AddrSpace)
		case compare:
			return TypeInt64
		}
		return invalid()
	}
	return invalid()
}

func (c *checker) unary(e *UnaryExpr) *Type {
	switch e.Op {
	case PreInc, PreDec:
		return c.incDec(e, e.Op, e.X)
	}
	t := c.expr(e.X)
	if t.Kind == KindInvalid {
		return typeInvalid
	}
	opName := e.Op.String()
	switch e.Op {
	case Deref:
		switch {
		case t.Kind == KindPointer:
			if t.Elem == nil {
				c.errorf(e, "Can not dereference a void pointer")
				return typeInvalid
			}
			r := c.complete(t.Elem)
			if r.Kind == KindInvalid {
				return typeInvalid
			}
			r = withAS(r, t.AddrSpace)
			if t.IsCtx {
				r = withCtx(r)
			}
			return r
		case t.Kind == KindRecord:
			c.errorf(e, "Can not dereference struct/union of type '%s'. It is not a pointer.", t.Name)
			return typeInvalid
		case t.IsInt():
			return withAS(TypeUint64, t.AddrSpace)
		}
	case Not:
		if t.IsInt() {
			if v, ok := c.constInt(e.X); ok {
				c.consts[e] = boolInt(v == 0)
			}
			return IntType(t.Size, false)
		}
	case BitNot, Neg:
		if t.IsInt() {
			if v, ok := c.constInt(e.X); ok {
				if e.Op == Neg {
					c.consts[e] = -v
				} else {
					c.consts[e] = ^v
				}
			}
			return IntType(8, t.Signed)
		}
	}
	c.errorf(e, "The %s operator can not be used on expressions of type '%s'", opName, typeStr(t))
	return typeInvalid
}

// incDec types ++/-- (prefix or postfix) on a map or a variable.
func (c *checker) incDec(e Expr, op Op, x Expr) *Type {
	opName := op.String()
	var t *Type
	switch x := x.(type) {
	case *MapExpr:
		st := c.mapFor(x.Name)
		if st.info.Value == nil || st.info.Value.Kind == KindInvalid {
			c.mapKeys(x, true)
			c.mapAssign(x, TypeInt64, x, x)
			x.SetType(st.info.Value)
			t = st.info.Value
		} else {
			t = c.expr(x)
		}
		st.info.Written = true
	case *VarExpr:
		t = c.expr(x)
	default:
		c.expr(x)
		c.errorf(e, "The %s operator must be applied to a map or variable", opName)
		return typeInvalid
	}
	switch {
	case t.Kind == KindInvalid:
		return typeInvalid
	case t.Kind == KindPointer:
		return t
	case t.IsInt():
		return IntType(8, t.Signed)
	}
	c.errorf(e, "The %s operator can not be used on expressions of type '%s'", opName, typeStr(t))
	return typeInvalid
}

// ternary checks "c ? a : b". As a statement its branches may be
// statement calls ("nsecs ? printf(...) : exit()"), as in bpftrace 0.17:
// the ternary then has no value.
func (c *checker) ternary(e *TernaryExpr, ctx useCtx) *Type {
	ct := c.expr(e.Cond)
	branch := useValue
	if ctx == useStmt {
		branch = useStmt
	}
	lt := c.exprIn(e.Then, branch)
	rt := c.exprIn(e.Else, branch)
	if ct.Kind == KindInvalid || lt.Kind == KindInvalid || rt.Kind == KindInvalid {
		return typeInvalid
	}
	if ctx == useStmt && lt.Kind == KindNone && rt.Kind == KindNone {
		if !ct.IsInt() {
			c.errorf(e, "Invalid condition in ternary: %s", kindClass(ct))
			return typeInvalid
		}
		return TypeNone
	}
	bad := false
	if kindClass(lt) != kindClass(rt) {
		c.errorf(e, "Ternary operator must return the same type: have '%s' and '%s'", kindClass(lt), kindClass(rt))
		bad = true
	}
	if !ct.IsInt() {
		c.errorf(e, "Invalid condition in ternary: %s", kindClass(ct))
		bad = true
	}
	if bad {
		return typeInvalid
	}
	switch lt.Kind {
	case KindString:
		return StringType(max(lt.Size, rt.Size))
	case KindInt:
		if v, ok := c.constInt(e.Cond); ok {
			a, aok := c.constInt(e.Then)
			b, bok := c.constInt(e.Else)
			if v != 0 && aok {
				c.consts[e] = a
			} else if v == 0 && bok {
				c.consts[e] = b
			}
		}
		return IntType(8, lt.Signed)
	}
	c.errorf(e, "Ternary return type unsupported %s", kindClass(lt))
	return typeInvalid
}

func (c *checker) tuple(e *TupleExpr) *Type {
	elems := make([]*Type, len(e.Elems))
	bad := false
	for i, x := range e.Elems {
		t := c.expr(x)
		switch {
		case t.Kind == KindInvalid:
			bad = true
		case t.Kind == KindNone || t.Kind == KindStackMode || t.Kind.IsAggregation():
			c.errorf(x, "%s cannot be part of a tuple", typeStr(t))
			bad = true
		}
		elems[i] = withoutCtx(t)
	}
	if bad {
		return typeInvalid
	}
	return TupleOf(elems...)
}

// ---- fields, indexes ----

// complete returns record t with its fields, looking it up when it is
// opaque (reached through a pointer). It reports an unknown record.
func (c *checker) complete(t *Type) *Type {
	if t == nil || !t.IsOpaque() {
		return t
	}
	full, err := c.lookupRecord(t.Name)
	if err != "" {
		return typeInvalid
	}
	r := *full
	r.AddrSpace, r.IsCtx = t.AddrSpace, t.IsCtx
	return &r
}

func (c *checker) field(e *FieldExpr) *Type {
	t := c.expr(e.X)
	if t.Kind == KindInvalid {
		return typeInvalid
	}
	base := t
	if e.Arrow {
		switch {
		case t.Kind == KindPointer && t.Elem != nil:
			base = withAS(t.Elem, t.AddrSpace)
			if t.IsCtx {
				base = withCtx(base)
			}
		case t.Kind == KindRecord:
			c.errorf(e, "Can not dereference struct/union of type '%s'. It is not a pointer.", t.Name)
			return typeInvalid
		case t.IsInt():
			c.errorf(e, "Can not access field '%s' on expression of type 'unsigned int64'", e.Field)
			return typeInvalid
		default:
			c.errorf(e, "Can not access field '%s' on expression of type '%s'", e.Field, typeStr(t))
			return typeInvalid
		}
	} else if t.Kind == KindPointer {
		c.errorf(e, "Can not access field '%s' on type '%s'. Try dereferencing it first, or using '->'", e.Field, typeStr(t))
		return typeInvalid
	}
	if base.Kind == KindTuple {
		c.errorf(e, "Can not access field '%s' on expression of type '%s'", e.Field, typeStr(base))
		return typeInvalid
	}
	if base.Kind != KindRecord {
		c.errorf(e, "Can not access field '%s' on expression of type '%s'", e.Field, typeStr(base))
		return typeInvalid
	}
	// The args of a kfunc are a record of named parameters.
	if id, ok := e.X.(*IdentExpr); ok && id.Name == "args" && c.pc.funcArgs != nil {
		f := c.pc.funcArgs.Field(e.Field)
		if f == nil {
			err := c.errorf(e, "Can't find function parameter %s", e.Field)
			if s := suggest(e.Field, fieldNames(c.pc.funcArgs)); s != "" {
				err.note(didYouMean(s))
			}
			return typeInvalid
		}
		e.Offset = f.Offset
		if f.Type.Kind == KindNone {
			c.errorf(e, "%s has unsupported type", e.Field)
			return typeInvalid
		}
		return withAS(f.Type, AddrKernel)
	}
	// A tracepoint's args: the field must exist in every matched
	// tracepoint (a wildcard may match several formats).
	records := []*Type{base}
	tparg := false
	if id, ok := e.X.(*IdentExpr); ok && id.Name == "args" && len(c.pc.tpArgs) > 0 {
		records = c.pc.tpArgs
		tparg = true
	}
	var result *Type
	for i, rec := range records {
		rec = c.complete(rec)
		if rec.Kind == KindInvalid {
			c.unknownRecord(e, records[i].Name)
			return typeInvalid
		}
		f := rec.Field(e.Field)
		if f == nil {
			err := c.errorf(e, "Struct/union of type '%s' does not contain a field named '%s'", rec.Name, e.Field)
			if s := suggest(e.Field, fieldNames(rec)); s != "" {
				err.note(didYouMean(s))
			}
			return typeInvalid
		}
		if tparg && f.Offset < 8 {
			c.errorf(e, "BPF does not support accessing common tracepoint fields")
			return typeInvalid
		}
		if i == 0 {
			e.Offset = f.Offset
			result = f.Type
		}
	}
	if result == nil || result.Kind == KindNone {
		c.errorf(e, "%s has unsupported type", e.Field)
		return typeInvalid
	}
	result = withAS(result, base.AddrSpace)
	if base.IsCtx && (result.Kind == KindArray || result.Kind == KindRecord) {
		result = withCtx(result)
	}
	return result
}

func (c *checker) unknownRecord(n Node, name string) {
	err := c.errorf(n, "Unknown struct/union: '%s'", name)
	if c.types == nil {
		err.note("HINT: kernel type information is unavailable, so only structs defined in the program are known")
	}
}

// fieldNames lists a record's field names, those of anonymous members
// included, for suggestions.
func fieldNames(t *Type) []string {
	var names []string
	if t == nil {
		return nil
	}
	for _, f := range t.Fields {
		if f.Name == "" && f.Type != nil && f.Type.Kind == KindRecord {
			names = append(names, fieldNames(f.Type)...)
		} else {
			names = append(names, f.Name)
		}
	}
	return names
}

func (c *checker) tupleIndex(e *TupleIndexExpr) *Type {
	t := c.expr(e.X)
	if t.Kind == KindInvalid {
		return typeInvalid
	}
	if t.Kind != KindTuple {
		c.errorf(e, "Can not access index %d on expression of type '%s'", e.Index, typeStr(t))
		return typeInvalid
	}
	if e.Index < 0 || e.Index >= len(t.Fields) {
		c.errorf(e, "Invalid tuple index: %d. Found %d elements in tuple.", e.Index, len(t.Fields))
		return typeInvalid
	}
	return t.Fields[e.Index].Type
}

func (c *checker) index(e *IndexExpr) *Type {
	t := c.expr(e.X)
	it := c.expr(e.Index)
	if t.Kind == KindInvalid || it.Kind == KindInvalid {
		return typeInvalid
	}
	if t.Kind != KindArray && t.Kind != KindPointer {
		c.errorf(e, "The array index operator [] can only be used on arrays and pointers, found %s.", kindClass(t))
		return typeInvalid
	}
	if t.Kind == KindPointer && (t.Elem == nil || t.Elem.Size == 0 && !t.Elem.IsOpaque()) {
		c.errorf(e, "The array index operator [] cannot be used on a pointer to an unsized type (void *).")
		return typeInvalid
	}
	n, ok := c.literalInt(e.Index)
	if !it.IsInt() || !ok {
		c.errorf(e, "The array index operator [] only accepts literal integer indices.")
		return typeInvalid
	}
	if t.Kind == KindArray && (n < 0 || n >= int64(t.Len)) {
		c.errorf(e, "the index %d is out of bounds for array of size %d", n, t.Len)
		return typeInvalid
	}
	elem := c.complete(t.Elem)
	if elem.Kind == KindInvalid {
		c.unknownRecord(e, t.Elem.Name)
		return typeInvalid
	}
	r := withAS(elem, t.AddrSpace)
	if t.IsCtx && (r.Kind == KindArray || r.Kind == KindRecord) {
		r = withCtx(r)
	}
	return r
}
