package lang_test

import (
	"bytes"
	"path"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/lang"
)

// headerFS is an in-memory include path: "..." looks in the including
// file's directory first, then in dir "inc", as the runtime searches the
// program's directory and then the -I directories.
type headerFS map[string]string

func (fs headerFS) read(p string, system bool, from string) (string, []byte, bool) {
	var dirs []string
	if !system && strings.Contains(from, "/") {
		dirs = append(dirs, path.Dir(from))
	}
	dirs = append(dirs, "inc")
	for _, d := range dirs {
		name := path.Join(d, p)
		if text, ok := fs[name]; ok {
			return name, []byte(text), true
		}
	}
	return "", nil, false
}

// checkWith parses and checks src with fs as the include path and
// returns the program, the checker's constants and every diagnostic.
func checkWith(t *testing.T, fs headerFS, src string, includeFiles ...string) (*lang.Program, *lang.Info, lang.ErrorList) {
	t.Helper()
	prog, errs := lang.Parse("stdin", []byte(src), &lang.ParseOptions{ReadInclude: fs.read, IncludeFiles: includeFiles})
	if prog == nil || errs.HasErrors() {
		return prog, nil, errs
	}
	info, cerrs := lang.Check(prog, &lang.Config{})
	errs = append(errs, cerrs...)
	errs.Sort()
	return prog, info, errs
}

// sizeofs returns the values of the program's sizeof expressions, in
// source order.
func sizeofs(prog *lang.Program, info *lang.Info) []int64 {
	var out []int64
	lang.Inspect(prog, func(n lang.Node) bool {
		if e, ok := n.(*lang.SizeofExpr); ok {
			out = append(out, info.Consts[e])
		}
		return true
	})
	return out
}

func formatted(errs lang.ErrorList, src string) string {
	var b bytes.Buffer
	lang.FormatDiagnostics(&b, errs, []byte(src))
	return b.String()
}

func TestIncludeDefinesAndTypes(t *testing.T) {
	fs := headerFS{
		"inc/my.h": "struct foo { int a; long b; };\n" +
			"typedef unsigned short myu;\n" +
			"typedef struct { myu x; char c[3]; } pair_t;\n" +
			"struct bar { myu u; pair_t p; struct foo *f; int n; };\n" +
			"enum { RED = 3, GREEN };\n" +
			"int some_function(int x);\n" +
			"static inline int twice(int x) { return x * 2; }\n" +
			"#define MYC 7\n",
	}
	for _, src := range []string{
		"#include <my.h>\nBEGIN { @ = (sizeof(struct foo), sizeof(struct bar), MYC, GREEN) }",
		"#include \"my.h\"\nBEGIN { @ = (sizeof(struct foo), sizeof(struct bar), MYC, GREEN) }",
	} {
		prog, info, errs := checkWith(t, fs, src)
		if len(errs) > 0 {
			t.Fatalf("%q: %s", src, formatted(errs, src))
		}
		if got := sizeofs(prog, info); len(got) != 2 || got[0] != 16 || got[1] != 24 {
			t.Errorf("%q: sizeofs = %v, want [16 24]", src, got)
		}
		if len(prog.Headers) != 1 || prog.Headers[0].Name != "inc/my.h" {
			t.Errorf("%q: headers = %v", src, prog.Headers)
		}
		if len(prog.Includes) != 1 || prog.Includes[0].Header != prog.Headers[0] {
			t.Errorf("%q: the include does not point to the header it read", src)
		}
		var defined bool
		for _, d := range prog.Defines {
			defined = defined || d.Name == "MYC" && d.Value == "7" && d.In == prog.Headers[0]
		}
		if !defined {
			t.Errorf("%q: MYC not among the defines, in the header", src)
		}
		var consts []int64
		lang.Inspect(prog, func(n lang.Node) bool {
			if e, ok := n.(*lang.IdentExpr); ok {
				consts = append(consts, info.Consts[e])
			}
			return true
		})
		// MYC expands to the literal 7, which is not an identifier.
		if len(consts) != 1 || consts[0] != 4 {
			t.Errorf("%q: GREEN = %v, want [4]", src, consts)
		}
	}
}

