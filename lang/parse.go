package lang

// The parser: tokens → *Program.
//
// It is a recursive-descent rendering of bpftrace 0.17's bison grammar
// (src/parser.yy), extended with the newer forms tracebook accepts
// (for ($kv : @m), offsetof, rawtracepoint, fentry/fexit, lowercase
// begin/end, interval:1s, function-like macros) and with notebook cells'
// top-level statements.
//
// It stops at the first syntax error, as bison does, and words it as
// bison's verbose errors do: "syntax error, unexpected X, expecting Y".
// Bison lists the expected tokens of the state where it detects the
// error, after the default reductions it can make, and only when there are
// at most four; each call of syntaxError below names the list that state
// has (checked against the real binary: parse_test.go). Tokens are named
// the way bpftrace's lexer would have classified them: a builtin such as
// pid is "builtin", printf is "call", a '/' followed by '{' is "end
// predicate".
//
// The parser does not decide what names mean: printf(...) and foo(...)
// are both CallExprs, pid and AF_INET both IdentExprs; the checker
// resolves them. Two exceptions keep bpftrace's grammar: a parenthesised
// name that is not one of bpftrace's value words is a cast ("(foo) -1"
// casts -1 to foo, as in bpftrace, while "(pid) - 1" subtracts), and
// "++"/"--" on a bare name is the parser's error "The ++ operator must be
// applied to a map or variable".

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// Parse parses one program: a file, a -e string, or a notebook cell (with
// opts.Cell). It returns a nil *Program only when errs holds a syntax
// error; otherwise the program comes back with every error the scanner,
// the preprocessor and the attach-point parser found (bad literals, bad
// attach points), and callers check errs.HasErrors().
func Parse(file string, src []byte, opts *ParseOptions) (prog *Program, errs ErrorList) {
	if opts == nil {
		opts = &ParseOptions{}
	}
	p := &parser{file: file, src: src, opts: opts}
	ok := p.run(func() {
		p.init()
		p.program()
	})
	p.headerSources()
	if !ok {
		return nil, p.errs
	}
	p.errs = append(p.errs, p.apErrs...)
	return p.prog, p.errs
}

// headerSources gives each error inside a header that header's text, for
// its excerpt; the parser's errors know only the file's name.
func (p *parser) headerSources() {
	if p.prog == nil || len(p.prog.Headers) == 0 {
		return
	}
	src := map[string][]byte{}
	for _, h := range p.prog.Headers {
		src[h.Name] = h.Src
	}
	for _, e := range p.errs {
		if e.Src == nil && e.File != p.prog.File {
			e.Src = src[e.File]
		}
	}
}

// run calls f and reports whether it returned normally. A syntax error's
// bailout ends it early; any other panic is a bug in the parser, which
// must not crash its host (starlark's rule): it becomes an "internal
// error" at the current token, with the stack in a note.
func (p *parser) run(f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isBailout := r.(bailout); !isBailout {
				buf := make([]byte, 4096)
				buf = buf[:runtime.Stack(buf, false)]
				p.errs.Add(&Error{File: p.file, Pos: p.tok.pos, End: p.tok.end,
					Msg: fmt.Sprintf("internal error: %v", r), Notes: []string{string(buf)}})
			}
			ok = false
		}
	}()
	f()
	return true
}

// bailout is the panic that unwinds the parser after a syntax error.
type bailout struct{}

type parser struct {
	file string
	src  []byte
	opts *ParseOptions
	sc   *scanner
	pp   *preprocessor
	errs ErrorList
	// apErrs are attach-point errors, reported after the whole program has
	// parsed, as bpftrace's AttachPointParser runs after bison.
	apErrs ErrorList

	tok   lexeme   // the current token
	prev  lexeme   // the token before it
	ahead []lexeme // tokens peeked beyond tok
	prog  *Program
	// enums are the enumerators of the program's C enums, for the constant
	// expressions of later C definitions.
	enums map[string]int64

	// hdr is the header being read (include.go), nil in the program.
	hdr *Header
	// includeStack names the headers being read, outermost first.
	includeStack []string
	// headerReads and headerBytes count the headers read so far (see
	// maxHeaderReads); tooDeep and tooManyHeaders are set once each
	// limit is reported.
	headerReads, headerBytes int
	tooDeep, tooManyHeaders  bool
	// once holds the headers that said "#pragma once".
	once map[string]bool
}

