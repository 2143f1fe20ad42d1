package difftest

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	bpftraceFlag  = flag.String("bpftrace", "/usr/bin/bpftrace", "reference bpftrace binary; empty disables the reference subtests")
	tracebookFlag = flag.String("tracebook", "", "tracebook binary (default $TRACEBOOK, else ../bin/tracebook)")
	updateFlag    = flag.Bool("update", false, "rewrite the golden files from the reference bpftrace's output")
)

// inCI reports whether a tier that cannot run must fail instead of skip.
var inCI = os.Getenv("CI") == "true"

// skipOrFail skips the test, or fails it in CI.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	printSummaries()
	if upstreamSummary != "" {
		fmt.Print("\n" + upstreamSummary)
	}
	cleanupProgs()
	os.Exit(code)
}

// tracebookPath resolves the tracebook binary from the flag, $TRACEBOOK
// or the build output of `make build`.
func tracebookPath() string {
	p := *tracebookFlag
	if p == "" {
		p = os.Getenv("TRACEBOOK")
	}
	if p == "" {
		p = filepath.Join("..", "bin", "tracebook")
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// requireRoot skips (or fails, in CI) the tiers that load BPF programs.
func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the differential tier loads BPF programs; skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "the differential tier needs root to load BPF programs")
	}
}

const (
	casesDir  = "testdata/cases"
	goldenDir = "testdata/golden"
	knownFile = "testdata/known-differences.txt"
)

func goldenPath(c *diffCase) string {
	return filepath.Join(goldenDir, c.Topic, c.Name+".out")
}

// tracebookGoldenPath is where a known difference keeps what tracebook
// must print instead of bpftrace 0.17's output.
func tracebookGoldenPath(c *diffCase) string {
	return filepath.Join(goldenDir, c.Topic, c.Name+".tracebook.out")
}

// readKnownDifferences reads the one table of deliberate differences:
// "topic/name reason..." per line, '#' comments.
func readKnownDifferences(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	known := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: %s has no reason", path, n, name)
		}
		known[name] = reason
	}
	return known, sc.Err()
}

func TestDiff(t *testing.T) {
	requireRoot(t)
	cases, err := readCases(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	known, err := readKnownDifferences(knownFile)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*diffCase{}
	for _, c := range cases {
		byName[c.FullName()] = c
	}
	for name := range known {
		c, ok := byName[name]
		if !ok {
			t.Errorf("%s lists %s, which is no case", knownFile, name)
			continue
		}
		if _, err := os.Stat(tracebookGoldenPath(c)); err != nil {
			t.Errorf("known difference %s has no tracebook expectation: %v", name, err)
		}
	}

	t.Run("bpftrace", func(t *testing.T) {
		bin := *bpftraceFlag
		if bin == "" {
			if *updateFlag {
				t.Fatal("-update needs the reference: -bpftrace must not be empty")
			}
			t.Skip("reference disabled (-bpftrace=)")
		}
		if _, err := os.Stat(bin); err != nil {
			skipOrFail(t, "reference bpftrace missing (%v); install it with scripts/deps.sh test", err)
		}
		for _, c := range cases {
			t.Run(c.FullName(), func(t *testing.T) {
				t.Parallel()
				defer record(t, "bpftrace", c.Topic)
				defer c.lock()()
				checkCase(t, bin, c, goldenPath(c), *updateFlag, 2)
			})
		}
	})

	t.Run("tracebook", func(t *testing.T) {
		bin := tracebookPath()
		if _, err := os.Stat(bin); err != nil {
			skipOrFail(t, "tracebook binary missing (%v); build it with make build", err)
		}
		for _, c := range cases {
			t.Run(c.FullName(), func(t *testing.T) {
				t.Parallel()
				defer record(t, "tracebook", c.Topic)
				defer c.lock()()
				want := goldenPath(c)
				if reason, ok := known[c.FullName()]; ok {
					t.Logf("known difference from bpftrace 0.17: %s", reason)
					want = tracebookGoldenPath(c)
				}
				checkCase(t, bin, c, want, false, 1)
			})
		}
	})
}

// checkCase runs c through bin and compares the normalised result with the
// golden file (or rewrites the golden file when update is set).
// checkCase runs c through bin and compares the result with golden, or
// writes it there with update. The reference gets tries = 2: bpftrace 0.17
// has races of its own (a waitpid error that reports its -c child dead
// and prints a watchpoint twice, a profile probe that fires once more),
// so a difference is run again before it counts, and the first one is
// logged. tracebook gets one try.
func checkCase(t *testing.T, bin string, c *diffCase, golden string, update bool, tries int) {
	t.Helper()
	progs := ""
	if c.NeedsProgs() {
		var err error
		if progs, err = compiledProgs(); err != nil {
			skipOrFail(t, "%s needs the workloads: %v", c.FullName(), err)
		}
	}
	for try := 1; ; try++ {
		got := runAndRender(t, bin, c, progs)
		if update || try >= tries {
			compareGolden(t, c, golden, got, update)
			return
		}
		want, err := os.ReadFile(golden)
		if err == nil && string(want) == got {
			return
		}
		t.Logf("%s: try %d differs from %s; running it again:\n%s", c.Pos, try, golden, lineDiff(string(want), got, 40))
	}
}

// runAndRender runs c through bin and returns its normalised output.
func runAndRender(t *testing.T, bin string, c *diffCase, progs string) string {
	t.Helper()
	work := t.TempDir()
	raw, err := runCase(bin, c, progs, work)
	if err != nil {
		t.Fatalf("%s: running %s: %v", c.Pos, bin, err)
	}
	return normalise(c, raw, progs, work).Render()
}

// compareGolden checks got against golden, or writes it with update.
func compareGolden(t *testing.T, c *diffCase, golden, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%s: no expectation (%v); generate it with -update", c.Pos, err)
	}
	if string(want) != got {
		t.Errorf("%s: output differs from %s (- want, + got):\n%s", c.Pos, golden, lineDiff(string(want), got, 40))
	}
}

