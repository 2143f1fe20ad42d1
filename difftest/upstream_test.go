package difftest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestUpstream runs bpftrace's own runtime-test suites against a
// bpftrace-compatible binary, the way bpftrace's Python runner
// (tests/runtime/engine/runner.py) does:
//
//	BPFTRACE_SRC=/path/to/bpftrace go test ./difftest -run TestUpstream \
//	    [-upstream.bin=/usr/bin/bpftrace] [-upstream.run='call.*']
//
// BPFTRACE_SRC is a bpftrace source tree (a checkout, never committed here);
// its tests/testprogs and tests/testlibs are compiled with gcc into a
// scratch build directory, which is where tests run, as in bpftrace's
// build/tests. {{BPFTRACE}} in RUN lines and the `bpftrace` on PATH are the
// binary under test (tracebook by default).
func TestUpstream(t *testing.T) {
	src := os.Getenv("BPFTRACE_SRC")
	if src == "" {
		t.Skip("set BPFTRACE_SRC to a bpftrace source tree to run its runtime tests")
	}
	requireRoot(t)
	runtimeDir := filepath.Join(src, "tests", "runtime")
	if _, err := os.Stat(runtimeDir); err != nil {
		t.Fatalf("BPFTRACE_SRC=%s: %v", src, err)
	}
	dialect := *upstreamDialect
	if dialect == "auto" {
		dialect = "0.17"
		if b, err := os.ReadFile(filepath.Join(runtimeDir, "engine", "parser.py")); err == nil && bytes.Contains(b, []byte("EXPECT_REGEX")) {
			dialect = "head"
		}
	}
	tests, err := readUpstreamSuites(runtimeDir, dialect)
	if err != nil {
		t.Fatal(err)
	}
	bin := *upstreamBin
	if bin == "" {
		bin = tracebookPath()
	}
	if bin, err = filepath.Abs(bin); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("binary under test: %v", err)
	}
	env, err := newUpstreamEnv(t, src, runtimeDir, bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dialect %s, %d tests, binary %s, build dir %s", dialect, len(tests), bin, env.build)

	results := map[string]*tally{}
	var mu sync.Mutex
	var failed []string
	t.Run("suite", func(t *testing.T) {
		for _, ut := range tests {
			if !fnmatch(*upstreamRun, ut.FullName()) {
				continue
			}
			t.Run(ut.FullName(), func(t *testing.T) {
				if *upstreamParallel > 1 {
					t.Parallel()
				}
				status, detail := env.run(ut)
				mu.Lock()
				if results[ut.Suite] == nil {
					results[ut.Suite] = &tally{}
				}
				switch status {
				case "PASS":
					results[ut.Suite].pass++
				case "SKIP":
					results[ut.Suite].skip++
				default:
					results[ut.Suite].fail++
					failed = append(failed, ut.FullName())
				}
				mu.Unlock()
				switch status {
				case "PASS":
				case "SKIP":
					t.Skip(detail)
				default:
					t.Errorf("%s: %s", status, detail)
				}
			})
		}
	})

	suites := make([]string, 0, len(results))
	for s := range results {
		suites = append(suites, s)
	}
	sort.Strings(suites)
	var total tally
	var b strings.Builder
	fmt.Fprintf(&b, "upstream runtime tests against %s (dialect %s): pass/fail/skip\n", bin, dialect)
	for _, s := range suites {
		r := results[s]
		fmt.Fprintf(&b, "  %-16s %3d/%3d/%3d\n", s, r.pass, r.fail, r.skip)
		total.pass += r.pass
		total.fail += r.fail
		total.skip += r.skip
	}
	fmt.Fprintf(&b, "  %-16s %3d/%3d/%3d\n", "total", total.pass, total.fail, total.skip)
	if len(failed) > 0 {
		sort.Strings(failed)
		fmt.Fprintf(&b, "failed: %s\n", strings.Join(failed, " "))
	}
	upstreamSummary = b.String()
}

var (
	upstreamBin      = flag.String("upstream.bin", "", "binary TestUpstream tests (default: the tracebook binary)")
	upstreamRun      = flag.String("upstream.run", "*", "glob over suite.name selecting the upstream tests to run")
	upstreamDialect  = flag.String("upstream.dialect", "auto", "runtime-test dialect: 0.17, head, or auto (from the engine's parser.py)")
	upstreamParallel = flag.Int("upstream.parallel", 1, "upstream tests run at once (bpftrace's runner runs one at a time)")
	upstreamInfo     = flag.String("upstream.info", "", "binary whose --info answers REQUIRES_FEATURE (default: the binary under test, falling back to /usr/bin/bpftrace when it has no --info)")

	upstreamSummary string // printed by TestMain after the run
)

