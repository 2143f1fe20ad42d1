package codegen

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/value"
)

// A map's spec depends only on its types: a later cell that uses @lat
// with the same types gets a spec equal to the first's, which is what lets
// the session pass the existing map as a replacement.
func TestLayoutIsAFunctionOfTypes(t *testing.T) {
	hist := &lang.Type{Kind: lang.KindHist, Size: 8}
	mk := func() *lang.MapInfo {
		return &lang.MapInfo{Name: "@lat", KeyParts: []*lang.Type{lang.StringType(16), lang.TypeUint32},
			Value: hist, Origin: fmt.Sprint("cell[", 1, "]")}
	}
	a, err := Layout(mk(), nil)
	if err != nil {
		t.Fatal(err)
	}
	other := mk()
	other.Origin = "cell[7]"
	other.Read = true
	b, err := Layout(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", a.Spec) != fmt.Sprintf("%+v", b.Spec) {
		t.Errorf("same types, different specs:\n%+v\n%+v", a.Spec, b.Spec)
	}
	want := ebpf.MapSpec{Name: "AT_lat", Type: ebpf.PerCPUHash, KeySize: 20, ValueSize: 8 * HistBuckets,
		MaxEntries: 4096, Flags: flagNoPrealloc}
	if fmt.Sprintf("%+v", *a.Spec) != fmt.Sprintf("%+v", want) {
		t.Errorf("spec %+v, want %+v", *a.Spec, want)
	}
	if len(a.Keys) != 2 || a.Keys[0].Offset != 0 || a.Keys[1].Offset != 16 {
		t.Errorf("key parts %+v", a.Keys)
	}
}

