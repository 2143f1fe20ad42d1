package kernel

import (
	"errors"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/lang/langtest"
	"github.com/tracebook/tracebook/runtime"
)

// Pure tests of the bpftrace executor's parts that need no kernel: magic
// parsing, settings, completion and inspection over lang's fixture
// TypeSource, is_complete, error formatting and kernel_info.

func TestParseCell(t *testing.T) {
	for _, tc := range []struct {
		code  string
		run   runMagic
		lines []string // "name arg arg"
		body  string
		err   string
	}{
		{code: "BEGIN { exit(); }", body: "BEGIN { exit(); }"},
		{code: "%%trace 30s\nkprobe:f { }", run: runMagic{duration: 30 * time.Second}, body: "\nkprobe:f { }"},
		{code: "%%trace 1.5\nBEGIN{}", run: runMagic{duration: 1500 * time.Millisecond}, body: "\nBEGIN{}"},
		{code: "%%trace 2s -c 'dd if=/dev/zero of=/dev/null count=1000'\nt:a:b {}",
			run: runMagic{duration: 2 * time.Second, command: "dd if=/dev/zero of=/dev/null count=1000"}, body: "\nt:a:b {}"},
		{code: "%%trace -c ls\nBEGIN{}", run: runMagic{command: "ls"}, body: "\nBEGIN{}"},
		{code: "%%bg\n%%trace 1m\nBEGIN{}", run: runMagic{bg: true, duration: time.Minute}, body: "\n\nBEGIN{}"},
		{code: "\n  %%bg\nBEGIN{}", run: runMagic{bg: true}, body: "\n\nBEGIN{}"},
		{code: "%unsafe on\nBEGIN { system(\"x\"); }\n%verbose", lines: []string{"unsafe on", "verbose"}, body: "\nBEGIN { system(\"x\"); }\n"},
		{code: "%stop 1 2", lines: []string{"stop 1 2"}, body: ""},
		{code: "%set format 'json'", lines: []string{"set format json"}, body: ""},
		{code: "BEGIN{}\n%%trace 1s", err: "the cell magic %%trace must come before the program"},
		{code: "%%trace forever\nBEGIN{}", err: `"forever" is not a duration`},
		{code: "%%trace -1s\nBEGIN{}", err: "must be positive"},
		{code: "%%trace -c\nBEGIN{}", err: "-c needs a command"},
		{code: "%%nosuch\nBEGIN{}", err: "unknown magic %%nosuch"},
		{code: "%set x 'y", err: "unterminated quote"},
	} {
		c, err := parseCell(tc.code)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.code, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.code, err)
			continue
		}
		if c.run != tc.run || c.body != tc.body {
			t.Errorf("%q: run %+v body %q, want %+v %q", tc.code, c.run, c.body, tc.run, tc.body)
		}
		var lines []string
		for _, l := range c.lines {
			lines = append(lines, strings.Join(append([]string{l.name}, l.args...), " "))
		}
		if !reflect.DeepEqual(lines, tc.lines) {
			t.Errorf("%q: line magics %q, want %q", tc.code, lines, tc.lines)
		}
	}
}

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		`%%trace 2s -c 'a b'`:  {"%%trace", "2s", "-c", "a b"},
		`%set x "a \"q\" b"`:   {"%set", "x", `a "q" b`},
		`a\ b  c`:              {"a b", "c"},
		`-c''`:                 {"-c"},
		"\t%list  'sched:*'  ": {"%list", "sched:*"},
	} {
		got, err := splitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}

func TestSettings(t *testing.T) {
	s := defaultSettings()
	for _, tc := range []struct{ name, val, err string }{
		{"strlen", "128", ""}, {"STRLEN", "0", "from 1 to 200"}, {"map_keys_max", "100", ""},
		{"format", "JSON", ""}, {"format", "xml", "text or json"}, {"top", "5", ""},
		{"rate", "2.5", ""}, {"rate", "10", "at most 5"}, {"rate", "0", "more than 0"}, {"colour", "red", "no setting"},
	} {
		err := s.set(tc.name, tc.val)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %s: %v, want %q", tc.name, tc.val, err, tc.err)
		}
	}
	want := settings{StrLen: 128, MapSize: 100, Format: "json", TopN: 5, Rate: 2.5}
	if s != want {
		t.Errorf("settings %+v, want %+v", s, want)
	}
	if s.interval() != 400*time.Millisecond {
		t.Errorf("interval %v", s.interval())
	}
	if d := defaultSettings(); d.interval() != 200*time.Millisecond {
		t.Errorf("default interval %v", d.interval())
	}
}

