package runtime_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// TestListingByPID: with -p, "-l" lists the process's uprobes and USDT
// probes under /proc/PID/root, as bpftrace 0.17 does, and so do
// "uprobe:*", "usdt:*" and a wildcard provider; a wildcard file is matched
// among the process's files.
func TestListingByPID(t *testing.T) {
	if _, err := os.Stat("/usr/include/x86_64-linux-gnu/sys/sdt.h"); err != nil {
		if _, err := os.Stat("/usr/include/sys/sdt.h"); err != nil {
			t.Skip("sys/sdt.h missing (systemtap-sdt-dev)")
		}
	}
	bin := runtimetest.BuildC(t, "usdt", usdtC, "-O1", "-no-pie")
	cmd := exec.Command(bin)
	in, err := cmd.StdinPipe() // the program waits for a line
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { in.Close(); cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid

	st, err := runtime.NewSystemTypes()
	if err != nil {
		t.Fatal(err)
	}
	st.PID = pid
	list := func(pattern string) string {
		var b bytes.Buffer
		if err := runtime.ListProbes(&b, st, pattern, false); err != nil {
			t.Fatalf("ListProbes(%q) -p %d: %v", pattern, pid, err)
		}
		return b.String()
	}
	file := fmt.Sprintf("/proc/%d/root%s", pid, bin)
	usdt := "usdt:" + file + ":tbtest:ping\n"
	all := list("")
	if !strings.Contains(all, "uprobe:"+file+":main\n") || !strings.Contains(all, usdt) {
		t.Errorf("-l -p lacks the process's probes:\n%s", all)
	}
	if strings.Contains(all, "tracepoint:") {
		t.Errorf("-l -p lists kernel probes:\n%s", all)
	}
	if got := list("uprobe:ma*"); got != "uprobe:"+file+":main\n" {
		t.Errorf("uprobe:ma* -p = %q", got)
	}
	if got := list("usdt:*"); !strings.Contains(got, usdt) {
		t.Errorf("usdt:* -p = %q", got)
	}
	if got := list("usdt:*:tbtest:pi*"); got != usdt {
		t.Errorf("usdt:*:tbtest:pi* -p = %q", got)
	}
	if got := list("usdt:*:nope:*"); got != "" {
		t.Errorf("usdt:*:nope:* -p = %q", got)
	}
	// A file named in the pattern keeps its name for uprobes.
	if got := list("*:" + filepath.Dir(bin) + "/us*:*"); !strings.Contains(got, "uprobe:"+bin+":main\n") || !strings.Contains(got, usdt) {
		t.Errorf("a wildcard provider with a wildcard file -p = %q", got)
	}
}

// TestListingKeepsRelativePath: a wildcard file given as ./path is listed
// as written.
func TestListingKeepsRelativePath(t *testing.T) {
	bin := runtimetest.BuildC(t, "target", targetC, "-O0", "-no-pie")
	dir, name := filepath.Split(bin)
	t.Chdir(dir)
	st, err := runtime.NewSystemTypes()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := runtime.ListProbes(&b, st, "uprobe:./"+name[:3]+"*:ma*", false); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "uprobe:./"+name+":main\n" {
		t.Errorf("listing = %q, want the path as written", got)
	}
	b.Reset()
	if err := runtime.ListProbes(&b, st, "*:./"+name+":ma*", false); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "uprobe:./"+name+":main\n" {
		t.Errorf("wildcard provider listing = %q", got)
	}
}
