package runtime

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// ELFSymbol is one symbol of an executable or shared library.
type ELFSymbol struct {
	Name string
	// Addr is the symbol's virtual address as linked (st_value). For a PIE
	// executable or a shared library the run-time address is Addr plus the
	// load bias of the mapping.
	Addr uint64
	Size uint64
	Func bool // STT_FUNC or STT_GNU_IFUNC; otherwise a data object
}

// ELFFile is the part of an ELF file probes and symbolisation need. It is
// read once per file (identified by device, inode, size and mtime) and
// shared; it holds no open file.
type ELFFile struct {
	Path string
	Type elf.Type // ET_EXEC or ET_DYN (PIE executables and libraries)
	// Loads are the PT_LOAD segments, for address ↔ file offset.
	Loads []elf.ProgHeader
	// Syms are the defined function and object symbols of .symtab and
	// .dynsym, deduplicated (same name and address), sorted by address.
	Syms   []ELFSymbol
	byName map[string]int // first index in Syms of each name (functions first)
	// USDT are the file's .note.stapsdt probes, in note order.
	USDT []USDTProbe
	// BuildID is the GNU build id, hex, or "".
	BuildID string

	funcNamesOnce sync.Once
	funcNames     []string // FuncNames' answer, built on first use
}

// ReadELF parses path. Use an elfCache (or SystemTypes) to avoid reading a
// file twice.
func ReadELF(path string) (*ELFFile, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%s is not an executable or a shared library", path)
	}
	ef := &ELFFile{Path: path, Type: f.Type, byName: make(map[string]int)}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			ef.Loads = append(ef.Loads, p.ProgHeader)
		}
	}
	type key struct {
		name string
		addr uint64
	}
	seen := make(map[key]bool)
	add := func(syms []elf.Symbol) {
		for _, s := range syms {
			typ := elf.ST_TYPE(s.Info)
			isFunc := typ == elf.STT_FUNC || typ == elf.STT_GNU_IFUNC
			if !isFunc && typ != elf.STT_OBJECT && typ != elf.STT_TLS {
				continue
			}
			if s.Section == elf.SHN_UNDEF || s.Value == 0 || s.Name == "" || typ == elf.STT_TLS {
				continue
			}
			// Versioned dynamic names ("malloc@@GLIBC_2.2.5") come without
			// the version from debug/elf; strip one if present anyway.
			name := s.Name
			if i := strings.IndexByte(name, '@'); i > 0 {
				name = name[:i]
			}
			k := key{name, s.Value}
			if seen[k] {
				continue
			}
			seen[k] = true
			ef.Syms = append(ef.Syms, ELFSymbol{Name: name, Addr: s.Value, Size: s.Size, Func: isFunc})
		}
	}
	if syms, err := f.Symbols(); err == nil {
		add(syms)
	}
	if syms, err := f.DynamicSymbols(); err == nil {
		add(syms)
	}
	if f.Section(".symtab") == nil {
		// A stripped file: its full symbol table may be in a separate
		// debug file (Debian's *-dbg packages), as bpftrace finds it.
		if dbg := findDebugFile(path, f); dbg != "" {
			if df, err := elf.Open(dbg); err == nil {
				if syms, err := df.Symbols(); err == nil {
					add(syms)
				}
				df.Close()
			}
		}
	}
	sort.SliceStable(ef.Syms, func(i, j int) bool {
		a, b := ef.Syms[i], ef.Syms[j]
		if a.Addr != b.Addr {
			return a.Addr < b.Addr
		}
		if a.Func != b.Func {
			return a.Func
		}
		return a.Name < b.Name
	})
	for i, s := range ef.Syms {
		if j, ok := ef.byName[s.Name]; !ok || (s.Func && !ef.Syms[j].Func) {
			ef.byName[s.Name] = i
		}
	}
	ef.BuildID = readBuildID(f)
	ef.USDT, err = readUSDTNotes(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := ef.resolveUSDT(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ef, nil
}

// debugRoot is where distributions install separate debug files.
const debugRoot = "/usr/lib/debug"

// findDebugFile locates the separate debug file of a stripped ELF file: by
// build id (/usr/lib/debug/.build-id/xx/rest.debug), then by the
// .gnu_debuglink name next to the file, in its .debug directory, and under
// /usr/lib/debug. It returns "" when there is none.
func findDebugFile(path string, f *elf.File) string {
	if id := readBuildID(f); len(id) > 2 {
		p := filepath.Join(debugRoot, ".build-id", id[:2], id[2:]+".debug")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	s := f.Section(".gnu_debuglink")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil {
		return ""
	}
	name := string(data)
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	if name == "" || strings.Contains(name, "/") {
		return ""
	}
	dir := filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		dir = filepath.Dir(real)
	}
	for _, p := range []string{
		filepath.Join(dir, name),
		filepath.Join(dir, ".debug", name),
		filepath.Join(debugRoot, dir, name),
	} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			if same, err := sameFile(p, path); err == nil && same {
				continue
			}
			return p
		}
	}
	return ""
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

