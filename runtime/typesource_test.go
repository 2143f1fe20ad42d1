package runtime_test

import (
	"errors"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

var (
	systemTypesOnce sync.Once
	systemTypes     *runtime.SystemTypes
	systemTypesErr  error
)

// sys returns one SystemTypes shared by the package's tests (its caches
// make the second use of BTF cheap).
func sys(t *testing.T) *runtime.SystemTypes {
	t.Helper()
	runtimetest.RequireRoot(t)
	systemTypesOnce.Do(func() { systemTypes, systemTypesErr = runtime.NewSystemTypes() })
	if systemTypesErr != nil {
		t.Fatal(systemTypesErr)
	}
	return systemTypes
}

type wantField struct {
	name   string
	offset int
	typ    string // lang.Type.String()
	as     lang.AddrSpace
}

func checkRecord(t *testing.T, rec *lang.Type, want []wantField) {
	t.Helper()
	for _, w := range want {
		f := rec.Field(w.name)
		if f == nil {
			t.Errorf("%s has no field %s", rec.Name, w.name)
			continue
		}
		if f.Offset != w.offset || f.Type.String() != w.typ {
			t.Errorf("%s.%s: offset %d type %s, want offset %d type %s", rec.Name, w.name, f.Offset, f.Type, w.offset, w.typ)
		}
		if w.as != lang.AddrNone && f.Type.AddrSpace != w.as {
			t.Errorf("%s.%s: address space %d, want %d", rec.Name, w.name, f.Type.AddrSpace, w.as)
		}
	}
}

func TestTracepointArgs(t *testing.T) {
	s := sys(t)
	tests := []struct {
		cat, name string
		want      []wantField
	}{
		{"syscalls", "sys_enter_openat", []wantField{
			{"common_pid", 4, "int32", 0},
			{"__syscall_nr", 8, "int32", 0},
			{"dfd", 16, "int64", 0}, // "int" of size 8: bpftrace's s64
			{"filename", 24, "int8 *", lang.AddrUser},
			{"flags", 32, "int64", 0},
			{"mode", 40, "uint64", 0}, // umode_t is unsigned
		}},
		{"syscalls", "sys_exit_openat", []wantField{{"ret", 16, "int64", 0}}},
		{"sched", "sched_switch", []wantField{
			{"prev_comm", 8, "string[16]", 0},
			{"prev_pid", 24, "int32", 0},
			{"prev_prio", 28, "int32", 0},
			{"prev_state", 32, "int64", 0},
			{"next_comm", 40, "string[16]", 0},
			{"next_pid", 56, "int32", 0},
			{"next_prio", 60, "int32", 0},
		}},
		// block_rq_issue's layout changes between kernels (ioprio was
		// added, rwbs grew): offsets -1 are taken from the format file.
		{"block", "block_rq_issue", []wantField{
			{"dev", 8, "uint32", 0},
			{"sector", 16, "uint64", 0},
			{"nr_sector", 24, "uint32", 0},
			{"bytes", 28, "uint32", 0},
			{"comm", -1, "string[16]", 0},
			{"cmd", -1, "int64", lang.AddrKernel},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.cat+":"+tt.name, func(t *testing.T) {
			rec, err := s.TracepointArgs(tt.cat, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Kind != lang.KindRecord || !rec.IsCtx || rec.Name != "struct _tracepoint_"+tt.cat+"_"+tt.name {
				t.Errorf("record %q kind %v ctx %v", rec.Name, rec.Kind, rec.IsCtx)
			}
			tf, err := runtime.ReadTracepointFormat(tt.cat, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.want {
				if w.offset < 0 {
					for _, f := range tf.Fields {
						if f.Name == w.name {
							tt.want[i].offset = f.Offset
						}
					}
				}
			}
			checkRecord(t, rec, tt.want)
		})
	}
	rec, _ := s.TracepointArgs("block", "block_rq_issue")
	if f := rec.Field("cmd"); f == nil || !f.DataLoc {
		t.Errorf("block_rq_issue cmd is not marked DataLoc: %+v", f)
	}
	if f := rec.Field("comm"); f == nil || f.DataLoc {
		t.Errorf("block_rq_issue comm is marked DataLoc")
	}
	rec, _ = s.TracepointArgs("sched", "sched_switch")
	if f := rec.Field("prev_pid"); f.Type.AddrSpace == lang.AddrUser {
		t.Errorf("sched_switch fields should not be user-space")
	}
}

func TestTracepointNotFound(t *testing.T) {
	s := sys(t)
	_, err := s.TracepointArgs("syscalls", "nonexistent")
	if !errors.Is(err, lang.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if got, want := err.Error(), "tracepoint not found: syscalls:nonexistent"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	_, err = s.TracepointArgs("../..", "x")
	if !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("path escape: got %v, want ErrNotFound", err)
	}
}

// bpftoolStruct returns the members of a struct from `bpftool btf dump` of
// vmlinux: name → bit offset.
func bpftoolStruct(t *testing.T, name string) (int, map[string]int) {
	t.Helper()
	bpftool := runtimetest.RequireTool(t, "bpftool")
	out, err := exec.Command(bpftool, "btf", "dump", "file", "/sys/kernel/btf/vmlinux").Output()
	if err != nil {
		t.Fatal(err)
	}
	head := regexp.MustCompile(`^\[\d+\] STRUCT '` + regexp.QuoteMeta(name) + `' size=(\d+) vlen=\d+$`)
	member := regexp.MustCompile(`^\t'([^']*)' type_id=\d+ bits_offset=(\d+)`)
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		m := head.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		size, _ := strconv.Atoi(m[1])
		members := map[string]int{}
		for _, ml := range lines[i+1:] {
			mm := member.FindStringSubmatch(ml)
			if mm == nil {
				break
			}
			off, _ := strconv.Atoi(mm[2])
			members[mm[1]] = off
		}
		return size, members
	}
	t.Fatalf("bpftool has no struct %s", name)
	return 0, nil
}

func TestLookupTypeTaskStruct(t *testing.T) {
	s := sys(t)
	ts, err := s.LookupType("struct task_struct")
	if err != nil {
		t.Fatal(err)
	}
	size, members := bpftoolStruct(t, "task_struct")
	if ts.Size != size || ts.Name != "struct task_struct" || ts.IsOpaque() {
		t.Fatalf("task_struct: size %d name %q opaque %v; bpftool says size %d", ts.Size, ts.Name, ts.IsOpaque(), size)
	}
	checked := 0
	for _, f := range ts.Fields {
		if f.Name == "" {
			continue
		}
		bits, ok := members[f.Name]
		if !ok {
			t.Errorf("field %s not in bpftool's dump", f.Name)
			continue
		}
		if got := f.Offset*8 + f.BitOffset; got != bits {
			t.Errorf("task_struct.%s at bit %d, bpftool says %d", f.Name, got, bits)
		}
		checked++
	}
	if checked < 50 {
		t.Errorf("only %d named fields compared", checked)
	}
	for name, typ := range map[string]string{
		"pid": "int32", "tgid": "int32", "comm": "string[16]",
		"real_parent": "struct task_struct *", "mm": "struct mm_struct *",
		"se": "struct sched_entity",
	} {
		f := ts.Field(name)
		if f == nil || f.Type.String() != typ {
			t.Errorf("task_struct.%s: %v, want %s", name, f, typ)
		}
	}
	// A record behind a pointer is opaque until looked up.
	if rp := ts.Field("real_parent"); rp == nil || !rp.Type.Elem.IsOpaque() {
		t.Errorf("real_parent's target should be opaque")
	}
	// An embedded record is complete.
	se := ts.Field("se").Type
	if se.IsOpaque() || se.Field("vruntime") == nil {
		t.Errorf("task_struct.se is not complete: %+v", se)
	}
	if ts.Field("pid").Type.AddrSpace != lang.AddrNone {
		t.Errorf("an int field has an address space")
	}
	if ts.Field("mm").Type.AddrSpace != lang.AddrKernel {
		t.Errorf("task_struct.mm should point to kernel memory")
	}
}

func TestLookupTypeNames(t *testing.T) {
	s := sys(t)
	for name, want := range map[string]string{
		"pid_t":             "int32",
		"u64":               "uint64",
		"__u8":              "uint8",
		"unsigned int":      "uint32",
		"long unsigned int": "uint64",
		"size_t":            "uint64",
		"enum pid_type":     "uint32",
		"union bpf_attr":    "union bpf_attr",
		"struct file":       "struct file",
		"sigset_t":          "sigset_t",
	} {
		typ, err := s.LookupType(name)
		if err != nil {
			t.Errorf("LookupType(%q): %v", name, err)
			continue
		}
		if typ.String() != want {
			t.Errorf("LookupType(%q) = %s, want %s", name, typ, want)
		}
	}
	if _, err := s.LookupType("struct no_such_struct_here"); !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("unknown struct: %v, want ErrNotFound", err)
	}
}

func TestEnum(t *testing.T) {
	s := sys(t)
	for name, want := range map[string]int64{
		"PIDTYPE_PID": 0, "PIDTYPE_TGID": 1, "BPF_ANY": 0, "BPF_NOEXIST": 1,
		"BPF_MAP_TYPE_RINGBUF": 27,
	} {
		got, ok := s.Enum(name)
		if !ok || got != want {
			t.Errorf("Enum(%s) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if _, ok := s.Enum("TASK_RUNNING"); ok {
		t.Errorf("TASK_RUNNING is a macro, not an enumerator")
	}
}

func TestFuncArgs(t *testing.T) {
	s := sys(t)
	args, ret, err := s.FuncArgs("", "vfs_read")
	if err != nil {
		t.Fatal(err)
	}
	// Since 6.2 the kernel builds with -funsigned-char, and BTF says so.
	bufType := "uint8 *"
	if !runtime.KernelAtLeast("6.2") {
		bufType = "int8 *"
	}
	checkRecord(t, args, []wantField{
		{"file", 0, "struct file *", lang.AddrKernel},
		{"buf", 8, bufType, 0},
		{"count", 16, "uint64", 0},
		{"pos", 24, "int64 *", 0},
	})
	if args.Size != 32 || !args.IsCtx {
		t.Errorf("vfs_read args: size %d ctx %v", args.Size, args.IsCtx)
	}
	if ret == nil || ret.String() != "int64" {
		t.Errorf("vfs_read returns %v, want int64 (ssize_t)", ret)
	}
	_, ret, err = s.FuncArgs("", "schedule")
	if err != nil || ret == nil || ret.Kind != lang.KindNone {
		// schedule returns void
		if err != nil || (ret != nil && ret.Kind != lang.KindNone) {
			t.Errorf("schedule: ret %v err %v, want void", ret, err)
		}
	}
	if _, _, err := s.FuncArgs("", "no_such_function_xyz"); !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("unknown function: %v", err)
	}
	rt, _, err := s.FuncArgs("", "btf_trace_sched_switch")
	if err != nil {
		t.Fatal(err)
	}
	// Names come from __probestub_sched_switch (6.4+) or
	// __traceiter_sched_switch (5.10+); before, argN.
	names := []string{"preempt", "prev", "next"}
	if !runtime.KernelAtLeast("5.10") {
		names = []string{"arg0", "arg1", "arg2"}
	}
	checkRecord(t, rt, []wantField{
		{names[0], 0, "uint8", 0},
		{names[1], 8, "struct task_struct *", lang.AddrKernel},
		{names[2], 16, "struct task_struct *", lang.AddrKernel},
	})
}
