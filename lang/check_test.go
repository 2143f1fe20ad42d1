package lang_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/lang/langtest"
)

// emitted collects every message the checker produced in TestCheckFiles,
// for TestEveryMessageTested.
var (
	emittedMu sync.Mutex
	emitted   []string
)

// configFor builds the checker's configuration from a chunk's options:
//
//	option:unsafe          unsafe mode (system, signal, override)
//	option:cell            a notebook cell: statements outside probes
//	option:params=a,b      positional parameters $1, $2
//	option:session=...     maps of earlier cells (langtest.ParseSession)
//	option:strlen=N        BPFTRACE_STRLEN
//	option:cmd             -c was given (cpid is available)
//	option:pid=N           -p N
//	option:notypes         no TypeSource (kernel types unavailable)
func configFor(t *testing.T, c *langtest.Chunk, types lang.TypeSource) (*lang.ParseOptions, *lang.Config) {
	cfg := &lang.Config{Types: types, Unsafe: c.Has("unsafe"), HaveCmd: c.Has("cmd"), Cell: "cell[3]"}
	if c.Has("notypes") {
		cfg.Types = nil
	}
	if p, ok := c.Options["params"]; ok && p != "" {
		cfg.Params = strings.Split(p, ",")
	}
	if s, ok := c.Options["session"]; ok {
		maps, err := langtest.ParseSession(s)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		cfg.Session = maps
	}
	if s, ok := c.Options["strlen"]; ok {
		cfg.StrLen, _ = strconv.Atoi(s)
	}
	if s, ok := c.Options["pid"]; ok {
		cfg.PID, _ = strconv.Atoi(s)
	}
	popts := &lang.ParseOptions{Cell: c.Has("cell"), Params: cfg.Params, HaveBTF: cfg.Types != nil, PID: cfg.PID}
	return popts, cfg
}

// checkChunk parses and checks one chunk and hands every diagnostic to it.
func checkChunk(t *testing.T, c *langtest.Chunk, types lang.TypeSource) {
	popts, cfg := configFor(t, c, types)
	prog, errs := lang.Parse(filepath.Base(c.File), []byte(c.Source), popts)
	if prog != nil && !errs.HasErrors() {
		_, cerrs := lang.Check(prog, cfg)
		errs = append(errs, cerrs...)
	}
	for _, e := range errs {
		line := e.Pos.Line
		if line == 0 {
			line = c.Line // errors without a position belong to the chunk
		}
		c.Got(line, e.Severity == lang.SevWarning, e.Msg, e.Notes)
		emittedMu.Lock()
		emitted = append(emitted, e.Msg)
		emittedMu.Unlock()
	}
	c.Done()
}

// TestCheckFiles runs the chunked expected-error files in
// testdata/check: each chunk is a program, its expectations are
// "// ###" comments (see package langtest).
func TestCheckFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.bt")
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata/check/*.bt files")
	}
	types := langtest.NewFixture()
	n := 0
	for _, file := range files {
		for _, c := range langtest.ReadChunks(t, file) {
			n++
			checkChunk(t, c, types)
		}
	}
	if n < 200 {
		t.Errorf("only %d chunks; the suite should hold at least 200 programs", n)
	}
	t.Logf("%d programs checked", n)
}

// formatRE finds the format strings of the checker's diagnostics in its
// source: c.errorf(node, "...", ...), c.warnf, c.errorAt, c.warnAt, and
// the messages formatArgsError returns.
var formatRE = regexp.MustCompile(`(?:errorf|warnf|errorAt|warnAt)\([^"]*?("(?:[^"\\]|\\.)*")|Sprintf\(("(?:[^"\\]|\\.)*")`)

// verbRE matches the fmt verbs of a format string.
var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// TestEveryMessageTested checks that every diagnostic the checker can
// produce was produced by at least one program in testdata/check, so
// every error class has a test.
func TestEveryMessageTested(t *testing.T) {
	if len(emitted) == 0 {
		t.Skip("TestCheckFiles did not run")
	}
	sources, _ := filepath.Glob("check*.go")
	sources = append(sources, "printf.go")
	// Messages that cannot be reached from source text: guards against
	// ASTs a parser never builds, and checker bugs.
	unreachable := map[string]bool{
		`"unsigned int%d"`: true, `"struct _tracepoint_%s_%s"`: true,
		`"internal error: no type rule for the builtin %s"`: true,
		`"unexpected statement %T"`:                         true, `"unexpected expression %T"`: true,
		`"Can only assign to a map or a variable"`:               true,
		`"internal error in the checker: %v"`:                    true,
		`"The %s operator must be applied to a map or variable"`: true,
		`"offsetof() takes a struct type and a field name"`:      true,
		`"%s cannot be part of a tuple"`:                         true,
		`"'%s' is not a struct or union"`:                        true,
		`"%s"`:                                                   true,
		`"%s%s"`:                                                 true,
		`"%s(%s, %d)"`:                                           true,
	}
	for _, src := range sources {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range formatRE.FindAllStringSubmatch(string(data), -1) {
			lit := m[1] + m[2]
			if unreachable[lit] {
				continue
			}
			format, err := strconv.Unquote(lit)
			if err != nil {
				continue
			}
			if !strings.ContainsAny(format, " :") {
				continue // not a message (a fragment or a type name)
			}
			pattern := quoteFormat(format) + "$"
			if !strings.HasPrefix(format, " ") { // a suffix is matched anywhere
				pattern = "^" + pattern
			}
			re := regexp.MustCompile(pattern)
			found := false
			for _, msg := range emitted {
				if re.MatchString(msg) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: no test produces %s", src, lit)
			}
		}
	}
}

// quoteFormat turns a fmt format into a regexp: literal text quoted,
// verbs matching anything.
func quoteFormat(format string) string {
	var b strings.Builder
	last := 0
	for _, loc := range verbRE.FindAllStringIndex(format, -1) {
		b.WriteString(regexp.QuoteMeta(format[last:loc[0]]))
		if format[loc[0]:loc[1]] == "%%" {
			b.WriteString("%")
		} else {
			b.WriteString(".*")
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(format[last:]))
	return b.String()
}
