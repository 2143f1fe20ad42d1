package runtime_test

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// readMem reads n bytes of process pid's memory at addr.
func readMem(t *testing.T, pid int, addr uint64, n int) []byte {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, int64(addr)); err != nil {
		t.Fatalf("reading pid %d memory at 0x%x: %v", pid, addr, err)
	}
	return buf
}

func readFileAt(t *testing.T, path string, off uint64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, int64(off)); err != nil {
		t.Fatal(err)
	}
	return buf
}

// TestELFPIE checks symbol addresses and file offsets of a PIE program
// against the running process: the bytes at the uprobe file offset must be
// the bytes the process executes at the function's address, and the
// symboliser must name that address.
func TestELFPIE(t *testing.T) {
	runtimetest.RequireRoot(t)
	bin := runtimetest.BuildC(t, "target", targetC, "-O2", "-pie", "-fPIE")
	ef, err := runtime.ReadELF(bin)
	if err != nil {
		t.Fatal(err)
	}
	if ef.Type != elf.ET_DYN {
		t.Fatalf("type %v, want ET_DYN (PIE)", ef.Type)
	}
	sym, ok := ef.Symbol("tb_target")
	if !ok || !sym.Func || sym.Size == 0 {
		t.Fatalf("tb_target: %+v %v", sym, ok)
	}
	if w, ok := ef.Symbol("tb_watched"); !ok || w.Func || w.Size != 8 {
		t.Errorf("tb_watched: %+v %v", w, ok)
	}
	off, err := ef.UprobeOffset("tb_target", 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd, stdin, out := startTarget(t, bin, "1")
	defer stdin.Close()
	fields := strings.Fields(readLine(t, out))
	fn, _ := strconv.ParseUint(strings.TrimPrefix(fields[0], "0x"), 16, 64)
	watched, _ := strconv.ParseUint(strings.TrimPrefix(fields[1], "0x"), 16, 64)
	pid := cmd.Process.Pid
	if got, want := readMem(t, pid, fn, 16), readFileAt(t, bin, off, 16); string(got) != string(want) {
		t.Errorf("code at run-time address %#x differs from file offset %#x", fn, off)
	}

	us := runtime.NewUserSymbols()
	fr := us.Frame(pid, fn+3)
	if fr.Sym != "tb_target" || fr.Offset != 3 || fr.Module != bin {
		t.Errorf("Frame(tb_target+3) = %+v", fr)
	}
	if a, err := us.Addr(pid, bin, "tb_target"); err != nil || a != fn {
		t.Errorf("Addr(tb_target) = %#x, %v; want %#x", a, err, fn)
	}
	if a, err := us.Addr(pid, bin, "tb_watched"); err != nil || a != watched {
		t.Errorf("Addr(tb_watched) = %#x, %v; want %#x", a, err, watched)
	}
	// An address in libc names a libc function.
	libc, err := runtime.ResolveTarget("libc", pid)
	if err != nil {
		t.Fatal(err)
	}
	malloc, err := us.Addr(pid, libc[0], "malloc")
	if err != nil {
		t.Fatal(err)
	}
	// Of malloc's aliases the first by name wins, as in bpftrace 0.17
	// (which prints __GI___libc_malloc when libc6-dbg is installed).
	if fr := us.Frame(pid, malloc); fr.Offset != 0 || (fr.Sym != "__GI___libc_malloc" && fr.Sym != "__libc_malloc") || !strings.Contains(fr.Module, "libc.so") {
		t.Errorf("Frame(malloc) = %+v", fr)
	}
	if fr := us.Frame(pid, 8); fr.Sym != "" || fr.Module != "" {
		t.Errorf("Frame(8) = %+v, want unresolved", fr)
	}
}

// requireLibc returns the path of the system's libc, skipping where there
// is none (the static busybox guests of the kernel matrix).
func requireLibc(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/etc/ld.so.cache"); err != nil {
		t.Skip("no dynamic loader cache: a system without a shared libc")
	}
	paths, err := runtime.ResolveTarget("libc", 0)
	if err != nil || len(paths) != 1 {
		t.Fatalf("ResolveTarget(libc) = %v, %v", paths, err)
	}
	return paths[0]
}

