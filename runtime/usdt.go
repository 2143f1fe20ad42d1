package runtime

import (
	"debug/elf"
	"fmt"
	"strconv"
	"strings"
)

// USDT probes are described by SystemTap's ELF notes: one note in
// .note.stapsdt per probe site, holding the site's address, the link-time
// address of .stapsdt.base (to undo prelinking), the address of the probe's
// semaphore (0 when it has none), the provider and probe names, and an
// argument description in the assembler's operand syntax
// ("-4@%edi 8@-8(%rbp) 8@$5"). A probe name used at several sites has
// several locations; each location may describe its arguments differently.

// ntSTAPSDT is the note type of SystemTap SDT notes.
const ntSTAPSDT = 3

// USDTProbe is one provider:name probe of a file with all its sites.
type USDTProbe struct {
	Path           string
	Provider, Name string
	Locations      []USDTLocation
}

// USDTLocation is one probe site.
type USDTLocation struct {
	// PC is the site's linked virtual address (after undoing prelink) and
	// FileOffset where the uprobe goes.
	PC, FileOffset uint64
	// Semaphore is the linked address of the probe's semaphore (0: none)
	// and SemaphoreOffset its file offset, for UprobeOptions.RefCtrOffset:
	// the kernel increments the semaphore while the probe is attached so
	// that the program evaluates the probe's arguments.
	Semaphore, SemaphoreOffset uint64
	// ArgsSpec is the note's argument description as written; Args is it
	// parsed.
	ArgsSpec string
	Args     []USDTArg
	// ArgsErr is set when ArgsSpec could not be parsed; reading an
	// argument of this location is then an error.
	ArgsErr error
}

// USDTArgKind says where an argument's value is.
type USDTArgKind uint8

const (
	USDTArgConst USDTArgKind = iota // the value is Offset
	USDTArgReg                      // the value is in register Reg
	USDTArgMem                      // the value is in memory at Reg + Offset (+ Index*Scale)
)

// USDTArg is one parsed argument of a USDT location, in terms a uprobe
// program can evaluate from its struct pt_regs context (x86-64).
type USDTArg struct {
	Raw    string // "-4@%edi"
	Size   int    // 1, 2, 4 or 8 bytes
	Signed bool   // a negative size in the spec: sign-extend after reading
	Kind   USDTArgKind
	// Reg is the base register's full name ("rdi", "rbp", "rip"), RegOffset
	// its offset in struct pt_regs and RegSize/RegShift how much of it the
	// operand names: %edi is RegSize 4; %ah is RegSize 1 with RegShift 8.
	Reg       string
	RegOffset int
	RegSize   int
	RegShift  int
	// Offset is the constant (USDTArgConst) or the displacement
	// (USDTArgMem). A %rip-relative operand ("sym(%rip)", "8+sym(%rip)")
	// is resolved at parse time: Reg is "rip", RegOffset that of ip (which
	// holds the site's run-time address when the uprobe fires), and Offset
	// the symbol's address minus the site's PC, so the operand's address is
	// regs->ip + Offset whatever the load bias.
	Offset int64
	// Index, IndexOffset and Scale describe an "(%base,%index,scale)"
	// operand; Index is "" otherwise.
	Index       string
	IndexOffset int
	Scale       int
}

// x86-64 struct pt_regs offsets, as a uprobe program sees its context.
var ptRegsOffset = map[string]int{
	"r15": 0, "r14": 8, "r13": 16, "r12": 24, "rbp": 32, "rbx": 40,
	"r11": 48, "r10": 56, "r9": 64, "r8": 72, "rax": 80, "rcx": 88,
	"rdx": 96, "rsi": 104, "rdi": 112, "orig_rax": 120, "rip": 128,
	"cs": 136, "eflags": 144, "rsp": 152, "ss": 160,
}

// PtRegsOffset returns the offset in x86-64 struct pt_regs of a register
// named as in assembler or by its full 64-bit name ("rdi", "edi", "di",
// "r8d", "al"), with how many bytes the name covers and the bit shift of a
// high-byte register (ah, bh, ch, dh).
func PtRegsOffset(name string) (off, size, shift int, full string, ok bool) {
	name = strings.TrimPrefix(strings.ToLower(name), "%")
	full, size, shift = x86RegAlias(name)
	off, ok = ptRegsOffset[full]
	return off, size, shift, full, ok
}