func (p *parser) init() {
	p.sc = newScanner(p.file, p.src, &p.errs)
	p.pp = newPreprocessor(p.file, &p.errs, p.opts)
	p.sc.pp = p.pp
	p.enums = map[string]int64{}
	p.once = map[string]bool{}
	p.prog = &Program{File: p.file, Src: p.src}
}

// next advances to the next token.
func (p *parser) next() {
	p.prev = p.tok
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		p.ahead = p.ahead[1:]
		return
	}
	p.tok = p.sc.scan()
}

// peek returns the n-th token after the current one (n >= 1).
func (p *parser) peek(n int) lexeme {
	for len(p.ahead) < n {
		p.ahead = append(p.ahead, p.sc.scan())
	}
	return p.ahead[n-1]
}

// syntaxError reports "syntax error, unexpected <tok>[, expecting A or B]"
// at the current token and stops the parse. expected are bpftrace's names
// for the tokens bison would list, in its order; with more than four bison
// lists none.
func (p *parser) syntaxError(expected ...string) {
	msg := "syntax error, unexpected " + p.describe(p.tok)
	if len(expected) > 0 && len(expected) <= 4 {
		msg += ", expecting " + strings.Join(expected, " or ")
	}
	p.fail(p.tok.pos, p.tok.end, msg)
}

// fail reports an error that ends the parse.
func (p *parser) fail(pos, end Pos, msg string) {
	p.errs.Add(&Error{File: p.file, Pos: pos, End: end, Msg: msg})
	panic(bailout{})
}

// Names of tokens in bpftrace's messages that are not punctuation.
const (
	nameEndPred    = "end predicate"
	nameInteger    = "integer"
	namePositional = "positional parameter"
	nameComma      = `","`
)

// describe names a token as bpftrace 0.17's lexer and bison would.
func (p *parser) describe(l lexeme) string {
	switch l.tok {
	case EOF:
		return "end of file"
	case IDENT:
		return wordClass(l.text)
	case INT:
		return nameInteger
	case STRING:
		return "string"
	case MAP:
		return "map"
	case VAR:
		return "variable"
	case POSITIONAL:
		return namePositional
	case PARAMCOUNT:
		return "$#"
	case DIRECTIVE:
		return "preprocessor directive"
	case STRUCT, UNION, ENUM:
		return "struct definition"
	case SIZEOF:
		return "call"
	case OFFSETOF:
		return "identifier"
	case COMMA:
		return nameComma
	case SLASH:
		if l.endPred {
			return nameEndPred
		}
	case ATTACH:
		return "path"
	}
	return l.tok.String()
}

