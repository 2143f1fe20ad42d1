package lang

// The C preprocessor subset bpftrace programs use.
//
// bpftrace 0.17 hands the lines before the first probe to libclang, which
// preprocesses them, and then expands the object-like macros clang found
// wherever an identifier names one in the probes (its lexer re-reads the
// replacement text). We have no clang, so this file does the part the
// tools need, in-line with scanning:
//
//   - #include <...> and "..." are recorded (Program.Includes). A file
//     ParseOptions.ReadInclude returns is read in place of the line
//     (include.go): a user's own header adds its macros and C types. The
//     others are not read: kernel types come from BTF through the
//     checker's TypeSource, and the constants tools use from headers
//     (AF_INET, TCP_CLOSE, ...) are the checker's well-known constants.
//   - #define NAME text defines an object-like macro, recorded in
//     Program.Defines; #define NAME(a, b) text a function-like one, which
//     the scanner expands too (bpftrace cannot). '#' and '##' inside a
//     replacement are not supported and are reported as such.
//   - #undef, #ifdef, #ifndef, #if, #elif, #else, #endif, with defined(X)
//     and C integer expressions; BPFTRACE_HAVE_BTF is defined when
//     ParseOptions.HaveBTF is set, and -D style ParseOptions.Defines are
//     predefined.
//   - #error reports an error, #warning a warning; #pragma, #line and
//     #ident are ignored; anything else is an invalid directive.
//
// Expansion follows C's rescanning rule with hide sets: a macro is not
// expanded again inside its own replacement, so "#define X X" and mutual
// recursion terminate.

import (
	"fmt"
	"strings"
)

// macro is one #define.
type macro struct {
	name     string
	funcLike bool
	params   []string
	variadic bool
	body     []lexeme
}

// condFrame is one open #if/#ifdef/#ifndef.
type condFrame struct {
	pos     Pos
	end     Pos
	outer   bool // the enclosing region is active
	taken   bool // some branch of this conditional was (or is) active
	active  bool // the current branch is active
	sawElse bool
}

// preprocessor holds the macros and the open conditionals of one parse.
type preprocessor struct {
	file string
	// inHeader is set while an #include'd header is read: its C may hold
	// character constants ('x'), which bpftrace's own syntax has not.
	inHeader bool
	macros   map[string]*macro
	conds    []condFrame
	errs     *ErrorList
	// expanded counts tokens produced by expansion, to stop a macro bomb
	// ("#define A B B", "#define B C C", ...) before it eats the memory.
	expanded int
	bombed   bool
}

const maxExpansion = 1 << 16

func newPreprocessor(file string, errs *ErrorList, opts *ParseOptions) *preprocessor {
	pp := &preprocessor{file: file, macros: map[string]*macro{}, errs: errs}
	if opts.HaveBTF {
		pp.predefine("BPFTRACE_HAVE_BTF", "1")
	}
	for name, value := range opts.Defines {
		pp.predefine(name, value)
	}
	return pp
}

func (pp *preprocessor) predefine(name, value string) {
	var discard ErrorList
	pp.macros[name] = &macro{name: name, body: tokenize(pp.file, value, Pos{}, &discard)}
}

// active reports whether text at this point is compiled.
func (pp *preprocessor) active() bool {
	return len(pp.conds) == 0 || pp.conds[len(pp.conds)-1].active
}

func (pp *preprocessor) errorf(pos, end Pos, format string, args ...any) {
	pp.errs.Add(&Error{File: pp.file, Pos: pos, End: end, Msg: fmt.Sprintf(format, args...)})
}

// tokenize scans text (a directive's operand or a macro's replacement)
// into tokens positioned as if text started at pos, without expanding
// macros.
func tokenize(file, text string, pos Pos, errs *ErrorList) []lexeme {
	return tokenizeC(file, text, pos, errs, false)
}

// tokenizeC is tokenize, reading C character constants when cChars is
// set (a header's directives).
func tokenizeC(file, text string, pos Pos, errs *ErrorList, cChars bool) []lexeme {
	s := newScanner(file, []byte(text), errs)
	s.noCont = true
	s.cChars = cChars
	if pos.IsValid() {
		s.line, s.col = pos.Line, pos.Col
	}
	var out []lexeme
	for {
		l := s.lex()
		if l.tok == EOF {
			return out
		}
		out = append(out, l)
	}
}

