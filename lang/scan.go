package lang

// The scanner turns source bytes into lexemes.
//
// It follows bpftrace 0.17's flex lexer (src/lexer.l) where that decides
// what a program means: integer literal forms and their error messages,
// string escapes, "#!" lines, which '/' closes a predicate, "invalid
// character" errors. Where flex's behaviour is an accident of its
// implementation we do the plain thing instead and say so:
//
//   - Positions are exact. bpftrace's locations only restart after
//     whitespace, so in "BEGIN{@x=1;;}" it reports the second ';' as
//     1:1-13; we report 1:12-13. On spaced-out code both agree.
//   - A program with nothing but a comment is empty, not "unexpected end
//     predicate".
//
// The scanner has two modes, as goawk's lexer has for regular
// expressions: the parser calls scanAttach at the start of every attach
// point, because "uprobe:/bin/bash:readline" and "kprobe:vfs_*" do not
// tokenize like expressions. Everything else is scanned by scan, which
// also expands #define'd macros (cpp.go) wherever an identifier names one.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A lexeme is one scanned token with where it is and what it says.
type lexeme struct {
	tok      Token
	pos, end Pos // end is exclusive
	off      int // byte offset of the start in the source (for a macro's expansion, of the macro's name)

	// text is what the token says: an identifier's name, a variable or
	// map as written ("$x", "@m", "@"), a positional parameter ("$1"), an
	// integer as written, a string's decoded value, a directive's line
	// (continuations joined), an attach point's raw text.
	text string
	val  uint64 // an integer's value

	// endPred marks a '/' that bpftrace's lexer takes for the end of a
	// predicate: one followed by optional white space and then '{' or '/'.
	endPred bool
	// newline is set on the first token of a line; a notebook cell's
	// top-level statements may be separated by newlines alone.
	newline bool
	// hide lists the macros whose expansion produced this token; they are
	// not expanded again inside it (C's rule, which stops recursion).
	hide []string
}

// scanner reads one source text.
type scanner struct {
	file      string
	src       []byte
	off       int
	line, col int
	lastLine  int // line of the last token returned, for lexeme.newline

	errs   *ErrorList
	marks  []errMark // the errors this scanner added, for rewind
	pp     *preprocessor
	queue  []lexeme // tokens of a macro expansion not yet returned
	skip   bool     // inside a false #if: return only directive lines
	noCont bool     // a directive's own text: no '#' lines inside
	cChars bool     // C text (a header): 'x' is a character constant
}

type errMark struct{ idx, off int }

func newScanner(file string, src []byte, errs *ErrorList) *scanner {
	return &scanner{file: file, src: src, line: 1, col: 1, errs: errs}
}

func (s *scanner) pos() Pos { return Pos{s.line, s.col} }

// errorAt records a scanner error spanning [pos, end) that began at byte
// offset off.
func (s *scanner) errorAt(off int, pos, end Pos, msg string) {
	s.marks = append(s.marks, errMark{len(*s.errs), off})
	s.errs.Add(&Error{File: s.file, Pos: pos, End: end, Msg: msg})
}

// advance moves over one byte.
func (s *scanner) advance() {
	if s.src[s.off] == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	s.off++
}

func (s *scanner) peekByte(i int) byte {
	if s.off+i < len(s.src) {
		return s.src[s.off+i]
	}
	return 0
}

// rewind moves back to the start of l, forgetting the errors reported
// since, so that the parser can re-read l's text in attach-point mode.
func (s *scanner) rewind(l lexeme) {
	s.off = l.off
	s.line, s.col = l.pos.Line, l.pos.Col
	s.queue = nil
	if l.newline {
		s.lastLine = 0
	}
	cut := -1
	for i := len(s.marks) - 1; i >= 0 && s.marks[i].off >= l.off; i-- {
		cut = i
	}
	if cut >= 0 {
		idx := s.marks[cut].idx
		if idx <= len(*s.errs) {
			*s.errs = (*s.errs)[:idx]
		}
		s.marks = s.marks[:cut]
	}
}

// scan returns the next token, expanding macros.
func (s *scanner) scan() lexeme {
	for {
		var l lexeme
		if len(s.queue) > 0 {
			l = s.queue[0]
			s.queue = s.queue[1:]
		} else {
			l = s.lex()
		}
		if l.tok == IDENT && s.pp != nil && s.pp.expand(s, l) {
			continue
		}
		return l
	}
}

