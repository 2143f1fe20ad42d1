package lang

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for the front end. Their seeds are the corpora in
// testdata/fuzz (tools, test cases, crashers found so far) plus the test
// tables of this package. Run each with
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=10m ./lang
//
// (scripts/fuzz.sh runs every target in the tree).

// fuzzSeeds are sources from the tests and, when installed, the tools.
func fuzzSeeds() []string {
	var seeds []string
	for _, c := range errorCases {
		seeds = append(seeds, c.src)
	}
	seeds = append(seeds, everyNode)
	files, _ := filepath.Glob("/usr/sbin/*.bt")
	for _, f := range files {
		if src, err := os.ReadFile(f); err == nil {
			seeds = append(seeds, string(src))
		}
	}
	return seeds
}

// FuzzScan scans arbitrary input in expression mode and, from every
// token's start, in attach-point mode: it must terminate, never panic, and
// give positions that move forward within the source.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var errs ErrorList
		s := newScanner("fuzz", src, &errs)
		s.pp = newPreprocessor("fuzz", &errs, &ParseOptions{})
		var toks []lexeme
		prev := Pos{1, 1}
		for i := 0; ; i++ {
			if i > len(src)+10 && len(s.queue) == 0 {
				t.Fatalf("more tokens than bytes")
			}
			l := s.scan()
			if l.pos.Before(prev) && len(l.hide) == 0 {
				t.Fatalf("token %v at %v goes back before %v", l.tok, l.pos, prev)
			}
			if l.end.Before(l.pos) {
				t.Fatalf("token %v ends at %v before its start %v", l.tok, l.end, l.pos)
			}
			if l.off < 0 || l.off > len(src) {
				t.Fatalf("offset %d out of range", l.off)
			}
			prev = l.pos
			if l.tok == EOF {
				break
			}
			toks = append(toks, l)
		}
		for _, e := range errs {
			if e.End.Before(e.Pos) {
				t.Fatalf("error %q ends before it starts", e.Error())
			}
		}
		for _, l := range toks {
			var errs ErrorList
			s := newScanner("fuzz", src, &errs)
			a := s.scanAttach(l)
			if a.off != l.off || len(a.text) > len(src)-l.off {
				t.Fatalf("attach point %q at %d", a.text, a.off)
			}
			if a.text != "" {
				splitAttach(a.text, []string{"p"})
			}
			s.scan()
		}
	})
}

// FuzzParse parses arbitrary input as a program and as a notebook cell,
// with and without BTF: it must never reach the parser's internal-error
// recovery, must be deterministic, and a program it returns must print and
// walk with every span in order.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, src []byte, cell bool) {
		for _, btf := range []bool{false, true} {
			opts := &ParseOptions{Cell: cell, HaveBTF: btf, Params: []string{"1", "a b"}}
			prog, errs := Parse("fuzz", src, opts)
			for _, e := range errs {
				if strings.HasPrefix(e.Msg, "internal error") {
					t.Fatalf("%s\n%s", e.Error(), strings.Join(e.Notes, "\n"))
				}
				if e.File != "fuzz" || e.End.Before(e.Pos) {
					t.Fatalf("bad error %q %v-%v", e.Error(), e.Pos, e.End)
				}
			}
			if prog == nil {
				if !errs.HasErrors() {
					t.Fatal("no program and no error")
				}
				continue
			}
			s1 := SExpr(prog)
			prog2, _ := Parse("fuzz", src, opts)
			if prog2 == nil || SExpr(prog2) != s1 {
				t.Fatal("parsing twice gave different trees")
			}
			Inspect(prog, func(n Node) bool {
				if n == nil {
					return false
				}
				start, end := n.Span()
				if !start.IsValid() || end.Before(start) {
					t.Fatalf("%T has span %v-%v", n, start, end)
				}
				return true
			})
			for _, p := range prog.Probes {
				for _, ap := range p.Attach {
					_ = ap.Name()
				}
			}
		}
	})
}

// FuzzHeader reads arbitrary text as a user's header (#include "h.h",
// which may include itself), then checks the program that includes it
// and uses what a header usually gives (a macro, a struct): the reader
// must never panic or reach an internal error, must terminate on include
// cycles, and every diagnostic must name a file it came from with a span
// inside that file's text.
func FuzzHeader(f *testing.F) {
	f.Add([]byte("#define N 3\nstruct s { int a; char b[N]; };\n"))
	f.Add([]byte("#ifndef H\n#define H\n#include \"h.h\"\ntypedef struct s { long x; } s_t;\n#endif\n"))
	f.Add([]byte("#pragma once\nenum e { A = 'x', B };\nint f(void);\nstatic inline int g(int x) { return x; }\n"))
	f.Add([]byte("#include \"h.h\"\n"))
	f.Add([]byte("#include \"h.h\"\n#include \"h.h\"\n")) // read 2^200 times once
	f.Add([]byte("struct s { nosuch_t a; };\n"))
	const prog = "#include \"h.h\"\nBEGIN { printf(\"%d\\n\", sizeof(struct s)); }\n"
	f.Fuzz(func(t *testing.T, hdr []byte) {
		read := func(path string, system bool, from string) (string, []byte, bool) {
			if path != "h.h" || system {
				return "", nil, false
			}
			return "h.h", hdr, true
		}
		files := map[string][]byte{"fuzz": []byte(prog), "h.h": hdr}
		p, errs := Parse("fuzz", []byte(prog), &ParseOptions{ReadInclude: read})
		if p != nil {
			_, cerrs := Check(p, &Config{})
			errs = append(errs, cerrs...)
		}
		for _, e := range errs {
			if strings.HasPrefix(e.Msg, "internal error") {
				t.Fatalf("%s\n%s", e.Error(), strings.Join(e.Notes, "\n"))
			}
			src, ok := files[e.File]
			if !ok {
				t.Fatalf("error in unknown file %q: %s", e.File, e.Error())
			}
			if e.End.Before(e.Pos) || e.Pos.Line < 1 || e.Pos.Line > bytes.Count(src, []byte("\n"))+1 {
				t.Fatalf("bad span %v-%v in %s: %s", e.Pos, e.End, e.File, e.Error())
			}
		}
	})
}
