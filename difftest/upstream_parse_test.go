package difftest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// This file reads bpftrace's runtime-test suites (tests/runtime/<suite> in
// bpftrace's source tree): one file per suite, tests separated by blank
// lines, '#' comment lines, one "DIRECTIVE value" per line.
//
// Two dialects exist. In 0.17's, EXPECT is a Python regular expression
// searched for in the output. Later versions (the "head" dialect) make
// EXPECT a literal whole line and add EXPECT_REGEX, EXPECT_NONE,
// EXPECT_REGEX_NONE, RETURN_CODE, continuation lines and more. Directives
// this runner does not implement make their test skip with the reason, so
// nothing passes by accident.

// An upstreamTest is one test of a suite.
type upstreamTest struct {
	Suite, Name string
	Run, Prog   string
	Expects     []expectation
	Timeout     int // seconds
	Before      []string
	After       string
	MinKernel   string
	MaxKernel   string
	Requires    []string
	Features    []string // REQUIRES_FEATURE, "!x" negated
	Env         []string
	Arch        []string
	WillFail    bool
	ReturnCode  *int
	Unsupported string // why this runner cannot run the test
}

// An expectation is one EXPECT-like directive.
type expectation struct {
	Mode string // "regex", "text", "regex_none", "text_none"
	Text string
}

func (t *upstreamTest) FullName() string { return t.Suite + "." + t.Name }

// upstreamFeatures are the REQUIRES_FEATURE names 0.17's runner knows.
var upstreamFeatures = map[string]bool{
	"loop": true, "btf": true, "kfunc": true, "probe_read_kernel": true, "dpath": true,
	"uprobe_refcount": true, "signal": true, "iter:task": true, "iter:task_file": true,
	"libpath_resolv": true, "dwarf": true, "aot": true, "kprobe_multi": true, "skboutput": true,
}

// readUpstreamSuites reads every suite file in dir (tests/runtime).
func readUpstreamSuites(dir, dialect string) ([]*upstreamTest, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []*upstreamTest
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.Contains(name, ".") {
			continue // engine/, scripts/, outputs/, README.md, CMake files
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		tests, err := parseUpstreamSuite(name, string(data), dialect)
		if err != nil {
			return nil, err
		}
		for _, t := range tests {
			// Like the Python parser: tests for other architectures are
			// not tests here at all (neither run nor skipped).
			if len(t.Arch) > 0 && !archMatches(t.Arch) {
				continue
			}
			all = append(all, t)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Suite != all[j].Suite {
			return all[i].Suite < all[j].Suite
		}
		return all[i].Name < all[j].Name
	})
	return all, nil
}

// archMatches reports whether an ARCH list names this machine.
func archMatches(arch []string) bool {
	machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "ppc64le": "ppc64le", "s390x": "s390x", "arm": "armv7l"}[runtime.GOARCH]
	for _, a := range arch {
		if a == machine {
			return true
		}
	}
	return false
}