// The provider table of completion and inspection names every provider
// and alias as the parser knows them.
func TestProvidersMatchTheParser(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range providers {
		if lang.CanonicalProvider(p.name) != p.name {
			t.Errorf("%s is not a canonical provider", p.name)
		}
		if p.alias != "" && lang.CanonicalProvider(p.alias) != p.name {
			t.Errorf("%s is not an alias of %s", p.alias, p.name)
		}
		seen[p.name] = true
	}
	for _, pt := range runtime.ProbeTypes() {
		if !seen[pt.Provider] {
			t.Errorf("provider %s is missing from the completion table", pt.Provider)
		}
	}
}

func fixtureAssist(t *testing.T) *assist {
	t.Helper()
	sess, err := langtest.ParseSession("@bytes[string[16]]:hist~cell[1]:1:38;@start[uint64]:uint64~cell[2]")
	if err != nil {
		t.Fatal(err)
	}
	return &assist{
		types: langtest.NewFixture(),
		maps:  func() map[string]*lang.MapInfo { return sess },
		summaries: func() []runtime.MapSummary {
			return []runtime.MapSummary{{Name: "@bytes", Entries: 3, MaxEntries: 4096, Memory: 5 << 10}}
		},
		readDir: func(dir string) ([]os.DirEntry, error) {
			if dir != "/bin/" {
				return nil, errors.New("no such directory")
			}
			return os.ReadDir("testdata/bin")
		},
		providerErr: func(p string) error {
			if p == "kprobe" || p == "kretprobe" {
				return errors.New("this kernel has no kprobes")
			}
			return nil
		},
		bgIDs: func() []int { return []int{3, 7} },
	}
}

// complete runs a completion with the cursor at "|" (or the end).
func completeAt(a *assist, code string) (Completion, string) {
	cursor := strings.IndexByte(code, '|')
	if cursor < 0 {
		cursor = len(code)
	} else {
		code = code[:cursor] + code[cursor+1:]
	}
	return a.complete(code, cursor), code
}

func matchTexts(c Completion) []string {
	var out []string
	for _, m := range c.Matches {
		out = append(out, m.Text)
	}
	return out
}

