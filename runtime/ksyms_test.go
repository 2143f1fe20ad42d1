package runtime_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

func TestKernelSymbols(t *testing.T) {
	runtimetest.RequireRoot(t)
	ks, err := runtime.LoadKernelSymbols()
	if err != nil {
		t.Fatal(err)
	}
	if ks.Len() < 10000 {
		t.Fatalf("only %d kernel symbols", ks.Len())
	}
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 3 && (fs[2] == "vfs_read" || fs[2] == "do_sys_openat2" || fs[2] == "schedule") {
			a, _ := strconv.ParseUint(fs[0], 16, 64)
			want[fs[2]] = a
		}
	}
	if len(want) != 3 {
		t.Fatalf("kallsyms lacks the test symbols: %v", want)
	}
	for name, addr := range want {
		if got, ok := ks.Addr(name); !ok || got != addr {
			t.Errorf("Addr(%s) = %#x, want %#x", name, got, addr)
		}
		fr := ks.Frame(addr + 0x10)
		if fr.Sym != name || fr.Offset != 0x10 || fr.Addr != addr+0x10 {
			t.Errorf("Frame(%s+0x10) = %+v", name, fr)
		}
	}
	if fr := ks.Frame(0x1000); fr.Sym != "" {
		t.Errorf("Frame(0x1000) = %+v, want unresolved", fr)
	}
	if _, ok := ks.Addr("no_such_symbol_here"); ok {
		t.Errorf("Addr of a missing symbol succeeded")
	}
}

func BenchmarkKernelSymbolLookup(b *testing.B) {
	runtimetest.RequireRoot(b)
	ks, err := runtime.LoadKernelSymbols()
	if err != nil {
		b.Fatal(err)
	}
	addr, _ := ks.Addr("vfs_read")
	for b.Loop() {
		ks.Frame(addr + 0x20)
	}
}

// TestKernelFunctionsCached checks that the kernel function list kprobe
// expansion searches is built once, not sorted again for every attach
// point (which made checking a kprobe tool take 20-240 ms), and that
// ReloadKernelSymbols drops it.
func TestKernelFunctionsCached(t *testing.T) {
	runtimetest.RequireRoot(t)
	ks, err := runtime.LoadKernelSymbols()
	if err != nil {
		t.Fatal(err)
	}
	a, b := ks.Functions(), ks.Functions()
	if len(a) < 1000 || len(a) != len(b) || &a[0] != &b[0] {
		t.Errorf("KernelSymbols.Functions built its list again (%d, %d functions)", len(a), len(b))
	}
	f1, err := runtime.KernelFunctions()
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := runtime.KernelFunctions()
	if len(f1) < 1000 || len(f1) != len(f2) || &f1[0] != &f2[0] {
		t.Errorf("KernelFunctions built its list again (%d, %d functions)", len(f1), len(f2))
	}
	runtime.ReloadKernelSymbols()
	f3, err := runtime.KernelFunctions()
	if err != nil {
		t.Fatal(err)
	}
	if len(f3) != len(f1) || &f3[0] == &f1[0] {
		t.Errorf("after ReloadKernelSymbols: %d functions, same list %v", len(f3), &f3[0] == &f1[0])
	}
}