// directive processes one '#' line. It returns the Include or Define the
// line adds to the program, if any.
func (pp *preprocessor) directive(l lexeme) (inc *Include, def *Define) {
	text := strings.TrimLeft(l.text[1:], " \t")
	nameLen := 0
	for nameLen < len(text) && (isLetter(text[nameLen]) || isDigit(text[nameLen])) {
		nameLen++
	}
	name, rest := text[:nameLen], text[nameLen:]
	// restPos is where rest starts in the source (exact unless the line
	// had continuations).
	restPos := Pos{l.pos.Line, l.pos.Col + len(l.text) - len(rest)}

	// Inside a false branch only the conditionals matter.
	if !pp.active() {
		switch name {
		case "if", "ifdef", "ifndef":
			pp.conds = append(pp.conds, condFrame{pos: l.pos, end: l.end, outer: false, taken: true})
		case "elif", "else", "endif":
			pp.conditional(name, rest, restPos, l)
		}
		return nil, nil
	}

	switch name {
	case "":
		if strings.TrimSpace(stripComments(text)) != "" {
			pp.errorf(l.pos, l.end, "invalid preprocessing directive")
		}
	case "include", "include_next":
		arg := strings.TrimSpace(stripComments(rest))
		switch {
		case len(arg) >= 2 && arg[0] == '<' && strings.IndexByte(arg, '>') == len(arg)-1:
			return &Include{span: span{l.pos, l.end}, Path: arg[1 : len(arg)-1], System: true}, nil
		case len(arg) >= 2 && arg[0] == '"' && strings.IndexByte(arg[1:], '"') == len(arg)-2:
			return &Include{span: span{l.pos, l.end}, Path: arg[1 : len(arg)-1]}, nil
		}
		pp.errorf(l.pos, l.end, "#include expects \"FILENAME\" or <FILENAME>")
	case "define":
		return nil, pp.define(l, rest, restPos)
	case "undef":
		toks := tokenize(pp.file, rest, restPos, pp.errs)
		if len(toks) == 0 || toks[0].tok != IDENT && !isKeywordTok(toks[0].tok) {
			pp.errorf(l.pos, l.end, "macro name missing")
			return nil, nil
		}
		delete(pp.macros, toks[0].text)
	case "if", "ifdef", "ifndef", "elif", "else", "endif":
		pp.conditional(name, rest, restPos, l)
	case "error":
		pp.errorf(l.pos, l.end, "#error%s", rest)
	case "warning":
		pp.errs.Add(&Error{File: pp.file, Pos: l.pos, End: l.end, Msg: "#warning" + rest, Severity: SevWarning})
	case "pragma", "line", "ident", "sccs":
		// Nothing for us to do.
	default:
		pp.errorf(l.pos, l.end, "invalid preprocessing directive #%s", name)
	}
	return nil, nil
}

func isKeywordTok(t Token) bool { return t >= IF && t <= ENUM }

// stripComments removes /* */ and // comments from a directive line.
func stripComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			b.WriteString(s[i : j+1])
			i = j
		case strings.HasPrefix(s[i:], "//"):
			return b.String()
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			b.WriteByte(' ')
			i += end + 3
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// define handles "#define NAME[(params)] replacement".
func (pp *preprocessor) define(l lexeme, rest string, restPos Pos) *Define {
	trimmed := strings.TrimLeft(rest, " \t")
	restPos.Col += len(rest) - len(trimmed)
	n := 0
	for n < len(trimmed) && (isLetter(trimmed[n]) || n > 0 && isDigit(trimmed[n])) {
		n++
	}
	if n == 0 {
		if trimmed == "" {
			pp.errorf(l.pos, l.end, "macro name missing")
		} else {
			pp.errorf(l.pos, l.end, "macro name must be an identifier")
		}
		return nil
	}
	m := &macro{name: trimmed[:n]}
	body := trimmed[n:]
	bodyPos := Pos{restPos.Line, restPos.Col + n}
	if strings.HasPrefix(body, "(") {
		// A function-like macro: '(' right after the name.
		m.funcLike = true
		close := strings.IndexByte(body, ')')
		if close < 0 {
			pp.errorf(l.pos, l.end, "missing ')' in macro parameter list of %s", m.name)
			return nil
		}
		for _, p := range strings.Split(body[1:close], ",") {
			p = strings.TrimSpace(p)
			switch {
			case p == "" && close == 1:
				// "NAME()" has no parameters.
			case p == "...":
				m.variadic = true
				m.params = append(m.params, "__VA_ARGS__")
			case isIdentifier(p):
				m.params = append(m.params, p)
			default:
				pp.errorf(l.pos, l.end, "invalid macro parameter %q in the definition of %s", p, m.name)
				return nil
			}
		}
		bodyPos.Col += close + 1
		body = body[close+1:]
	}
	value := strings.Join(strings.Fields(stripComments(body)), " ")
	if strings.Contains(value, "#") {
		pp.errorf(l.pos, l.end, "macro %s uses '#' or '##' (stringizing or token pasting), which is not supported", m.name)
		return nil
	}
	m.body = tokenizeC(pp.file, stripComments(body), bodyPos, pp.errs, pp.inHeader)
	pp.macros[m.name] = m
	if m.funcLike {
		return nil
	}
	return &Define{span: span{l.pos, l.end}, Name: m.name, Value: value}
}

