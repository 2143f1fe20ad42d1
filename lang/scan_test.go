package lang

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// scanAll scans src in expression mode (macros expanded by a
// preprocessor with no definitions) and formats each token as
// "LINE:COL kind text", goawk-style; errors come back separately as
// "L:C-C: message".
func scanAll(src string) (toks, errs string) {
	var list ErrorList
	s := newScanner("test", []byte(src), &list)
	s.pp = newPreprocessor("test", &list, &ParseOptions{})
	var out []string
	for i := 0; i < 1000; i++ {
		l := s.scan()
		if l.tok == EOF {
			break
		}
		out = append(out, formatLexeme(l))
	}
	return strings.Join(out, ", "), formatErrs(list)
}

func formatLexeme(l lexeme) string {
	var what string
	switch l.tok {
	case IDENT:
		what = "ident " + l.text
	case INT:
		what = fmt.Sprintf("int %d", l.val)
		if l.text != fmt.Sprint(l.val) {
			what += " (" + l.text + ")"
		}
	case STRING:
		what = "string " + strconv.Quote(l.text)
	case VAR:
		what = "var " + l.text
	case MAP:
		what = "map " + l.text
	case POSITIONAL:
		what = "param " + l.text
	case PARAMCOUNT:
		what = "$#"
	case DIRECTIVE:
		what = "directive " + strconv.Quote(l.text)
	case ATTACH:
		what = "attach " + strconv.Quote(l.text)
	case SLASH:
		what = "/"
		if l.endPred {
			what = "endpred"
		}
	default:
		what = l.tok.String()
	}
	return fmt.Sprintf("%d:%d %s", l.pos.Line, l.pos.Col, what)
}

func formatErrs(list ErrorList) string {
	var out []string
	for _, e := range list {
		out = append(out, e.location()+": "+e.Msg)
	}
	return strings.Join(out, "; ")
}