// x86RegAlias maps a register name to its 64-bit register, width and
// shift.
func x86RegAlias(n string) (full string, size, shift int) {
	legacy := map[string]string{"a": "rax", "b": "rbx", "c": "rcx", "d": "rdx"}
	idx := map[string]string{"si": "rsi", "di": "rdi", "bp": "rbp", "sp": "rsp", "ip": "rip"}
	switch {
	case ptRegsOffset[n] != 0 || n == "r15":
		return n, 8, 0
	case len(n) == 3 && n[0] == 'e' && legacy[n[1:2]] != "" && n[2] == 'x':
		return legacy[n[1:2]], 4, 0
	case len(n) == 3 && n[0] == 'e' && idx[n[1:]] != "":
		return idx[n[1:]], 4, 0
	case len(n) == 2 && legacy[n[:1]] != "" && n[1] == 'x':
		return legacy[n[:1]], 2, 0
	case len(n) == 2 && legacy[n[:1]] != "" && n[1] == 'l':
		return legacy[n[:1]], 1, 0
	case len(n) == 2 && legacy[n[:1]] != "" && n[1] == 'h':
		return legacy[n[:1]], 1, 8
	case idx[n] != "":
		return idx[n], 2, 0
	case len(n) == 3 && idx[n[:2]] != "" && n[2] == 'l': // sil, dil, bpl, spl
		return idx[n[:2]], 1, 0
	case strings.HasPrefix(n, "r") && len(n) >= 2:
		// r8..r15 with d/w/b suffixes.
		num := strings.TrimRight(n[1:], "dwb")
		suffix := n[1+len(num):]
		if v, err := strconv.Atoi(num); err == nil && v >= 8 && v <= 15 {
			full = "r" + num
			switch suffix {
			case "":
				return full, 8, 0
			case "d":
				return full, 4, 0
			case "w":
				return full, 2, 0
			case "b":
				return full, 1, 0
			}
		}
	}
	return n, 8, 0
}

// readUSDTNotes parses .note.stapsdt. Probes come back grouped by
// provider:name in order of first appearance.
func readUSDTNotes(f *elf.File) ([]USDTProbe, error) {
	sec := f.Section(".note.stapsdt")
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading .note.stapsdt: %w", err)
	}
	var baseAddr uint64
	haveBase := false
	if b := f.Section(".stapsdt.base"); b != nil {
		baseAddr, haveBase = b.Addr, true
	}
	ptrSize := 8
	if f.Class == elf.ELFCLASS32 {
		ptrSize = 4
	}
	bo := f.ByteOrder
	var probes []USDTProbe
	index := map[string]int{}
	for len(data) >= 12 {
		namesz := int(bo.Uint32(data[0:]))
		descsz := int(bo.Uint32(data[4:]))
		typ := bo.Uint32(data[8:])
		nameOff := 12
		descOff := nameOff + align4(namesz)
		next := descOff + align4(descsz)
		if descOff+descsz > len(data) || namesz < 0 || descsz < 0 {
			return nil, fmt.Errorf("truncated .note.stapsdt")
		}
		name := strings.TrimRight(string(data[nameOff:nameOff+namesz]), "\x00")
		desc := data[descOff : descOff+descsz]
		if next > len(data) {
			next = len(data)
		}
		data = data[next:]
		if name != "stapsdt" || typ != ntSTAPSDT || len(desc) < 3*ptrSize {
			continue
		}
		word := func(i int) uint64 {
			if ptrSize == 4 {
				return uint64(bo.Uint32(desc[i*4:]))
			}
			return bo.Uint64(desc[i*8:])
		}
		pc, base, sem := word(0), word(1), word(2)
		strs := strings.SplitN(string(desc[3*ptrSize:]), "\x00", 4)
		if len(strs) < 3 {
			continue
		}
		provider, pname, args := strs[0], strs[1], strs[2]
		// Undo prelink: the note records .stapsdt.base's address at link
		// time; if the section has moved, so has everything.
		if haveBase && base != 0 {
			pc += baseAddr - base
			if sem != 0 {
				sem += baseAddr - base
			}
		}
		loc := USDTLocation{PC: pc, Semaphore: sem, ArgsSpec: args}
		key := provider + ":" + pname
		i, ok := index[key]
		if !ok {
			i = len(probes)
			index[key] = i
			probes = append(probes, USDTProbe{Provider: provider, Name: pname})
		}
		probes[i].Locations = append(probes[i].Locations, loc)
	}
	return probes, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// resolveUSDT fills the file offsets and parsed arguments of the probes of
// ef, once its segments and symbols are known. A site whose address is not
// in the file is dropped; an argument description we cannot parse is kept
// in ArgsErr so that only programs that read that probe's args fail.
func (ef *ELFFile) resolveUSDT() error {
	for i := range ef.USDT {
		p := &ef.USDT[i]
		p.Path = ef.Path
		locs := p.Locations[:0]
		for _, loc := range p.Locations {
			off, err := ef.FileOffset(loc.PC)
			if err != nil {
				continue
			}
			loc.FileOffset = off
			if loc.Semaphore != 0 {
				if soff, err := ef.FileOffset(loc.Semaphore); err == nil {
					loc.SemaphoreOffset = soff
				}
			}
			loc.Args, loc.ArgsErr = ParseUSDTArgs(loc.ArgsSpec, loc.PC, ef.symbolAddr)
			locs = append(locs, loc)
		}
		p.Locations = locs
	}
	return nil
}

func (ef *ELFFile) symbolAddr(name string) (uint64, bool) {
	s, ok := ef.Symbol(name)
	return s.Addr, ok
}