// bpftrace 0.17's lexer returns these words as BUILTIN, CALL,
// CALL_BUILTIN and STACK_MODE tokens rather than identifiers.
var (
	builtinWords = wordSet("args cgroup comm cpid numaid cpu ctx curtask elapsed func gid nsecs pid probe rand retval tid uid username " +
		"arg0 arg1 arg2 arg3 arg4 arg5 arg6 arg7 arg8 arg9 sarg0 sarg1 sarg2 sarg3 sarg4 sarg5 sarg6 sarg7 sarg8 sarg9")
	callWords = wordSet("avg buf cat cgroupid clear count delete exit hist join kaddr kptr ksym lhist macaddr max min ntop override " +
		"print printf cgroup_path reg signal sizeof stats str strerror strftime strncmp strcontains sum system time uaddr uptr usym " +
		"zero path unwatch bswap skboutput pton debugf")
	callBuiltinWords = wordSet("kstack ustack")
	stackModeWords   = wordSet("bpftrace perf")
	// laterValueWords are builtin variables added after 0.17; like 0.17's
	// builtins, a parenthesised one is an expression, not a cast.
	laterValueWords = wordSet("jiffies ncpus usermode ppid pcomm probetype raw")
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func wordClass(w string) string {
	switch {
	case builtinWords[w]:
		return "builtin"
	case callWords[w]:
		return "call"
	case callBuiltinWords[w]:
		return "call_builtin"
	case stackModeWords[w]:
		return "stack_mode"
	}
	return "identifier"
}

// isValueWord reports whether a parenthesised w is an expression rather
// than the type of a cast.
func isValueWord(w string) bool {
	return builtinWords[w] || callWords[w] || callBuiltinWords[w] || stackModeWords[w] || laterValueWords[w]
}

// intTypeNames are the integer types of bpftrace's casts.
var intTypeNames = wordSet("int8 int16 int32 int64 uint8 uint16 uint32 uint64")

// program parses the whole source.
func (p *parser) program() {
	p.readIncludeFiles()
	p.next()
	for p.tok.tok != EOF {
		switch {
		case p.tok.tok == DIRECTIVE:
			if len(p.prog.Probes) > 0 && !p.opts.Cell {
				p.syntaxError("{")
			}
			p.directive()
		case p.tok.tok == STRUCT || p.tok.tok == UNION || p.tok.tok == ENUM:
			if len(p.prog.Probes) > 0 && !p.opts.Cell {
				// bpftrace's lexer reads the whole definition as one
				// token, which its error underlines.
				p.tok.end = p.definitionEnd(p.tok)
				p.syntaxError("{")
			}
			p.cdefinition()
		case p.opts.Cell && !p.startsProbe():
			p.topStmt()
		default:
			p.probe()
		}
	}
	p.pp.finish()
	if !p.opts.Cell && len(p.prog.Probes) == 0 {
		// bison reads an empty attach point and then the end of file.
		p.fail(p.tok.pos, p.tok.end, "unexpected end of file, expected {")
	}
	p.prog.SetSpan(Pos{1, 1}, p.tok.end)
}

// definitionEnd is where the struct definition starting at l ends, as
// bpftrace's lexer finds it: at the '}' (or "};") that balances its first
// '{'; or l's own end if a '*' or ')' comes first.
func (p *parser) definitionEnd(l lexeme) Pos {
	depth := 0
	line, col := l.pos.Line, l.pos.Col
	for i := l.off; i < len(p.src); i++ {
		c := p.src[i]
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		switch {
		case depth == 0 && (c == '*' || c == ')'):
			return l.end
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				if i+1 < len(p.src) && p.src[i+1] == ';' {
					col++
				}
				return Pos{line, col}
			}
		}
	}
	return l.end
}

// directive hands the current '#' line to the preprocessor.
func (p *parser) directive() {
	inc, def := p.pp.directive(p.tok)
	if inc != nil {
		p.prog.Includes = append(p.prog.Includes, inc)
		p.include(inc)
	}
	if def != nil {
		def.In = p.hdr
		p.prog.Defines = append(p.prog.Defines, def)
	}
	p.sc.skip = !p.pp.active()
	p.next()
}

// startsProbe decides, in a notebook cell, whether the current token
// begins a probe rather than a statement: a probe begins with a word
// (letters, digits, '_', '*') directly followed by ':', with BEGIN or END
// (or begin, end), or with '{' (a probe without attach points, an error).
func (p *parser) startsProbe() bool {
	switch p.tok.tok {
	case LBRACE:
		return true
	case IDENT, STAR:
	default:
		return false
	}
	i := p.tok.off
	for i < len(p.src) && (isLetter(p.src[i]) || isDigit(p.src[i]) || p.src[i] == '*') {
		i++
	}
	word := string(p.src[p.tok.off:i])
	if i < len(p.src) && p.src[i] == ':' && word != "" {
		return true
	}
	switch word {
	case "BEGIN", "END", "begin", "end":
		return true
	}
	return false
}

// probe parses attach points, an optional predicate and a block.
func (p *parser) probe() {
	if len(p.ahead) > 0 {
		panic("probe starts with tokens peeked")
	}
	pr := &Probe{Index: len(p.prog.Probes)}
	start := p.tok.pos
	nerrs := len(p.apErrs)
	for {
		a := p.sc.scanAttach(p.tok)
		p.prev = a
		p.tok = p.sc.scan()
		pr.Attach = append(pr.Attach, p.attachPoints(a)...)
		if p.tok.tok != COMMA {
			break
		}
		p.next()
	}
	if p.tok.tok == SLASH {
		if p.tok.endPred {
			p.syntaxError("{")
		}
		p.next()
		pr.Pred = p.expr()
		if p.tok.tok != SLASH || !p.tok.endPred {
			p.syntaxError(nameEndPred)
		}
		p.next()
	}
	if p.tok.tok == EOF && pr.Pred == nil {
		p.fail(start, p.tok.end, "unexpected end of file, expected {")
	}
	if p.tok.tok != LBRACE {
		p.syntaxError("{")
	}
	pr.Body = p.block()
	pr.SetSpan(start, pr.Body.Stop)
	if len(pr.Attach) == 0 && len(p.apErrs) == nerrs {
		p.apErrs.Add(&Error{File: p.file, Pos: start, End: start, Msg: "No attach points for probe"})
	}
	p.prog.Probes = append(p.prog.Probes, pr)
}