// unread puts l back in front of the queue (a function-like macro's name
// that turned out not to be followed by '(').
func (s *scanner) unread(l lexeme) {
	s.queue = append([]lexeme{l}, s.queue...)
}

// lex scans one token from the source.
func (s *scanner) lex() lexeme {
	for {
		if s.skip {
			s.skipInactive()
		}
		s.skipSpace()
		start, pos := s.off, s.pos()
		l := lexeme{pos: pos, off: start}
		if s.off >= len(s.src) {
			l.tok = EOF
			l.end = pos
			return l
		}
		if ok := s.lexToken(&l); !ok {
			continue // an error that yields no token, as in flex
		}
		l.end = s.pos()
		l.newline = pos.Line > s.lastLine
		s.lastLine = s.line
		return l
	}
}

// skipSpace skips white space, comments and "#!" lines.
func (s *scanner) skipSpace() {
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			s.advance()
		case c == '/' && s.peekByte(1) == '/':
			for s.off < len(s.src) && s.src[s.off] != '\n' {
				s.advance()
			}
		case c == '/' && s.peekByte(1) == '*':
			off, pos := s.off, s.pos()
			s.advance()
			s.advance()
			for {
				if s.off >= len(s.src) {
					s.errorAt(off, pos, s.pos(), "end of file during comment")
					return
				}
				if s.src[s.off] == '*' && s.peekByte(1) == '/' {
					s.advance()
					s.advance()
					break
				}
				s.advance()
			}
		case c == '#' && s.col == 1 && s.peekByte(1) == '!':
			for s.off < len(s.src) && s.src[s.off] != '\n' {
				s.advance()
			}
		default:
			return
		}
	}
}

// skipInactive skips the lines of a false #if branch up to the next line
// that is a directive, which the parser hands back to the preprocessor.
func (s *scanner) skipInactive() {
	for s.off < len(s.src) {
		// Finish the current line.
		for s.off < len(s.src) && s.src[s.off] != '\n' {
			s.advance()
		}
		if s.off >= len(s.src) {
			return
		}
		s.advance()
		i := s.off
		for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t') {
			i++
		}
		if i < len(s.src) && s.src[i] == '#' {
			for s.off < i {
				s.advance()
			}
			return
		}
	}
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// lexToken scans the token at s.off into l. It returns false when what is
// there yields no token (an error flex reports and skips).
func (s *scanner) lexToken(l *lexeme) bool {
	c := s.src[s.off]
	switch {
	case isLetter(c):
		start := s.off
		for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
			s.advance()
		}
		l.text = string(s.src[start:s.off])
		l.tok = LookupKeyword(l.text)
		return true
	case isDigit(c):
		return s.lexNumber(l)
	case c == '\'' && s.cChars:
		return s.lexCChar(l)
	case c == '"':
		v, ok := s.scanString()
		if !ok {
			return false
		}
		l.tok, l.text = STRING, v
		return true
	case c == '@':
		start := s.off
		s.advance()
		if s.off < len(s.src) && isLetter(s.src[s.off]) {
			for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
				s.advance()
			}
		}
		l.tok, l.text = MAP, string(s.src[start:s.off])
		return true
	case c == '$':
		start := s.off
		n := s.peekByte(1)
		switch {
		case isLetter(n):
			s.advance()
			for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
				s.advance()
			}
			l.tok = VAR
		case isDigit(n):
			s.advance()
			for s.off < len(s.src) && isDigit(s.src[s.off]) {
				s.advance()
			}
			l.tok = POSITIONAL
		case n == '#':
			s.advance()
			s.advance()
			l.tok = PARAMCOUNT
		default:
			s.advance()
			s.errorAt(start, l.pos, s.pos(), "invalid character '$'")
			return false
		}
		l.text = string(s.src[start:s.off])
		return true
	case c == '#':
		if s.peekByte(1) == '!' || s.noCont {
			s.advance()
			s.errorAt(l.off, l.pos, s.pos(), "invalid character '#'")
			return false
		}
		l.tok, l.text = DIRECTIVE, s.lexDirective()
		return true
	}
	if t, n := punct(s.src[s.off:]); n > 0 {
		for i := 0; i < n; i++ {
			s.advance()
		}
		l.tok = t
		l.text = string(s.src[l.off:s.off])
		if t == SLASH {
			l.endPred = s.closesPredicate()
		}
		return true
	}
	// Anything else is an invalid character; a UTF-8 sequence counts as one.
	r, size := utf8.DecodeRune(s.src[s.off:])
	text := string(s.src[s.off : s.off+size])
	if r == utf8.RuneError && size <= 1 {
		size = 1
		text = string(s.src[s.off : s.off+1])
	}
	for i := 0; i < size; i++ {
		s.advance()
	}
	s.errorAt(l.off, l.pos, s.pos(), fmt.Sprintf("invalid character '%s'", text))
	return false
}

