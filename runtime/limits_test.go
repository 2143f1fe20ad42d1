package runtime_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/tracebook/tracebook/render"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/value"
)

// Tests of the end-of-run warnings about limits (limits.go): each names
// its cause and points at the place in the program it is about.

// warnings returns the run's warnings whose message contains s.
func (k *sink) warnings(s string) []value.Warning {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []value.Warning
	for _, e := range k.events {
		if w, ok := e.(value.Warning); ok && strings.Contains(w.Msg, s) {
			out = append(out, w)
		}
	}
	return out
}

// at checks that w is placed at line:col-endcol and renders with its
// excerpt.
func at(t *testing.T, w value.Warning, line, col, endCol int, text string) {
	t.Helper()
	d := w.Source
	if d == nil {
		t.Fatalf("%q has no source", w.Msg)
	}
	if d.Line != line || d.Col != col || d.EndCol != endCol {
		t.Errorf("%q is at %d:%d-%d, want %d:%d-%d", w.Msg, d.Line, d.Col, d.EndCol, line, col, endCol)
	}
	out, _ := render.EventText(w)
	if !strings.Contains(out, text) || !strings.Contains(out, "~~~") {
		t.Errorf("rendered:\n%s\nwant it to contain %q and the markers", out, text)
	}
}

func TestLimitFullMapPlaced(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{MaxMapEntries: 4})
	var k sink
	runToEnd(t, s, compile(t, s, "full", "BEGIN {\n  @n = 1;\n  @m[1] = 1; @m[2] = 1; @m[3] = 1;\n  @m[4] = 1; @m[5] = 1; @m[6] = 1;\n  exit();\n}"),
		&runtime.RunOptions{Sink: k.add})
	ws := k.warnings("Map full")
	if len(ws) != 1 {
		t.Fatalf("%d full-map warnings", len(ws))
	}
	at(t, ws[0], 3, 3, 12, "full:3:3-12: WARNING: Map full; can't update element of @m (2 times)")
	if n := ws[0].Source.Notes; len(n) == 0 || n[0] != "the first of 6 statements that update @m" {
		t.Errorf("notes %q", n)
	}
}

func TestLimitLostEventsPlaced(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{RingBufSize: 4096, Params: pidParam()})
	var k sink
	p := compile(t, s, "flood", `BEGIN { printf("start\n"); }
tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf("%s %s %s %s %s\n", comm, comm, comm, comm, comm); }`)
	r, err := s.Start(context.Background(), p, &runtime.RunOptions{Sink: k.add})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200000; i++ {
		syscall.Getppid()
	}
	r.Stop()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	ws := k.warnings("events lost")
	if res.Drops == 0 || len(ws) != 1 {
		t.Fatalf("%d drops, %d lost-events warnings", res.Drops, len(ws))
	}
	at(t, ws[0], 2, 53, 109, "flood:2:53-109: WARNING: ")
	if want := fmt.Sprintf("%d events lost: the ring buffer that carries them to user space was full", res.Drops); ws[0].Msg != want {
		t.Errorf("message %q, want %q", ws[0].Msg, want)
	}
	if n := ws[0].Source.Notes; len(n) == 0 || !strings.Contains(n[0], "this printf sent 99%") && !strings.Contains(n[0], "this printf sent 100%") {
		t.Errorf("notes %q", n)
	}
}

// A str() that fills its buffer is reported once, at the call, for
// printf arguments and map keys; strings that fit are not.
func TestLimitTruncatedStringPlaced(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{Params: pidParam()})
	var k sink
	p := compile(t, s, "strs", `tracepoint:syscalls:sys_enter_openat /pid == $1/ {
  printf("%s\n", str(args->filename));
  @opens[str(args->filename)] = count();
  @short[comm] = count();
}`)
	r, err := s.Start(context.Background(), p, &runtime.RunOptions{Sink: k.add})
	if err != nil {
		t.Fatal(err)
	}
	long := "/nonexistent/" + strings.Repeat("x", 100)
	for _, name := range []string{long, "/nonexistent/short", long + "y"} {
		os.Open(name)
	}
	r.Stop()
	if _, err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	ws := k.warnings("str() filled")
	if len(ws) != 2 {
		t.Fatalf("%d truncated-string warnings: %v", len(ws), ws)
	}
	at(t, ws[0], 2, 18, 37, "strs:2:18-37: WARNING: str() filled its 64-byte buffer in 2 of 3 values: longer strings were probably cut to 63 bytes")
	at(t, ws[1], 3, 10, 29, "strs:3:10-29: WARNING: str() filled its 64-byte buffer in 1 of 2 values")

	// Strings that fit say nothing.
	var k2 sink
	p = compile(t, s, "fits", `tracepoint:syscalls:sys_enter_openat /pid == $1/ { printf("%s\n", str(args->filename)); }`)
	r, err = s.Start(context.Background(), p, &runtime.RunOptions{Sink: k2.add})
	if err != nil {
		t.Fatal(err)
	}
	os.Open("/nonexistent/short")
	r.Stop()
	r.Wait()
	if ws := k2.warnings("str() filled"); len(ws) != 0 {
		t.Errorf("a string that fits was reported: %v", ws)
	}
}