// block parses "{ stmt_list }"; the current token is '{'.
func (p *parser) block() *Block {
	b := &Block{}
	start := p.tok.pos
	p.next()
	b.Stmts = p.stmtList()
	b.SetSpan(start, p.tok.end)
	p.next()
	return b
}

// stmtList parses statements up to the '}' that closes a block: an
// expression statement is followed by ';' unless it is the last; if,
// while, unroll and for need none.
func (p *parser) stmtList() []Stmt {
	var stmts []Stmt
	for {
		switch p.tok.tok {
		case RBRACE:
			return stmts
		case IF, WHILE, UNROLL, FOR:
			stmts = append(stmts, p.blockStmt())
			continue
		}
		if !canStartStmt(p.tok.tok) {
			p.syntaxError("}")
		}
		stmts = append(stmts, p.simpleStmt("}"))
		switch p.tok.tok {
		case SEMI:
			p.next()
		case RBRACE:
			return stmts
		default:
			p.syntaxError("}")
		}
	}
}

func canStartStmt(t Token) bool {
	switch t {
	case BREAK, CONTINUE, RETURN, IF, WHILE, UNROLL, FOR:
		return true
	}
	return canStartExpr(t)
}

func canStartExpr(t Token) bool {
	switch t {
	case IDENT, INT, STRING, MAP, VAR, POSITIONAL, PARAMCOUNT, LPAREN,
		STAR, TILDE, NOT, MINUS, INC, DEC, SIZEOF, OFFSETOF:
		return true
	}
	return false
}

// topStmt parses one statement outside any probe (a notebook cell). Such
// statements end at ';', at the end of the line, or where a probe begins.
func (p *parser) topStmt() {
	switch p.tok.tok {
	case SEMI:
		p.next()
		return
	case IF, WHILE, UNROLL, FOR:
		p.prog.Stmts = append(p.prog.Stmts, p.blockStmt())
		return
	}
	if !canStartStmt(p.tok.tok) {
		p.syntaxError()
	}
	p.prog.Stmts = append(p.prog.Stmts, p.simpleStmt(";"))
	switch {
	case p.tok.tok == SEMI:
		p.next()
	case p.tok.tok == EOF || p.tok.newline || p.tok.tok == DIRECTIVE || p.startsProbe():
	default:
		p.syntaxError(";")
	}
}

// assignOps maps compound assignment tokens to their operators.
var assignOps = map[Token]Op{
	ASSIGN: Assign, ADD_ASSIGN: Add, SUB_ASSIGN: Sub, MUL_ASSIGN: Mul, DIV_ASSIGN: Div,
	MOD_ASSIGN: Mod, AND_ASSIGN: And, OR_ASSIGN: Or, XOR_ASSIGN: Xor, SHL_ASSIGN: Shl, SHR_ASSIGN: Shr,
}

// simpleStmt parses an expression statement, an assignment or a jump.
// closer is what bison expects after a complete statement in this
// context, for the error when something else follows.
func (p *parser) simpleStmt(closer string) Stmt {
	switch p.tok.tok {
	case BREAK, CONTINUE, RETURN:
		j := &JumpStmt{Kind: p.tok.tok}
		j.SetSpan(p.tok.pos, p.tok.end)
		p.next()
		return j
	}
	x := p.expr()
	op, ok := assignOps[p.tok.tok]
	if !ok {
		s := &ExprStmt{X: x}
		s.SetSpan(x.Span())
		return s
	}
	switch x.(type) {
	case *MapExpr, *VarExpr:
	case *TupleIndexExpr:
		if op == Assign {
			p.next()
			v := p.expr()
			start, _ := x.Span()
			_, end := v.Span()
			p.fail(start, end, "Tuples are immutable once created. Consider creating a new tuple and assigning it instead.")
		}
		p.syntaxError(closer)
	default:
		p.syntaxError(closer)
	}
	p.next()
	v := p.expr()
	a := &AssignStmt{Target: x, Op: op, Value: v}
	start, _ := x.Span()
	_, end := v.Span()
	a.SetSpan(start, end)
	return a
}