// closesPredicate reports whether the '/' just scanned is followed by
// optional white space and then '{' or '/' (flex's ENDPRED rule).
func (s *scanner) closesPredicate() bool {
	for i := s.off; i < len(s.src); i++ {
		switch s.src[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '/':
			return true
		}
		return false
	}
	return false
}

// punctuation, longest first where one is a prefix of another.
var puncts = []struct {
	text string
	tok  Token
}{
	{"<<=", SHL_ASSIGN}, {">>=", SHR_ASSIGN},
	{"->", ARROW}, {"++", INC}, {"--", DEC}, {"<<", SHL}, {">>", SHR},
	{"<=", LE}, {">=", GE}, {"==", EQ}, {"!=", NE}, {"&&", LAND}, {"||", LOR},
	{"+=", ADD_ASSIGN}, {"-=", SUB_ASSIGN}, {"*=", MUL_ASSIGN}, {"/=", DIV_ASSIGN},
	{"%=", MOD_ASSIGN}, {"&=", AND_ASSIGN}, {"|=", OR_ASSIGN}, {"^=", XOR_ASSIGN},
	{"{", LBRACE}, {"}", RBRACE}, {"(", LPAREN}, {")", RPAREN}, {"[", LBRACK}, {"]", RBRACK},
	{";", SEMI}, {",", COMMA}, {":", COLON}, {"?", QUESTION}, {".", DOT}, {"/", SLASH},
	{"+", PLUS}, {"-", MINUS}, {"*", STAR}, {"%", PERCENT}, {"&", AMP}, {"|", PIPE},
	{"^", CARET}, {"!", NOT}, {"~", TILDE}, {"<", LT}, {">", GT}, {"=", ASSIGN},
}

func punct(b []byte) (Token, int) {
	for _, p := range puncts {
		if len(b) >= len(p.text) && string(b[:len(p.text)]) == p.text {
			return p.tok, len(p.text)
		}
	}
	return ILLEGAL, 0
}

