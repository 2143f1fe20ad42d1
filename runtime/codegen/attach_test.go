package codegen_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/codegen"
)

// Attach tests: compiled programs attached for real with the runtime's
// Attach, a workload run, and the maps read back. They check what only a
// live probe shows: context offsets (tracepoint formats, pt_regs), user
// and kernel reads, __data_loc strings.

// attachRun compiles src against the running system, loads it, attaches
// its probes, runs trigger and returns the maps.
func attachRun(t *testing.T, src string, trigger func()) string {
	t.Helper()
	codegen.RequireRoot(t)
	types, err := runtime.NewSystemTypes()
	if err != nil {
		t.Fatal(err)
	}
	obj, err := codegen.CompileSource("attach.bt", []byte(src), types)
	if err != nil {
		t.Fatal(err)
	}
	l := codegen.Load(t, obj)
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, p := range obj.Programs {
		if p.Kind != codegen.KindAttach {
			continue
		}
		for _, ap := range p.Attach {
			c, err := runtime.Attach(l.Program(p.Name), ap, nil)
			if err != nil {
				t.Skipf("cannot attach %s here: %v", ap.Name(), err)
			}
			closers = append(closers, c)
		}
	}
	trigger()
	return l.DumpMaps(t)
}

// want checks that every line matching one of the patterns is in got.
func want(t *testing.T, got string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile("(?m)^" + p + "$").MatchString(got) {
			t.Errorf("no line matches %q in:\n%s", p, got)
		}
	}
}

func TestAttachTracepointArgs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tbcodegen-openat")
	src := fmt.Sprintf(`// options: params=%d
tracepoint:syscalls:sys_enter_openat
/pid == $1/
{
	@files[str(args->filename)] = count();
	@flags[str(args->filename)] = args->flags;
	@short[str(args->filename, 4)] = 1;
}

tracepoint:syscalls:sys_exit_read
/pid == $1 && args->ret > 0/
{
	@bytes = hist(args->ret);
	@maxread = max(args->ret);
}`, os.Getpid())
	got := attachRun(t, src, func() {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		z, err := os.Open("/dev/zero")
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		io.ReadFull(z, buf)
		z.Close()
	})
	want(t, got,
		regexp.QuoteMeta("@files["+path+"]: ")+`[1-9][0-9]*`,
		regexp.QuoteMeta("@flags["+path+"]: ")+fmt.Sprint(os.O_CREATE|os.O_RDWR|0x80000),
		regexp.QuoteMeta("@short["+path[:4]+"]: 1"),
		`@maxread: [0-9]*`,
		`@bytes: \{.*11:[1-9].*\}`)
}

func TestAttachDataLoc(t *testing.T) {
	src := `tracepoint:sched:sched_process_exec
{
	@exec[str(args->filename)] = count();
	@comm[comm] = count();
}`
	got := attachRun(t, src, func() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	})
	want(t, got, `@exec\[(/usr)?/bin/true\]: [1-9][0-9]*`, `@comm\[true\]: [1-9][0-9]*`)
}

func TestAttachProfile(t *testing.T) {
	src := `profile:hz:999
{
	@samples = count();
	@k[kstack] = count();
	@cpus[cpu] = count();
}`
	got := attachRun(t, src, func() {
		end := time.Now().Add(300 * time.Millisecond)
		for n := 0; time.Now().Before(end); n++ {
		}
	})
	want(t, got, `@samples: [1-9][0-9]*`, `@k\[stack\(user=false\)\]: [1-9][0-9]*`)
}

// uprobeTarget builds a small C program whose target(a, b) returns a+2*b,
// called with a = 0..9 and b = 100.
func uprobeTarget(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to build the uprobe target")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "target.c")
	bin := filepath.Join(dir, "target")
	prog := `
#include <stdio.h>
__attribute__((noinline)) long target(int a, long b) { __asm__ volatile(""); return a + 2 * b; }
int main(void) { long s = 0; for (int i = 0; i < 10; i++) s += target(i, 100); printf("%ld\n", s); return 0; }
`
	if err := os.WriteFile(c, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-O1", "-o", bin, c).CombinedOutput(); err != nil {
		t.Skipf("gcc: %v\n%s", err, out)
	}
	return bin
}

func TestAttachUprobe(t *testing.T) {
	bin := uprobeTarget(t)
	src := fmt.Sprintf(`uprobe:%[1]s:target
{
	@args[arg0] = sum(arg1);
	@fn[func] = count();
}

uretprobe:%[1]s:target
{
	@ret = max(retval);
	@calls = count();
}`, bin)
	got := attachRun(t, src, func() {
		out, err := exec.Command(bin).Output()
		if err != nil || strings.TrimSpace(string(out)) != "2045" {
			t.Fatalf("target: %q %v", out, err)
		}
	})
	want(t, got, `@args\[0\]: 100`, `@args\[9\]: 100`, `@ret: 209`, `@calls: 10`, `@fn\[raw\([0-9]+\)\]: 10`)
}

func TestAttachCurtask(t *testing.T) {
	src := fmt.Sprintf(`// options: params=%d
tracepoint:syscalls:sys_enter_getppid
/pid == $1/
{
	@ppid = curtask->real_parent->tgid;
	@self = curtask->tgid;
	@comm = curtask->comm;
}`, os.Getpid())
	got := attachRun(t, src, func() { syscall.Getppid() })
	want(t, got, fmt.Sprintf("@ppid: %d", os.Getppid()), fmt.Sprintf("@self: %d", os.Getpid()), `@comm: codegen.test`)
}