func isIdentifier(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// conditional handles #if, #ifdef, #ifndef, #elif, #else and #endif.
func (pp *preprocessor) conditional(name, rest string, restPos Pos, l lexeme) {
	switch name {
	case "if", "ifdef", "ifndef":
		var v bool
		if name == "if" {
			v = pp.eval(rest, restPos, l) != 0
		} else {
			toks := tokenize(pp.file, rest, restPos, pp.errs)
			if len(toks) == 0 || toks[0].tok != IDENT && !isKeywordTok(toks[0].tok) {
				pp.errorf(l.pos, l.end, "macro name missing")
			} else {
				_, v = pp.macros[toks[0].text]
			}
			if name == "ifndef" {
				v = !v
			}
		}
		pp.conds = append(pp.conds, condFrame{pos: l.pos, end: l.end, outer: true, taken: v, active: v})
	case "elif":
		if len(pp.conds) == 0 {
			pp.errorf(l.pos, l.end, "#elif without #if")
			return
		}
		f := &pp.conds[len(pp.conds)-1]
		if f.sawElse {
			pp.errorf(l.pos, l.end, "#elif after #else")
		}
		if !f.outer || f.taken {
			f.active = false
			return
		}
		f.active = pp.eval(rest, restPos, l) != 0
		f.taken = f.active
	case "else":
		if len(pp.conds) == 0 {
			pp.errorf(l.pos, l.end, "#else without #if")
			return
		}
		f := &pp.conds[len(pp.conds)-1]
		if f.sawElse {
			pp.errorf(l.pos, l.end, "#else after #else")
		}
		f.sawElse = true
		f.active = f.outer && !f.taken
		f.taken = true
	case "endif":
		if len(pp.conds) == 0 {
			pp.errorf(l.pos, l.end, "#endif without #if")
			return
		}
		pp.conds = pp.conds[:len(pp.conds)-1]
	}
}

// finish reports conditionals left open at the end of the source.
func (pp *preprocessor) finish() {
	for _, f := range pp.conds {
		pp.errorf(f.pos, f.end, "unterminated conditional directive")
	}
	pp.conds = nil
}

// expand replaces the identifier l by its macro's expansion, pushing the
// tokens back onto s's queue, and reports whether it did.
func (pp *preprocessor) expand(s *scanner, l lexeme) bool {
	m := pp.macros[l.text]
	if m == nil || pp.bombed {
		return false
	}
	for _, h := range l.hide {
		if h == m.name {
			return false
		}
	}
	end := l.end
	var args [][]lexeme
	if m.funcLike {
		next := s.scanRaw()
		if next.tok != LPAREN {
			s.unread(next)
			return false
		}
		var ok bool
		args, end, ok = pp.collectArgs(s, m, l)
		if !ok {
			return true // the error is reported; drop the invocation
		}
	}
	hide := append(append([]string(nil), l.hide...), m.name)
	out := make([]lexeme, 0, len(m.body))
	emit := func(t lexeme, first bool) {
		t.pos, t.end, t.off = l.pos, end, l.off
		t.newline = first && l.newline
		if len(t.hide) == 0 {
			t.hide = hide
		} else {
			t.hide = append(append([]string(nil), t.hide...), hide...)
		}
		out = append(out, t)
	}
	for _, t := range m.body {
		first := len(out) == 0
		if m.funcLike && t.tok == IDENT {
			if i := indexOf(m.params, t.text); i >= 0 {
				if i < len(args) {
					for _, a := range args[i] {
						emit(a, len(out) == 0)
					}
				}
				continue
			}
		}
		emit(t, first)
	}
	pp.expanded += len(out)
	if pp.expanded > maxExpansion {
		pp.bombed = true
		pp.errorf(l.pos, l.end, "macro expansion of %s is too large", m.name)
		return true
	}
	s.queue = append(out, s.queue...)
	return true
}

// scanRaw returns the next token without expanding it.
func (s *scanner) scanRaw() lexeme {
	if len(s.queue) > 0 {
		l := s.queue[0]
		s.queue = s.queue[1:]
		return l
	}
	return s.lex()
}

// collectArgs reads a function-like macro's arguments after its '(':
// comma-separated token lists, parentheses balanced.
func (pp *preprocessor) collectArgs(s *scanner, m *macro, name lexeme) ([][]lexeme, Pos, bool) {
	var args [][]lexeme
	var cur []lexeme
	depth := 0
	for {
		t := s.scanRaw()
		switch {
		case t.tok == EOF || t.tok == DIRECTIVE:
			pp.errorf(name.pos, name.end, "unterminated argument list invoking macro %s", m.name)
			if t.tok == DIRECTIVE {
				s.unread(t)
			}
			return nil, t.end, false
		case t.tok == LPAREN:
			depth++
		case t.tok == RPAREN && depth > 0:
			depth--
		case t.tok == RPAREN:
			args = append(args, cur)
			if len(args) == 1 && len(args[0]) == 0 && len(m.params) == 0 {
				args = nil
			}
			if len(args) != len(m.params) && !(m.variadic && len(args) >= len(m.params)-1) {
				pp.errorf(name.pos, t.end, "macro %s takes %d arguments, %d given", m.name, len(m.params), len(args))
				return nil, t.end, false
			}
			if m.variadic && len(args) > len(m.params) {
				// Join the extra arguments back into __VA_ARGS__.
				last := len(m.params) - 1
				var va []lexeme
				for i, a := range args[last:] {
					if i > 0 {
						va = append(va, lexeme{tok: COMMA, text: ","})
					}
					va = append(va, a...)
				}
				args = append(args[:last], va)
			}
			return args, t.end, true
		case t.tok == COMMA && depth == 0:
			args = append(args, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// eval evaluates the expression of #if or #elif.
func (pp *preprocessor) eval(text string, pos Pos, l lexeme) int64 {
	var errs ErrorList
	raw := tokenizeC(pp.file, text, pos, &errs, pp.inHeader)
	for _, e := range errs {
		pp.errs.Add(e)
	}
	// Replace defined X and defined(X) before expanding macros.
	var toks []lexeme
	for i := 0; i < len(raw); i++ {
		t := raw[i]
		if t.tok == IDENT && t.text == "defined" {
			name := ""
			switch {
			case i+1 < len(raw) && raw[i+1].tok == IDENT:
				name = raw[i+1].text
				i++
			case i+3 < len(raw) && raw[i+1].tok == LPAREN && raw[i+2].tok == IDENT && raw[i+3].tok == RPAREN:
				name = raw[i+2].text
				i += 3
			default:
				pp.errorf(l.pos, l.end, "macro name missing after defined")
				return 0
			}
			v := uint64(0)
			if _, ok := pp.macros[name]; ok {
				v = 1
			}
			toks = append(toks, lexeme{tok: INT, val: v, pos: t.pos, end: t.end, text: fmt.Sprint(v)})
			continue
		}
		toks = append(toks, t)
	}
	// Expand macros through a scanner fed only with these tokens.
	var empty ErrorList
	s := newScanner(pp.file, nil, &empty)
	s.pp = pp
	s.queue = toks
	var expanded []lexeme
	for {
		t := s.scan()
		if t.tok == EOF {
			break
		}
		expanded = append(expanded, t)
	}
	for _, e := range empty {
		pp.errs.Add(e)
	}
	if len(expanded) == 0 {
		pp.errorf(l.pos, l.end, "#if with no expression")
		return 0
	}
	e := &constEval{toks: expanded, undefinedIsZero: true}
	v, err := e.run()
	if err != "" {
		pp.errorf(l.pos, l.end, "%s", err)
		return 0
	}
	return v
}

// constEval evaluates a C integer constant expression over tokens: the
// operand of #if, an enumerator's value, an array dimension. Identifiers
// are looked up in names; with undefinedIsZero (as in #if) an unknown one
// is 0, otherwise an error.
type constEval struct {
	toks            []lexeme
	i               int
	names           map[string]int64
	undefinedIsZero bool
	err             string
}

func (e *constEval) run() (int64, string) {
	v := e.ternary()
	if e.err == "" && e.i < len(e.toks) {
		e.fail("unexpected %s in constant expression", tokenText(e.toks[e.i]))
	}
	return v, e.err
}

func (e *constEval) fail(format string, args ...any) {
	if e.err == "" {
		e.err = fmt.Sprintf(format, args...)
	}
	e.i = len(e.toks)
}

func (e *constEval) peek() Token {
	if e.i < len(e.toks) {
		return e.toks[e.i].tok
	}
	return EOF
}

func (e *constEval) ternary() int64 {
	c := e.binary(0)
	if e.peek() != QUESTION {
		return c
	}
	e.i++
	a := e.ternary()
	if e.peek() != COLON {
		e.fail("expected ':' in constant expression")
		return 0
	}
	e.i++
	b := e.ternary()
	if c != 0 {
		return a
	}
	return b
}

// constPrec are C's binary operator precedences, loosest first.
var constPrec = map[Token]int{
	LOR: 1, LAND: 2, PIPE: 3, CARET: 4, AMP: 5, EQ: 6, NE: 6,
	LT: 7, LE: 7, GT: 7, GE: 7, SHL: 8, SHR: 8, PLUS: 9, MINUS: 9,
	STAR: 10, SLASH: 10, PERCENT: 10,
}

func (e *constEval) binary(min int) int64 {
	x := e.unary()
	for {
		op := e.peek()
		prec, ok := constPrec[op]
		if !ok || prec <= min {
			return x
		}
		e.i++
		y := e.binary(prec)
		switch op {
		case LOR:
			x = b2i(x != 0 || y != 0)
		case LAND:
			x = b2i(x != 0 && y != 0)
		case PIPE:
			x |= y
		case CARET:
			x ^= y
		case AMP:
			x &= y
		case EQ:
			x = b2i(x == y)
		case NE:
			x = b2i(x != y)
		case LT:
			x = b2i(x < y)
		case LE:
			x = b2i(x <= y)
		case GT:
			x = b2i(x > y)
		case GE:
			x = b2i(x >= y)
		case SHL:
			x <<= uint64(y) & 63
		case SHR:
			x >>= uint64(y) & 63
		case PLUS:
			x += y
		case MINUS:
			x -= y
		case STAR:
			x *= y
		case SLASH, PERCENT:
			if y == 0 {
				e.fail("division by zero in constant expression")
				return 0
			}
			if x == -1<<63 && y == -1 {
				y = 1
			}
			if op == SLASH {
				x /= y
			} else {
				x %= y
			}
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (e *constEval) unary() int64 {
	if e.i >= len(e.toks) {
		e.fail("constant expression ends too soon")
		return 0
	}
	t := e.toks[e.i]
	e.i++
	switch t.tok {
	case INT:
		return int64(t.val)
	case PLUS:
		return e.unary()
	case MINUS:
		return -e.unary()
	case NOT:
		return b2i(e.unary() == 0)
	case TILDE:
		return ^e.unary()
	case LPAREN:
		v := e.ternary()
		if e.peek() != RPAREN {
			e.fail("expected ')' in constant expression")
			return 0
		}
		e.i++
		return v
	case IDENT:
		if v, ok := e.names[t.text]; ok {
			return v
		}
		if e.undefinedIsZero {
			return 0
		}
		e.fail("%s is not a known constant", t.text)
		return 0
	}
	if isKeywordTok(t.tok) && e.undefinedIsZero {
		return 0
	}
	e.fail("unexpected %s in constant expression", tokenText(t))
	return 0
}

// tokenText is how a token reads in a message.
func tokenText(t lexeme) string {
	switch t.tok {
	case EOF:
		return "end of file"
	case STRING:
		return "string"
	case INT, IDENT:
		return t.text
	}
	if t.text != "" {
		return t.text
	}
	return t.tok.String()
}
