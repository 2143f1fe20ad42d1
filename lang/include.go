package lang

// Reading #include'd headers.
//
// bpftrace 0.17 runs a program's preamble through clang, so a user's own
// header adds its macros and types to the program. lang reads no files:
// ParseOptions.ReadInclude finds a header and returns its text, and the
// parser reads it here, in place of the #include line, with the same
// preprocessor (a header's macros and #ifndef guards are the program's)
// and its own scanner, file name and text (so errors inside it name the
// header and quote its lines).
//
// A header holds C, not bpftrace: what is read from it is the subset the
// program's preamble allows (directives; struct, union and enum
// definitions) plus typedefs. Other declarations (function prototypes,
// variables, inline functions) declare nothing a probe can use and are
// skipped. C's character constants ('x', '\n') are integers there. A
// header that includes itself without a guard stops at maxIncludeDepth,
// as clang's does, and "#pragma once" is honoured.

import (
	"fmt"
	"strconv"
	"strings"
)

// maxIncludeDepth is clang's limit on nested #includes.
const maxIncludeDepth = 200

// maxHeaderReads and maxHeaderBytes bound the headers one program reads,
// counting every read of a header read again. Depth alone does not: a
// header without a guard that includes itself twice would be read 2^200
// times, and the kernel process would hang on the cell.
const (
	maxHeaderReads = 1000
	maxHeaderBytes = 64 << 20
)

// readIncludeFiles reads ParseOptions.IncludeFiles before the program.
func (p *parser) readIncludeFiles() {
	if p.opts.ReadInclude == nil {
		return
	}
	for _, f := range p.opts.IncludeFiles {
		name, src, ok := p.opts.ReadInclude(f, false, p.file)
		if ok {
			p.readHeader(nil, name, src)
		}
	}
}

// include reads the header inc names, if ReadInclude finds it, in place
// of the line; the current token is the #include line.
func (p *parser) include(inc *Include) {
	inc.In = p.hdr
	if p.opts.ReadInclude == nil {
		return
	}
	name, src, ok := p.opts.ReadInclude(inc.Path, inc.System, p.file)
	if !ok {
		return
	}
	if len(p.includeStack) >= maxIncludeDepth {
		// Once: a cycle that branches reaches the limit many times.
		if !p.tooDeep {
			p.tooDeep = true
			p.errs.Add(&Error{File: p.file, Pos: inc.Start, End: inc.Stop, Msg: "#include nested too deeply"})
		}
		return
	}
	if p.headerReads >= maxHeaderReads || p.headerBytes+len(src) > maxHeaderBytes {
		if !p.tooManyHeaders {
			p.tooManyHeaders = true
			p.errs.Add(&Error{File: p.file, Pos: inc.Start, End: inc.Stop,
				Msg: fmt.Sprintf("too many #includes: a program may read at most %d headers and %d MiB of them (a header without an include guard that includes itself?)", maxHeaderReads, maxHeaderBytes>>20)})
		}
		return
	}
	p.headerReads++
	p.headerBytes += len(src)
	inc.Header = p.readHeader(inc, name, src)
}

// readHeader parses one header's text, then returns to the including
// file where it left off. It returns nil when "#pragma once" skipped it.
func (p *parser) readHeader(inc *Include, name string, src []byte) *Header {
	if p.once[name] {
		return nil
	}
	h := &Header{Name: name, Src: src}
	p.prog.Headers = append(p.prog.Headers, h)

	// The including file's state, restored when the header ends. The
	// macros are shared; the open conditionals are each file's own.
	sc, file, text, hdr, tok, prev, ahead := p.sc, p.file, p.src, p.hdr, p.tok, p.prev, p.ahead
	ppFile, conds, inHeader := p.pp.file, p.pp.conds, p.pp.inHeader
	p.includeStack = append(p.includeStack, name)

	p.sc = newScanner(name, src, &p.errs)
	p.sc.pp = p.pp
	p.sc.cChars = true
	p.file, p.src, p.hdr, p.ahead = name, src, h, nil
	p.pp.file, p.pp.conds, p.pp.inHeader = name, nil, true
	p.next()
	p.headerDecls()
	p.pp.finish()

	p.includeStack = p.includeStack[:len(p.includeStack)-1]
	p.sc, p.file, p.src, p.hdr, p.tok, p.prev, p.ahead = sc, file, text, hdr, tok, prev, ahead
	p.pp.file, p.pp.conds, p.pp.inHeader = ppFile, conds, inHeader
	return h
}