// parseUpstreamSuite parses one suite file.
func parseUpstreamSuite(suite, text, dialect string) ([]*upstreamTest, error) {
	var (
		tests []*upstreamTest
		block []string
	)
	flush := func() error {
		if len(block) == 0 {
			return nil
		}
		t, err := parseUpstreamTest(suite, block, dialect)
		block = nil
		if err != nil {
			return err
		}
		tests = append(tests, t)
		return nil
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		block = append(block, line)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return tests, nil
}

func parseUpstreamTest(suite string, lines []string, dialect string) (*upstreamTest, error) {
	t := &upstreamTest{Suite: suite}
	prev := ""
	for _, item := range lines {
		// head: a line indented past the previous directive continues it.
		if dialect == "head" && prev != "" && len(item) > len(prev) &&
			strings.TrimSpace(item[:len(prev)+1]) == "" {
			cont := item[len(prev)+1:]
			switch prev {
			case "PROG":
				t.Prog += "\n" + cont
				continue
			case "EXPECT", "EXPECT_REGEX":
				t.Expects[len(t.Expects)-1].Text += "\n" + cont
				continue
			}
		}
		var name, value string
		if dialect == "head" {
			f := strings.SplitN(strings.TrimSpace(item), " ", 2)
			name = f[0]
			if len(f) > 1 {
				value = strings.TrimSpace(f[1])
			}
		} else {
			// 0.17 collapses runs of whitespace: ' '.join(line.split()[1:]).
			f := strings.Fields(item)
			name = f[0]
			value = strings.Join(f[1:], " ")
		}
		prev = name
		switch name {
		case "NAME":
			t.Name = value
		case "RUN":
			t.Run = value
		case "PROG":
			t.Prog = value
		case "EXPECT":
			mode := "regex"
			if dialect == "head" {
				mode = "text"
			}
			t.Expects = append(t.Expects, expectation{mode, value})
		case "EXPECT_REGEX", "EXPECT_NONE", "EXPECT_REGEX_NONE":
			if dialect != "head" {
				return nil, fmt.Errorf("suite %s: %s is not a 0.17 directive", suite, name)
			}
			mode := map[string]string{"EXPECT_REGEX": "regex", "EXPECT_NONE": "text_none", "EXPECT_REGEX_NONE": "regex_none"}[name]
			t.Expects = append(t.Expects, expectation{mode, value})
		case "TIMEOUT":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return nil, fmt.Errorf("suite %s, test %s: TIMEOUT %q", suite, t.Name, value)
			}
			t.Timeout = n
		case "BEFORE":
			t.Before = append(t.Before, value)
		case "AFTER":
			t.After = value
		case "MIN_KERNEL":
			t.MinKernel = value
		case "MAX_KERNEL":
			t.MaxKernel = value
		case "REQUIRES":
			t.Requires = append(t.Requires, value)
		case "ENV":
			t.Env = append(t.Env, strings.Fields(value)...)
		case "ARCH":
			for _, a := range strings.Split(value, "|") {
				t.Arch = append(t.Arch, strings.TrimSpace(a))
			}
		case "REQUIRES_FEATURE":
			for _, f := range strings.Fields(value) {
				if dialect != "head" && !upstreamFeatures[strings.TrimPrefix(f, "!")] {
					return nil, fmt.Errorf("suite %s, test %s: unknown feature %s", suite, t.Name, f)
				}
				t.Features = append(t.Features, f)
			}
		case "WILL_FAIL":
			t.WillFail = true
		case "RETURN_CODE":
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, fmt.Errorf("suite %s, test %s: RETURN_CODE %q", suite, t.Name, value)
			}
			t.ReturnCode = &n
		case "EXPECT_FILE", "EXPECT_JSON", "SETUP", "CLEANUP", "NEW_PIDNS", "SKIP_IF_ENV_HAS", "LOCALIZE_TIMESTAMPS":
			if dialect != "head" {
				return nil, fmt.Errorf("suite %s: %s is not a 0.17 directive", suite, name)
			}
			if t.Unsupported == "" {
				t.Unsupported = "directive " + name + " is not implemented by this runner"
			}
		default:
			return nil, fmt.Errorf("suite %s, test %s: unknown directive %s", suite, t.Name, name)
		}
	}
	switch {
	case t.Name == "":
		return nil, fmt.Errorf("suite %s: test without NAME", suite)
	case t.Run == "" && t.Prog == "":
		return nil, fmt.Errorf("suite %s, test %s: RUN or PROG is required", suite, t.Name)
	case t.Run != "" && t.Prog != "":
		return nil, fmt.Errorf("suite %s, test %s: both RUN and PROG", suite, t.Name)
	case len(t.Expects) == 0 && t.ReturnCode == nil && t.Unsupported == "":
		return nil, fmt.Errorf("suite %s, test %s: EXPECT is required", suite, t.Name)
	case t.Timeout == 0:
		if dialect != "head" {
			return nil, fmt.Errorf("suite %s, test %s: TIMEOUT is required", suite, t.Name)
		}
		t.Timeout = 5
	}
	return t, nil
}

// pythonRegexp compiles a Python re pattern (searched with re.M) with Go's
// RE2 after the few rewrites that keep the meaning: \Z is \z, and an escaped
// space or other escaped non-punctuation Python accepts is made literal.
func pythonRegexp(pat string) (*regexp.Regexp, error) {
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c != '\\' || i+1 == len(pat) {
			b.WriteByte(c)
			continue
		}
		n := pat[i+1]
		i++
		switch {
		case n == 'Z':
			b.WriteString(`\z`)
		case n == ' ' || n == '\'' || n == '"' || n == '%' || n == '@' || n == '<' || n == '>' || n == '=' || n == ':' || n == '#' || n == '&' || n == '~' || n == ',' || n == '/' || n == '`' || n == ';':
			b.WriteString(regexp.QuoteMeta(string(n)))
		default:
			b.WriteByte('\\')
			b.WriteByte(n)
		}
	}
	return regexp.Compile("(?m)" + b.String())
}
