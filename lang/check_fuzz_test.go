package lang_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/lang/langtest"
)

// FuzzCheck parses and checks arbitrary source with the fixture types, as
// a notebook cell and as a file. The checker must never panic (it turns
// panics into "internal error" diagnostics, which fail here), and every
// diagnostic must point inside the source and format.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/check/*.bt")
	for _, file := range files {
		for _, c := range langtest.ReadChunks(f, file) {
			f.Add(strings.TrimLeft(c.Source, "\n"))
		}
	}
	tools, _ := filepath.Glob("/usr/sbin/*.bt")
	for _, t := range tools {
		if src, err := os.ReadFile(t); err == nil {
			f.Add(string(src))
		}
	}
	types := langtest.NewFixture()
	f.Fuzz(func(t *testing.T, src string) {
		for _, cell := range []bool{false, true} {
			prog, errs := lang.Parse("fuzz", []byte(src), &lang.ParseOptions{Cell: cell, Params: []string{"1", "ab"}})
			if prog == nil {
				if !errs.HasErrors() {
					t.Fatalf("Parse returned no program and no error")
				}
				continue
			}
			if errs.HasErrors() {
				continue
			}
			session := map[string]*lang.MapInfo{
				"@lat": {Name: "@lat", Value: &lang.Type{Kind: lang.KindHist, Size: 8}, Origin: "cell[1]", OriginPos: lang.Pos{Line: 1, Col: 1}},
			}
			info, cerrs := lang.Check(prog, &lang.Config{Types: types, Params: []string{"1", "ab"}, Session: session, Cell: "cell[2]"})
			if info == nil {
				t.Fatal("Check returned no Info")
			}
			lines := strings.Count(src, "\n") + 1
			for _, e := range cerrs {
				if strings.HasPrefix(e.Msg, "internal error") {
					t.Fatalf("%s\nsource:\n%s", e.Msg, src)
				}
				if e.Pos.Line > lines || e.Pos.Line < 0 {
					t.Fatalf("diagnostic %q at line %d of a %d-line source", e.Msg, e.Pos.Line, lines)
				}
			}
			lang.FormatDiagnostics(io.Discard, append(errs, cerrs...), []byte(src))
			// Checking is deterministic: the same source gives the same
			// diagnostics (no map iteration order leaks into them).
			prog2, _ := lang.Parse("fuzz", []byte(src), &lang.ParseOptions{Cell: cell, Params: []string{"1", "ab"}})
			_, cerrs2 := lang.Check(prog2, &lang.Config{Types: types, Params: []string{"1", "ab"}, Session: session, Cell: "cell[2]"})
			if a, b := diagText(cerrs), diagText(cerrs2); a != b {
				t.Fatalf("two checks of one source differ:\n%s\n---\n%s\nsource:\n%s", a, b, src)
			}
			if cerrs.HasErrors() {
				continue
			}
			// A clean program is fully typed.
			lang.Inspect(prog, func(n lang.Node) bool {
				if e, ok := n.(lang.Expr); ok && e.Type() == nil {
					t.Fatalf("untyped %T in a program that checked\nsource:\n%s", e, src)
				}
				return true
			})
		}
	})
}

func diagText(errs lang.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteString(strings.Join(e.Notes, ";"))
		b.WriteByte('\n')
	}
	return b.String()
}