// TestIncludeFilesOption reads --include's files before the program.
func TestIncludeFilesOption(t *testing.T) {
	fs := headerFS{"inc/my.h": "struct foo { int a; long b; };\n#define MYC 7\n"}
	src := "BEGIN { @ = (sizeof(struct foo), MYC) }"
	prog, info, errs := checkWith(t, fs, src, "my.h")
	if len(errs) > 0 {
		t.Fatal(formatted(errs, src))
	}
	if got := sizeofs(prog, info); len(got) != 1 || got[0] != 16 {
		t.Errorf("sizeofs = %v, want [16]", got)
	}
	if len(prog.Includes) != 0 {
		t.Errorf("--include added #include lines: %v", prog.Includes)
	}
}

// TestIncludeNested reads a header a header includes, "..." relative to
// the including header first, and an include guard keeps the second
// #include of a header from redefining its struct.
func TestIncludeNested(t *testing.T) {
	fs := headerFS{
		"inc/outer.h": "#include \"sub/inner.h\"\n#include \"sub/inner.h\"\nstruct outer { struct inner in; int n; };\n",
		"inc/sub/inner.h": "#ifndef INNER_H\n#define INNER_H\n#include \"leaf.h\"\n" +
			"struct inner { leaf_t l[WIDTH]; };\n#endif\n",
		"inc/sub/leaf.h": "#pragma once\ntypedef long leaf_t;\n#define WIDTH 3\n",
		"inc/leaf.h":     "#error the including header's directory comes first\n",
	}
	src := "#include <outer.h>\n#include <sub/leaf.h>\nBEGIN { @ = sizeof(struct outer) }"
	prog, info, errs := checkWith(t, fs, src)
	if len(errs) > 0 {
		t.Fatal(formatted(errs, src))
	}
	if got := sizeofs(prog, info); len(got) != 1 || got[0] != 32 {
		t.Errorf("sizeof(struct outer) = %v, want [32]", got)
	}
	var names []string
	for _, h := range prog.Headers {
		names = append(names, h.Name)
	}
	// inner.h is read twice (its guard empties the second), leaf.h once.
	if got := strings.Join(names, " "); got != "inc/outer.h inc/sub/inner.h inc/sub/leaf.h inc/sub/inner.h" {
		t.Errorf("headers read: %s", got)
	}
}

// TestIncludeCycle: headers that include each other without guards stop
// at the depth limit with one error, at the #include that went too deep.
func TestIncludeCycle(t *testing.T) {
	fs := headerFS{
		"inc/a.h": "#include \"b.h\"\nstruct a { int x; };\n",
		"inc/b.h": "#include \"a.h\"\n",
	}
	src := "#include \"a.h\"\nBEGIN { exit() }"
	_, _, errs := checkWith(t, fs, src)
	var deep lang.ErrorList
	for _, e := range errs {
		if e.Msg == "#include nested too deeply" {
			deep = append(deep, e)
		}
	}
	if len(deep) != 1 || deep[0].File != "inc/a.h" && deep[0].File != "inc/b.h" || deep[0].Pos.Line != 1 {
		t.Fatalf("want one error at an #include of the cycle, got:\n%s", formatted(errs, src))
	}
	if !errs.HasErrors() {
		t.Error("the cycle compiled")
	}
}

// TestIncludeBranchingCycle: a header that includes itself twice would
// be read 2^200 times before the depth limit; the number of headers read
// is bounded instead, and each limit is reported once.
func TestIncludeBranchingCycle(t *testing.T) {
	fs := headerFS{"inc/h.h": "#include \"h.h\"\n#include \"h.h\"\nstruct s { int x; };\n"}
	src := "#include \"h.h\"\nBEGIN { exit() }"
	_, _, errs := checkWith(t, fs, src)
	count := map[string]int{}
	for _, e := range errs {
		count[e.Msg]++
	}
	if count["#include nested too deeply"] != 1 {
		t.Errorf("want the depth limit reported once, got:\n%s", formatted(errs, src))
	}
	n := 0
	for msg, c := range count {
		if strings.HasPrefix(msg, "too many #includes: a program may read at most 1000 headers") {
			n += c
		}
	}
	if n != 1 || len(errs) != 2 {
		t.Errorf("want one too-many-#includes error and nothing else, got:\n%s", formatted(errs, src))
	}
}

