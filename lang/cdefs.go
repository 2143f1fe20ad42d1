package lang

// C definitions before the first probe: struct, union and enum
// definitions, as tools write them to describe kernel types that are not
// in BTF or headers (dcsnoop's struct nameidata, runqlen's struct cfs_rq).
//
// bpftrace 0.17 hands these to libclang; we parse the declarations tools
// write into StructDecl/FieldDecl/TypeExpr and leave layout to the checker:
//
//	struct S { int a; char comm[16]; struct T *next; };
//	union U { u32 x; struct { u16 lo, hi; }; };    anonymous members
//	struct S { unsigned int flag:1, :3, mode:4; };  bitfields
//	struct S { void (*fn)(int, char *); };         function pointers (opaque)
//	enum E { A, B = 4, C = B << 1 };                enumerators, constant values
//
// Array sizes and enumerator values are C constant expressions over
// integers, macros (expanded by the scanner) and earlier enumerators.

import (
	"strconv"
	"strings"
)

// cdefinition parses one top-level struct, union or enum definition, or a
// forward declaration ("struct S;"); the current token is the keyword.
func (p *parser) cdefinition() {
	kw := p.tok
	t := p.tagType(true)
	if t.Anon != nil && t.Anon.Kind != "enum" {
		// An anonymous struct at the top level declares nothing usable;
		// keep it so the checker can say so, as clang warns.
		p.prog.Structs = append(p.prog.Structs, t.Anon)
	}
	if p.prev.tok != RBRACE && p.tok.tok != SEMI {
		p.syntaxError("{")
	}
	if p.tok.tok == SEMI {
		p.next()
	}
	_ = kw
}

// tagType parses "struct|union|enum [NAME] [{ ... }]". A named definition
// is added to Program.Structs and referred to by name; an anonymous one is
// returned in the TypeExpr's Anon.
func (p *parser) tagType(top bool) *TypeExpr {
	start := p.tok.pos
	kw := p.tok.text
	p.next()
	t := &TypeExpr{Name: kw}
	name := ""
	if p.tok.tok == IDENT {
		name = p.tok.text
		t.Name = kw + " " + name
		p.next()
	}
	if p.tok.tok != LBRACE {
		if name == "" {
			p.syntaxError("identifier", "{")
		}
		t.SetSpan(start, p.prev.end)
		return t
	}
	d := &StructDecl{Kind: kw, Name: name, In: p.hdr}
	if kw == "enum" {
		p.enumBody(d)
	} else {
		p.next()
		for p.tok.tok != RBRACE {
			if p.tok.tok == EOF {
				p.syntaxError("}")
			}
			p.member(d)
		}
		p.next()
	}
	d.SetSpan(start, p.prev.end)
	p.skipAttributes()
	if name != "" {
		p.prog.Structs = append(p.prog.Structs, d)
	} else {
		t.Anon = d
	}
	t.SetSpan(start, p.prev.end)
	return t
}

// cQualifiers are words in a declaration that do not change the layout.
var cQualifiers = wordSet("const volatile restrict __restrict __restrict__ register static extern inline __inline __extension__ __user __kernel __iomem __rcu __percpu __force")

// cBaseWords are the words of C's arithmetic types.
var cBaseWords = wordSet("signed unsigned char short int long float double void _Bool __int128 __signed__ __signed")

// member parses one member declaration of a struct or union body.
func (p *parser) member(d *StructDecl) {
	start := p.tok.pos
	base := p.specifiers()
	if p.tok.tok == SEMI {
		// "struct { ... };" inside a record: an anonymous member.
		if base.Anon != nil {
			f := &FieldDecl{Type: base}
			f.SetSpan(start, p.tok.end)
			d.Fields = append(d.Fields, f)
		}
		p.next()
		return
	}
	for {
		f := p.declarator(base, start)
		d.Fields = append(d.Fields, f)
		if p.tok.tok != COMMA {
			break
		}
		p.next()
		start = p.tok.pos
	}
	if p.tok.tok == RBRACE {
		// The last member's ";" may be left out: clang, which parses
		// bpftrace's C definitions, only warns about it.
		return
	}
	if p.tok.tok != SEMI {
		p.syntaxError(";", nameComma)
	}
	p.next()
}