func TestComplete(t *testing.T) {
	a := fixtureAssist(t)
	for _, tc := range []struct {
		code     string
		want     []string // exact, in order; nil means no matches
		replaced string   // the text the matches replace
	}{
		// Providers, and statements outside probes.
		{"trac", []string{"tracepoint:"}, "trac"},
		{"BE", []string{"BEGIN"}, "BE"},
		// Providers this kernel lacks come last.
		{"kr", []string{"kretfunc:", "kretprobe:", "kr:"}, "kr"},
		{"u", []string{"uprobe:", "u:", "uretprobe:", "ur:", "usdt:"}, "u"},
		{"BEGIN { }\ntracepoint:sch", []string{"sched:"}, "sch"},
		// Attach points, part by part.
		{"tracepoint:sch", []string{"sched:"}, "sch"},
		{"t:sched:sched_w", []string{"sched_wakeup", "sched_wakeup_new"}, "sched_w"},
		{"tracepoint:syscalls:sys_enter_open", []string{"sys_enter_open", "sys_enter_openat"}, "sys_enter_open"},
		{"kprobe:vfs_re", []string{"vfs_read", "vfs_readv"}, "vfs_re"},
		{"kfunc:vfs_op", []string{"vfs_open"}, "vfs_op"},
		{"uprobe:/bin/bash:readl", []string{"readline"}, "readl"},
		{"uprobe:/bin/ba", []string{"/bin/bash"}, "/bin/ba"},
		{"usdt:/usr/bin/fixture:st", []string{"start", "stop"}, "st"},
		{"software:page", []string{"page-faults"}, "page"},
		{"profile:h", []string{"hz:"}, "h"},
		{"tracepoint:syscalls:sys_*", nil, "sys_*"},
		{"tracepoint:sched:sched_switch, tracepoint:sched:sched_wakeup_", []string{"sched_wakeup_new"}, "sched_wakeup_"},
		// args fields of the probe around the cursor.
		{"tracepoint:syscalls:sys_enter_openat { printf(\"%s\", str(args->fil", []string{"filename"}, "fil"},
		{"tracepoint:syscalls:sys_enter_openat /args->f", []string{"filename", "flags"}, "f"},
		{"tracepoint:sched:sched_switch\n{\n  if (args.prev_c", []string{"prev_comm"}, "prev_c"},
		{"kfunc:vfs_read { @[args->", []string{"file", "buf", "count", "pos"}, ""},
		{"tracepoint:syscalls:sys_enter_open* { args->filen", []string{"filename"}, "filen"},
		{"uprobe:/bin/bash:readline /pid == 1/ { @x = cou", []string{"count"}, "cou"},
		// Maps, variables, functions, builtins by probe type.
		{"BEGIN { @by", []string{"@bytes"}, "@by"},
		{"@st", []string{"@start"}, "@st"},
		{"BEGIN { @new = 1; @ne|; }", []string{"@new"}, "@ne"},
		{"BEGIN { $abc = 1; printf(\"%d\", $a", []string{"$abc"}, "$a"},
		{"BEGIN { ksta", []string{"kstack"}, "ksta"},
		{"kretprobe:vfs_read { @ = ret", []string{"return", "retval"}, "ret"},
		{"kprobe:vfs_read { @ = retv", nil, "retv"},
		{"tracepoint:a:b { x->fie", nil, ""},
		// Nothing inside strings and comments, or after a predicate.
		{`BEGIN { printf("tracepoint:sch`, nil, ""},
		{"// tracepoint:sch", nil, ""},
		{"/* kst", nil, ""},
		{"tracepoint:a:b /pid/ ", nil, ""},
		// Magics.
		{"%pro", []string{"%probes"}, "%pro"},
		{"%%t", []string{"%%trace"}, "%%t"},
		{"%set f", []string{"format"}, "f"},
		{"%set format j", []string{"json"}, "j"},
		{"%unsafe o", []string{"off", "on"}, "o"},
		{"%stop ", []string{"3", "7"}, ""},
		{"%list tracepoint:sched:sched_sw", []string{"sched_switch"}, "sched_sw"},
		{"BEGIN {}\n%mapsx|\n", nil, ""},
	} {
		c, code := completeAt(a, tc.code)
		got := matchTexts(c)
		if tc.code == "u" {
			// Builtins and functions starting with u follow the providers.
			got = got[:min(len(got), len(tc.want))]
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: matches %q, want %q", tc.code, got, tc.want)
			continue
		}
		if len(tc.want) > 0 && code[c.Start:c.End] != tc.replaced {
			t.Errorf("%q: replaces %q, want %q", tc.code, code[c.Start:c.End], tc.replaced)
		}
	}
}

func TestCompleteMetadata(t *testing.T) {
	a := fixtureAssist(t)
	c, _ := completeAt(a, "BEGIN { @x = lhis")
	if len(c.Matches) != 1 || c.Matches[0].Type != "function" || !strings.HasPrefix(c.Matches[0].Signature, "lhist(") {
		t.Errorf("lhist: %+v", c.Matches)
	}
	c, _ = completeAt(a, "BEGIN { @ = com")
	if len(c.Matches) != 1 || c.Matches[0].Type != "builtin" || c.Matches[0].Signature != "comm: string[16]" {
		t.Errorf("comm: %+v", c.Matches)
	}
	c, _ = completeAt(a, "BEGIN { @b")
	if len(c.Matches) != 1 || c.Matches[0].Type != "map" || c.Matches[0].Signature != "@bytes[string[16]]: hist (cell[1])" {
		t.Errorf("@bytes: %+v", c.Matches)
	}
	c, _ = completeAt(a, "k")
	for _, m := range c.Matches {
		if m.Text == "kprobe:" && !strings.Contains(m.Signature, "not on this kernel: this kernel has no kprobes") {
			t.Errorf("kprobe's signature does not say it is unavailable: %q", m.Signature)
		}
	}
	if got := matchTexts(c); len(got) < 2 || got[0] != "kfunc:" {
		t.Errorf("available providers come first: %q", got)
	}
	c, _ = completeAt(a, "tracepoint:syscalls:sys_enter_read { args->cou")
	if len(c.Matches) != 1 || c.Matches[0].Signature != "uint64 count" {
		t.Errorf("args field: %+v", c.Matches)
	}
}