// The workloads in testdata/progs are compiled once per test binary, the
// first time a case asks for them.
var (
	progsOnce sync.Once
	progsDir  string
	progsErr  error
)

func compiledProgs() (string, error) {
	progsOnce.Do(func() {
		progsDir, progsErr = buildProgs()
	})
	return progsDir, progsErr
}

func buildProgs() (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("gcc not found (scripts/deps.sh test installs it)")
	}
	srcs, err := filepath.Glob("testdata/progs/*.c")
	if err != nil || len(srcs) == 0 {
		return "", fmt.Errorf("no workloads in testdata/progs")
	}
	dir, err := os.MkdirTemp("", "tracebook-difftest-")
	if err != nil {
		return "", err
	}
	for _, src := range srcs {
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".c"))
		cmd := exec.Command(gcc, "-g", "-O0", "-no-pie", "-o", out, src)
		if msg, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("compiling %s: %v\n%s", src, err, msg)
		}
	}
	return dir, nil
}

func cleanupProgs() {
	if progsDir != "" {
		os.RemoveAll(progsDir)
	}
}

// tally counts outcomes per tool and topic for the summary printed after
// the run, so progress stays visible while most tracebook cases fail.
type tally struct{ pass, fail, skip int }

var (
	talliesMu sync.Mutex
	tallies   = map[string]map[string]*tally{} // tool -> topic -> counts
)

func record(t *testing.T, tool, topic string) {
	talliesMu.Lock()
	defer talliesMu.Unlock()
	if tallies[tool] == nil {
		tallies[tool] = map[string]*tally{}
	}
	c := tallies[tool][topic]
	if c == nil {
		c = &tally{}
		tallies[tool][topic] = c
	}
	switch {
	case t.Skipped():
		c.skip++
	case t.Failed():
		c.fail++
	default:
		c.pass++
	}
}

func printSummaries() {
	talliesMu.Lock()
	defer talliesMu.Unlock()
	if len(tallies) == 0 {
		return
	}
	topics := map[string]bool{}
	for _, byTopic := range tallies {
		for topic := range byTopic {
			topics[topic] = true
		}
	}
	names := make([]string, 0, len(topics))
	for topic := range topics {
		names = append(names, topic)
	}
	sort.Strings(names)
	tools := []string{"bpftrace", "tracebook"}
	fmt.Printf("\ndifferential tier: pass/fail/skip per topic\n")
	fmt.Printf("%-14s %16s %16s\n", "topic", tools[0], tools[1])
	totals := map[string]*tally{}
	cell := func(c *tally) string {
		if c == nil {
			return "-"
		}
		return fmt.Sprintf("%d/%d/%d", c.pass, c.fail, c.skip)
	}
	for _, topic := range names {
		fmt.Printf("%-14s", topic)
		for _, tool := range tools {
			c := tallies[tool][topic]
			fmt.Printf(" %16s", cell(c))
			if c != nil {
				if totals[tool] == nil {
					totals[tool] = &tally{}
				}
				totals[tool].pass += c.pass
				totals[tool].fail += c.fail
				totals[tool].skip += c.skip
			}
		}
		fmt.Println()
	}
	fmt.Printf("%-14s %16s %16s\n", "total", cell(totals[tools[0]]), cell(totals[tools[1]]))
	for _, tool := range tools {
		if c := totals[tool]; c != nil {
			fmt.Printf("%s: %d passed, %d failed, %d skipped\n", tool, c.pass, c.fail, c.skip)
		}
	}
}