// blockStmt parses if, while, unroll or for.
func (p *parser) blockStmt() Stmt {
	start := p.tok.pos
	switch p.tok.tok {
	case IF:
		return p.ifStmt()
	case WHILE:
		p.next()
		p.expectLParen()
		cond := p.expr()
		p.expectRParen()
		w := &WhileStmt{Cond: cond, Body: p.blockAfter()}
		w.SetSpan(start, w.Body.Stop)
		return w
	case UNROLL:
		p.next()
		p.expectLParen()
		var count Expr
		switch {
		case p.tok.tok == INT:
			count = p.intLit()
		case p.tok.tok == MINUS && p.peek(1).tok == INT:
			count = p.negativeLit()
		case p.tok.tok == POSITIONAL:
			count = p.positional()
		case p.tok.tok == PARAMCOUNT:
			c := &ParamCountExpr{}
			c.SetSpan(p.tok.pos, p.tok.end)
			p.next()
			count = c
		default:
			p.syntaxError("$#", "-", namePositional, nameInteger)
		}
		p.expectRParen()
		u := &UnrollStmt{Count: count, Body: p.blockAfter()}
		u.SetSpan(start, u.Body.Stop)
		return u
	case FOR:
		p.next()
		p.expectLParen()
		if p.tok.tok != VAR {
			p.syntaxError("variable")
		}
		v := p.primaryVar()
		if p.tok.tok != COLON {
			p.syntaxError(":")
		}
		p.next()
		if p.tok.tok != MAP {
			p.syntaxError("map")
		}
		m := &MapExpr{Name: p.tok.text}
		m.SetSpan(p.tok.pos, p.tok.end)
		p.next()
		p.expectRParen()
		f := &ForStmt{Var: v, Map: m, Body: p.blockAfter()}
		f.SetSpan(start, f.Body.Stop)
		return f
	}
	panic("blockStmt at " + p.tok.tok.String())
}

func (p *parser) ifStmt() *IfStmt {
	start := p.tok.pos
	p.next()
	p.expectLParen()
	cond := p.expr()
	p.expectRParen()
	s := &IfStmt{Cond: cond, Then: p.blockAfter()}
	end := s.Then.Stop
	if p.tok.tok == ELSE {
		p.next()
		switch p.tok.tok {
		case LBRACE:
			s.Else = p.block()
		case IF:
			inner := p.ifStmt()
			s.Else = &Block{Stmts: []Stmt{inner}}
			s.Else.SetSpan(inner.Span())
		default:
			p.syntaxError("{", "if")
		}
		end = s.Else.Stop
	}
	s.SetSpan(start, end)
	return s
}

func (p *parser) expectLParen() {
	if p.tok.tok != LPAREN {
		p.syntaxError("(")
	}
	p.next()
}

func (p *parser) expectRParen() {
	if p.tok.tok != RPAREN {
		p.syntaxError(")")
	}
	p.next()
}

// blockAfter parses the block that must follow a statement's header.
func (p *parser) blockAfter() *Block {
	if p.tok.tok != LBRACE {
		p.syntaxError("{")
	}
	return p.block()
}

// expr parses an expression: C's conditional expression, bpftrace's
// precedence (parser.yy's expression rules).
func (p *parser) expr() Expr {
	c := p.binary(1)
	if p.tok.tok != QUESTION {
		return c
	}
	p.next()
	a := p.expr()
	if p.tok.tok != COLON {
		p.syntaxError(":")
	}
	p.next()
	b := p.expr()
	t := &TernaryExpr{Cond: c, Then: a, Else: b}
	start, _ := c.Span()
	_, end := b.Span()
	t.SetSpan(start, end)
	return t
}

// binaryOps are the binary operators with their precedence, loosest 1.
var binaryOps = map[Token]struct {
	prec int
	op   Op
}{
	LOR: {1, LOr}, LAND: {2, LAnd}, PIPE: {3, Or}, CARET: {4, Xor}, AMP: {5, And},
	EQ: {6, Eq}, NE: {6, Ne}, LT: {7, Lt}, LE: {7, Le}, GT: {7, Gt}, GE: {7, Ge},
	SHL: {8, Shl}, SHR: {8, Shr}, PLUS: {9, Add}, MINUS: {9, Sub},
	STAR: {10, Mul}, SLASH: {10, Div}, PERCENT: {10, Mod},
}