// specifiers parses a declaration's type: qualifiers, attributes, the
// words of an arithmetic type, a struct/union/enum, or a typedef name.
func (p *parser) specifiers() *TypeExpr {
	start := p.tok.pos
	var words []string
	var t *TypeExpr
loop:
	for {
		switch p.tok.tok {
		case STRUCT, UNION, ENUM:
			if t != nil || len(words) > 0 {
				break loop
			}
			t = p.tagType(false)
			continue
		case IDENT:
			w := p.tok.text
			switch {
			case cQualifiers[w]:
				p.next()
			case w == "__attribute__" || w == "__attribute":
				p.skipAttributes()
			case cBaseWords[w] && t == nil:
				words = append(words, w)
				p.next()
			case t == nil && len(words) == 0:
				t = &TypeExpr{Name: w}
				p.next()
			default:
				break loop
			}
			continue
		}
		break
	}
	if t == nil {
		if len(words) == 0 {
			p.syntaxError("type name")
		}
		t = &TypeExpr{Name: canonicalCType(words)}
	}
	t.SetSpan(start, p.prev.end)
	return t
}

// canonicalCType names an arithmetic type in one spelling: "unsigned
// long", "long long", "unsigned char", "int", ...
func canonicalCType(words []string) string {
	n := map[string]int{}
	for _, w := range words {
		if w == "__signed__" || w == "__signed" {
			w = "signed"
		}
		n[w]++
	}
	sign := ""
	if n["unsigned"] > 0 {
		sign = "unsigned "
	}
	switch {
	case n["void"] > 0:
		return "void"
	case n["_Bool"] > 0:
		return "_Bool"
	case n["float"] > 0:
		return "float"
	case n["double"] > 0:
		if n["long"] > 0 {
			return "long double"
		}
		return "double"
	case n["char"] > 0:
		if n["signed"] > 0 {
			return "signed char"
		}
		return sign + "char"
	case n["__int128"] > 0:
		return sign + "__int128"
	case n["short"] > 0:
		return sign + "short"
	case n["long"] >= 2:
		return sign + "long long"
	case n["long"] == 1:
		return sign + "long"
	}
	return sign + "int"
}

// skipAttributes skips "__attribute__((...))" groups.
func (p *parser) skipAttributes() {
	for p.tok.tok == IDENT && (p.tok.text == "__attribute__" || p.tok.text == "__attribute") {
		p.next()
		if p.tok.tok != LPAREN {
			p.syntaxError("(")
		}
		p.skipParens()
	}
}

// skipParens skips a balanced parenthesised group; the current token is
// its '('.
func (p *parser) skipParens() {
	depth := 0
	for {
		switch p.tok.tok {
		case LPAREN:
			depth++
		case RPAREN:
			depth--
		case EOF:
			p.syntaxError(")")
		}
		p.next()
		if depth == 0 {
			return
		}
	}
}

// declarator parses one declarator of a member declaration: pointers, the
// name, array dimensions and a bitfield width, or a function pointer
// "(*name)(params)", which becomes an opaque "void *".
func (p *parser) declarator(base *TypeExpr, start Pos) *FieldDecl {
	t := &TypeExpr{Name: base.Name, Anon: base.Anon}
	t.SetSpan(base.Span())
	f := &FieldDecl{Type: t}
	for p.tok.tok == STAR || p.tok.tok == IDENT && cQualifiers[p.tok.text] {
		if p.tok.tok == STAR {
			t.Ptr++
		}
		p.next()
	}
	switch p.tok.tok {
	case IDENT:
		f.Name = p.tok.text
		p.next()
	case LPAREN:
		// A function pointer: "ret (*name[dims])(params)".
		p.next()
		stars := 0
		for p.tok.tok == STAR {
			stars++
			p.next()
		}
		if stars == 0 {
			p.syntaxError("*")
		}
		if p.tok.tok != IDENT {
			p.syntaxError("identifier")
		}
		f.Name = p.tok.text
		p.next()
		t.Dims = p.dims()
		if p.tok.tok != RPAREN {
			p.syntaxError(")")
		}
		p.next()
		if p.tok.tok != LPAREN {
			p.syntaxError("(")
		}
		p.skipParens()
		t.Name, t.Anon, t.Ptr = "void", nil, stars
	case COLON:
		// An unnamed bitfield.
	default:
		p.syntaxError("identifier")
	}
	if t.Dims == nil {
		t.Dims = p.dims()
	}
	if p.tok.tok == COLON {
		p.next()
		f.Bits = int(p.constExpr(COMMA, SEMI, RBRACE))
		if f.Bits <= 0 && f.Name != "" {
			p.errs.Add(&Error{File: p.file, Pos: start, End: p.prev.end, Msg: "bit-field " + f.Name + " has a width of zero or less"})
		}
	}
	p.skipAttributes()
	f.SetSpan(start, p.prev.end)
	return f
}

