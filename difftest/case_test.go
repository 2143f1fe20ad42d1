package difftest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A diffCase is one program of the corpus, read from a
// testdata/cases/<topic>.txt file (the format is described in
// testdata/cases/README.md).
type diffCase struct {
	Topic string // file name without .txt
	Name  string // unique within the topic
	Pos   string // file:line of the NAME directive, for messages

	Prog      string   // the program text
	Input     string   // how the program is handed over: "e" (-e), "file" (prog.bt), "stdin" (-), "none"
	Files     []string // files the run writes in its directory, shown after stderr
	Args      []string // options before the program
	Params    []string // positional parameters after the program
	Before    []string // a background workload, started first and killed last
	Env       []string // extra KEY=VALUE pairs
	Sort      bool     // compare stdout with its lines sorted (ties in map sorting)
	Norms     []norm   // per-case rewrites applied to both streams
	Timeout   time.Duration
	Interrupt time.Duration // > 0: SIGINT this long after probes are attached
	Lock      string        // cases with the same lock run one at a time
}

// caseLocks are the LOCK directives' mutexes, by name.
var caseLocks sync.Map

// lock takes the case's LOCK (if it has one) and returns its release.
func (c *diffCase) lock() func() {
	if c.Lock == "" {
		return func() {}
	}
	m, _ := caseLocks.LoadOrStore(c.Lock, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// A norm rewrites every match of re with repl (regexp.ReplaceAllString
// syntax) in stdout and stderr.
type norm struct {
	re   *regexp.Regexp
	repl string
}

// FullName is how the case is named in subtests and in the
// known-differences table.
func (c *diffCase) FullName() string { return c.Topic + "/" + c.Name }

// NeedsProgs reports whether the case refers to the compiled workloads.
func (c *diffCase) NeedsProgs() bool {
	all := c.Prog + strings.Join(c.Args, " ") + strings.Join(c.Params, " ") + strings.Join(c.Before, " ")
	return strings.Contains(all, "{{PROGS}}")
}

const defaultTimeout = 10 * time.Second

// readCases reads every testdata/cases/*.txt file.
func readCases(dir string) ([]*diffCase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []*diffCase
	for _, f := range files {
		cs, err := readCaseFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, nil
}

// readCaseFile parses one topic file. Cases are separated by blank lines;
// lines starting with '#' are comments; a line starting with two spaces or
// a tab continues the PROG above it.
func readCaseFile(path string) ([]*diffCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	topic := strings.TrimSuffix(filepath.Base(path), ".txt")

	var (
		cases []*diffCase
		cur   *diffCase
		last  string // directive of the previous line, for continuations
		names = map[string]string{}
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		if cur.Name == "" {
			return fmt.Errorf("%s: case without NAME", cur.Pos)
		}
		if (cur.Prog == "") != (cur.Input == "none") {
			return fmt.Errorf("%s: case %s: PROG is required, except with INPUT none", cur.Pos, cur.Name)
		}
		if prev, ok := names[cur.Name]; ok {
			return fmt.Errorf("%s: duplicate NAME %s (first at %s)", cur.Pos, cur.Name, prev)
		}
		names[cur.Name] = cur.Pos
		cases = append(cases, cur)
		cur = nil
		return nil
	}

	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		pos := fmt.Sprintf("%s:%d", path, line)
		switch {
		case strings.HasPrefix(text, "#"):
			continue
		case strings.TrimSpace(text) == "":
			if err := finish(); err != nil {
				return nil, err
			}
			last = ""
			continue
		case strings.HasPrefix(text, "  ") || strings.HasPrefix(text, "\t"):
			if cur == nil || last != "PROG" {
				return nil, fmt.Errorf("%s: continuation line outside PROG", pos)
			}
			if strings.HasPrefix(text, "\t") {
				text = text[1:]
			} else {
				text = text[2:]
			}
			cur.Prog += "\n" + text
			continue
		}
		if cur == nil {
			cur = &diffCase{Topic: topic, Pos: pos, Input: "e", Timeout: defaultTimeout}
		}
		directive, value, _ := strings.Cut(text, " ")
		last = directive
		switch directive {
		case "NAME":
			if !regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`).MatchString(value) {
				return nil, fmt.Errorf("%s: NAME %q: use letters, digits and _.+- only", pos, value)
			}
			cur.Name = value
			cur.Pos = pos
		case "PROG":
			if cur.Prog != "" {
				return nil, fmt.Errorf("%s: second PROG", pos)
			}
			cur.Prog = value
		case "INPUT":
			switch value {
			case "e", "file", "stdin", "none":
				cur.Input = value
			default:
				return nil, fmt.Errorf("%s: INPUT must be e, file, stdin or none", pos)
			}
		case "ARGS", "PARAMS", "BEFORE":
			words, err := shellWords(value)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pos, err)
			}
			switch directive {
			case "ARGS":
				cur.Args = append(cur.Args, words...)
			case "PARAMS":
				cur.Params = append(cur.Params, words...)
			case "BEFORE":
				cur.Before = words
			}
		case "FILES":
			cur.Files = append(cur.Files, strings.Fields(value)...)
		case "ENV":
			cur.Env = append(cur.Env, strings.Fields(value)...)
		case "SORT":
			cur.Sort = true
		case "LOCK":
			cur.Lock = strings.TrimSpace(value)
		case "NORM":
			pat, repl, ok := strings.Cut(value, " => ")
			if !ok {
				return nil, fmt.Errorf("%s: NORM wants REGEXP => REPLACEMENT", pos)
			}
			re, err := regexp.Compile("(?m)" + pat)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pos, err)
			}
			cur.Norms = append(cur.Norms, norm{re, repl})
		case "TIMEOUT", "INTERRUPT":
			d, err := parseDuration(value)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pos, err)
			}
			if directive == "TIMEOUT" {
				cur.Timeout = d
			} else {
				cur.Interrupt = d
			}
		default:
			return nil, fmt.Errorf("%s: unknown directive %q", pos, directive)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return cases, nil
}

// parseDuration accepts Go durations and bare numbers of seconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// shellWords splits s like a POSIX shell would for plain words, 'single'
// and "double" quotes (with \ escapes inside double quotes and outside
// quotes). It does no expansion.
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		have  bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			have = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			have = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			have = true
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	return words, nil
}
