package runtime

import (
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// UserSymbols symbolises user-space addresses of live processes for ustack,
// usym and uprobe's func: /proc/PID/maps says which file is mapped where,
// and the file's ELF symbol table names the address. An address in a PIE
// executable or shared library is turned back into the file's linked
// address through the mapping's file offset (the load bias), so one parsed
// ELF file serves every process that maps it.
//
// The maps of a process are read once and read again only when an address
// falls outside every mapping (a library loaded since) and the last read is
// older than a short interval. A process that has exited keeps the maps
// read while it lived, so late events still resolve.
type UserSymbols struct {
	mu    sync.Mutex
	procs map[int]*procSymbols
	elfs  *elfCache
	// fixed are executables linked at fixed addresses (not PIE) that
	// the session's probes trace: an address in one resolves even when
	// its process exited before its maps were read (a short -c command
	// whose events are read after its end).
	fixed []string
}

// AddExecutable names an executable the session traces (a uprobe's or
// usdt probe's binary, the -c command): when it is linked at fixed
// addresses, Frame resolves addresses in it without its process's maps.
func (u *UserSymbols) AddExecutable(path string) {
	if path == "" {
		return
	}
	ef, err := u.elfs.Get(path)
	if err != nil || ef.Type != elf.ET_EXEC {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.fixed {
		if p == path {
			return
		}
	}
	u.fixed = append(u.fixed, path)
}

// fixedFrame resolves addr in one of the fixed-address executables.
func (u *UserSymbols) fixedFrame(addr uint64, fixed []string) (value.Frame, bool) {
	for _, path := range fixed {
		ef, err := u.elfs.Get(path)
		if err != nil {
			continue
		}
		for _, p := range ef.Loads {
			if p.Flags&elf.PF_X == 0 || addr < p.Vaddr || addr >= p.Vaddr+p.Memsz {
				continue
			}
			fr := value.Frame{Addr: addr, Module: path}
			if s, off, ok := ef.SymbolAt(addr); ok {
				fr.Sym, fr.Offset = s.Name, off
			}
			return fr, true
		}
	}
	return value.Frame{}, false
}

type procSymbols struct {
	maps []ProcMap // executable file mappings, sorted by Start
	read time.Time
	gone bool
}

// NewUserSymbols returns an empty symboliser.
func NewUserSymbols() *UserSymbols {
	return &UserSymbols{procs: make(map[int]*procSymbols), elfs: defaultELFCache}
}

const mapsRefreshInterval = 100 * time.Millisecond

func (u *UserSymbols) proc(pid int, refresh bool) *procSymbols {
	ps := u.procs[pid]
	if ps != nil && (!refresh || ps.gone || time.Since(ps.read) < mapsRefreshInterval) {
		return ps
	}
	maps, err := ReadProcMaps(pid)
	if err != nil {
		if ps == nil {
			ps = &procSymbols{}
			u.procs[pid] = ps
		}
		ps.gone = true
		return ps
	}
	var exec []ProcMap
	for _, m := range maps {
		if strings.Contains(m.Perms, "x") && m.Path != "" && !strings.HasPrefix(m.Path, "[") {
			m.Path = pidPath(pid, m.Path)
			exec = append(exec, m)
		}
	}
	sort.Slice(exec, func(i, j int) bool { return exec[i].Start < exec[j].Start })
	ps = &procSymbols{maps: exec, read: time.Now()}
	u.procs[pid] = ps
	return ps
}

func (ps *procSymbols) mapping(addr uint64) *ProcMap {
	i := sort.Search(len(ps.maps), func(i int) bool { return ps.maps[i].End > addr })
	if i < len(ps.maps) && ps.maps[i].Start <= addr {
		return &ps.maps[i]
	}
	return nil
}

// Frame symbolises addr in process pid. Module is the mapped file's path
// when the address is in one; Sym is "" when no symbol covers it.
func (u *UserSymbols) Frame(pid int, addr uint64) value.Frame {
	u.mu.Lock()
	ps := u.proc(pid, false)
	m := ps.mapping(addr)
	if m == nil && !ps.gone {
		ps = u.proc(pid, true)
		m = ps.mapping(addr)
	}
	var mm ProcMap
	if m != nil {
		mm = *m
	}
	fixed := u.fixed
	u.mu.Unlock()
	if m == nil {
		if fr, ok := u.fixedFrame(addr, fixed); ok {
			return fr
		}
		return value.Frame{Addr: addr}
	}
	fr := value.Frame{Addr: addr, Module: mm.Path}
	ef, err := u.elfs.Get(mm.Path)
	if err != nil {
		return fr
	}
	vaddr, ok := ef.VirtAddr(addr - mm.Start + mm.Offset)
	if !ok {
		return fr
	}
	if s, off, ok := ef.SymbolAt(vaddr); ok {
		fr.Sym, fr.Offset = s.Name, off
	}
	return fr
}

// Frames symbolises a user stack, innermost first.
func (u *UserSymbols) Frames(pid int, addrs []uint64) []value.Frame {
	out := make([]value.Frame, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, u.Frame(pid, a))
	}
	return out
}

// Forget drops what is cached for pid.
func (u *UserSymbols) Forget(pid int) {
	u.mu.Lock()
	delete(u.procs, pid)
	u.mu.Unlock()
}

// Addr returns the run-time address of symbol name in the binary path as
// mapped by process pid (for uaddr and watchpoint targets), using the
// mapping that covers the symbol's file offset.
func (u *UserSymbols) Addr(pid int, path, name string) (uint64, error) {
	ef, err := u.elfs.Get(path)
	if err != nil {
		return 0, err
	}
	s, ok := ef.Symbol(name)
	if !ok {
		return 0, fmt.Errorf("symbol %s not found in %s", name, path)
	}
	if pid <= 0 {
		if ef.Type == elf.ET_EXEC { // linked addresses are run-time addresses
			return s.Addr, nil
		}
		return 0, fmt.Errorf("%s is position-independent: its address needs a process (-p or -c)", path)
	}
	maps, err := ReadProcMaps(pid)
	if err != nil {
		return 0, err
	}
	want, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	// The load bias is the same for every segment of the file: take it
	// from the first mapping of the file whose offset is in a segment.
	// This also places .bss symbols, which have no bytes in the file.
	for _, m := range maps {
		if m.Path == "" || strings.HasPrefix(m.Path, "[") {
			continue
		}
		fi, err := os.Stat(pidPath(pid, m.Path))
		if err != nil || !os.SameFile(fi, want) {
			continue
		}
		if va, ok := ef.VirtAddr(m.Offset); ok {
			return m.Start - va + s.Addr, nil
		}
	}
	return 0, fmt.Errorf("%s is not mapped by pid %d", path, pid)
}