// ParseUSDTArgs parses an argument description such as
// "-4@%edi 8@-8(%rbp) 8@$5 -4@counter(%rip)". pc is the site's linked
// address and sym resolves symbol names, both for %rip-relative operands;
// sym may be nil when the description has none.
func ParseUSDTArgs(spec string, pc uint64, sym func(string) (uint64, bool)) ([]USDTArg, error) {
	var args []USDTArg
	for _, raw := range strings.Fields(spec) {
		a, err := parseUSDTArg(raw, pc, sym)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	return args, nil
}

func parseUSDTArg(raw string, pc uint64, sym func(string) (uint64, bool)) (USDTArg, error) {
	a := USDTArg{Raw: raw, Size: 8, Signed: true}
	op := raw
	if sz, rest, ok := strings.Cut(raw, "@"); ok {
		n, err := strconv.Atoi(sz)
		if err != nil {
			return a, fmt.Errorf("bad USDT argument size in %q", raw)
		}
		a.Signed = n < 0
		if n < 0 {
			n = -n
		}
		if n != 1 && n != 2 && n != 4 && n != 8 {
			return a, fmt.Errorf("bad USDT argument size %d in %q", n, raw)
		}
		a.Size = n
		op = rest
	}
	switch {
	case strings.HasPrefix(op, "$"):
		v, err := parseCInt(op[1:])
		if err != nil {
			return a, fmt.Errorf("bad USDT constant in %q", raw)
		}
		a.Kind, a.Offset = USDTArgConst, v
		return a, nil
	case strings.HasPrefix(op, "%"):
		off, size, shift, full, ok := PtRegsOffset(op)
		if !ok {
			return a, fmt.Errorf("unknown register in USDT argument %q", raw)
		}
		a.Kind, a.Reg, a.RegOffset, a.RegSize, a.RegShift = USDTArgReg, full, off, size, shift
		return a, nil
	}
	// Memory: disp(%base[,%index[,scale]]) where disp may be a number, a
	// symbol, or symbol+number / symbol-number.
	lp := strings.IndexByte(op, '(')
	if lp < 0 || !strings.HasSuffix(op, ")") {
		// A bare symbol or address: absolute memory. Only valid in non-PIE
		// files; express it relative to nothing (Reg "").
		return a, fmt.Errorf("unsupported USDT argument %q", raw)
	}
	disp, inner := op[:lp], op[lp+1:len(op)-1]
	parts := strings.Split(inner, ",")
	base := strings.TrimSpace(parts[0])
	a.Kind = USDTArgMem
	if base != "" {
		off, _, _, full, ok := PtRegsOffset(base)
		if !ok {
			return a, fmt.Errorf("unknown register in USDT argument %q", raw)
		}
		a.Reg, a.RegOffset, a.RegSize = full, off, 8
	}
	if len(parts) >= 2 {
		off, _, _, full, ok := PtRegsOffset(strings.TrimSpace(parts[1]))
		if !ok {
			return a, fmt.Errorf("unknown index register in USDT argument %q", raw)
		}
		a.Index, a.IndexOffset, a.Scale = full, off, 1
		if len(parts) >= 3 {
			s, err := strconv.Atoi(strings.TrimSpace(parts[2]))
			if err != nil {
				return a, fmt.Errorf("bad scale in USDT argument %q", raw)
			}
			a.Scale = s
		}
	}
	d, symName, err := splitDisp(disp)
	if err != nil {
		return a, fmt.Errorf("bad displacement in USDT argument %q", raw)
	}
	a.Offset = d
	if symName != "" {
		if a.Reg != "rip" || sym == nil {
			return a, fmt.Errorf("unsupported USDT argument %q (symbol not relative to %%rip)", raw)
		}
		addr, ok := sym(symName)
		if !ok {
			return a, fmt.Errorf("USDT argument %q names unknown symbol %s", raw, symName)
		}
		a.Offset = int64(addr) + d - int64(pc)
	} else if a.Reg == "rip" {
		// disp(%rip) without a symbol: relative to the next instruction,
		// which for a nop-sized probe site we cannot know; refuse.
		return a, fmt.Errorf("unsupported USDT argument %q (%%rip without a symbol)", raw)
	}
	return a, nil
}

// splitDisp splits "sym+8", "sym-8", "-16", "sym" or "" into a number and
// a symbol name.
func splitDisp(s string) (int64, string, error) {
	if s == "" {
		return 0, "", nil
	}
	if v, err := parseCInt(s); err == nil {
		return v, "", nil
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '+' || s[i] == '-' {
			v, err := parseCInt(s[i:])
			if err != nil {
				return 0, "", err
			}
			return v, s[:i], nil
		}
	}
	if i := strings.IndexByte(s, '+'); i == 0 {
		return 0, "", fmt.Errorf("bad displacement %q", s)
	}
	return 0, s, nil
}

func parseCInt(s string) (int64, error) {
	s = strings.TrimPrefix(s, "+")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

// USDTProbe returns the probe provider:name of ef; provider "" matches any
// provider.
func (ef *ELFFile) USDTProbe(provider, name string) (*USDTProbe, bool) {
	for i := range ef.USDT {
		p := &ef.USDT[i]
		if p.Name == name && (provider == "" || p.Provider == provider) {
			return p, true
		}
	}
	return nil, false
}