// TestIncludeErrorInHeader: an error inside a header names the header,
// with its line and column, and quotes the header's line.
func TestIncludeErrorInHeader(t *testing.T) {
	fs := headerFS{
		"inc/bad.h": "#define OK 1\nstruct s {\n\tint a;\n\tint b[OK +];\n};\n",
		"inc/ty.h":  "struct t { int a; nosuch_t b; };\n",
	}
	for _, tc := range []struct{ src, want string }{
		{"#include <bad.h>\nBEGIN { exit() }",
			"inc/bad.h:4:8-12: ERROR: constant expression ends too soon\n" +
				"    int b[OK +];\n" +
				"          ~~~~\n"},
		{"#include <ty.h>\nBEGIN { @ = sizeof(struct t) }",
			"inc/ty.h:1:19-29: ERROR: Unknown type: 'nosuch_t'\n" +
				"struct t { int a; nosuch_t b; };\n" +
				"                  ~~~~~~~~~~\n"},
	} {
		_, _, errs := checkWith(t, fs, tc.src)
		if got := formatted(errs, tc.src); got != tc.want {
			t.Errorf("%q:\n got:\n%s\nwant:\n%s", tc.src, got, tc.want)
		}
	}
}

// TestIncludeNotRead: without ReadInclude, or when it does not find the
// file, the line is only recorded, as before headers were read.
func TestIncludeNotRead(t *testing.T) {
	src := "#include <linux/sched.h>\n#include \"my.h\"\nBEGIN { exit() }"
	prog, _, errs := checkWith(t, headerFS{}, src)
	if len(errs) > 0 {
		t.Fatal(formatted(errs, src))
	}
	if len(prog.Includes) != 2 || prog.Includes[0].Header != nil || prog.Includes[1].Header != nil || len(prog.Headers) != 0 {
		t.Errorf("includes %v, headers %v", prog.Includes, prog.Headers)
	}
}

// TestIncludeSkipsOtherC: what a header declares that a probe cannot use
// (prototypes, variables, inline functions) is skipped, character
// constants are integers, and a system header it includes is left unread.
func TestIncludeSkipsOtherC(t *testing.T) {
	fs := headerFS{"inc/real.h": "#pragma once\n#include <stdint.h>\n#define CH '\\n'\n#define SEP ','\n" +
		"extern int counter, *ptrs[4];\nint do_thing(const char *s, ...);\n" +
		"static inline int twice(int x) { if (x) { return x * 2; } return '}'; }\n" +
		"static const int table[] = { 1, 2 };\n" +
		"typedef struct node { unsigned id; struct node *next; } node_t, *node_p;\n" +
		"struct holder { node_t n; node_p p; char tag[CH + SEP]; };\n"}
	src := "#include <real.h>\nBEGIN { @ = (sizeof(struct holder), sizeof(struct node)) }"
	prog, info, errs := checkWith(t, fs, src)
	if len(errs) > 0 {
		t.Fatal(formatted(errs, src))
	}
	// tag is char[10 + 44]: 16 + 8 + 54, aligned to 8.
	if got := sizeofs(prog, info); len(got) != 2 || got[0] != 80 || got[1] != 16 {
		t.Errorf("sizeofs = %v, want [80 16]", got)
	}
	if len(prog.Includes) != 2 || prog.Includes[1].Path != "stdint.h" || prog.Includes[1].Header != nil || prog.Includes[1].In != prog.Headers[0] {
		t.Errorf("the system header is not recorded unread, in real.h: %v", prog.Includes)
	}
}