func TestLayouts(t *testing.T) {
	lh := &lang.Type{Kind: lang.KindLhist, Size: 8, LhistMin: 0, LhistMax: 100, LhistStep: 10}
	tests := []struct {
		mi                   *lang.MapInfo
		typ                  ebpf.MapType
		key, value, max, bkt int
		kind                 value.MapKind
	}{
		{&lang.MapInfo{Name: "@c", Value: &lang.Type{Kind: lang.KindCount, Size: 8}}, ebpf.PerCPUArray, 4, 8, 1, 0, value.MapCount},
		{&lang.MapInfo{Name: "@s", KeyParts: []*lang.Type{lang.TypeUint64}, Value: &lang.Type{Kind: lang.KindSum, Size: 8}},
			ebpf.PerCPUHash, 8, 8, 4096, 0, value.MapSum},
		{&lang.MapInfo{Name: "@m", Value: &lang.Type{Kind: lang.KindMin, Size: 8}}, ebpf.PerCPUArray, 4, 16, 1, 0, value.MapMin},
		{&lang.MapInfo{Name: "@a", Value: &lang.Type{Kind: lang.KindAvg, Size: 8}}, ebpf.PerCPUArray, 4, 16, 1, 0, value.MapAvg},
		{&lang.MapInfo{Name: "@l", Value: lh}, ebpf.PerCPUArray, 4, 8 * 12, 1, 12, value.MapLhist},
		{&lang.MapInfo{Name: "@x", KeyParts: []*lang.Type{lang.TypeUint8, lang.TypeUint64}, Value: lang.StringType(64)},
			ebpf.Hash, 16, 64, 4096, 0, value.MapPlain},
	}
	for _, tt := range tests {
		l, err := Layout(tt.mi, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(l.Spec.Type, l.KeySize, l.ValueSize, l.Spec.MaxEntries, l.Buckets, l.Kind)
		want := fmt.Sprint(tt.typ, tt.key, tt.value, tt.max, tt.bkt, tt.kind)
		if got != want {
			t.Errorf("%s: %s, want %s", tt.mi.Name, got, want)
		}
		// A scalar aggregation's array value ends in the u64 that says
		// whether a CPU has written it.
		if inArray := tt.typ == ebpf.PerCPUArray; l.InArray != inArray ||
			inArray && int(l.Spec.ValueSize) != l.ValueSize+8 || !inArray && int(l.Spec.ValueSize) != l.ValueSize {
			t.Errorf("%s: InArray %v, spec value size %d, value size %d", tt.mi.Name, l.InArray, l.Spec.ValueSize, l.ValueSize)
		}
	}
}

func TestLhistBuckets(t *testing.T) {
	for _, tt := range []struct{ min, max, step int64 }{{0, 100, 10}, {0, 25, 10}, {5, 5, 1}, {0, 1000, 1}} {
		got := LhistBuckets(tt.min, tt.max, tt.step)
		want := int((tt.max-tt.min)/tt.step) + 2
		if got != want {
			t.Errorf("lhist(%d, %d, %d): %d buckets, want %d", tt.min, tt.max, tt.step, got, want)
		}
	}
}

func TestKernelNames(t *testing.T) {
	for in, want := range map[string]string{"@": "AT_", "@x": "AT_x", "@a_very_long_map_name": "AT_a_very_long_"} {
		if got := KernelMapName(in); got != want {
			t.Errorf("KernelMapName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := kernelName("p0-x:y"); got != "p0_x_y" {
		t.Errorf("kernelName = %q", got)
	}
}

func TestNameID(t *testing.T) {
	// FNV-1a 64 of "BEGIN": the id must never change, since maps keep it
	// across cells and sessions read it back.
	if got, want := NameID("BEGIN"), uint64(0x1a1a33b839bb217e); got != want {
		t.Errorf("NameID(BEGIN) = %#x, want %#x", got, want)
	}
	if NameID("a") == NameID("b") {
		t.Error("NameID collides on one-letter names")
	}
}

func TestParseUSDTArg(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"-4@%edi", "{Size:4 Signed:true Kind:1 Reg:di RegSize:4 RegShift:0 Index: Scale:0 Offset:0}"},
		{"8@%rax", "{Size:8 Signed:false Kind:1 Reg:ax RegSize:8 RegShift:0 Index: Scale:0 Offset:0}"},
		{"1@%ah", "{Size:1 Signed:false Kind:1 Reg:ax RegSize:1 RegShift:8 Index: Scale:0 Offset:0}"},
		{"-2@%r9w", "{Size:2 Signed:true Kind:1 Reg:r9 RegSize:2 RegShift:0 Index: Scale:0 Offset:0}"},
		{"8@-16(%rbp)", "{Size:8 Signed:false Kind:2 Reg:bp RegSize:0 RegShift:0 Index: Scale:0 Offset:-16}"},
		{"4@(%rax,%rbx,8)", "{Size:4 Signed:false Kind:2 Reg:ax RegSize:0 RegShift:0 Index:bx Scale:8 Offset:0}"},
		{"4@$5", "{Size:4 Signed:false Kind:0 Reg: RegSize:0 RegShift:0 Index: Scale:0 Offset:5}"},
		{"-8@$-1", "{Size:8 Signed:true Kind:0 Reg: RegSize:0 RegShift:0 Index: Scale:0 Offset:-1}"},
	}
	for _, tt := range tests {
		a, err := ParseUSDTArg(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := fmt.Sprintf("%+v", a); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"%edi", "3@%edi", "4@%xyz", "8@sym(%rip)", "4@$x", "4@-8(%rip)"} {
		if _, err := ParseUSDTArg(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestProgramType(t *testing.T) {
	for prov, want := range map[string]ebpf.ProgramType{
		"": ebpf.RawTracepoint, "BEGIN": ebpf.RawTracepoint, "kprobe": ebpf.Kprobe, "uretprobe": ebpf.Kprobe,
		"usdt": ebpf.Kprobe, "tracepoint": ebpf.TracePoint, "profile": ebpf.PerfEvent, "watchpoint": ebpf.PerfEvent,
		"kfunc": ebpf.Tracing, "rawtracepoint": ebpf.RawTracepoint, "nonsense": ebpf.UnspecifiedProgram,
	} {
		if got, _ := ProgramType(prov); got != want {
			t.Errorf("ProgramType(%q) = %s, want %s", prov, got, want)
		}
	}
	if _, at := ProgramType("kretfunc"); at != ebpf.AttachTraceFExit {
		t.Errorf("kretfunc attach type %s", at)
	}
}

// Decoding is pure: layouts written by hand decode to the values.
func TestDecode(t *testing.T) {
	d := &Decoder{Names: map[uint64]string{NameID("BEGIN"): "BEGIN", NameID("%H"): "%H"}}
	b := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	u64 := func(v uint64) []byte { x := make([]byte, 8); le.PutUint64(x, v); return x }
	tup := lang.TupleOf(lang.TypeInt8, lang.StringType(4), lang.TypeInt64)
	tests := []struct {
		t    *lang.Type
		data []byte
		want string
	}{
		{lang.TypeInt32, []byte{0xfe, 0xff, 0xff, 0xff}, "-2"},
		{lang.TypeUint16, []byte{0x34, 0x12}, "4660"},
		{lang.StringType(8), []byte("abc\x00\x00\x00\x00\x00"), "abc"},
		{tup, b([]byte{0xff, 'x', 'y', 0, 0, 0, 0, 0}, u64(7)), "(-1, xy, 7)"},
		{lang.BufferType(4), []byte{3, 'a', 'b', 'c', 0}, `"abc"`},
		{lang.TypeInet, b(u64(2), []byte{127, 0, 0, 1}, make([]byte, 12)), "127.0.0.1"},
		{lang.TypeInet, b(u64(10), append(make([]byte, 15), 1)), "::1"},
		{lang.TypeMacaddr, []byte{1, 2, 3, 0xaa, 0xbb, 0xcc}, "01:02:03:AA:BB:CC"},
		{lang.TypeProbe, u64(NameID("BEGIN")), "BEGIN"},
		{lang.TypeTimestamp, b(u64(NameID("%H")), u64(5)), `time("%H")`},
	}
	for _, tt := range tests {
		v, err := d.Value(tt.t, tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.t, err)
			continue
		}
		if got := formatValue(v); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.t, got, tt.want)
		}
	}

	// Per-CPU reductions.
	mins := &MapLayout{Name: "@m", Value: &lang.Type{Kind: lang.KindMin}, ValueSize: 16}
	v, _ := d.MapValue(mins, [][]byte{b(u64(5), u64(1)), b(u64(0), u64(0)), b(u64(uint64(^uint64(2))), u64(1))})
	if got := formatValue(v); got != "-3" {
		t.Errorf("min over CPUs: %s, want -3", got)
	}
	maxes := &MapLayout{Name: "@m", Value: &lang.Type{Kind: lang.KindMax}, ValueSize: 16}
	v, _ = d.MapValue(maxes, [][]byte{b(u64(0), u64(0)), b(u64(0), u64(0))})
	if got := formatValue(v); got != "unset" {
		t.Errorf("max with nothing set: %s", got)
	}
	st := &MapLayout{Name: "@s", Value: &lang.Type{Kind: lang.KindStats}, ValueSize: 16}
	v, _ = d.MapValue(st, [][]byte{b(u64(2), u64(30)), b(u64(1), u64(uint64(^uint64(2))))})
	if got := formatValue(v); got != "count 3, average 9, total 27" {
		t.Errorf("stats over CPUs: %s", got)
	}
}

func TestPrintfHidden(t *testing.T) {
	f := &lang.Format{Source: "%d %%d %s", Segments: []lang.FormatSegment{
		{Literal: "", Spec: &lang.FormatSpec{Verb: "d", Precision: -1}},
		{Literal: " %d", Spec: &lang.FormatSpec{Verb: "d", Precision: -1, Hidden: true}},
		{Literal: " ", Spec: &lang.FormatSpec{Verb: "s", Precision: -1}},
	}}
	p := Printf(f, []value.Value{value.Int{Bits: 1}, value.Int{Bits: 2}, value.Str{S: "x"}})
	if len(p.Args) != 2 || p.Format.Segments[1].Spec != nil || formatValue(p.Args[1]) != "x" {
		t.Errorf("hidden conversion: %+v", p)
	}
}