// binary parses operators of precedence min and tighter, left to right.
func (p *parser) binary(min int) Expr {
	x := p.unary()
	for {
		b, ok := binaryOps[p.tok.tok]
		if !ok || b.prec < min || p.tok.tok == SLASH && p.tok.endPred {
			return x
		}
		opPos := p.tok.pos
		p.next()
		y := p.binary(b.prec + 1)
		e := &BinaryExpr{Op: b.op, X: x, Y: y, OpPos: opPos}
		start, _ := x.Span()
		_, end := y.Span()
		e.SetSpan(start, end)
		x = e
	}
}

// unary parses bison's cast_expr: a cast, a unary operator applied to a
// cast_expr, a prefix ++/-- on a map or variable, or a postfix expression.
func (p *parser) unary() Expr {
	start := p.tok.pos
	switch p.tok.tok {
	case LPAREN:
		if p.isCast() {
			return p.cast()
		}
	case STAR, TILDE, NOT:
		op := map[Token]Op{STAR: Deref, TILDE: BitNot, NOT: Not}[p.tok.tok]
		p.next()
		x := p.unary()
		u := &UnaryExpr{Op: op, X: x}
		_, end := x.Span()
		u.SetSpan(start, end)
		return u
	case MINUS:
		if p.peek(1).tok == INT {
			// "-1" is one integer literal in bpftrace's grammar (its int
			// rule), so postfix operators apply to it.
			return p.postfix(p.negativeLit(), false)
		}
		p.next()
		x := p.unary()
		u := &UnaryExpr{Op: Neg, X: x}
		_, end := x.Span()
		u.SetSpan(start, end)
		return u
	case INC, DEC:
		op, word := PreInc, "++"
		if p.tok.tok == DEC {
			op, word = PreDec, "--"
		}
		opTok := p.tok
		p.next()
		var x Expr
		switch p.tok.tok {
		case MAP:
			x = p.mapExpr()
		case VAR:
			x = p.primaryVar()
		case IDENT, SIZEOF, OFFSETOF:
			p.fail(opTok.pos, opTok.end, "The "+word+" operator must be applied to a map or variable")
		default:
			p.syntaxError()
		}
		u := &UnaryExpr{Op: op, X: x}
		_, end := x.Span()
		u.SetSpan(start, end)
		return u
	}
	x, paren := p.primary()
	if paren {
		// A postfix operation on a parenthesised operand starts at the
		// parenthesis, as bpftrace's locations do ("((struct foo *)0)->a"
		// from its first "(").
		return p.postfixFrom(x, paren, start)
	}
	return p.postfix(x, paren)
}

// isCast reports whether the '(' at the current token begins a cast:
// "(struct S ...)", or "(NAME)" / "(NAME *...)" where NAME is not one of
// bpftrace's builtin or function words (in bison, the parser shifts
// there).
func (p *parser) isCast() bool {
	n1 := p.peek(1)
	switch n1.tok {
	case STRUCT, UNION, ENUM:
		return true
	case IDENT:
		if isValueWord(n1.text) {
			return false
		}
		n2 := p.peek(2)
		return n2.tok == RPAREN || n2.tok == STAR
	}
	return false
}

// cast parses "(type) cast_expr".
func (p *parser) cast() Expr {
	start := p.tok.pos
	p.next()
	t := p.typeName()
	if p.tok.tok != RPAREN {
		if t.Ptr == 0 {
			p.syntaxError(")", "*")
		}
		p.syntaxError(")")
	}
	p.next()
	x := p.unary()
	c := &CastExpr{To: t, X: x}
	_, end := x.Span()
	c.SetSpan(start, end)
	return c
}

// typeName parses a type in a cast, sizeof or offsetof: "struct S",
// "union U", "enum E" or a name, then any number of '*'.
func (p *parser) typeName() *TypeExpr {
	t := &TypeExpr{}
	start := p.tok.pos
	switch p.tok.tok {
	case STRUCT, UNION, ENUM:
		kw := p.tok.text
		p.next()
		if p.tok.tok != IDENT {
			p.syntaxError("identifier")
		}
		t.Name = kw + " " + p.tok.text
	case IDENT:
		t.Name = p.tok.text
	default:
		p.syntaxError("identifier")
	}
	p.next()
	for p.tok.tok == STAR {
		t.Ptr++
		p.next()
	}
	t.SetSpan(start, p.prev.end)
	return t
}

