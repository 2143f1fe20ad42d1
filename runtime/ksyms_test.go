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
