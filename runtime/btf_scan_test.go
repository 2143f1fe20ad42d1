package runtime

import (
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestScanMemberMatchesBTF: the raw scan finds the members cilium's full
// decoding of vmlinux BTF places, for task_struct.comm (what codegen
// reads) and a few others, and refuses what is not there.
func TestScanMemberMatchesBTF(t *testing.T) {
	raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ strct, member string }{
		{"task_struct", "comm"}, {"task_struct", "pid"}, {"task_struct", "tgid"},
		{"file", "f_flags"}, {"sk_buff", "len"},
	} {
		var st *btf.Struct
		if err := spec.TypeByName(c.strct, &st); err != nil {
			t.Fatal(err)
		}
		want := -1
		for _, m := range st.Members {
			if m.Name == c.member {
				want = int(m.Offset.Bytes())
			}
		}
		off, n, err := scanMember(raw, c.strct, c.member)
		if err != nil || off != want {
			t.Errorf("%s.%s: scan gives %d (%v), BTF %d", c.strct, c.member, off, err, want)
		}
		if c.member == "comm" && n != 16 {
			t.Errorf("task_struct.comm: array of %d bytes, want 16", n)
		}
	}
	if _, _, err := scanMember(raw, "task_struct", "no_such_member"); err == nil {
		t.Error("a missing member was found")
	}
	if _, _, err := scanMember(raw, "no_such_struct_here", "x"); err == nil {
		t.Error("a missing struct was found")
	}
	if _, _, err := scanMember(raw[:len(raw)/2], "task_struct", "comm"); err == nil {
		t.Error("truncated BTF was read")
	}
	if off, ok := TaskCommOffset(); !ok || off%8 != 0 {
		t.Errorf("TaskCommOffset() = %d, %v", off, ok)
	}
}

func BenchmarkTaskCommScan(b *testing.B) {
	raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, _, err := scanMember(raw, "task_struct", "comm"); err != nil {
			b.Fatal(err)
		}
	}
}