func readBuildID(f *elf.File) string {
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	namesz := f.ByteOrder.Uint32(data[0:])
	descsz := f.ByteOrder.Uint32(data[4:])
	off := 12 + (int(namesz)+3)&^3
	if off+int(descsz) > len(data) {
		return ""
	}
	return fmt.Sprintf("%x", data[off:off+int(descsz)])
}

// Symbol returns the symbol called name, a function in preference to an
// object of the same name.
func (ef *ELFFile) Symbol(name string) (ELFSymbol, bool) {
	i, ok := ef.byName[name]
	if !ok {
		return ELFSymbol{}, false
	}
	return ef.Syms[i], true
}

// FuncNames returns the names of the file's function symbols, sorted and
// unique: what uprobe wildcards match against. The list is built once and
// shared: callers must not modify it.
func (ef *ELFFile) FuncNames() []string {
	ef.funcNamesOnce.Do(func() {
		var names []string
		for _, s := range ef.Syms {
			if s.Func {
				names = append(names, s.Name)
			}
		}
		ef.funcNames = sortedUnique(names)
	})
	return ef.funcNames
}

// FileOffset converts a linked virtual address to its offset in the file,
// through the PT_LOAD segment that contains it. Uprobes are placed by file
// offset (the kernel finds every mapping of the file), which is the same
// number for ET_EXEC and ET_DYN files.
func (ef *ELFFile) FileOffset(addr uint64) (uint64, error) {
	for _, p := range ef.Loads {
		if addr >= p.Vaddr && addr < p.Vaddr+p.Memsz {
			if addr-p.Vaddr >= p.Filesz {
				return 0, fmt.Errorf("address 0x%x of %s is in a segment's zero-filled tail", addr, ef.Path)
			}
			return addr - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("address 0x%x is not in a loadable segment of %s", addr, ef.Path)
}

// VirtAddr converts a file offset to the linked virtual address.
func (ef *ELFFile) VirtAddr(off uint64) (uint64, bool) {
	for _, p := range ef.Loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// SymbolAt returns the symbol containing the linked address addr and the
// offset into it. A symbol of size 0 matches only its own address, except
// that the nearest preceding function is used when nothing contains addr
// (stripped binaries with size-less symbols).
func (ef *ELFFile) SymbolAt(addr uint64) (ELFSymbol, uint64, bool) {
	i := sort.Search(len(ef.Syms), func(i int) bool { return ef.Syms[i].Addr > addr }) - 1
	fallback := -1
	for groups := 0; i >= 0 && groups < 64; groups++ {
		// The symbols at one address (aliases) form a group; the first of
		// a group in sort order (functions first, then by name) wins.
		a := ef.Syms[i].Addr
		j := i
		for j > 0 && ef.Syms[j-1].Addr == a {
			j--
		}
		sized := false
		for k := j; k <= i; k++ {
			s := ef.Syms[k]
			if addr < s.Addr+s.Size || (s.Size == 0 && addr == s.Addr) {
				return s, addr - s.Addr, true
			}
			if s.Func && s.Size > 0 {
				sized = true
			}
			if s.Func && s.Size == 0 && fallback < 0 {
				fallback = k
			}
		}
		// Functions do not nest: once a sized function ends before addr,
		// nothing earlier contains it.
		if sized {
			break
		}
		i = j - 1
	}
	if fallback >= 0 {
		s := ef.Syms[fallback]
		return s, addr - s.Addr, true
	}
	return ELFSymbol{}, 0, false
}

// UprobeOffset returns the file offset of sym+off in the file, the place a
// uprobe goes.
func (ef *ELFFile) UprobeOffset(sym string, off uint64) (uint64, error) {
	s, ok := ef.Symbol(sym)
	if !ok || !s.Func {
		return 0, fmt.Errorf("Could not resolve symbol: %s:%s", ef.Path, sym)
	}
	if off != 0 && s.Size != 0 && off >= s.Size {
		return 0, fmt.Errorf("Offset outside the function bounds ('%s' size is %d)", sym, s.Size)
	}
	return ef.FileOffset(s.Addr + off)
}

// elfCache shares parsed ELF files, keyed by the file's identity so that a
// rebuilt binary at the same path is read again.
type elfCache struct {
	mu    sync.Mutex
	files map[elfKey]*ELFFile
}

type elfKey struct {
	dev, ino   uint64
	size, time int64
}

func newELFCache() *elfCache { return &elfCache{files: make(map[elfKey]*ELFFile)} }

// defaultELFCache serves package-level helpers (symbolisers, attach).
var defaultELFCache = newELFCache()

// Get returns the parsed file at path.
func (c *elfCache) Get(path string) (*ELFFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, errors.New("stat: no inode")
	}
	k := elfKey{uint64(st.Dev), st.Ino, fi.Size(), fi.ModTime().UnixNano()}
	c.mu.Lock()
	ef := c.files[k]
	c.mu.Unlock()
	if ef != nil {
		return ef, nil
	}
	ef, err = ReadELF(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.files) > 256 {
		c.files = make(map[elfKey]*ELFFile)
	}
	c.files[k] = ef
	c.mu.Unlock()
	return ef, nil
}
