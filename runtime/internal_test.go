package runtime

import (
	"os"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/lang"
)

// Pure tests of the parsers (no root, no kernel).

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"sys_enter_*", "sys_enter_read", true},
		{"sys_enter_*", "sys_exit_read", false},
		{"*read*", "sys_enter_pread64", true},
		{"*read*", "sys_enter_write", false},
		{"sched:*", "sched:sched_switch", true},
		{"vfs_rea?", "vfs_read", true},
		{"vfs_rea?", "vfs_readv", false},
		{"vfs_[rw]*", "vfs_write", true},
		{"vfs_[!r]*", "vfs_read", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"[", "[", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	} {
		if got := globMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}

const openatFormat = `name: sys_enter_openat
ID: 782
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:int flags;	offset:32;	size:8;	signed:0;
	field:umode_t mode;	offset:40;	size:8;	signed:0;
	field:char comm[TASK_COMM_LEN];	offset:48;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:64;	size:4;	signed:0;
	field:u8 saddr[4];	offset:68;	size:4;	signed:0;

print fmt: "dfd: 0x%08lx", ((unsigned long)(REC->dfd))
`

func TestParseTracepointFormat(t *testing.T) {
	tf, err := ParseTracepointFormat(strings.NewReader(openatFormat))
	if err != nil {
		t.Fatal(err)
	}
	if tf.Name != "sys_enter_openat" || tf.ID != 782 || len(tf.Fields) != 12 {
		t.Fatalf("%+v", tf)
	}
	f := tf.Fields[6]
	if f.Decl != "const char * filename" || f.CType != "const char *" || f.Name != "filename" || f.Offset != 24 || f.Size != 8 || f.Common {
		t.Errorf("filename: %+v", f)
	}
	if f := tf.Fields[9]; f.Name != "comm" || !f.IsArray || f.ArrayLen != "TASK_COMM_LEN" || f.CType != "char" {
		t.Errorf("comm: %+v", f)
	}
	if f := tf.Fields[10]; !f.DataLoc || f.Name != "name" {
		t.Errorf("name: %+v", f)
	}
	if !tf.Fields[3].Common || !tf.Fields[3].Signed {
		t.Errorf("common_pid: %+v", tf.Fields[3])
	}

	// Typed without BTF (the resolver falls back to C names and flags).
	s := &SystemTypes{conv: newBTFConverter()}
	tf.Category = "syscalls"
	rec := s.tracepointRecord(tf)
	want := map[string]string{
		"common_type": "uint16", "common_pid": "int32", "__syscall_nr": "int32",
		"dfd": "int64", "filename": "int8 *", "flags": "int64", "mode": "uint64",
		"comm": "string[16]", "name": "int64", "saddr": "uint8[4]",
	}
	for name, typ := range want {
		f := rec.Field(name)
		if f == nil || f.Type.String() != typ {
			t.Errorf("%s: %v, want %s", name, f, typ)
		}
	}
	if rec.Field("filename").Type.AddrSpace != lang.AddrUser || !rec.Field("name").DataLoc || !rec.IsCtx {
		t.Errorf("syscall pointer space, data_loc or ctx flag wrong")
	}
	if rec.Size != 72 {
		t.Errorf("record size %d", rec.Size)
	}
}