// negativeLit parses "- INT" as one negative integer literal.
func (p *parser) negativeLit() *IntLit {
	start := p.tok.pos
	p.next()
	lit := p.intLit()
	lit.Value = -lit.Value
	lit.Text = "-" + lit.Text
	lit.SetSpan(start, lit.Stop)
	return lit
}

func (p *parser) intLit() *IntLit {
	lit := &IntLit{Value: p.tok.val, Text: p.tok.text}
	lit.SetSpan(p.tok.pos, p.tok.end)
	p.next()
	return lit
}

// positional parses $N.
func (p *parser) positional() *PositionalExpr {
	n, err := strconv.ParseInt(p.tok.text[1:], 10, 64)
	if err != nil || n == 0 {
		p.fail(p.tok.pos, p.tok.end, fmt.Sprintf("param %s is out of integer range [1, %d]", p.tok.text, int64(1<<63-1)))
	}
	e := &PositionalExpr{N: int(n)}
	e.SetSpan(p.tok.pos, p.tok.end)
	p.next()
	return e
}

func (p *parser) primaryVar() *VarExpr {
	v := &VarExpr{Name: p.tok.text[1:]}
	v.SetSpan(p.tok.pos, p.tok.end)
	p.next()
	return v
}

// mapExpr parses @name or @name[keys].
func (p *parser) mapExpr() *MapExpr {
	m := &MapExpr{Name: p.tok.text}
	start := p.tok.pos
	m.SetSpan(start, p.tok.end)
	p.next()
	if p.tok.tok == LBRACK {
		m.KeyPos = p.tok.pos
		p.next()
		m.Keys = p.exprList()
		if p.tok.tok != RBRACK {
			p.syntaxError("]", nameComma)
		}
		m.SetSpan(start, p.tok.end)
		p.next()
	}
	return m
}

// exprList parses "expr (, expr)*" (bison's vargs).
func (p *parser) exprList() []Expr {
	list := []Expr{p.expr()}
	for p.tok.tok == COMMA {
		p.next()
		list = append(list, p.expr())
	}
	return list
}

// primary parses a primary expression. paren reports that it was a
// parenthesised expression, which "++" may not follow.
func (p *parser) primary() (x Expr, paren bool) {
	l := p.tok
	switch l.tok {
	case INT:
		return p.intLit(), false
	case STRING:
		s := &StrLit{Value: l.text}
		s.SetSpan(l.pos, l.end)
		p.next()
		return s, false
	case POSITIONAL:
		return p.positional(), false
	case PARAMCOUNT:
		c := &ParamCountExpr{}
		c.SetSpan(l.pos, l.end)
		p.next()
		return c, false
	case VAR:
		return p.primaryVar(), false
	case MAP:
		return p.mapExpr(), false
	case IDENT:
		p.next()
		if p.tok.tok == LPAREN {
			return p.call(l), false
		}
		id := &IdentExpr{Name: l.text}
		id.SetSpan(l.pos, l.end)
		return id, false
	case SIZEOF:
		return p.sizeof(), false
	case OFFSETOF:
		return p.offsetof(), false
	case LPAREN:
		p.next()
		first := p.expr()
		if p.tok.tok == COMMA {
			p.next()
			elems := append([]Expr{first}, p.exprList()...)
			if p.tok.tok != RPAREN {
				p.syntaxError(")", nameComma)
			}
			t := &TupleExpr{Elems: elems}
			t.SetSpan(l.pos, p.tok.end)
			p.next()
			return t, false
		}
		if p.tok.tok != RPAREN {
			p.syntaxError(")", nameComma)
		}
		p.next()
		return first, true
	}
	p.syntaxError()
	return nil, false
}

// call parses a call's arguments; name is the function's name token and
// the current token is '('.
func (p *parser) call(name lexeme) *CallExpr {
	c := &CallExpr{Name: name.text, NameEnd: name.end}
	p.next()
	if p.tok.tok != RPAREN {
		c.Args = p.exprList()
		if p.tok.tok != RPAREN {
			p.syntaxError(")", nameComma)
		}
	}
	c.SetSpan(name.pos, p.tok.end)
	p.next()
	return c
}

