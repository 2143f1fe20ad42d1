package runtime_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// Kernel-function probes beyond "the counter moved": offsets, wildcards
// attached one function at a time (what kernels without kprobe_multi
// need), arguments and return values read through pt_regs and through the
// BTF-typed fentry/fexit context, the function address (func) and the
// kernel stack (kstack), symbolised with the runtime's kallsyms table
// (ksym). The development machines lack kprobes and refuse trampolines, so
// these run in the kernel matrix (make test-kernels).

// readTarget is the workload: a file of readTargetSize bytes read with
// readCount-byte reads, so vfs_read is called three times with count ==
// readCount and returns 777, 223 and 0.
const (
	readCount      = 777
	readTargetSize = 1000
	readCalls      = 3
)

// readOnThisThread writes the target file, then reads it on a locked OS
// thread and returns that thread's id, which the programs filter on.
func readOnThisThread(t *testing.T) (tid int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), readTargetSize), 0o644); err != nil {
		t.Fatal(err)
	}
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, readCount)
	total := 0
	for {
		n, err := f.Read(buf)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != readTargetSize {
		t.Fatalf("read %d bytes, want %d", total, readTargetSize)
	}
	return unix.Gettid()
}

// probeSpec says what one probe program records. Offsets are into the
// program's context: struct pt_regs for kprobes, the u64 argument array
// (then the return value) for fentry/fexit.
type probeSpec struct {
	typ        ebpf.ProgramType
	attachType ebpf.AttachType
	attachTo   string
	countOff   int16 // the count argument, -1 when it cannot be read (kretprobe)
	valueOff   int16 // what to sum: count at entry, the return value at exit
	funcIP     bool  // record bpf_get_func_ip
	stack      bool  // record bpf_get_stackid
}

// Slots of the recording program's array map.
const (
	slotCalls  = iota // calls from our thread (with count == readCount)
	slotSum           // the sum of the recorded values
	slotFuncIP        // the last bpf_get_func_ip
	slotStack         // the last stack id + 1
	numSlots
)

// recorder is a loaded recording program with its maps.
type recorder struct {
	prog   *ebpf.Program
	slots  *ebpf.Map
	stacks *ebpf.Map
}

// newRecorder assembles and loads a program that, for calls from thread
// tid (and, where count is readable, count == readCount), counts the call,
// sums a context value, and records the function address and stack.
func newRecorder(t *testing.T, ps probeSpec, tid int) *recorder {
	t.Helper()
	slots, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: numSlots})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slots.Close() })
	stacks, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 127 * 8, MaxEntries: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stacks.Close() })

	// slot leaves a pointer to slot i in R0, or jumps to exit.
	slot := func(i int32) asm.Instructions {
		return asm.Instructions{
			asm.StoreImm(asm.R10, -4, int64(i), asm.Word),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, 0).WithReference("slots"),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "exit"),
		}
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetCurrentPidTgid.Call(),
		asm.LSh.Imm(asm.R0, 32),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, int32(tid), "exit"),
	}
	if ps.countOff >= 0 {
		insns = append(insns,
			asm.LoadMem(asm.R7, asm.R6, ps.countOff, asm.DWord),
			asm.JNE.Imm(asm.R7, readCount, "exit"),
		)
	}
	insns = append(insns, asm.LoadMem(asm.R8, asm.R6, ps.valueOff, asm.DWord))
	insns = append(insns, slot(slotCalls)...)
	insns = append(insns, asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	insns = append(insns, slot(slotSum)...)
	insns = append(insns, asm.StoreXAdd(asm.R0, asm.R8, asm.DWord))
	if ps.funcIP {
		insns = append(insns, asm.Mov.Reg(asm.R1, asm.R6), asm.FnGetFuncIp.Call(), asm.Mov.Reg(asm.R9, asm.R0))
		insns = append(insns, slot(slotFuncIP)...)
		insns = append(insns, asm.StoreMem(asm.R0, 0, asm.R9, asm.DWord))
	}
	if ps.stack {
		insns = append(insns,
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, 0).WithReference("stacks"),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnGetStackid.Call(),
			asm.JSLT.Imm(asm.R0, 0, "exit"),
			asm.Add.Imm(asm.R0, 1),
			asm.Mov.Reg(asm.R9, asm.R0),
		)
		insns = append(insns, slot(slotStack)...)
		insns = append(insns, asm.StoreMem(asm.R0, 0, asm.R9, asm.DWord))
	}
	insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"), asm.Return())
	if err := insns.AssociateMap("slots", slots); err != nil {
		t.Fatal(err)
	}
	if err := insns.AssociateMap("stacks", stacks); err != nil {
		t.Fatal(err)
	}
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name: "tb_record", Type: ps.typ, AttachType: ps.attachType, AttachTo: ps.attachTo,
		License: "GPL", Instructions: insns,
	}, ebpf.ProgramOptions{LogSizeStart: 1 << 16})
	if err != nil {
		t.Fatalf("loading the recording program: %+v", err)
	}
	t.Cleanup(func() { prog.Close() })
	return &recorder{prog: prog, slots: slots, stacks: stacks}
}