func TestInspect(t *testing.T) {
	a := fixtureAssist(t)
	for _, tc := range []struct {
		code string // cursor at "|"
		want []string
	}{
		{"BEGIN { printf|(\"x\"); }", []string{"printf(", "\n\n"}},
		{"BEGIN { @ = co|mm; }", []string{"comm: string[16]"}},
		{"BEGIN { @ = hi|st(1); }", []string{"hist(", "returns: hist"}},
		{"tracep|oint:sched:sched_switch { }", []string{"tracepoint:sched:sched_switch\n", "prev_comm", "next_pid"}},
		{"tracepoint:sched:sched_*| { }", []string{"matches 5 probes", "tracepoint:sched:sched_switch"}},
		{"kfunc:vfs_re|ad { }", []string{"kfunc:vfs_read", "file", "count"}},
		{"BEGIN { print(@by|tes); }", []string{"@bytes[string[16]]: hist", "type fixed by cell[1] at 1:38", "3 of 4096 entries, 5.0 KiB"}},
		{"BEGIN { @fresh = 1; print(@fre|sh); }", []string{"not in the session yet"}},
		{"BEGIN { $t = (struct task|_struct *)curtask; }", []string{"struct task_struct (9792 bytes)", " pid;"}},
		{"tracepoint:syscalls:sys_enter_openat { printf(\"%s\", str(args->file|name)); }", []string{"args->filename: "}},
		{"tracepoint:syscalls:sys_enter_openat { @ = ar|gs; }", []string{"args in tracepoint:syscalls:sys_enter_openat", "filename"}},
		{"%st|op 3", []string{"%stop [ID...]"}},
		{"BEG|IN { }", []string{"runs once, when the program starts"}},
	} {
		cursor := strings.IndexByte(tc.code, '|')
		code := tc.code[:cursor] + tc.code[cursor+1:]
		in := a.inspect(code, cursor, 0)
		text, _ := in.Data.Data["text/plain"].(string)
		if !in.Found {
			t.Errorf("%q: not found", tc.code)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%q: %q lacks %q", tc.code, text, w)
			}
		}
	}
	for _, code := range []string{"BEGIN { nosuch|thing }", `BEGIN { printf("co|mm") }`, "|", "  | "} {
		cursor := strings.IndexByte(code, '|')
		code = code[:cursor] + code[cursor+1:]
		if in := a.inspect(code, cursor, 0); in.Found {
			t.Errorf("%q: found %v", code, in.Data.Data)
		}
	}
	// Detail level 1 says more.
	in := a.inspect("tracepoint:sched:sched_switch {}", 3, 1)
	if !strings.Contains(in.Data.Data["text/plain"].(string), "prev_comm") {
		t.Errorf("detail 1: %v", in.Data.Data)
	}
}

func TestInspectTracepointFormat(t *testing.T) {
	a := fixtureAssist(t)
	a.tpFormat = func(cat, name string) (*runtime.TracepointFormat, error) {
		f, err := os.Open("testdata/sched_switch.format")
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return runtime.ParseTracepointFormat(f)
	}
	got := a.inspectText("tracepoint:sched:sched_switch { }", 3, 0)
	want := "tracepoint:sched:sched_switch\n    char prev_comm[16]\n    pid_t prev_pid\n    int prev_prio\n    long prev_state\n" +
		"    char next_comm[16]\n    pid_t next_pid\n    int next_prio\n\ntracepoint:CATEGORY:NAME: a kernel tracepoint; args-> holds its fields\n"
	if got != want {
		t.Errorf("format:\n%s\nwant\n%s", got, want)
	}
	if got := a.inspectText("tracepoint:sched:sched_switch { }", 3, 1); !strings.Contains(got, "common_pid") || !strings.Contains(got, "offset 8, size 16") {
		t.Errorf("detail 1:\n%s", got)
	}
}

func TestScanCursor(t *testing.T) {
	for _, tc := range []struct {
		code   string
		where  place
		header string
	}{
		{"", inAttach, ""},
		{"kprobe:f", inAttach, ""},
		{"kprobe:f { ", inBody, "kprobe:f "},
		{"kprobe:f, kprobe:g /pid == 1/ { if (x) { ", inBody, "kprobe:f, kprobe:g "},
		{"kprobe:f /pid", inPredicate, "kprobe:f "},
		{"uprobe:/bin/sh:f /pid", inPredicate, "uprobe:/bin/sh:f "},
		{"uprobe:/bin/sh:f", inAttach, ""},
		{"kprobe:f /pid/ ", inNothing, ""},
		{"kprobe:f { } ", inAttach, ""},
		{"kprobe:f { \"}\" ", inBody, "kprobe:f "},
		{"kprobe:f { // }\n", inBody, "kprobe:f "},
		{"kprobe:f { /* } */ ", inBody, "kprobe:f "},
		{"BEGIN { \"abc", inNothing, ""},
		{"%%trace 1s\nkprobe:f { ", inBody, "kprobe:f "},
		{"%set ", inMagic, ""},
		{"print(@x); @", inAttach, ""},
	} {
		s := scanCursor(tc.code, len(tc.code))
		if s.where != tc.where || s.header != tc.header {
			t.Errorf("%q: where %d header %q, want %d %q", tc.code, s.where, s.header, tc.where, tc.header)
		}
	}
}