func TestELFSharedLibrary(t *testing.T) {
	paths := []string{requireLibc(t)}
	ef, err := runtime.ReadELF(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"malloc", "free", "getpid"} {
		s, ok := ef.Symbol(name)
		if !ok || !s.Func {
			t.Errorf("libc has no function %s", name)
			continue
		}
		off, err := ef.UprobeOffset(name, 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// The same bytes through the segment table and through the
		// section holding the symbol.
		f, _ := elf.Open(paths[0])
		text := f.Section(".text")
		if s.Addr >= text.Addr && s.Addr < text.Addr+text.Size {
			if want := s.Addr - text.Addr + text.Offset; off != want {
				t.Errorf("%s: file offset %#x, .text says %#x", name, off, want)
			}
		}
		f.Close()
	}
	if _, err := ef.UprobeOffset("no_such_function", 0); err == nil || !strings.Contains(err.Error(), "Could not resolve symbol") {
		t.Errorf("missing symbol: %v", err)
	}
}

func TestELFBash(t *testing.T) {
	ef, err := runtime.ReadELF("/bin/bash")
	if err != nil {
		t.Skip(err)
	}
	names := ef.FuncNames()
	if len(names) < 1000 {
		t.Errorf("bash has only %d function symbols", len(names))
	}
	if _, ok := ef.Symbol("readline"); !ok {
		t.Errorf("bash has no readline")
	}
	for i := 1; i < len(names); i++ {
		if names[i] <= names[i-1] {
			t.Fatalf("FuncNames not sorted and unique at %q", names[i])
		}
	}
	// Every uprobe wildcard matches against the list: it is built once.
	if again := ef.FuncNames(); len(again) != len(names) || &again[0] != &names[0] {
		t.Errorf("FuncNames built its list again")
	}
}

const goTargetSrc = `package main

import (
	"fmt"
	"os"
	"reflect"
)

//go:noinline
func Target(x, y int) int { return x*2 + y }

func main() {
	fmt.Printf("%#x\n", reflect.ValueOf(Target).Pointer())
	var b [1]byte
	os.Stdin.Read(b[:])
	s := 0
	for i := range 100 {
		s += Target(i, 1)
	}
	fmt.Println(s)
}
`

// buildGo builds a small Go program (go test's own binary is stripped).
func buildGo(t *testing.T, src string) string {
	t.Helper()
	gotool := runtimetest.RequireTool(t, "go")
	dir := t.TempDir()
	os.WriteFile(dir+"/main.go", []byte(src), 0o644)
	os.WriteFile(dir+"/go.mod", []byte("module gotarget\n\ngo 1.22\n"), 0o644)
	cmd := exec.Command(gotool, "build", "-o", "gotarget", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir + "/gotarget"
}

// TestELFGoBinary reads, symbolises and uprobes a Go executable.
func TestELFGoBinary(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := buildGo(t, goTargetSrc)
	ef, err := runtime.ReadELF(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"runtime.main", "main.Target"} {
		if s, ok := ef.Symbol(name); !ok || !s.Func {
			t.Errorf("no function %s in the Go binary", name)
		}
	}
	cmd, stdin, out := startTarget(t, bin)
	pc, _ := strconv.ParseUint(strings.TrimPrefix(readLine(t, out), "0x"), 16, 64)
	fr := runtime.NewUserSymbols().Frame(cmd.Process.Pid, pc+2)
	if fr.Sym != "main.Target" || fr.Offset != 2 || fr.Module != bin {
		t.Errorf("Frame = %+v", fr)
	}
	ap := &lang.AttachPoint{Provider: "uprobe", Target: bin, Func: "main.Target"}
	c := counterFor(t, ap)
	attach(t, c, ap, &runtime.AttachOptions{PID: cmd.Process.Pid})
	fmt.Fprintln(stdin, "go")
	readLine(t, out)
	if v := c.Value(t); v != 100 {
		t.Errorf("uprobe on main.Target counted %d, want 100", v)
	}
}

func TestResolveTarget(t *testing.T) {
	requireLibc(t)
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("no bash")
	}
	p, err := runtime.ResolveTarget("bash", 0)
	if err != nil || len(p) != 1 || !strings.HasSuffix(p[0], "/bash") {
		t.Errorf("ResolveTarget(bash) = %v, %v", p, err)
	}
	if _, err := runtime.ResolveTarget("/nonexistent/bin", 0); err == nil || err.Error() != "uprobe target file '/nonexistent/bin' does not exist or is not executable" {
		t.Errorf("missing file: %v", err)
	}
	if l := runtime.FindLibrary("c", 0); !strings.HasSuffix(l, "/libc.so.6") {
		t.Errorf("FindLibrary(c) = %q", l)
	}
	if l := runtime.FindLibrary("no_such_library_xyz", 0); l != "" {
		t.Errorf("FindLibrary(no_such_library_xyz) = %q", l)
	}
	if l := runtime.FindLibrary("c", os.Getpid()); l != "" && !strings.Contains(l, "libc") {
		// A Go test binary normally maps no libc; when it does, it is libc.
		t.Errorf("FindLibrary(c, self) = %q", l)
	}
}

// readelfNotes returns `readelf -n` stapsdt descriptions:
// "provider:name@location args".
func readelfNotes(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command(runtimetest.RequireTool(t, "readelf"), "-n", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	var prov, name, loc string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "Provider: "):
			prov = strings.TrimPrefix(l, "Provider: ")
		case strings.HasPrefix(l, "Name: "):
			name = strings.TrimPrefix(l, "Name: ")
		case strings.HasPrefix(l, "Location: "):
			loc = strings.TrimSuffix(strings.Fields(l)[1], ",")
		case strings.HasPrefix(l, "Arguments: "):
			notes = append(notes, fmt.Sprintf("%s:%s@%s %s", prov, name, loc, strings.TrimPrefix(l, "Arguments: ")))
		}
	}
	return notes
}