// lexDirective scans a '#' line to its end, joining backslash
// continuations, and returns its text.
func (s *scanner) lexDirective() string {
	var b strings.Builder
	for s.off < len(s.src) {
		c := s.src[s.off]
		if c == '\n' {
			break
		}
		if c == '\\' && s.peekByte(1) == '\n' {
			s.advance()
			s.advance()
			b.WriteByte(' ')
			continue
		}
		if c == '\\' && s.peekByte(1) == '\r' && s.peekByte(2) == '\n' {
			s.advance()
			s.advance()
			s.advance()
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
		s.advance()
	}
	return strings.TrimRight(b.String(), " \t\r")
}

// lexNumber scans an integer literal as flex does: decimal digits with '_'
// separators and a C suffix (U, L, UL, LL, ULL), hex "0x..", or
// scientific "NeM". A literal whose value is invalid is reported with
// bpftrace's message and yields no token.
func (s *scanner) lexNumber(l *lexeme) bool {
	start := s.off
	if s.src[s.off] == '0' && (s.peekByte(1) == 'x' || s.peekByte(1) == 'X') && isHex(s.peekByte(2)) {
		s.advance()
		s.advance()
		for s.off < len(s.src) && isHex(s.src[s.off]) {
			s.advance()
		}
	} else {
		s.lexDecimal()
		if c := s.peekByte(0); (c == 'e' || c == 'E') && isDigit(s.peekByte(1)) {
			s.advance()
			s.lexDecimal()
		}
	}
	l.text = string(s.src[start:s.off])
	v, err := parseIntLit(l.text)
	if err != "" {
		s.errorAt(start, l.pos, s.pos(), err)
		return false
	}
	l.tok, l.val = INT, v
	return true
}

// lexDecimal scans [0-9]([0-9_]*[0-9])? and an optional integer suffix.
func (s *scanner) lexDecimal() {
	s.advance()
	end := s.off
	for i := s.off; i < len(s.src) && (isDigit(s.src[i]) || s.src[i] == '_'); i++ {
		if isDigit(s.src[i]) {
			end = i + 1
		}
	}
	for s.off < end {
		s.advance()
	}
	s.advance2(suffixLen(s.src[s.off:]))
}

func (s *scanner) advance2(n int) {
	for i := 0; i < n; i++ {
		s.advance()
	}
}

// suffixLen is the length of the C integer suffix at the start of b:
// ([uU])|([uU]?[lL]?[lL]).
func suffixLen(b []byte) int {
	isU := func(i int) bool { return i < len(b) && (b[i] == 'u' || b[i] == 'U') }
	isL := func(i int) bool { return i < len(b) && (b[i] == 'l' || b[i] == 'L') }
	j := 0
	if isU(0) {
		j = 1
	}
	k := j
	if isL(k) {
		k++
		if isL(k) {
			k++
		}
	}
	return k
}

// parseIntLit evaluates an integer literal as bpftrace's int_parser does,
// returning its error message when it has none.
func parseIntLit(text string) (uint64, string) {
	n := strings.ReplaceAll(text, "_", "")
	if strings.HasPrefix(n, "0x") || strings.HasPrefix(n, "0X") {
		return parseCInt(n, 0)
	}
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		coeff, exp := n[:i], n[i+1:]
		c, err := parseCInt(coeff, 10)
		if err != "" {
			return 0, "Coefficient part of scientific literal is not a valid number: " + coeff + ": " + err
		}
		e, err := parseCInt(exp, 10)
		if err != "" {
			return 0, "Exponent part of scientific literal is not a valid number: " + exp + ": " + err
		}
		if c > 9 {
			return 0, "Coefficient part of scientific literal must be in range (0,9), got: " + coeff
		}
		if e > 16 {
			return 0, "Exponent will overflow integer range: " + exp
		}
		v := c
		for ; e > 0; e-- {
			v *= 10
		}
		return v, ""
	}
	return parseCInt(n, 0)
}

// parseCInt is C++'s std::stoull(num, &idx, base) followed by bpftrace's
// check that what stoull left over is an integer suffix. base 0 means C's
// rule: "0x" hex, a leading "0" octal, else decimal.
func parseCInt(num string, base int) (uint64, string) {
	i := 0
	if base == 0 {
		switch {
		case len(num) > 2 && num[0] == '0' && (num[1] == 'x' || num[1] == 'X') && isHex(num[2]):
			base, i = 16, 2
		case len(num) > 0 && num[0] == '0':
			base = 8
		default:
			base = 10
		}
	}
	j := i
	for j < len(num) && digitVal(num[j]) < base {
		j++
	}
	if j == i {
		return 0, "stoull"
	}
	v, err := strconv.ParseUint(num[i:j], base, 64)
	if err != nil {
		return 0, "stoull"
	}
	if j != len(num) && suffixLen([]byte(num[j:])) != len(num)-j {
		return 0, "Found trailing non-numeric characters"
	}
	return v, ""
}

func digitVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

// scanString scans the string literal at s.off (which is '"') and returns
// its decoded value. ok is false when the literal is unterminated: a
// newline or the end of input comes before the closing quote.
func (s *scanner) scanString() (string, bool) {
	off, pos := s.off, s.pos()
	val, n, problems := unquote(s.src[s.off:])
	for _, p := range problems {
		// Problems are reported at the span from the opening quote to the
		// end of the offending sequence, as bpftrace's lexer does.
		for s.off < off+p.end {
			s.advance()
		}
		s.errorAt(off, pos, s.pos(), p.msg)
	}
	for s.off < off+n {
		s.advance()
	}
	if len(problems) > 0 && problems[len(problems)-1].fatal {
		return "", false
	}
	return val, true
}

