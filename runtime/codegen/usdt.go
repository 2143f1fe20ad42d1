package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

// USDTArgKind says where a USDT argument is.
type USDTArgKind uint8

const (
	USDTConst USDTArgKind = iota // an immediate: $5
	USDTReg                      // a register: %edi
	USDTMem                      // memory at a register plus a displacement: -16(%rbp)
)

// USDTArg is one argument of a USDT probe location, parsed from the
// x86-64 argument string SystemTap's sys/sdt.h writes into .note.stapsdt:
// "[-]SIZE@OPERAND", a negative size meaning signed.
type USDTArg struct {
	Size   int
	Signed bool
	Kind   USDTArgKind
	// Reg is the base register by its pt_regs name ("di", "bp", "r8"),
	// for USDTReg and USDTMem. "ip" is allowed as a memory base: a
	// %rip-relative operand, which the runtime resolves to regs->ip plus
	// the symbol's distance from the probe site.
	Reg string
	// RegSize and RegShift say how much of the register an USDTReg
	// operand names: %edi is RegSize 4, %ah RegSize 1 and RegShift 8.
	// RegSize 0 means the whole register.
	RegSize, RegShift int
	// Index and Scale are the index register and scale of a
	// base+index*scale memory operand; Index is "" when there is none.
	Index string
	Scale int
	// Offset is the displacement of USDTMem, or USDTConst's value.
	Offset int64
}

// x86Regs maps an x86-64 register of any width to its pt_regs name.
var x86Regs = func() map[string]string {
	m := map[string]string{"rip": "ip", "eip": "ip", "ah": "ax", "bh": "bx", "ch": "cx", "dh": "dx"}
	for _, r := range []struct{ name, q, d, w, b string }{
		{"ax", "rax", "eax", "ax", "al"}, {"bx", "rbx", "ebx", "bx", "bl"},
		{"cx", "rcx", "ecx", "cx", "cl"}, {"dx", "rdx", "edx", "dx", "dl"},
		{"si", "rsi", "esi", "si", "sil"}, {"di", "rdi", "edi", "di", "dil"},
		{"bp", "rbp", "ebp", "bp", "bpl"}, {"sp", "rsp", "esp", "sp", "spl"},
	} {
		m[r.q], m[r.d], m[r.w], m[r.b] = r.name, r.name, r.name, r.name
	}
	for i := 8; i <= 15; i++ {
		n := fmt.Sprintf("r%d", i)
		m[n], m[n+"d"], m[n+"w"], m[n+"b"] = n, n, n, n
	}
	return m
}()

// regWidth is the width in bytes of an x86-64 register name.
func regWidth(name string) int {
	switch {
	case strings.HasPrefix(name, "r") && (strings.HasSuffix(name, "d")):
		return 4
	case strings.HasPrefix(name, "r") && strings.HasSuffix(name, "w"):
		return 2
	case strings.HasPrefix(name, "r") && strings.HasSuffix(name, "b"):
		return 1
	case strings.HasPrefix(name, "r"):
		return 8
	case strings.HasPrefix(name, "e"):
		return 4
	case len(name) == 2 && (name[1] == 'l' || name[1] == 'h'), name == "sil", name == "dil", name == "bpl", name == "spl":
		return 1
	}
	return 2
}

