package runtime_test

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// loadUSDTArg is what codegen emits for argN of a USDT site: the value of
// a into R7, from the uprobe's struct pt_regs in R6.
func loadUSDTArg(a runtime.USDTArg) asm.Instructions {
	var in asm.Instructions
	switch a.Kind {
	case runtime.USDTArgConst:
		in = append(in, asm.LoadImm(asm.R7, a.Offset, asm.DWord))
	case runtime.USDTArgReg:
		in = append(in, asm.LoadMem(asm.R7, asm.R6, int16(a.RegOffset), asm.DWord))
		if a.RegShift > 0 {
			in = append(in, asm.RSh.Imm(asm.R7, int32(a.RegShift)))
		}
	case runtime.USDTArgMem:
		if a.Reg != "" {
			in = append(in, asm.LoadMem(asm.R3, asm.R6, int16(a.RegOffset), asm.DWord))
		} else {
			in = append(in, asm.Mov.Imm(asm.R3, 0))
		}
		if a.Offset != 0 {
			in = append(in, asm.Add.Imm(asm.R3, int32(a.Offset)))
		}
		if a.Index != "" {
			in = append(in,
				asm.LoadMem(asm.R4, asm.R6, int16(a.IndexOffset), asm.DWord),
				asm.Mul.Imm(asm.R4, int32(a.Scale)),
				asm.Add.Reg(asm.R3, asm.R4))
		}
		in = append(in,
			asm.Mov.Imm(asm.R1, 0),
			asm.StoreMem(asm.R10, -16, asm.R1, asm.DWord),
			asm.Mov.Reg(asm.R1, asm.R10),
			asm.Add.Imm(asm.R1, -16),
			asm.Mov.Imm(asm.R2, int32(a.Size)),
			asm.FnProbeReadUser.Call(),
			asm.LoadMem(asm.R7, asm.R10, -16, asm.DWord))
	}
	if a.Size < 8 {
		shift := int32(64 - 8*a.Size)
		in = append(in, asm.LSh.Imm(asm.R7, shift))
		if a.Signed {
			in = append(in, asm.ArSh.Imm(asm.R7, shift))
		} else {
			in = append(in, asm.RSh.Imm(asm.R7, shift))
		}
	}
	return in
}

// usdtArgSum loads a uprobe program that adds argument a to sum[0].
func usdtArgSum(t *testing.T, a runtime.USDTArg, sum *ebpf.Map) *ebpf.Program {
	t.Helper()
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	insns = append(insns, loadUSDTArg(a)...)
	insns = append(insns,
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0).WithReference("sum"),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.StoreXAdd(asm.R0, asm.R7, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
	if err := insns.AssociateMap("sum", sum); err != nil {
		t.Fatal(err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.Kprobe, License: "GPL", Instructions: insns})
	if err != nil {
		t.Fatalf("loading the reader of %q: %v", a.Raw, err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

// TestUSDTArguments evaluates every argument of every site of the test
// program's probes, as the parsed specs say, in a real uprobe program, and
// checks the sums against what the program passed: registers, stack
// slots (-O0), %rip-relative globals and constants all read right.
func TestUSDTArguments(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	const n = 10
	for _, opt := range []string{"-O0", "-O2"} {
		t.Run(opt, func(t *testing.T) {
			bin := runtimetest.BuildC(t, "usdtplain", usdtPlainC, opt)
			// arg sums for n iterations: i over 0..n-1 is 45; tb_global is 42;
			// the third argument of main's site is n.
			want := map[string][]int64{
				"twice@work": {45},
				"twice@main": {45, -1, n * n},
				"global":     {42 * n},
			}
			type reader struct {
				key  string
				sum  *ebpf.Map
				want int64
			}
			var readers []reader
			for _, probe := range []string{"twice", "global"} {
				ap := &lang.AttachPoint{Provider: "usdt", Target: bin, NS: "tbplain", Func: probe}
				p, err := runtime.USDTProbeFor(ap)
				if err != nil {
					t.Fatal(err)
				}
				for li, loc := range p.Locations {
					key := probe
					if probe == "twice" {
						key = "twice@main"
						if len(loc.Args) == 2 {
							key = "twice@work"
						}
					}
					for ai, a := range loc.Args {
						w := want[key]
						if ai >= len(w) || w[ai] < 0 {
							continue // the running sum s: not checked
						}
						sum := newMap(t, &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
						prog := usdtArgSum(t, a, sum)
						l, err := runtime.Attach(prog, ap, &runtime.AttachOptions{USDTLocations: []int{li}})
						if err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { l.Close() })
						readers = append(readers, reader{fmt.Sprintf("%s arg%d %q", key, ai, a.Raw), sum, w[ai]})
					}
				}
			}
			if len(readers) != 4 {
				t.Fatalf("%d arguments checked, want 4", len(readers))
			}
			cmd, stdin, out := startTarget(t, bin, fmt.Sprint(n))
			_ = cmd
			stdin.Close()
			readLine(t, out)
			for _, r := range readers {
				var v int64
				if err := r.sum.Lookup(uint32(0), &v); err != nil {
					t.Fatal(err)
				}
				if v != r.want {
					t.Errorf("%s: sum %d, want %d", r.key, v, r.want)
				}
			}
		})
	}
}
