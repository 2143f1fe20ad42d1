package lang

import (
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// everyNode is a program with at least one node of every type.
const everyNode = `#include <linux/sched.h>
#include "td.h"
#define N 4
struct s { int a; struct { char b[N]; }; unsigned c:2; };
enum e { X = 1 };
kprobe:f, t:a:b /$1 == $#/ {
	@m[tid, "s"] = -(uint8)*arg0 + sizeof(int8) + sizeof(pid) + offsetof(struct s, a);
	$t = (1, $x->y.z[0] ? ~comm : !pid);
	$t.0;
	$v++;
	--@w;
	if (1) { break } else { continue }
	unroll(2) { return }
	while (0) { }
	for ($kv : @m) { printf("%d", $kv.1); }
}
`

// readTypedef reads everyNode's "td.h": a typedef can only come from a
// header.
func readTypedef(path string, system bool, from string) (string, []byte, bool) {
	return path, []byte("typedef int td_t;\n"), path == "td.h"
}

// nodeTypes lists the node types declared in ast.go: the struct types that
// embed span or typed.
func nodeTypes(t *testing.T) []string {
	f, err := goparser.ParseFile(token.NewFileSet(), "ast.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range g.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, field := range st.Fields.List {
				if id, ok := field.Type.(*ast.Ident); ok && len(field.Names) == 0 && (id.Name == "span" || id.Name == "typed") && ts.Name.Name != "typed" {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

// TestWalkReachesEveryNode checks that Walk visits every node type of
// ast.go and SExpr prints each: a node type added to ast.go without
// adding it to walk.go and printer.go fails here.
func TestWalkReachesEveryNode(t *testing.T) {
	prog, errs := Parse("stdin", []byte(everyNode), &ParseOptions{ReadInclude: readTypedef})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	seen := map[string]bool{}
	Inspect(prog, func(n Node) bool {
		if n == nil {
			return false
		}
		name := strings.TrimPrefix(fmt.Sprintf("%T", n), "*lang.")
		seen[name] = true
		if s := SExpr(n); strings.Contains(s, "(?*") {
			t.Errorf("SExpr(%s) = %s", name, s)
		}
		return true
	})
	types := nodeTypes(t)
	if len(types) < 30 {
		t.Fatalf("found only %d node types in ast.go: %v", len(types), types)
	}
	for _, name := range types {
		if !seen[name] {
			t.Errorf("Walk never reached a %s", name)
		}
	}
}

// TestInspect checks the visiting order, pruning and the nil calls.
func TestInspect(t *testing.T) {
	prog, _ := Parse("stdin", []byte("BEGIN { @x = 1 + f(2); $y = 3 }"), nil)
	var got []string
	Inspect(prog, func(n Node) bool {
		if n == nil {
			got = append(got, ")")
			return false
		}
		s := strings.TrimPrefix(fmt.Sprintf("%T", n), "*lang.")
		got = append(got, s)
		_, isCall := n.(*CallExpr)
		return !isCall // do not descend into calls
	})
	want := "Program Probe AttachPoint ) Block AssignStmt MapExpr ) BinaryExpr IntLit ) CallExpr ) ) AssignStmt VarExpr ) IntLit ) ) ) ) )"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}
}

// countCalls is a Visitor that counts calls by name.
type countCalls map[string]int

func (c countCalls) Visit(n Node) Visitor {
	if call, ok := n.(*CallExpr); ok {
		c[call.Name]++
	}
	return c
}

func TestWalkVisitor(t *testing.T) {
	prog, _ := Parse("stdin", []byte(`BEGIN { printf("%d", count()); if (1) { printf("x") } } END { exit() }`), nil)
	c := countCalls{}
	Walk(c, prog)
	if c["printf"] != 2 || c["count"] != 1 || c["exit"] != 1 || len(c) != 3 {
		t.Errorf("got %v", c)
	}
}

// TestSExprEveryNode prints the all-node program, as a readable record of
// the format.
func TestSExprEveryNode(t *testing.T) {
	prog, _ := Parse("stdin", []byte(everyNode), &ParseOptions{Params: []string{"x"}, ReadInclude: readTypedef})
	want := `(program (include <linux/sched.h>) (include "td.h") (define N "4") ` +
		`(struct s (field a <int>) (field _ <(struct (field b <char[4]>))>) (field c <unsigned int> :2)) (enum e (X 1)) ` +
		`(typedef td_t <int>) ` +
		`(probe (kprobe:f tracepoint:a:b) (pred (== $1 $#)) (block ` +
		`(= (map @m tid "s") (+ (+ (+ (neg (cast <uint8> (deref arg0))) (sizeof <int8>)) (sizeof pid)) (offsetof <struct s> a))) ` +
		`(= $t (tuple 1 (? (index (. (-> $x y) z) 0) (bnot comm) (not pid)))) ` +
		`(elem $t 0) (post++ $v) (pre-- @w) (if 1 (block (break)) (block (continue))) (unroll 2 (block (return))) ` +
		`(while 0 (block)) (for $kv @m (block (call printf "%d" (elem $kv 1)))))))`
	if got := SExpr(prog); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestWalkVisitsEveryChild checks, by reflection over the node structs,
// that Inspect visits every node the all-node program's tree holds in any
// field (a Node, a slice of Nodes), each exactly once, and that SExpr
// prints every one: a field added to a node but forgotten in walk.go or
// printer.go fails here even when its type is reached elsewhere.
func TestWalkVisitsEveryChild(t *testing.T) {
	prog, errs := Parse("stdin", []byte(everyNode), &ParseOptions{ReadInclude: readTypedef})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	nodeType := reflect.TypeOf((*Node)(nil)).Elem()
	held := map[Node]bool{}
	var collect func(n Node)
	collect = func(n Node) {
		if held[n] {
			return
		}
		held[n] = true
		v := reflect.ValueOf(n).Elem()
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if v.Type().Field(i).Name == "Matches" {
				continue // the checker's expansion, not syntax
			}
			switch {
			case f.Type().Implements(nodeType):
				if !f.IsNil() {
					collect(f.Interface().(Node))
				}
			case f.Kind() == reflect.Slice && f.Type().Elem().Implements(nodeType):
				for j := 0; j < f.Len(); j++ {
					if e := f.Index(j); !e.IsNil() {
						collect(e.Interface().(Node))
					}
				}
			}
		}
	}
	collect(prog)
	visits := map[Node]int{}
	Inspect(prog, func(n Node) bool {
		if n == nil {
			return false
		}
		visits[n]++
		return true
	})
	for n := range held {
		name := strings.TrimPrefix(fmt.Sprintf("%T", n), "*lang.")
		switch visits[n] {
		case 1:
		case 0:
			t.Errorf("Inspect never visits the %s %s", name, SExpr(n))
		default:
			t.Errorf("Inspect visits the %s %s %d times", name, SExpr(n), visits[n])
		}
		if s := SExpr(n); strings.Contains(s, "(?*") {
			t.Errorf("SExpr(%s) = %s", name, s)
		}
	}
	for n := range visits {
		if !held[n] {
			t.Errorf("Inspect visits a %T the tree does not hold", n)
		}
	}
	if len(held) < 60 {
		t.Errorf("only %d nodes in the all-node program", len(held))
	}
}