func TestIsComplete(t *testing.T) {
	for code, want := range map[string]string{
		"BEGIN { exit(); }":                      "complete",
		"@x":                                     "complete",
		"print(@x); clear(@x);":                  "complete",
		"%probes":                                "complete",
		"BEGIN {":                                "incomplete",
		"kprobe:do_nanosleep { @[comm] = count(": "incomplete",
		`tracepoint:syscalls:sys_enter_read /comm == "x"/`:     "incomplete",
		"tracepoint:syscalls:sys_enter_read":                   "incomplete",
		"tracepoint:syscalls:sys_enter_read,":                  "incomplete",
		"tracepoint:syscalls:sys_enter_read /comm == \"x\"/\n": "incomplete",
		"@x = ":                           "incomplete",
		"}":                               "invalid",
		"BEGIN { ) }":                     "invalid",
		"%%trace 1s\nBEGIN { exit(); }":   "incomplete",
		"%%trace 1s\nBEGIN { exit(); }\n": "complete",
	} {
		if got := isComplete(code); got.Status != want {
			t.Errorf("%q: %s, want %s", code, got.Status, want)
		}
	}
}

func TestCompileErrorFormat(t *testing.T) {
	src := []byte("BEGIN { nosuch(); system(\"x\"); }")
	_, errs := lang.Parse("cell[2]", src, &lang.ParseOptions{Cell: true})
	if errs.HasErrors() {
		t.Fatal(errs)
	}
	prog, _ := lang.Parse("cell[2]", src, &lang.ParseOptions{Cell: true})
	_, errs = lang.Check(prog, &lang.Config{Cell: "cell[2]"})
	e := compileError(errs, src, false)
	if e.Name != "CompileError" || e.Value != "Unknown function: nosuch" {
		t.Errorf("ename %q evalue %q", e.Name, e.Value)
	}
	tb := strings.Join(e.Traceback, "\n")
	for _, want := range []string{"cell[2]:1:9-15", "\x1b[", "BEGIN { nosuch();", "~~~~~~", "HINT: %unsafe on allows it"} {
		if !strings.Contains(tb, want) {
			t.Errorf("traceback lacks %q:\n%s", want, tb)
		}
	}
}

func TestHostInfo(t *testing.T) {
	no := errors.New("this kernel has no kprobes")
	info := hostInfo(true, []runtime.ProbeType{{Provider: "BEGIN"}, {Provider: "tracepoint"}, {Provider: "kprobe", Err: no},
		{Provider: "kretprobe", Err: no}, {Provider: "kfunc", Err: errors.New("EPERM")}}, false)
	if !reflect.DeepEqual(info.ProbeTypes, []string{"BEGIN", "tracepoint"}) || !info.BTF || info.LanguageVersion != "0.17" {
		t.Errorf("%+v", info)
	}
	notes := strings.Join(info.Notes, "\n")
	for _, want := range []string{"not here: kfunc (EPERM)", "not here: kprobe, kretprobe (this kernel has no kprobes)", "not running as root"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	var urls []string
	for _, l := range info.HelpLinks {
		urls = append(urls, l.URL)
	}
	sort.Strings(urls)
	if len(urls) < 2 || !strings.Contains(strings.Join(urls, " "), "reference_guide.md") {
		t.Errorf("help links %v", urls)
	}
}

func TestTable(t *testing.T) {
	tb := table{header: []string{"id", "name", "n"}, right: []bool{true, false, true},
		rows: [][]string{{"1", "a<b", "10"}, {"22", "cc", "3"}}}
	if got, want := tb.text(), "id  name   n\n 1  a<b   10\n22  cc     3\n"; got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	if h := tb.html(); !strings.Contains(h, "<td>a&lt;b</td>") || !strings.Contains(h, `<td style="text-align: right">22</td>`) {
		t.Errorf("html %s", h)
	}
}