func TestUSDTNotes(t *testing.T) {
	for _, opt := range []string{"-O0", "-O2"} {
		t.Run(opt, func(t *testing.T) {
			bin := runtimetest.BuildC(t, "usdtplain", usdtPlainC, opt)
			ef, err := runtime.ReadELF(bin)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ef.USDT {
				for _, l := range p.Locations {
					got = append(got, fmt.Sprintf("%s:%s@0x%016x %s", p.Provider, p.Name, l.PC, l.ArgsSpec))
					if l.ArgsErr != nil {
						t.Errorf("%s:%s args %q: %v", p.Provider, p.Name, l.ArgsSpec, l.ArgsErr)
					}
					if l.Semaphore != 0 {
						t.Errorf("%s:%s has a semaphore", p.Provider, p.Name)
					}
				}
			}
			want := readelfNotes(t, bin)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("notes:\n%s\nreadelf:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			twice, ok := ef.USDTProbe("tbplain", "twice")
			if !ok || len(twice.Locations) != 2 {
				t.Fatalf("tbplain:twice: %+v", twice)
			}
			g, _ := ef.USDTProbe("", "global")
			if a := g.Locations[0].Args[0]; opt == "-O2" && (a.Kind != runtime.USDTArgMem || a.Reg != "rip" || a.Size != 8 || !a.Signed) {
				t.Errorf("global's argument: %+v", a)
			}
		})
	}
	bin := runtimetest.BuildC(t, "usdt", usdtC, "-O1")
	ef, err := runtime.ReadELF(bin)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := ef.USDTProbe("tbtest", "ping")
	if !ok {
		t.Fatal("no tbtest:ping")
	}
	loc := p.Locations[0]
	f, _ := elf.Open(bin)
	defer f.Close()
	probes := f.Section(".probes")
	if probes == nil || loc.Semaphore != probes.Addr || loc.SemaphoreOffset != probes.Offset {
		t.Errorf("semaphore at %#x (file %#x); .probes is %+v", loc.Semaphore, loc.SemaphoreOffset, probes)
	}
	if len(loc.Args) != 3 {
		t.Errorf("ping args %q parsed as %+v", loc.ArgsSpec, loc.Args)
	}
}