// upstreamEnv is the scratch build directory the tests run in.
type upstreamEnv struct {
	build    string          // cwd of every test: runtime/, testprogs/, testlibs/
	binDir   string          // holds `bpftrace`, a link to the binary under test
	bin      string          // the binary under test
	features map[string]bool // from --info
	kernel   string          // uname -r
	info     string          // where features came from
}

func newUpstreamEnv(t *testing.T, src, runtimeDir, bin string) (*upstreamEnv, error) {
	build := t.TempDir()
	e := &upstreamEnv{build: build, binDir: filepath.Join(build, "bin"), bin: bin}
	if err := os.Mkdir(e.binDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(bin, filepath.Join(e.binDir, "bpftrace")); err != nil {
		return nil, err
	}
	if err := os.Symlink(runtimeDir, filepath.Join(build, "runtime")); err != nil {
		return nil, err
	}
	if err := buildTestprogs(t, filepath.Join(src, "tests"), build); err != nil {
		return nil, err
	}
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err == nil {
		var b []byte
		for _, c := range uts.Release {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		e.kernel = string(b)
	}
	e.features, e.info = readFeatures(bin)
	t.Logf("features from %s: %v", e.info, e.features)
	return e, nil
}

// buildTestprogs compiles tests/testlibs/*.c into build/testlibs/libNAME.so
// and tests/testprogs/*.c into build/testprogs/NAME, with the flags
// bpftrace's CMakeLists.txt uses (-g -O0, -no-pie for programs, sys/sdt.h
// probes when systemtap-sdt-dev is installed). A program that does not
// compile is logged; the tests that need it fail on their own.
func buildTestprogs(t *testing.T, tests, build string) error {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return fmt.Errorf("gcc is needed to build bpftrace's test programs: %v", err)
	}
	var defs []string
	if _, err := os.Stat("/usr/include/x86_64-linux-gnu/sys/sdt.h"); err == nil {
		defs = append(defs, "-DHAVE_SYSTEMTAP_SYS_SDT_H")
	} else if _, err := os.Stat("/usr/include/sys/sdt.h"); err == nil {
		defs = append(defs, "-DHAVE_SYSTEMTAP_SYS_SDT_H")
	}
	libs := filepath.Join(build, "testlibs")
	progs := filepath.Join(build, "testprogs")
	for _, d := range []string{libs, progs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	compile := func(args ...string) {
		cmd := exec.Command(gcc, args...)
		cmd.Dir = build
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	libSrcs, _ := filepath.Glob(filepath.Join(tests, "testlibs", "*.c"))
	for _, s := range libSrcs {
		name := strings.TrimSuffix(filepath.Base(s), ".c")
		out := filepath.Join(libs, "lib"+name+".so")
		compile(append(append([]string{"-g", "-O0", "-fPIC", "-shared"}, defs...), "-o", out, s)...)
		os.Chmod(out, 0o644) // bpftrace's build clears the executable bit
	}
	progSrcs, _ := filepath.Glob(filepath.Join(tests, "testprogs", "*.c"))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for _, s := range progSrcs {
		name := strings.TrimSuffix(filepath.Base(s), ".c")
		args := append([]string{"-g", "-O0", "-no-pie"}, defs...)
		args = append(args, "-I", filepath.Join(tests, "testlibs"), "-o", filepath.Join(progs, name), s)
		if name == "usdt_lib" {
			args = append(args, "-fPIC", "-L", libs, "-lusdt_tp", "-Wl,-rpath,"+libs)
		}
		args = append(args, "-lpthread")
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			compile(args...)
			<-sem
		}()
	}
	wg.Wait()
	return nil
}

// readFeatures asks bin --info which features REQUIRES_FEATURE can rely
// on, with the strings 0.17's runner looks for.
func readFeatures(bin string) (map[string]bool, string) {
	try := []string{bin}
	if *upstreamInfo != "" {
		try = []string{*upstreamInfo}
	} else if bin != "/usr/bin/bpftrace" {
		try = append(try, "/usr/bin/bpftrace")
	}
	for _, b := range try {
		out, err := exec.Command(b, "--info").CombinedOutput()
		s := string(out)
		if err != nil || !strings.Contains(s, "Kernel features") {
			continue
		}
		has := func(x string) bool { return strings.Contains(s, x) }
		return map[string]bool{
			"loop":              has("Loop support: yes"),
			"probe_read_kernel": has("probe_read_kernel: yes"),
			"btf":               has("btf: yes"),
			"kfunc":             has("kfunc: yes"),
			"dpath":             has("dpath: yes"),
			"uprobe_refcount":   has("uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount): yes"),
			"signal":            has("send_signal: yes"),
			"iter:task":         has("iter:task: yes"),
			"iter:task_file":    has("iter:task_file: yes"),
			"libpath_resolv":    has("bcc library path resolution: yes"),
			"dwarf":             has("libdw (DWARF support): yes"),
			"kprobe_multi":      has("kprobe_multi: yes"),
			"skboutput":         has("skboutput: yes"),
			"aot":               false, // not built into the apt package; tracebook has no AOT
		}, b + " --info"
	}
	return map[string]bool{}, "nothing (no binary answered --info)"
}

// fnmatch matches name against a shell glob the way Python's fnmatch
// (used by bpftrace's runner for --filter) does: '*' also matches '/',
// which test names contain.
func fnmatch(glob, name string) bool {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(glob[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := glob[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(name)
}

// kernelAtLeast compares dotted versions numerically, as LooseVersion does
// for the plain "5.10"-style numbers the suites use.
func kernelAtLeast(have, want string) bool {
	num := regexp.MustCompile(`[0-9]+`)
	h := num.FindAllString(have, -1)
	w := num.FindAllString(want, -1)
	for i := 0; i < len(w); i++ {
		if i >= len(h) {
			return false
		}
		a, _ := strconv.Atoi(h[i])
		b, _ := strconv.Atoi(w[i])
		if a != b {
			return a > b
		}
	}
	return true
}

const upstreamAttachTimeout = 5 * time.Second

// run runs one test and returns PASS, FAIL, TIMEOUT or SKIP with details.
func (e *upstreamEnv) run(ut *upstreamTest) (string, string) {
	if ut.Unsupported != "" {
		return "SKIP", ut.Unsupported
	}
	if ut.MinKernel != "" && !kernelAtLeast(e.kernel, ut.MinKernel) {
		return "SKIP", "min kernel " + ut.MinKernel
	}
	if ut.MaxKernel != "" && kernelAtLeast(e.kernel, ut.MaxKernel) && !kernelAtLeast(ut.MaxKernel, e.kernel) {
		return "SKIP", "max kernel " + ut.MaxKernel
	}
	for _, d := range strings.Split(os.Getenv("RUNTIME_TEST_DISABLE"), ",") {
		if d == ut.FullName() {
			return "SKIP", "disabled by RUNTIME_TEST_DISABLE"
		}
	}
	path := e.binDir + ":" + os.Getenv("PATH")
	for _, req := range ut.Requires {
		cmd := exec.Command("/bin/sh", "-c", req)
		cmd.Dir = e.build
		cmd.Env = []string{"PATH=" + path}
		if err := cmd.Run(); err != nil {
			return "SKIP", "unmet condition: " + req
		}
	}
	for _, f := range ut.Features {
		want := !strings.HasPrefix(f, "!")
		if e.features[strings.TrimPrefix(f, "!")] != want {
			return "SKIP", fmt.Sprintf("missed feature %s (features from %s)", f, e.info)
		}
	}

	var (
		children  []*exec.Cmd
		beforePID string
	)
	defer func() {
		for _, c := range children {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}()
	start := func(command string) (*exec.Cmd, error) {
		c := exec.Command("/bin/sh", "-c", command)
		c.Dir = e.build
		c.Env = append(os.Environ(), "PATH="+path)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			return nil, err
		}
		children = append(children, c)
		return c, nil
	}
	for _, before := range ut.Before {
		if _, err := start(before); err != nil {
			return "FAIL", "BEFORE: " + err.Error()
		}
		words := strings.Fields(before)
		child := filepath.Base(words[len(words)-1])
		deadline := time.Now().Add(time.Duration(ut.Timeout) * time.Second)
		for {
			out, err := exec.Command("pidof", child).Output()
			if err == nil {
				if beforePID == "" {
					beforePID = strings.Fields(string(out))[0]
				}
				break
			}
			if time.Now().After(deadline) {
				return "TIMEOUT", "waiting for BEFORE " + before
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	command := ut.Run
	if command != "" {
		command = strings.ReplaceAll(command, "{{BPFTRACE}}", e.bin)
		command = strings.ReplaceAll(command, "{{BPFTRACE_AOTRT}}", e.bin+"-aotrt")
	} else {
		command = fmt.Sprintf("%s -e '%s'", e.bin, ut.Prog)
	}
	command = strings.ReplaceAll(command, "{{BEFORE_PID}}", beforePID)

	// stdout and stderr share one pipe, as in the Python runner.
	r, w, err := os.Pipe()
	if err != nil {
		return "FAIL", err.Error()
	}
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Dir = e.build
	cmd.Env = append([]string{
		"PATH=" + path,
		"test=" + ut.Name,
		notifyMarker + "=1",
		"__BPFTRACE_NOTIFY_AOT_PORTABILITY_DISABLED=1",
		"BPFTRACE_VERIFY_LLVM_IR=1",
	}, ut.Env...)
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		return "FAIL", err.Error()
	}
	w.Close()
	children = append(children, cmd)

	out := &markerWriter{marker: notifyMarker + "\n", seen: make(chan struct{})}
	eof := make(chan struct{})
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		r.Close()
		close(eof)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	timedOut := false
	var waitErr error
	alarm := time.NewTimer(upstreamAttachTimeout)
	defer alarm.Stop()
	seen := out.seen
	finished := false
	for !finished {
		select {
		case <-seen:
			seen = nil
			alarm.Reset(time.Duration(ut.Timeout) * time.Second)
			if ut.After != "" {
				start(ut.After)
			}
		case waitErr = <-exited:
			exited = nil
		case <-eof:
			eof = nil
		case <-alarm.C:
			timedOut = true
			finished = true
		}
		if exited == nil && eof == nil {
			finished = true
		}
	}
	if timedOut {
		// Like the Python runner: SIGTERM, collect what is there, match.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case waitErr = <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if eof != nil {
			select {
			case <-eof:
			case <-time.After(time.Second):
			}
		}
	}
	output := out.String()

	matched, why := e.match(ut, output)
	if timedOut {
		if matched {
			return "PASS", ""
		}
		return "TIMEOUT", fmt.Sprintf("after %ds; command: %s\n%s\noutput:\n%s", ut.Timeout, command, why, output)
	}
	rc := 0
	if waitErr != nil {
		rc = -1
		if ee, ok := waitErr.(*exec.ExitError); ok {
			rc = ee.ExitCode()
		}
	}
	if ut.ReturnCode != nil {
		if rc != *ut.ReturnCode {
			return "FAIL", fmt.Sprintf("exit code %d, want %d; command: %s\noutput:\n%s", rc, *ut.ReturnCode, command, output)
		}
	} else if rc != 0 && !ut.WillFail {
		return "FAIL", fmt.Sprintf("unclean exit code %d; command: %s\noutput:\n%s", rc, command, output)
	}
	if !matched {
		return "FAIL", fmt.Sprintf("command: %s\n%s\noutput:\n%s", command, why, output)
	}
	return "PASS", ""
}

// match checks every expectation of ut against the output.
func (e *upstreamEnv) match(ut *upstreamTest, output string) (bool, string) {
	for _, x := range ut.Expects {
		var re *regexp.Regexp
		var err error
		switch x.Mode {
		case "regex", "regex_none":
			re, err = pythonRegexp(x.Text)
		case "text", "text_none":
			re, err = regexp.Compile(`(?m)^\s*` + regexp.QuoteMeta(x.Text) + `\s*$`)
		}
		if err != nil {
			return false, fmt.Sprintf("expectation %q does not compile as RE2: %v", x.Text, err)
		}
		found := re.MatchString(output)
		if strings.HasSuffix(x.Mode, "_none") {
			if found {
				return false, fmt.Sprintf("unexpected %s %q", x.Mode, x.Text)
			}
		} else if !found {
			return false, fmt.Sprintf("expected %s %q", x.Mode, x.Text)
		}
	}
	return true, ""
}