type quoteProblem struct {
	end   int // offset just after the offending sequence
	msg   string
	fatal bool // the literal ends here without a token
}

// unquote decodes the string literal at the start of b (b[0] == '"'). It
// returns the value, the number of bytes the literal (or what there is of
// it) takes, and the problems found, in order.
func unquote(b []byte) (string, int, []quoteProblem) {
	var out []byte
	var problems []quoteProblem
	i := 1
	for {
		if i >= len(b) {
			problems = append(problems, quoteProblem{i, "unterminated string", true})
			return string(out), i, problems
		}
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, problems
		case c == '\n':
			problems = append(problems, quoteProblem{i, "unterminated string", true})
			return string(out), i + 1, problems
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		// An escape.
		if i+1 >= len(b) {
			problems = append(problems, quoteProblem{i, "unterminated string", true})
			return string(out), i + 1, problems
		}
		e := b[i+1]
		switch e {
		case 'n':
			out = append(out, '\n')
			i += 2
		case 't':
			out = append(out, '\t')
			i += 2
		case 'r':
			out = append(out, '\r')
			i += 2
		case '"':
			out = append(out, '"')
			i += 2
		case '\\':
			out = append(out, '\\')
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i + 1
			v := 0
			for j < len(b) && j < i+4 && b[j] >= '0' && b[j] <= '7' {
				v = v*8 + int(b[j]-'0')
				j++
			}
			if v > 255 {
				problems = append(problems, quoteProblem{j, "octal escape sequence out of range '" + string(b[i:j]) + "'", false})
			}
			out = append(out, byte(v))
			i = j
		case 'x', 'X':
			j := i + 2
			v := 0
			for j < len(b) && j < i+4 && isHex(b[j]) {
				v = v*16 + digitVal(b[j])
				j++
			}
			if j == i+2 {
				problems = append(problems, quoteProblem{j, "invalid escape character '" + string(b[i:j]) + "'", false})
			} else {
				out = append(out, byte(v))
			}
			i = j
		case '\n':
			// flex's catch-all rule: the backslash is an invalid
			// character and the literal ends there.
			problems = append(problems, quoteProblem{i + 1, "invalid character", true})
			return string(out), i + 1, problems
		default:
			_, size := utf8.DecodeRune(b[i+1:])
			problems = append(problems, quoteProblem{i + 1 + size, "invalid escape character '" + string(b[i:i+1+size]) + "'", false})
			i += 1 + size
		}
	}
}

// scanAttach re-reads the source from the start of l (the token the
// parser holds where a probe begins, or after a ',') as one attach point
// and returns it as an ATTACH lexeme whose text is the raw attach point.
//
// An attach point is a run of identifier characters, digits and
// "* ? + . [ ]", of ':' separators, of quoted strings and of $N
// positional parameters. After the first ':' it may also contain "/ - #"
// (bpftrace's path token), so "uprobe:/bin/bash:readline" is one attach
// point while "BEGIN/pid/" is BEGIN followed by a predicate. It ends at
// white space or any other character, which the parser then reads as an
// ordinary token. The text may be empty (a '{' right where a probe should
// begin); parse_attach.go gives its meaning.
func (s *scanner) scanAttach(l lexeme) lexeme {
	s.rewind(l)
	s.skip = false
	start, pos := s.off, s.pos()
	inPath := false
loop:
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == '"':
			s.scanString()
		case c == ':':
			s.advance()
			inPath = true
		case isLetter(c) || isDigit(c) || c == '.' || c == '*' || c == '?' || c == '+' || c == '[' || c == ']':
			s.advance()
		case inPath && (c == '/' || c == '-' || c == '#'):
			s.advance()
		case inPath && c == '\\' && s.off+1 < len(s.src) && s.src[s.off+1] != '\n':
			s.advance()
			s.advance()
		case c == '$' && (isDigit(s.peekByte(1)) || s.peekByte(1) == '#'):
			s.advance()
			s.advance()
			for s.off < len(s.src) && isDigit(s.src[s.off]) {
				s.advance()
			}
		default:
			break loop
		}
	}
	a := lexeme{tok: ATTACH, pos: pos, end: s.pos(), off: start, text: string(s.src[start:s.off])}
	a.newline = l.newline
	if s.off > start {
		s.lastLine = s.line
	}
	return a
}
