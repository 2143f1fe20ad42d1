package lang_test

import (
	"slices"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/lang/langtest"
)

// askedTypes records the names the checker asks FuncArgs for.
type askedTypes struct {
	*langtest.Fixture
	asked []string
}

func (a *askedTypes) FuncArgs(module, fn string) (*lang.Type, *lang.Type, error) {
	a.asked = append(a.asked, fn)
	return a.Fixture.FuncArgs(module, fn)
}

// TestFuncArgsName checks that the checker asks for a raw tracepoint's
// arguments by the TypeSource convention ("btf_trace_<tp>") and only so:
// cap_capable is both a function and a tracepoint with different
// arguments, and the function's must never type a rawtracepoint's args.
func TestFuncArgsName(t *testing.T) {
	for _, tc := range []struct {
		src   string
		asked []string
	}{
		{"rawtracepoint:cap_capable { @[args->cap, args->ret] = count(); }", []string{"btf_trace_cap_capable"}},
		{"rawtracepoint:sched_switch { @[args->next->comm] = count(); }", []string{"btf_trace_sched_switch"}},
		{"kfunc:cap_capable { @[args->cap, args->opts] = count(); }", []string{"cap_capable"}},
	} {
		types := &askedTypes{Fixture: langtest.NewFixture()}
		prog, errs := lang.Parse("stdin", []byte(tc.src), &lang.ParseOptions{HaveBTF: true})
		if errs.HasErrors() {
			t.Fatalf("%s: %v", tc.src, errs)
		}
		if _, errs := lang.Check(prog, &lang.Config{Types: types}); errs.HasErrors() {
			t.Errorf("%s: %v", tc.src, errs)
		}
		// The checker's passes may ask more than once; the names matter.
		slices.Sort(types.asked)
		if asked := slices.Compact(types.asked); !slices.Equal(asked, tc.asked) {
			t.Errorf("%s: FuncArgs asked for %q, want %q", tc.src, asked, tc.asked)
		}
	}
	if got := lang.FuncArgsName("rawtracepoint", "x"); got != "btf_trace_x" {
		t.Errorf(`FuncArgsName("rawtracepoint", "x") = %q`, got)
	}
	if got := lang.FuncArgsName("kfunc", "x"); got != "x" {
		t.Errorf(`FuncArgsName("kfunc", "x") = %q`, got)
	}
}