func TestScan(t *testing.T) {
	tests := []struct {
		src, toks, errs string
	}{
		// Names, goawk's example, keywords.
		{"x 0y", "1:1 ident x, 1:3 int 0, 1:4 ident y", ""},
		{"pid printf kstack perf _a1 A_", "1:1 ident pid, 1:5 ident printf, 1:12 ident kstack, 1:19 ident perf, 1:24 ident _a1, 1:28 ident A_", ""},
		{"if else unroll while for break continue return", "1:1 if, 1:4 else, 1:9 unroll, 1:16 while, 1:22 for, 1:26 break, 1:32 continue, 1:41 return", ""},
		{"sizeof offsetof struct union enum", "1:1 sizeof, 1:8 offsetof, 1:17 struct, 1:24 union, 1:30 enum", ""},
		{"$x $_y1 @ @m @m_2 $1 $10 $#", "1:1 var $x, 1:4 var $_y1, 1:9 map @, 1:11 map @m, 1:14 map @m_2, 1:19 param $1, 1:22 param $10, 1:26 $#", ""},
		{"$1a", "1:1 param $1, 1:3 ident a", ""},
		{"$", "", "1:1-2: invalid character '$'"},

		// Integer literals and their errors.
		{"1_000_000 1e3 0x10 010 5UL", "1:1 int 1000000 (1_000_000), 1:11 int 1000 (1e3), 1:15 int 16 (0x10), 1:20 int 8 (010), 1:24 int 5 (5UL)", ""},
		{"5U 5L 5LL 5ULL 5ul 5u", "1:1 int 5 (5U), 1:4 int 5 (5L), 1:7 int 5 (5LL), 1:11 int 5 (5ULL), 1:16 int 5 (5ul), 1:20 int 5 (5u)", ""},
		{"5LU", "1:1 int 5 (5L), 1:3 ident U", ""},
		{"0XfF 0x 0xg", "1:1 int 255 (0XfF), 1:6 int 0, 1:7 ident x, 1:9 int 0, 1:10 ident xg", ""},
		{"1_ 1__2", "1:1 int 1, 1:2 ident _, 1:4 int 12 (1__2)", ""},
		{"9e16 0 00", "1:1 int 90000000000000000 (9e16), 1:6 int 0, 1:8 int 0 (00)", ""},
		{"1e 2E2", "1:1 int 1, 1:2 ident e, 1:4 int 200 (2E2)", ""},
		{"18446744073709551615", "1:1 int 18446744073709551615", ""},
		{"18446744073709551616", "", "1:1-21: stoull"},
		{"09 x", "1:4 ident x", "1:1-3: Found trailing non-numeric characters"},
		{"10e3", "", "1:1-5: Coefficient part of scientific literal must be in range (0,9), got: 10"},
		{"1e17", "", "1:1-5: Exponent will overflow integer range: 17"},
		{"08e1", "1:1 int 80 (08e1)", ""},

		// Strings and escapes.
		{`"a\n\t\r\"\\b"`, `1:1 string "a\n\t\r\"\\b"`, ""},
		{`"\101\x41\X4a\0\12"`, `1:1 string "AAJ\x00\n"`, ""},
		{`"\x4g"`, `1:1 string "\x04g"`, ""},
		{`"\q" 1`, `1:1 string "", 1:6 int 1`, `1:1-4: invalid escape character '\q'`},
		{`"\777"`, `1:1 string "\xff"`, `1:1-6: octal escape sequence out of range '\777'`},
		{`"\x"`, `1:1 string ""`, `1:1-4: invalid escape character '\x'`},
		{"\"ab\ncd\"", "2:1 ident cd", "1:1-4: unterminated string; 2:3-4: unterminated string"},
		{`"abc`, "", "1:1-5: unterminated string"},
		{"\"a\\\nb", "2:1 ident b", "1:1-4: invalid character"},
		{`"é"`, `1:1 string "é"`, ""},

		// Punctuation and operators, longest match.
		{"{}()[];,:?.->", "1:1 {, 1:2 }, 1:3 (, 1:4 ), 1:5 [, 1:6 ], 1:7 ;, 1:8 ,, 1:9 :, 1:10 ?, 1:11 ., 1:12 ->", ""},
		{"+ - * / % & | ^ ! ~ < > =", "1:1 +, 1:3 -, 1:5 *, 1:7 /, 1:9 %, 1:11 &, 1:13 |, 1:15 ^, 1:17 !, 1:19 ~, 1:21 <, 1:23 >, 1:25 =", ""},
		{"<< >> && || == != <= >= ++ --", "1:1 <<, 1:4 >>, 1:7 &&, 1:10 ||, 1:13 ==, 1:16 !=, 1:19 <=, 1:22 >=, 1:25 ++, 1:28 --", ""},
		{"+= -= *= /= %= &= |= ^= <<= >>=", "1:1 +=, 1:4 -=, 1:7 *=, 1:10 /=, 1:13 %=, 1:16 &=, 1:19 |=, 1:22 ^=, 1:25 <<=, 1:29 >>=", ""},
		{"a+++b", "1:1 ident a, 1:2 ++, 1:4 +, 1:5 ident b", ""},
		{"a--->b", "1:1 ident a, 1:2 --, 1:4 ->, 1:6 ident b", ""},
		{"<<<=", "1:1 <<, 1:3 <=", ""},

		// A '/' followed by '{' or '/' ends a predicate (flex's ENDPRED).
		{"/pid/ {", "1:1 /, 1:2 ident pid, 1:5 endpred, 1:7 {", ""},
		{"/pid/\n\t{", "1:1 /, 1:2 ident pid, 1:5 endpred, 2:2 {", ""},
		{"a / b / /", "1:1 ident a, 1:3 /, 1:5 ident b, 1:7 endpred, 1:9 /", ""},

		// Comments, "#!" lines, directives.
		{"a // b\nc", "1:1 ident a, 2:1 ident c", ""},
		{"a /* b\n */ c", "1:1 ident a, 2:5 ident c", ""},
		{"a /* b", "1:1 ident a", "1:3-7: end of file during comment"},
		{"#!/usr/bin/env bpftrace\nBEGIN", "2:1 ident BEGIN", ""},
		{"x\n#!y\nz", "1:1 ident x, 3:1 ident z", ""},
		{"x #!y", "1:1 ident x, 1:4 !, 1:5 ident y", "1:3-4: invalid character '#'"},
		{"#include <linux/sched.h>\nBEGIN", `1:1 directive "#include <linux/sched.h>", 2:1 ident BEGIN`, ""},
		{"#define X \\\n  1\nX", `1:1 directive "#define X    1", 3:1 ident X`, ""},

		// White space, invalid characters.
		{"a\tb\r\nc", "1:1 ident a, 1:3 ident b, 2:1 ident c", ""},
		{"'a'", "1:2 ident a", "1:1-2: invalid character '''; 1:3-4: invalid character '''"},
		{"a é b", "1:1 ident a, 1:6 ident b", "1:3-5: invalid character 'é'"},
		{"\x00 \xff", "", "1:1-2: invalid character '\x00'; 1:3-4: invalid character '\xff'"},
		{"`", "", "1:1-2: invalid character '`'"},
	}
	for _, tt := range tests {
		toks, errs := scanAll(tt.src)
		if toks != tt.toks {
			t.Errorf("scan %q:\n got  %s\n want %s", tt.src, toks, tt.toks)
		}
		if errs != tt.errs {
			t.Errorf("scan %q errors:\n got  %s\n want %s", tt.src, errs, tt.errs)
		}
	}
}

