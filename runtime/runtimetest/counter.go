package runtimetest

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Counter is the smallest useful program for attach tests: a 1-entry array
// map and a program that atomically adds 1 to it every time it runs. A test
// attaches Prog, drives a workload and checks Value moved.
type Counter struct {
	Prog *ebpf.Program
	Map  *ebpf.Map
}

// NewCounter loads a counter program of the given type (with attachType and
// attachTo for BTF-attached programs). Both objects are closed when the
// test ends.
func NewCounter(tb testing.TB, typ ebpf.ProgramType, attachType ebpf.AttachType, attachTo string) *Counter {
	tb.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		tb.Fatalf("creating the counter map: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0).WithReference("counter"),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	}
	if err := insns.AssociateMap("counter", m); err != nil {
		tb.Fatal(err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "tb_counter",
		Type:         typ,
		AttachType:   attachType,
		AttachTo:     attachTo,
		License:      "GPL",
		Instructions: insns,
	})
	if err != nil {
		tb.Fatalf("loading a %s counter program: %v", typ, err)
	}
	tb.Cleanup(func() { prog.Close() })
	return &Counter{Prog: prog, Map: m}
}

// Value reads the counter.
func (c *Counter) Value(tb testing.TB) uint64 {
	tb.Helper()
	var v uint64
	if err := c.Map.Lookup(uint32(0), &v); err != nil {
		tb.Fatalf("reading the counter: %v", err)
	}
	return v
}
