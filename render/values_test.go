package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

var kstack = value.Stack{Frames: []value.Frame{
	{Addr: 0xffffffff81a3c0d1, Sym: "perf_syscall_enter", Offset: 397},
	{Addr: 0xffffffff81002f20, Sym: "syscall_trace_enter", Offset: 384},
	{Addr: 0xffffffff81e4a11a, Sym: "do_syscall_64", Offset: 506},
}}

var ustack = value.Stack{User: true, Frames: []value.Frame{
	{Addr: 0x55e3c0de1000, Sym: "uprobeFunction1", Offset: 0, Module: "/tmp/tp"},
	{Addr: 0x55e3c0de1234, Sym: "level2", Offset: 34, Module: "/tmp/tp"},
	{Addr: 0x7ffe18db1bd8},
}}

func TestStackFormats(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"value", ValueText(kstack), "\n        perf_syscall_enter+397\n        syscall_trace_enter+384\n        do_syscall_64+506\n"},
		{"key", KeyText([]value.Value{ustack}), "[\n    uprobeFunction1+0\n    level2+34\n    0x7ffe18db1bd8\n]"},
		{"perf kernel", ValueText(value.Stack{Mode: value.StackPerf, Frames: kstack.Frames[:2]}),
			"\n\tffffffff81a3c0d1 perf_syscall_enter+397\n\tffffffff81002f20 syscall_trace_enter+384\n"},
		{"perf user", ValueText(value.Stack{User: true, Mode: value.StackPerf, Frames: ustack.Frames}),
			"\n\t55e3c0de1000 uprobeFunction1+0 (/tmp/tp)\n\t55e3c0de1234 level2+34 (/tmp/tp)\n\t7ffe18db1bd8 0x7ffe18db1bd8 ([unknown])\n"},
		{"raw", ValueText(value.Stack{Mode: value.StackRaw, Frames: kstack.Frames[:2]}), "\nffffffff81a3c0d1\nffffffff81002f20\n"},
		{"empty", ValueText(value.Stack{}), "\n"},
		{"printf %s", Printf(parseFormat("%s|"), []value.Value{kstack}), ValueText(kstack) + "|"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestStackMapText(t *testing.T) {
	// A map keyed by stacks (the @[kstack] = count() idiom), and a map of
	// stack values, which bpftrace joins without a delimiter.
	byStack := newMap("@", value.MapCount).add(key(kstack), 0, 0).add(key(value.Stack{Frames: kstack.Frames[1:]}), 0).done()
	want := "@[\n    syscall_trace_enter+384\n    do_syscall_64+506\n]: 1\n" +
		"@[\n    perf_syscall_enter+397\n    syscall_trace_enter+384\n    do_syscall_64+506\n]: 2\n"
	if got := MapText(byStack, 0, 0); got != want {
		t.Errorf("stack keys:\n%s\nwant\n%s", got, want)
	}
	vals := newMap("@s", 0).set(kstack, i64(1)).set(value.Stack{Frames: kstack.Frames[:1]}, i64(2)).done()
	want = "@s[1]: \n        perf_syscall_enter+397\n        syscall_trace_enter+384\n        do_syscall_64+506\n" +
		"@s[2]: \n        perf_syscall_enter+397\n\n"
	if got := MapText(vals, 0, 0); got != want {
		t.Errorf("stack values:\n%q\nwant\n%q", got, want)
	}
	js := MapJSON(byStack, 0, 0)
	if !strings.Contains(js, `"\n    perf_syscall_enter+397\n    syscall_trace_enter+384\n    do_syscall_64+506\n": 2`) {
		t.Errorf("stack key JSON: %s", js)
	}
}

// TestHistLabelsFullRange checks the labels past 0.17's [2G, 4G) cap,
// which follow bpftrace ≥ 0.20 (K, M, G, T, P, E by powers of 2^10).
func TestHistLabelsFullRange(t *testing.T) {
	want := map[int]string{
		0: "(..., 0)", 1: "[0]", 2: "[1]", 3: "[2, 4)", 11: "[512, 1K)", 12: "[1K, 2K)",
		22: "[1M, 2M)", 33: "[2G, 4G)", 34: "[4G, 8G)", 42: "[1T, 2T)", 52: "[1P, 2P)",
		61: "[512P, 1E)", 62: "[1E, 2E)", 64: "[4E, 8E)", 65: "[8E, 16E)",
	}
	for i, w := range want {
		if got := HistLabel(i); got != w {
			t.Errorf("HistLabel(%d) = %q, want %q", i, got, w)
		}
	}
	h := newMap("@h", value.MapHist).add(nil, 1<<40, 1<<62, 1<<63-1).done()
	text := MapText(h, 0, 0)
	if !strings.HasPrefix(text, "@h: \n[1T, 2T)"+strings.Repeat(" ", 15)+"1 |") || !strings.Contains(text, "[4E, 8E)               2 |@@@") {
		t.Errorf("hist beyond 4G:\n%s", text)
	}
	if n := strings.Count(text, "\n"); n != 2+23 {
		t.Errorf("rows from 2^40 to 2^62: %d lines\n%s", n, text)
	}
}

func TestHistJSONTopBuckets(t *testing.T) {
	b := make([]uint64, HistBuckets)
	b[33], b[34], b[65] = 1, 2, 3
	got := ValueJSON(value.Hist{Buckets: b})
	for _, want := range []string{
		`{"min": 2147483648, "max": 4294967295, "count": 1}`,
		`{"min": 4294967296, "max": 8589934591, "count": 2}`,
		`{"min": 9223372036854775808, "max": 18446744073709551615, "count": 3}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Errorf("not JSON: %v", err)
	}
}

func TestEventsText(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 10, 42, 0, time.Local)
	cases := []struct {
		e          value.Event
		text, json string
		stderr     bool
	}{
		{value.Join{Text: "/bin/echo hi there"}, "/bin/echo hi there\n", `{"type": "join", "data": "/bin/echo hi there"}` + "\n", false},
		{value.System{Text: "from-system 7\n"}, "from-system 7\n", `{"type": "syscall", "data": "from-system 7\n"}` + "\n", false},
		{value.Cat{Text: "line\n"}, "line\n", `{"type": "cat", "data": "line\n"}` + "\n", false},
		{value.Time{Format: "%H:%M:%S\n", At: at}, "14:10:42\n", `{"type": "time", "data": "14:10:42\n"}` + "\n", false},
		{value.LostEvents{N: 12}, "Lost 12 events\n", `{"type": "lost_events", "data": {"events": 12}}` + "\n", false},
		{value.Warning{Msg: "map full"}, "WARNING: map full\n", "WARNING: map full\n", true},
		{value.Exit{Code: 1}, "", "", false},
		{value.Print{Value: kstack}, ValueText(kstack) + "\n", `{"type": "value", "data": "\n        perf_syscall_enter+397\n        syscall_trace_enter+384\n        do_syscall_64+506\n"}` + "\n", false},
		{value.Print{Value: value.Text{Kind: value.TextStrerror, S: "Operation not permitted"}}, "Operation not permitted\n",
			`{"type": "value", "data": "Operation not permitted"}` + "\n", false},
		{value.Print{Value: value.Record{Name: "S", Fields: []value.NamedValue{{Name: "a", Value: i64(1)}, {Name: "b", Value: str("x")}}}},
			"{ .a = 1, .b = x }\n", `{"type": "value", "data": { "a": 1, "b": "x" }}` + "\n", false},
		{value.Print{Value: value.Array{Elems: []value.Value{i64(1), i64(2), i64(3)}}}, "[1,2,3]\n", `{"type": "value", "data": [1,2,3]}` + "\n", false},
	}
	for _, c := range cases {
		text, s1 := EventText(c.e)
		js, s2 := EventJSON(c.e)
		if text != c.text || js != c.json || (s1 == Stderr) != c.stderr || (s2 == Stderr) != c.stderr {
			t.Errorf("%T: text %q (%v) json %q (%v); want %q %q stderr=%v", c.e, text, s1, js, s2, c.text, c.json, c.stderr)
		}
		if c.json != "" && !c.stderr {
			var v any
			if err := json.Unmarshal([]byte(js), &v); err != nil {
				t.Errorf("%T: invalid JSON %q: %v", c.e, js, err)
			}
		}
	}
}

func TestTimestampText(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 10, 42, 327234000, time.Local)
	v := value.Text{Kind: value.TextTimestamp, Raw: uint64(at.UnixNano()), Format: "%H:%M:%S.%f"}
	if got := ValueText(v); got != "14:10:42.327234" {
		t.Errorf("timestamp: %q", got)
	}
	v.S = "already"
	if got := ValueText(v); got != "already" {
		t.Errorf("preformatted timestamp: %q", got)
	}
}

func TestPrintfMisc(t *testing.T) {
	cases := []struct {
		f    string
		args []value.Value
		want string
	}{
		{"%s", []value.Value{tup(i64(1), str("a"))}, "(1, a)"},
		{"%d", []value.Value{value.Pointer{Addr: 7}}, "7"},
		{"%-10rx|", []value.Value{value.Buffer{B: []byte("a")}}, "%-10rx|"},
		{"%s", []value.Value{value.Text{Kind: value.TextKSym, S: "vfs_read"}}, "vfs_read"},
	}
	for _, c := range cases {
		if got := Printf(parseFormat(c.f), c.args); got != c.want {
			t.Errorf("printf(%q) = %q, want %q", c.f, got, c.want)
		}
	}
}

// TestPrintfCFlags covers flags bpftrace 0.17's parser never produces but
// C has, should lang's parser hand them over.
func TestPrintfCFlags(t *testing.T) {
	f := &value.Format{Segments: []value.Segment{
		{Spec: &value.Spec{Flags: "+", Precision: -1, Verb: "d"}},
		{Literal: " ", Spec: &value.Spec{Flags: " ", Precision: -1, Verb: "d"}},
		{Literal: " ", Spec: &value.Spec{Flags: "#", Precision: -1, Verb: "x"}},
		{Literal: " ", Spec: &value.Spec{Flags: "#", Precision: -1, Verb: "o"}},
		{Literal: " ", Spec: &value.Spec{Flags: "#", Precision: -1, Verb: "X"}},
		{Literal: " ", Spec: &value.Spec{Flags: "#0", Width: 8, Precision: -1, Length: "l", Verb: "x"}},
	}}
	got := Printf(f, []value.Value{i64(5), i64(5), i64(255), i64(8), i64(0), i64(255)})
	if want := "+5  5 0xff 010 0 0x0000ff"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPrintMapWarning(t *testing.T) {
	st := newMap("@s", value.MapStats).add(nil, 1).done()
	if PrintMapWarning(st, 1, 0) != StatsTopDivWarning || PrintMapWarning(st, 0, 0) != "" {
		t.Error("stats warning")
	}
	if PrintMapWarning(newMap("@c", value.MapCount).add(nil, 1).done(), 1, 2) != "" {
		t.Error("count maps take top and div")
	}
}