// dims parses array dimensions "[N][M]"; "[]" is a flexible array, 0.
func (p *parser) dims() []int {
	var d []int
	for p.tok.tok == LBRACK {
		p.next()
		if p.tok.tok == RBRACK {
			d = append(d, 0)
			p.next()
			continue
		}
		n := p.constExpr(RBRACK)
		if n < 0 || n > 1<<30 {
			p.errs.Add(&Error{File: p.file, Pos: p.prev.pos, End: p.prev.end, Msg: "array size out of range"})
			n = 0
		}
		d = append(d, int(n))
		if p.tok.tok != RBRACK {
			p.syntaxError("]")
		}
		p.next()
	}
	return d
}

// constExpr evaluates the C constant expression up to (not including) one
// of the stop tokens at parenthesis depth 0. An error in it is reported
// and the value is 0.
func (p *parser) constExpr(stop ...Token) int64 {
	var toks []lexeme
	depth := 0
	start := p.tok
	for {
		t := p.tok.tok
		if t == EOF || depth == 0 && containsTok(stop, t) || t == RBRACE || t == SEMI && depth == 0 {
			break
		}
		if t == LPAREN {
			depth++
		} else if t == RPAREN {
			if depth == 0 {
				break
			}
			depth--
		}
		toks = append(toks, p.tok)
		p.next()
	}
	if len(toks) == 0 {
		p.syntaxError("constant expression")
	}
	e := &constEval{toks: toks, names: p.enums}
	v, err := e.run()
	if err != "" {
		p.errs.Add(&Error{File: p.file, Pos: start.pos, End: p.prev.end, Msg: err})
		return 0
	}
	return v
}

func containsTok(list []Token, t Token) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// enumBody parses "{ A [= v], B, ... }"; the current token is '{'.
func (p *parser) enumBody(d *StructDecl) {
	p.next()
	next := int64(0)
	for p.tok.tok != RBRACE {
		if p.tok.tok != IDENT {
			p.syntaxError("identifier", "}")
		}
		e := &Enumerator{Name: p.tok.text}
		start := p.tok.pos
		p.next()
		if p.tok.tok == ASSIGN {
			p.next()
			next = p.constExpr(COMMA, RBRACE)
		}
		e.Value = next
		next++
		e.SetSpan(start, p.prev.end)
		d.Enumerators = append(d.Enumerators, e)
		p.enums[e.Name] = e.Value
		if p.tok.tok == COMMA {
			p.next()
			continue
		}
		if p.tok.tok != RBRACE {
			p.syntaxError(nameComma, "}")
		}
	}
	p.next()
}

// String formats a type expression as C writes it: "struct task_struct *",
// "char[16]", "unsigned int".
func (t *TypeExpr) String() string {
	if t == nil {
		return ""
	}
	s := t.Name
	if t.Ptr > 0 {
		s += " " + strings.Repeat("*", t.Ptr)
	}
	for _, d := range t.Dims {
		if d > 0 {
			s += "[" + strconv.Itoa(d) + "]"
		} else {
			s += "[]"
		}
	}
	return s
}