// headerDecls parses a header's declarations up to its end.
func (p *parser) headerDecls() {
	for p.tok.tok != EOF {
		switch {
		case p.tok.tok == DIRECTIVE:
			if isPragmaOnce(p.tok.text) {
				p.once[p.file] = true
			}
			p.directive()
		case p.tok.tok == SEMI:
			p.next()
		case p.tok.tok == STRUCT || p.tok.tok == UNION || p.tok.tok == ENUM:
			t := p.tagType(true)
			if t.Anon != nil && t.Anon.Kind == "enum" {
				// Its enumerators are constants the program may use.
				p.prog.Structs = append(p.prog.Structs, t.Anon)
			}
			if p.tok.tok == SEMI {
				p.next()
			} else {
				p.skipDeclaration() // "struct foo *var;", "struct foo f(void);"
			}
		case p.tok.tok == IDENT && p.tok.text == "typedef":
			p.typedef()
		default:
			p.skipDeclaration()
		}
	}
}

func isPragmaOnce(line string) bool {
	f := strings.Fields(stripComments(strings.TrimPrefix(strings.TrimSpace(line), "#")))
	return len(f) == 2 && f[0] == "pragma" && f[1] == "once"
}

// typedef parses "typedef TYPE NAME[, NAME...];"; the current token is
// the word typedef.
func (p *parser) typedef() {
	p.next()
	start := p.tok.pos
	base := p.specifiers()
	for {
		f := p.declarator(base, start)
		if f.Name != "" {
			td := &Typedef{Name: f.Name, Type: f.Type, In: p.hdr}
			td.SetSpan(start, f.Stop)
			p.prog.Typedefs = append(p.prog.Typedefs, td)
		}
		if p.tok.tok != COMMA {
			break
		}
		p.next()
	}
	if p.tok.tok != SEMI {
		p.syntaxError(";")
	}
	p.next()
}

// skipDeclaration skips one C declaration the program has no use for: up
// to the ';' that ends it, or the '}' that ends a function's body.
func (p *parser) skipDeclaration() {
	depth := 0
	for p.tok.tok != EOF {
		switch p.tok.tok {
		case DIRECTIVE:
			if depth == 0 {
				return
			}
			p.directive()
			continue
		case LPAREN, LBRACE, LBRACK:
			depth++
		case RPAREN, RBRACK:
			depth = max(depth-1, 0)
		case RBRACE:
			if depth == 0 {
				break // a stray '}'
			}
			depth--
			if depth == 0 {
				p.next()
				if p.tok.tok == SEMI || p.tok.tok == IDENT && p.tok.text != "typedef" || p.tok.tok == COMMA || p.tok.tok == ASSIGN {
					continue // "struct { ... } x;", "int a[] = {1, 2};"
				}
				return
			}
		case SEMI:
			if depth == 0 {
				p.next()
				return
			}
		}
		p.next()
	}
}

// lexCChar scans a C character constant in a header: 'x', '\n', '\0',
// '\x41', '\101'. Its value is an int, as in C.
func (s *scanner) lexCChar(l *lexeme) bool {
	s.advance() // the opening quote
	var v uint64
	n := 0
	for s.off < len(s.src) && s.src[s.off] != '\'' && s.src[s.off] != '\n' {
		c := s.src[s.off]
		s.advance()
		if c == '\\' && s.off < len(s.src) {
			c = s.src[s.off]
			s.advance()
			switch {
			case c == 'x':
				c = 0
				for s.off < len(s.src) && isHex(s.src[s.off]) {
					c = c<<4 | hexVal(s.src[s.off])
					s.advance()
				}
			case '0' <= c && c <= '7':
				c -= '0'
				for i := 0; i < 2 && s.off < len(s.src) && '0' <= s.src[s.off] && s.src[s.off] <= '7'; i++ {
					c = c<<3 | (s.src[s.off] - '0')
					s.advance()
				}
			default:
				if e, ok := cEscapes[c]; ok {
					c = e
				}
			}
		}
		v = v<<8 | uint64(c)
		n++
	}
	if s.off >= len(s.src) || s.src[s.off] != '\'' || n == 0 {
		s.errorAt(l.off, l.pos, s.pos(), "invalid character constant")
		return false
	}
	s.advance()
	l.tok, l.val, l.text = INT, v, strconv.FormatUint(v, 10) // as a literal would spell it
	return true
}

// cEscapes are C's simple escape sequences.
var cEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'a': 7, 'b': 8, 'f': 12, 'v': 11, '\\': '\\', '\'': '\'', '"': '"', '?': '?'}

func hexVal(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
