package runtime_test

import (
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
	"github.com/tracebook/tracebook/runtime/value"
)

// TestIterators: an iter probe runs its iterator once (its program is
// called for every task, or every open file) and the run ends by itself,
// as bpftrace 0.17's does; context pointers may be NULL on the last call
// and are tested before use; path() takes a struct path field.
func TestIterators(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureIterTask)
	s := newSession(t, nil)
	var k sink
	p := compile(t, s, "iter", `iter:task { @tasks = count(); if (ctx->task->pid == 2) { printf("kthreadd %s\n", ctx->task->comm); } }`)
	res := runToEnd(t, s, p, &runtime.RunOptions{Sink: k.add})
	if res.Reason != runtime.StopDone {
		t.Errorf("reason %v, want done", res.Reason)
	}
	if n := scalar(t, mapOf(t, res.Maps, "@tasks")); n < 10 {
		t.Errorf("@tasks = %d, want every task", n)
	}
	if got := k.printfs(); len(got) != 1 || !strings.HasPrefix(got[0], "kthreadd kthreadd") {
		t.Errorf("printf from the iterator = %q", got)
	}

	p = compile(t, s, "files", `iter:task_file { @files[path(ctx->file->f_path)] = count(); }`)
	res = runToEnd(t, s, p, nil)
	m := mapOf(t, res.Maps, "@files")
	paths := 0
	for _, e := range m.Entries {
		if sv, ok := e.Key[0].(value.Str); ok && strings.HasPrefix(sv.S, "/") {
			paths++
		}
	}
	if paths == 0 {
		t.Errorf("no file path among %d entries of @files", len(m.Entries))
	}
}