func (r *recorder) slot(t *testing.T, i uint32) uint64 {
	t.Helper()
	var v uint64
	if err := r.slots.Lookup(i, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// stackFuncs returns the symbolised kernel stack the program recorded.
func (r *recorder) stackFuncs(t *testing.T) []string {
	t.Helper()
	id := r.slot(t, slotStack)
	if id == 0 {
		t.Fatal("no kernel stack recorded")
	}
	raw, err := r.stacks.LookupBytes(uint32(id - 1))
	if err != nil || raw == nil {
		t.Fatalf("stack %d: %v", id-1, err)
	}
	ks, err := runtime.LoadKernelSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i+8 <= len(raw); i += 8 {
		pc := binary.LittleEndian.Uint64(raw[i:])
		if pc == 0 {
			break
		}
		names = append(names, ks.Frame(pc).Sym)
	}
	return names
}

// checkFuncIP checks that the recorded function address symbolises to
// want (ksym(func)).
func (r *recorder) checkFuncIP(t *testing.T, want string) {
	t.Helper()
	ip := r.slot(t, slotFuncIP)
	ks, err := runtime.LoadKernelSymbols()
	if err != nil {
		t.Fatal(err)
	}
	name, off, _, ok := ks.Lookup(ip)
	if !ok || name != want {
		t.Errorf("func = %#x = %s+%#x, want %s", ip, name, off, want)
	}
	t.Logf("func = %#x = %s+%#x", ip, name, off)
}

// checkStack checks that the kernel stack has the read syscall's path.
func (r *recorder) checkStack(t *testing.T) {
	t.Helper()
	names := r.stackFuncs(t)
	joined := strings.Join(names, " ")
	if !strings.Contains(joined, "sys_read") {
		t.Errorf("kstack has no *sys_read frame: %v", names)
	}
	t.Logf("kstack: %v", names)
}

// ptRegsOffset returns the offset of a struct pt_regs member in the kernel's
// BTF (x86-64: di, si, dx for the first arguments, ax for the return value).
func ptRegsOffset(t *testing.T, member string) int16 {
	t.Helper()
	spec, err := runtime.KernelBTF()
	if err != nil {
		t.Fatal(err)
	}
	var regs *btf.Struct
	if err := spec.TypeByName("pt_regs", &regs); err != nil {
		t.Fatal(err)
	}
	for _, m := range regs.Members {
		if m.Name == member {
			return int16(m.Offset.Bytes())
		}
	}
	t.Fatalf("struct pt_regs has no %s", member)
	return 0
}

// vfsReadArgs returns the index of vfs_read's count parameter and the
// number of parameters (the index of the return value in an fexit
// context), from the kernel's BTF.
func vfsReadArgs(t *testing.T) (count, nargs int) {
	t.Helper()
	spec, err := runtime.KernelBTF()
	if err != nil {
		t.Fatal(err)
	}
	var fn *btf.Func
	if err := spec.TypeByName("vfs_read", &fn); err != nil {
		t.Fatal(err)
	}
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		t.Fatalf("vfs_read has type %v", fn.Type)
	}
	count = -1
	for i, p := range proto.Params {
		if p.Name == "count" {
			count = i
		}
	}
	if count < 0 {
		t.Fatalf("vfs_read has no count parameter: %v", proto.Params)
	}
	return count, len(proto.Params)
}

// attachRecorder attaches r at ap through runtime.Attach.
func attachRecorder(t *testing.T, r *recorder, ap *lang.AttachPoint) {
	t.Helper()
	l, err := runtime.Attach(r.prog, ap, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
}

// checkCalls checks the call count and the sum, after the workload.
func (r *recorder) checkCalls(t *testing.T, what string, wantSum uint64) {
	t.Helper()
	if n := r.slot(t, slotCalls); n != readCalls {
		t.Errorf("%s: %d calls, want %d", what, n, readCalls)
	}
	if s := r.slot(t, slotSum); s != wantSum {
		t.Errorf("%s: sum %d, want %d", what, s, wantSum)
	}
}

// TestKprobeArgsRetval reads vfs_read's count argument at entry (kprobe,
// from pt_regs) and its return value (kretprobe), with func and kstack.
func TestKprobeArgsRetval(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	runtimetest.Require(t, runtime.FeatureGetFuncIP)
	if goruntime.GOARCH != "amd64" {
		t.Skip("the pt_regs argument registers are spelled for x86-64")
	}
	dx, ax := ptRegsOffset(t, "dx"), ptRegsOffset(t, "ax")
	t.Run("kprobe", func(t *testing.T) {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		tid := unix.Gettid()
		r := newRecorder(t, probeSpec{typ: ebpf.Kprobe, countOff: dx, valueOff: dx, funcIP: true, stack: true}, tid)
		attachRecorder(t, r, &lang.AttachPoint{Provider: "kprobe", Func: "vfs_read"})
		if got := readOnThisThread(t); got != tid {
			t.Fatalf("read on thread %d, want %d", got, tid)
		}
		r.checkCalls(t, "kprobe:vfs_read count", readCalls*readCount)
		r.checkFuncIP(t, "vfs_read")
		r.checkStack(t)
	})
	t.Run("kretprobe", func(t *testing.T) {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		tid := unix.Gettid()
		r := newRecorder(t, probeSpec{typ: ebpf.Kprobe, countOff: -1, valueOff: ax, stack: true}, tid)
		attachRecorder(t, r, &lang.AttachPoint{Provider: "kretprobe", Func: "vfs_read"})
		readOnThisThread(t)
		r.checkCalls(t, "kretprobe:vfs_read retval", readTargetSize)
		r.checkStack(t)
	})
}

// TestKfuncArgsRetval reads vfs_read's count argument through the
// BTF-typed fentry context (kfunc args->count) and its return value at
// fexit (kretfunc retval, which also sees the arguments), with func and
// kstack.
func TestKfuncArgsRetval(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKfunc)
	runtimetest.Require(t, runtime.FeatureGetFuncIP)
	count, nargs := vfsReadArgs(t)
	t.Run("kfunc", func(t *testing.T) {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		ap := &lang.AttachPoint{Provider: "kfunc", Func: "vfs_read"}
		typ, at, to := runtime.ProgramTypeFor(ap)
		r := newRecorder(t, probeSpec{typ: typ, attachType: at, attachTo: to,
			countOff: int16(8 * count), valueOff: int16(8 * count), funcIP: true, stack: true}, unix.Gettid())
		attachRecorder(t, r, ap)
		readOnThisThread(t)
		r.checkCalls(t, "kfunc:vfs_read args->count", readCalls*readCount)
		r.checkFuncIP(t, "vfs_read")
		r.checkStack(t)
	})
	t.Run("kretfunc", func(t *testing.T) {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		ap := &lang.AttachPoint{Provider: "kretfunc", Func: "vfs_read"}
		typ, at, to := runtime.ProgramTypeFor(ap)
		r := newRecorder(t, probeSpec{typ: typ, attachType: at, attachTo: to,
			countOff: int16(8 * count), valueOff: int16(8 * nargs), funcIP: true, stack: true}, unix.Gettid())
		attachRecorder(t, r, ap)
		readOnThisThread(t)
		r.checkCalls(t, "kretfunc:vfs_read retval", readTargetSize)
		r.checkFuncIP(t, "vfs_read")
		r.checkStack(t)
	})
}

// TestAttachKprobeOffset attaches kprobe:vfs_read+off at the first
// instruction boundary after the entry and checks it fires on every call;
// an offset inside the first instruction must be refused.
func TestAttachKprobeOffset(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	bad := &lang.AttachPoint{Provider: "kprobe", Func: "vfs_read", Offset: 1}
	c := counterFor(t, bad)
	if l, err := runtime.Attach(c.Prog, bad, nil); err == nil {
		l.Close()
		t.Errorf("kprobe:vfs_read+1 attached: the offset is inside the first instruction")
	} else if !strings.Contains(err.Error(), "offset 0x1 is not at an instruction boundary of vfs_read") {
		t.Errorf("kprobe:vfs_read+1: %v, want it to say the offset is inside an instruction", err)
	} else {
		t.Logf("kprobe:vfs_read+1: %v", err)
	}
	ret := &lang.AttachPoint{Provider: "kretprobe", Func: "vfs_read", Offset: 4}
	if l, err := runtime.Attach(c.Prog, ret, nil); err == nil {
		l.Close()
		t.Errorf("kretprobe:vfs_read+4 attached")
	}
	// The entry is endbr64 (4 bytes, IBT kernels) and/or the 5-byte
	// ftrace call site: the first boundary is one of 4, 5 or 9.
	var attached *lang.AttachPoint
	for _, off := range []uint64{4, 5, 9} {
		ap := &lang.AttachPoint{Provider: "kprobe", Func: "vfs_read", Offset: off}
		l, err := runtime.Attach(c.Prog, ap, nil)
		if err != nil {
			t.Logf("kprobe:vfs_read+%d: %v", off, err)
			continue
		}
		t.Cleanup(func() { l.Close() })
		attached = ap
		break
	}
	if attached == nil {
		t.Fatal("no offset among 4, 5, 9 could be attached")
	}
	for range 10 {
		os.ReadFile("/proc/self/stat")
	}
	if v := c.Value(t); v < 10 {
		t.Errorf("kprobe:vfs_read+%d counted %d after 10 reads", attached.Offset, v)
	}
}

// TestAttachKprobeWildcardEach attaches a wildcard the way kernels without
// kprobe_multi need it: one kprobe per matching function, sharing one
// program. It runs on every kernel with kprobes, and checks that the
// choice between the two ways follows the kprobe_multi probe.
func TestAttachKprobeWildcardEach(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	s := sys(t)
	for _, provider := range []string{"kprobe", "kretprobe"} {
		t.Run(provider, func(t *testing.T) {
			wild := &lang.AttachPoint{Provider: provider, Func: "vfs_rea*", Wildcard: true}
			matches, err := s.Expand(wild)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, m := range matches {
				names[m.Func] = true
			}
			if !names["vfs_read"] || !names["vfs_readv"] {
				t.Fatalf("%s:vfs_rea* matched %v, want vfs_read and vfs_readv among them", provider, names)
			}
			wild.Matches = matches
			_, at, _ := runtime.ProgramTypeFor(wild)
			multi := runtime.CheckFeature(runtime.FeatureKprobeMulti) == nil
			if multi != (at == ebpf.AttachTraceKprobeMulti) {
				t.Errorf("kprobe_multi available: %v, but ProgramTypeFor(%s:vfs_rea*) chose attach type %v", multi, provider, at)
			}
			if !multi {
				// The wildcard itself cannot be attached: its matches are.
				c := runtimetest.NewCounter(t, ebpf.Kprobe, ebpf.AttachNone, "")
				if l, err := runtime.Attach(c.Prog, wild, nil); err == nil {
					l.Close()
					t.Errorf("a wildcard %s attached without kprobe_multi", provider)
				}
			}
			c := runtimetest.NewCounter(t, ebpf.Kprobe, ebpf.AttachNone, "")
			n := 0
			for _, m := range matches {
				l, err := runtime.Attach(c.Prog, m, nil)
				if err != nil {
					// Some matches cannot be probed (inlined or
					// blacklisted): bpftrace warns and goes on.
					t.Logf("%s: %v", m.Name(), err)
					continue
				}
				t.Cleanup(func() { l.Close() })
				n++
			}
			if n == 0 || !names["vfs_read"] {
				t.Fatalf("attached %d of %d matches", n, len(matches))
			}
			for range 10 {
				os.ReadFile("/proc/self/stat")
			}
			if v := c.Value(t); v < 10 {
				t.Errorf("%d %s links on vfs_rea* counted %d after 10 reads", n, provider, v)
			}
			t.Logf("%d of %d matches attached one by one", n, len(matches))
		})
	}
}

// TestAttachKretprobeMulti is TestAttachKprobeMulti's return side.
func TestAttachKretprobeMulti(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobeMulti)
	s := sys(t)
	ap := &lang.AttachPoint{Provider: "kretprobe", Func: "vfs_rea*", Wildcard: true}
	m, err := s.Expand(ap)
	if err != nil {
		t.Fatal(err)
	}
	ap.Matches = m
	if _, at, _ := runtime.ProgramTypeFor(ap); at != ebpf.AttachTraceKprobeMulti {
		t.Fatalf("ProgramTypeFor(kretprobe:vfs_rea*) = %v with %d matches", at, len(m))
	}
	c := counterFor(t, ap)
	attach(t, c, ap, nil)
	for range 10 {
		os.ReadFile("/proc/self/stat")
	}
	if v := c.Value(t); v < 10 {
		t.Errorf("counter %d after 10 reads", v)
	}
}