// ParseUSDTArg parses one x86-64 USDT argument string: "-4@%edi",
// "8@-16(%rbp)", "4@$5", "8@(%rax,%rbx,8)". %rip-relative operands (a
// global variable) are not supported.
func ParseUSDTArg(s string) (USDTArg, error) {
	var a USDTArg
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return a, fmt.Errorf("usdt argument %q has no size", s)
	}
	size, err := strconv.Atoi(s[:at])
	if err != nil || size == 0 {
		return a, fmt.Errorf("usdt argument %q has a bad size", s)
	}
	if size < 0 {
		a.Signed, size = true, -size
	}
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return a, fmt.Errorf("usdt argument %q has a bad size", s)
	}
	a.Size = size
	op := s[at+1:]
	switch {
	case strings.HasPrefix(op, "$"):
		n, err := strconv.ParseInt(op[1:], 0, 64)
		if err != nil {
			return a, fmt.Errorf("usdt argument %q: bad constant", s)
		}
		a.Kind, a.Offset = USDTConst, n
	case strings.HasPrefix(op, "%"):
		name := op[1:]
		r, ok := x86Regs[name]
		if !ok || r == "ip" {
			return a, fmt.Errorf("usdt argument %q: unknown register", s)
		}
		a.Kind, a.Reg = USDTReg, r
		a.RegSize = regWidth(name)
		if len(name) == 2 && name[1] == 'h' {
			a.RegShift = 8
		}
	default:
		open := strings.IndexByte(op, '(')
		if open < 0 || !strings.HasSuffix(op, ")") {
			return a, fmt.Errorf("usdt argument %q: unknown operand", s)
		}
		if disp := op[:open]; disp != "" {
			n, err := strconv.ParseInt(disp, 0, 64)
			if err != nil {
				return a, fmt.Errorf("usdt argument %q: unsupported displacement %q", s, disp)
			}
			a.Offset = n
		}
		parts := strings.Split(op[open+1:len(op)-1], ",")
		base, ok := x86Regs[strings.TrimPrefix(parts[0], "%")]
		if !ok || base == "ip" {
			return a, fmt.Errorf("usdt argument %q: unsupported base register", s)
		}
		a.Kind, a.Reg = USDTMem, base
		if len(parts) >= 2 {
			idx, ok := x86Regs[strings.TrimPrefix(parts[1], "%")]
			if !ok {
				return a, fmt.Errorf("usdt argument %q: unknown index register", s)
			}
			a.Index, a.Scale = idx, 1
			if len(parts) == 3 {
				sc, err := strconv.Atoi(parts[2])
				if err != nil {
					return a, fmt.Errorf("usdt argument %q: bad scale", s)
				}
				a.Scale = sc
			}
		}
	}
	return a, nil
}

// usdtArg lowers argN of a usdt probe from its location's argument spec.
func (g *gen) usdtArg(e lang.Node, n int, t *lang.Type) val {
	if n >= len(g.usdt) {
		g.errorf(e, "usdt probe %s has %d arguments, arg%d is not one", g.probeName(), len(g.usdt), n)
		return val{t: t}
	}
	a := g.usdt[n]
	at := lang.IntType(a.Size, a.Signed)
	var v val
	switch a.Kind {
	case USDTConst:
		return val{t: t, kind: vConst, c: truncConst(a.Offset, at)}
	case USDTReg:
		g.ctxLoad(asm.R0, ptRegs[a.Reg], asm.DWord)
		if a.RegShift > 0 {
			g.emit(asm.RSh.Imm(asm.R0, int32(a.RegShift)))
		}
		if a.RegSize > 0 && a.RegSize < at.Size {
			g.normalize(asm.R0, lang.IntType(a.RegSize, false))
		}
		g.normalize(asm.R0, at)
		v = g.intResult(t, asm.R0)
	case USDTMem:
		g.ctxLoad(asm.R0, ptRegs[a.Reg], asm.DWord)
		if a.Index != "" {
			g.ctxLoad(asm.R1, ptRegs[a.Index], asm.DWord)
			if a.Scale > 1 {
				g.emit(asm.Mul.Imm(asm.R1, int32(a.Scale)))
			}
			g.emit(asm.Add.Reg(asm.R0, asm.R1))
		}
		base := g.intResult(lang.TypeUint64, asm.R0)
		v = g.read(place{kind: pAddr, base: base, off: a.Offset, space: lang.AddrUser}, at)
		g.load(v, asm.R0)
		g.free(v)
		g.normalize(asm.R0, t)
		v = g.intResult(t, asm.R0)
	}
	return v
}
