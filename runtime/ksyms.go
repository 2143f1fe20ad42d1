package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tracebook/tracebook/runtime/value"
)

// KernelSymbols is /proc/kallsyms sorted by address, for kstack/ksym
// (address → symbol+offset) and kaddr (symbol → address). Symbol sizes are
// not published; a symbol is taken to extend to the next one.
type KernelSymbols struct {
	addrs  []uint64 // sorted
	names  []string // parallel to addrs
	mods   []string // parallel to addrs; "" for vmlinux
	byName map[string]uint64
	// text is the set of function symbols (types t, T, w, W), for kprobe
	// expansion when available_filter_functions cannot be read.
	text []KernelFunc
	// funcs is Functions' answer, built on first use: every kprobe
	// attach point is looked up in it, and sorting 100 000 names each
	// time made checking a kprobe tool take 20-240 ms.
	funcsOnce sync.Once
	funcs     []KernelFunc
}

// KernelFunc is a kernel function kprobes can name: Module is "" for
// vmlinux.
type KernelFunc struct{ Name, Module string }

var kernelSyms struct {
	sync.Mutex
	ks *KernelSymbols
}

// kernelSpaceStart is where x86-64 kernel addresses begin (the upper half
// of the address space).
const kernelSpaceStart = 0xffff800000000000

// LoadKernelSymbols returns the process-wide kallsyms table, reading
// /proc/kallsyms on first use (about 30 ms for 120 000 symbols).
func LoadKernelSymbols() (*KernelSymbols, error) {
	kernelSyms.Lock()
	defer kernelSyms.Unlock()
	if kernelSyms.ks != nil {
		return kernelSyms.ks, nil
	}
	ks, err := ReadKernelSymbols("/proc/kallsyms")
	if err != nil {
		return nil, err
	}
	kernelSyms.ks = ks
	return ks, nil
}

// ReloadKernelSymbols drops the cached table and function list (after a
// module load, say).
func ReloadKernelSymbols() {
	kernelSyms.Lock()
	kernelSyms.ks = nil
	kernelSyms.Unlock()
	kernelFuncs.Lock()
	kernelFuncs.funcs = nil
	kernelFuncs.Unlock()
}

// ReadKernelSymbols parses a kallsyms file. All addresses being zero means
// kptr_restrict hides them: that is an error, because nothing could be
// symbolised.
func ReadKernelSymbols(path string) (*KernelSymbols, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type sym struct {
		addr      uint64
		name, mod string
	}
	syms := make([]sym, 0, bytes.Count(data, []byte{'\n'}))
	ks := &KernelSymbols{byName: make(map[string]uint64)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	nonzero := false
	for sc.Scan() {
		line := sc.Text()
		// "ffffffff816bab70 T vfs_read" or "... t name\t[module]"
		a, rest, ok := strings.Cut(line, " ")
		if !ok || len(rest) < 3 {
			continue
		}
		typ := rest[0]
		name := rest[2:]
		mod := ""
		if i := strings.IndexByte(name, '\t'); i >= 0 {
			mod = strings.Trim(name[i+1:], "[]")
			name = name[:i]
		}
		addr, err := strconv.ParseUint(a, 16, 64)
		if err != nil {
			continue
		}
		if addr != 0 {
			nonzero = true
		}
		if _, dup := ks.byName[name]; !dup {
			ks.byName[name] = addr
		}
		switch typ {
		case 't', 'T', 'w', 'W':
			ks.text = append(ks.text, KernelFunc{name, mod})
		}
		// Per-CPU variables are listed at their offsets into the per-CPU
		// area (0x0, 0x1000, ...), not at addresses: they name no code
		// and must not catch small numbers passed to ksym().
		if addr < kernelSpaceStart {
			continue
		}
		syms = append(syms, sym{addr, name, mod})
	}
	if !nonzero && len(syms) > 0 {
		return nil, fmt.Errorf("%s shows no addresses (kernel.kptr_restrict hides them)", path)
	}
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
	ks.addrs = make([]uint64, len(syms))
	ks.names = make([]string, len(syms))
	ks.mods = make([]string, len(syms))
	for i, s := range syms {
		ks.addrs[i], ks.names[i], ks.mods[i] = s.addr, s.name, s.mod
	}
	return ks, nil
}

// Len is the number of symbols.
func (ks *KernelSymbols) Len() int { return len(ks.addrs) }

// Lookup returns the symbol containing addr and the offset into it. It
// fails for addresses below the first symbol, and for addresses more than
// 1 MiB past the last one's start (not kernel text).
func (ks *KernelSymbols) Lookup(addr uint64) (name string, off uint64, module string, ok bool) {
	i := sort.Search(len(ks.addrs), func(i int) bool { return ks.addrs[i] > addr }) - 1
	if i < 0 {
		return "", 0, "", false
	}
	// Among symbols at the same address take the first one listed.
	for i > 0 && ks.addrs[i-1] == ks.addrs[i] {
		i--
	}
	off = addr - ks.addrs[i]
	if i == len(ks.addrs)-1 && off > 1<<20 {
		return "", 0, "", false
	}
	return ks.names[i], off, ks.mods[i], true
}

// Frame symbolises one kernel address as a stack frame.
func (ks *KernelSymbols) Frame(addr uint64) value.Frame {
	name, off, mod, ok := ks.Lookup(addr)
	if !ok {
		return value.Frame{Addr: addr}
	}
	return value.Frame{Addr: addr, Sym: name, Offset: off, Module: mod}
}

// Frames symbolises a kernel stack, innermost first.
func (ks *KernelSymbols) Frames(addrs []uint64) []value.Frame {
	out := make([]value.Frame, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, ks.Frame(a))
	}
	return out
}

// Addr returns the address of a kernel symbol (kaddr).
func (ks *KernelSymbols) Addr(name string) (uint64, bool) {
	a, ok := ks.byName[name]
	return a, ok
}

// Functions returns the kernel functions, sorted by module (vmlinux, "",
// first) and name, and unique, as kprobe expansion matches them. Symbols
// that cannot be probed by name are left out: the ftrace padding symbols
// (__pfx_*) and compiler-split parts (*.part.N, *.cold). The list is built
// once and shared: callers must not modify it.
func (ks *KernelSymbols) Functions() []KernelFunc {
	ks.funcsOnce.Do(func() { ks.funcs = probeableFuncs(ks.text) })
	return ks.funcs
}

// probeableFuncs sorts text into Functions' list.
func probeableFuncs(text []KernelFunc) []KernelFunc {
	var out []KernelFunc
	for _, f := range text {
		if strings.HasPrefix(f.Name, "__pfx_") || strings.Contains(f.Name, ".part.") ||
			strings.HasSuffix(f.Name, ".cold") || strings.Contains(f.Name, ".cold.") {
			continue
		}
		if f.Module == "__builtin__ftrace" || f.Module == "bpf" || strings.HasPrefix(f.Module, "__builtin") {
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return out[i].Module < out[j].Module
		}
		return out[i].Name < out[j].Name
	})
	uniq := out[:0]
	for i, f := range out {
		if i > 0 && f == out[i-1] {
			continue
		}
		uniq = append(uniq, f)
	}
	return uniq
}