// sizeof parses sizeof(type) or sizeof(expr). The argument is a type when
// it starts with struct/union/enum, is one of bpftrace's integer types, or
// is a name followed by '*'; any other name is an IdentExpr that the
// checker may still resolve as a typedef.
func (p *parser) sizeof() *SizeofExpr {
	start := p.tok.pos
	p.next()
	p.expectLParen()
	s := &SizeofExpr{}
	n1 := p.peek(1)
	switch {
	case p.tok.tok == STRUCT || p.tok.tok == UNION || p.tok.tok == ENUM,
		p.tok.tok == IDENT && intTypeNames[p.tok.text] && (n1.tok == RPAREN || n1.tok == STAR),
		p.tok.tok == IDENT && !isValueWord(p.tok.text) && n1.tok == STAR && (p.peek(2).tok == STAR || p.peek(2).tok == RPAREN):
		s.TypeArg = p.typeName()
	default:
		s.X = p.expr()
	}
	if p.tok.tok != RPAREN {
		p.syntaxError(")")
	}
	s.SetSpan(start, p.tok.end)
	p.next()
	return s
}

// offsetof parses offsetof(type, field[.field...]).
func (p *parser) offsetof() *OffsetofExpr {
	start := p.tok.pos
	p.next()
	p.expectLParen()
	o := &OffsetofExpr{TypeArg: p.typeName()}
	if p.tok.tok != COMMA {
		p.syntaxError(nameComma)
	}
	p.next()
	for {
		name, ok := p.fieldName()
		if !ok {
			p.syntaxError("identifier")
		}
		o.Fields = append(o.Fields, name)
		p.next()
		if p.tok.tok != DOT {
			break
		}
		p.next()
	}
	if p.tok.tok != RPAREN {
		p.syntaxError(")", ".")
	}
	o.SetSpan(start, p.tok.end)
	p.next()
	return o
}

// fieldName returns the current token as a field name, if it can be one:
// any identifier, including bpftrace's builtin and function words.
func (p *parser) fieldName() (string, bool) {
	switch p.tok.tok {
	case IDENT, SIZEOF, OFFSETOF:
		return p.tok.text, true
	}
	return "", false
}

// postfix applies field access, tuple index, array index and x++/x-- to
// x. paren reports that x was parenthesised.
func (p *parser) postfix(x Expr, paren bool) Expr {
	start, _ := x.Span()
	return p.postfixFrom(x, paren, start)
}

// postfixFrom is postfix whose first operation starts at from.
func (p *parser) postfixFrom(x Expr, paren bool, from Pos) Expr {
	direct := !paren // x is still the bare primary
	for first := true; ; first = false {
		start, _ := x.Span()
		if first {
			start = from
		}
		switch p.tok.tok {
		case DOT:
			p.next()
			if p.tok.tok == INT {
				idx := p.tok.val
				if idx > 1<<31 {
					idx = 1 << 31
				}
				t := &TupleIndexExpr{X: x, Index: int(idx)}
				t.SetSpan(start, p.tok.end)
				p.next()
				x = t
			} else {
				name, ok := p.fieldName()
				if !ok {
					p.syntaxError()
				}
				f := &FieldExpr{X: x, Field: name}
				f.SetSpan(start, p.tok.end)
				p.next()
				x = f
			}
		case ARROW:
			p.next()
			name, ok := p.fieldName()
			if !ok {
				p.syntaxError()
			}
			f := &FieldExpr{X: x, Field: name, Arrow: true}
			f.SetSpan(start, p.tok.end)
			p.next()
			x = f
		case LBRACK:
			p.next()
			idx := p.expr()
			if p.tok.tok != RBRACK {
				p.syntaxError("]")
			}
			e := &IndexExpr{X: x, Index: idx}
			e.SetSpan(start, p.tok.end)
			p.next()
			x = e
		case INC, DEC:
			op, word := PostInc, "++"
			if p.tok.tok == DEC {
				op, word = PostDec, "--"
			}
			if !direct {
				return x
			}
			switch x.(type) {
			case *MapExpr, *VarExpr:
			case *IdentExpr:
				p.fail(start, p.prev.end, "The "+word+" operator must be applied to a map or variable")
			default:
				return x
			}
			e := &PostfixExpr{Op: op, X: x}
			e.SetSpan(start, p.tok.end)
			p.next()
			x = e
		default:
			return x
		}
		direct = false
	}
}