func TestParseCType(t *testing.T) {
	for in, want := range map[string]cType{
		"const char *":               {"char", 1},
		"struct file **":             {"struct file", 2},
		"unsigned long":              {"unsigned long", 0},
		"__data_loc char[]":          {"char", 0},
		"const struct iovec *":       {"struct iovec", 1},
		"const volatile int":         {"int", 0},
		"void *":                     {"void", 1},
		"const unsigned long *":      {"unsigned long", 1},
		"struct __kernel_timespec *": {"struct __kernel_timespec", 1},
	} {
		if got := parseCType(in); got != want {
			t.Errorf("parseCType(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestParseUSDTArgs(t *testing.T) {
	syms := map[string]uint64{"counter": 0x4010}
	sym := func(n string) (uint64, bool) { a, ok := syms[n]; return a, ok }
	args, err := ParseUSDTArgs("-4@%edi 8@-8(%rbp) 2@%ax -1@%ah 8@$5 -4@$-3 4@counter(%rip) 8@counter+8(%rip) 8@16(%rsp,%rax,8) 4@%r8d 8@(%rdx)", 0x1130, sym)
	if err != nil {
		t.Fatal(err)
	}
	want := []USDTArg{
		{Raw: "-4@%edi", Size: 4, Signed: true, Kind: USDTArgReg, Reg: "rdi", RegOffset: 112, RegSize: 4},
		{Raw: "8@-8(%rbp)", Size: 8, Kind: USDTArgMem, Reg: "rbp", RegOffset: 32, RegSize: 8, Offset: -8},
		{Raw: "2@%ax", Size: 2, Kind: USDTArgReg, Reg: "rax", RegOffset: 80, RegSize: 2},
		{Raw: "-1@%ah", Size: 1, Signed: true, Kind: USDTArgReg, Reg: "rax", RegOffset: 80, RegSize: 1, RegShift: 8},
		{Raw: "8@$5", Size: 8, Kind: USDTArgConst, Offset: 5},
		{Raw: "-4@$-3", Size: 4, Signed: true, Kind: USDTArgConst, Offset: -3},
		{Raw: "4@counter(%rip)", Size: 4, Kind: USDTArgMem, Reg: "rip", RegOffset: 128, RegSize: 8, Offset: 0x4010 - 0x1130},
		{Raw: "8@counter+8(%rip)", Size: 8, Kind: USDTArgMem, Reg: "rip", RegOffset: 128, RegSize: 8, Offset: 0x4018 - 0x1130},
		{Raw: "8@16(%rsp,%rax,8)", Size: 8, Kind: USDTArgMem, Reg: "rsp", RegOffset: 152, RegSize: 8, Offset: 16, Index: "rax", IndexOffset: 80, Scale: 8},
		{Raw: "4@%r8d", Size: 4, Kind: USDTArgReg, Reg: "r8", RegOffset: 72, RegSize: 4},
		{Raw: "8@(%rdx)", Size: 8, Kind: USDTArgMem, Reg: "rdx", RegOffset: 96, RegSize: 8},
	}
	if len(args) != len(want) {
		t.Fatalf("%d args", len(args))
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("arg %d:\n got %+v\nwant %+v", i, args[i], want[i])
		}
	}
	for _, bad := range []string{"3@%eax", "4@%xyz", "x@%eax", "4@unknown(%rip)"} {
		if _, err := ParseUSDTArgs(bad, 0, sym); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	got, err := parseCPUList("0-3,5,7-8")
	if err != nil || len(got) != 7 || got[4] != 5 || got[6] != 8 {
		t.Errorf("parseCPUList = %v, %v", got, err)
	}
}

func TestReadLdCache(t *testing.T) {
	if _, err := os.Stat("/etc/ld.so.cache"); err != nil {
		t.Skip("no /etc/ld.so.cache")
	}
	entries, err := readLdCache("/etc/ld.so.cache")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if strings.HasPrefix(e.Name, "libc.so.") && strings.HasPrefix(e.Path, "/") {
			found = true
		}
	}
	if !found {
		t.Errorf("no libc in %d ld.so.cache entries", len(entries))
	}
}

func TestWatchpointType(t *testing.T) {
	for mode, want := range map[string]uint32{"r": 1, "w": 2, "rw": 3, "wr": 3, "x": 4} {
		if got, err := WatchpointType(mode); err != nil || got != want {
			t.Errorf("WatchpointType(%q) = %d, %v", mode, got, err)
		}
	}
	for _, bad := range []string{"", "rx", "q"} {
		if _, err := WatchpointType(bad); err == nil {
			t.Errorf("WatchpointType(%q) accepted", bad)
		}
	}
}

func TestPerfEventFor(t *testing.T) {
	for _, tc := range []struct {
		ap   lang.AttachPoint
		freq bool
		n    uint64
		cpu  bool
	}{
		{lang.AttachPoint{Provider: "profile", Unit: "hz", Freq: 99}, true, 99, true},
		{lang.AttachPoint{Provider: "profile", Unit: "ms", Freq: 10}, false, 10e6, true},
		{lang.AttachPoint{Provider: "interval", Unit: "s", Freq: 1}, false, 1e9, false},
		{lang.AttachPoint{Provider: "interval", Unit: "hz", Freq: 100}, false, 1e7, false},
		{lang.AttachPoint{Provider: "software", Func: "faults"}, false, 100, true},
		{lang.AttachPoint{Provider: "software", Func: "cs", Freq: 5}, false, 5, true},
		{lang.AttachPoint{Provider: "hardware", Func: "cycles"}, false, 1e6, true},
	} {
		c, err := PerfEventFor(&tc.ap)
		if err != nil || c.Freq != tc.freq || c.Sample != tc.n || c.PerCPU != tc.cpu {
			t.Errorf("PerfEventFor(%s) = %+v, %v", tc.ap.Name(), c, err)
		}
	}
}