// TestScanNewline checks the newline flag that separates a cell's
// top-level statements.
func TestScanNewline(t *testing.T) {
	var list ErrorList
	s := newScanner("test", []byte("a b\n c /* \n */ d\ne"), &list)
	var got []string
	for l := s.scan(); l.tok != EOF; l = s.scan() {
		got = append(got, fmt.Sprintf("%s:%v", l.text, l.newline))
	}
	if want := "a:true b:false c:true d:true e:true"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

// TestScanAttach checks attach-point mode: where an attach point's text
// ends and which token follows it.
func TestScanAttach(t *testing.T) {
	tests := []struct {
		src, attach, next string
	}{
		{"BEGIN {", "BEGIN", "1:7 {"},
		{"BEGIN{", "BEGIN", "1:6 {"},
		{"BEGIN/pid/{", "BEGIN", "1:6 /"},
		{"kprobe:f /pid/ {", "kprobe:f", "1:10 /"},
		{"kprobe:f/pid/{", "kprobe:f/pid/", "1:14 {"},
		{"uprobe:/bin/bash:readline {", "uprobe:/bin/bash:readline", "1:27 {"},
		{"kprobe:vfs_* {", "kprobe:vfs_*", "1:14 {"},
		{"tracepoint:syscalls:sys_enter_*read*,", "tracepoint:syscalls:sys_enter_*read*", "1:37 ,"},
		{"usdt:/usr/lib/x.so:ns:probe{", "usdt:/usr/lib/x.so:ns:probe", "1:28 {"},
		{"watchpoint:0x1234:8:rw {", "watchpoint:0x1234:8:rw", "1:24 {"},
		{"uprobe:libc:malloc {", "uprobe:libc:malloc", "1:20 {"},
		{"kprobe:func+0x10 {", "kprobe:func+0x10", "1:18 {"},
		{`uprobe:"/path with space":f {`, `uprobe:"/path with space":f`, "1:29 {"},
		{`uprobe:"/a\"b":f{`, `uprobe:"/a\"b":f`, "1:17 {"},
		{"software:cpu-clock:100 {", "software:cpu-clock:100", "1:24 {"},
		{"kprobe:vfs_[rw]*? {", "kprobe:vfs_[rw]*?", "1:19 {"},
		{"BEG$1 {", "BEG$1", "1:7 {"},
		{"uprobe:$1:$2 {", "uprobe:$1:$2", "1:14 {"},
		{"kprobe:$# {", "kprobe:$#", "1:11 {"},
		{"kprobe:f,kprobe:g", "kprobe:f", "1:9 ,"},
		{"k:f // c\n{", "k:f", "2:1 {"},
		{"{ }", "", "1:1 {"},
		{"@x = 1", "", "1:1 map @x"},
		{"BEGIN - 1", "BEGIN", "1:7 -"},
		{"uprobe:/a#b-c:f {", "uprobe:/a#b-c:f", "1:17 {"},
		{"kprobe:f(", "kprobe:f", "1:9 ("},
	}
	for _, tt := range tests {
		var list ErrorList
		s := newScanner("test", []byte(tt.src), &list)
		first := s.scan()
		a := s.scanAttach(first)
		next := formatLexeme(s.scan())
		if a.text != tt.attach || next != tt.next {
			t.Errorf("scanAttach %q: got %q then %s, want %q then %s", tt.src, a.text, next, tt.attach, tt.next)
		}
		if len(list) > 0 {
			t.Errorf("scanAttach %q: errors %v", tt.src, list)
		}
	}
}

// TestScanAttachRewind checks that errors of the token the parser had
// scanned before switching to attach-point mode are forgotten, and that
// errors in the attach point itself are reported once.
func TestScanAttachRewind(t *testing.T) {
	var list ErrorList
	s := newScanner("test", []byte(`"\q":f {`), &list)
	first := s.scan() // a string with a bad escape, in expression mode
	if len(list) != 1 {
		t.Fatalf("expression mode: got %d errors, want 1", len(list))
	}
	a := s.scanAttach(first)
	if a.text != `"\q":f` {
		t.Errorf("attach text %q", a.text)
	}
	if got := formatErrs(list); got != `1:1-4: invalid escape character '\q'` {
		t.Errorf("errors after rewind: %s", got)
	}
}

func TestParseIntLit(t *testing.T) {
	tests := []struct {
		text string
		val  uint64
		err  string
	}{
		{"0", 0, ""}, {"007", 7, ""}, {"0x7fffffffffffffff", 1<<63 - 1, ""},
		{"0xffffffffffffffff", 1<<64 - 1, ""}, {"0x10000000000000000", 0, "stoull"},
		{"1ULL", 1, ""}, {"1ul", 1, ""}, {"1lu", 0, "Found trailing non-numeric characters"},
		{"9e0", 9, ""}, {"0e5", 0, ""}, {"1e16", 10000000000000000, ""},
		{"1_0e1", 0, "Coefficient part of scientific literal must be in range (0,9), got: 10"},
		{"abc", 0, "stoull"}, {"", 0, "stoull"},
	}
	for _, tt := range tests {
		v, err := parseIntLit(tt.text)
		if v != tt.val || err != tt.err {
			t.Errorf("parseIntLit(%q) = %d, %q; want %d, %q", tt.text, v, err, tt.val, tt.err)
		}
	}
}
