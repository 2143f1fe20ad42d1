package codegen

import (
	"fmt"
	"os"
	"testing"

	"github.com/tracebook/tracebook/lang"
)

// Hand-built, typed syntax trees: the checker's output, written out.

func hlit(v int64) *lang.IntLit {
	e := &lang.IntLit{Value: uint64(v)}
	e.SetType(lang.TypeInt64)
	return e
}

func hstr(s string) *lang.StrLit {
	e := &lang.StrLit{Value: s}
	e.SetType(lang.StringType(len(s) + 1))
	return e
}

func hcall(name string, t *lang.Type, args ...lang.Expr) *lang.CallExpr {
	e := &lang.CallExpr{Name: name, Args: args}
	e.SetType(t)
	return e
}

func hmap(name string, t *lang.Type, keys ...lang.Expr) *lang.MapExpr {
	e := &lang.MapExpr{Name: name, Keys: keys}
	e.SetType(t)
	return e
}

func hbuiltin(name string, t *lang.Type) *lang.IdentExpr {
	e := &lang.IdentExpr{Name: name, Kind: lang.IdentBuiltin}
	e.SetType(t)
	return e
}

func hbin(op lang.Op, x, y lang.Expr, t *lang.Type) *lang.BinaryExpr {
	e := &lang.BinaryExpr{Op: op, X: x, Y: y}
	e.SetType(t)
	return e
}

func hbegin(stmts ...lang.Stmt) *lang.Probe {
	return &lang.Probe{Attach: []*lang.AttachPoint{{Provider: "BEGIN", Raw: "BEGIN"}}, Body: &lang.Block{Stmts: stmts}}
}

// TestHandBuiltBegin compiles a tree built by hand (no parser, no
// checker: an Info without formats) and runs it.
func TestHandBuiltBegin(t *testing.T) {
	countT := &lang.Type{Kind: lang.KindCount, Size: 8}
	histT := &lang.Type{Kind: lang.KindHist, Size: 8}
	prog := &lang.Program{Probes: []*lang.Probe{hbegin(
		&lang.AssignStmt{Target: hmap("@c", countT), Op: lang.Assign, Value: hcall("count", countT)},
		&lang.AssignStmt{Target: hmap("@h", histT), Op: lang.Assign, Value: hcall("hist", histT, hlit(1234))},
		&lang.AssignStmt{Target: hmap("@x", lang.TypeInt64, hbuiltin("pid", lang.TypeUint64)), Op: lang.Assign,
			Value: hbin(lang.Div, hlit(-7), hlit(2), lang.TypeInt64)},
		&lang.ExprStmt{X: hcall("printf", lang.TypeNone, hstr("hi %d %s\n"), hlit(5), hbuiltin("comm", lang.StringType(16)))},
	)}}
	info := &lang.Info{Maps: map[string]*lang.MapInfo{
		"@c": {Name: "@c", Value: countT},
		"@h": {Name: "@h", Value: histT},
		"@x": {Name: "@x", KeyParts: []*lang.Type{lang.TypeUint64}, Value: lang.TypeInt64},
	}}
	obj, err := Compile(prog, info, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(obj.Programs) != 1 || obj.Programs[0].Kind != KindBegin || len(obj.Events) != 1 {
		t.Fatalf("want one BEGIN program and one event:\n%s", Listing(obj))
	}
	requireRoot(t)
	l := load(t, obj)
	l.runKind(t, KindBegin)
	if got, want := l.dumpMaps(t), "@c: 1\n@h: {12:1}\n@x["+fmt.Sprint(os.Getpid())+"]: -3"; got != want {
		t.Errorf("maps:\n%s\nwant:\n%s", got, want)
	}
	if got, want := l.dumpEvents(t), `printf "hi %d %s\n" 5 codegen.test`; got != want {
		t.Errorf("events: %s, want %s", got, want)
	}
}
