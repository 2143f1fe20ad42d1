package codegen_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
)

// TestFlushProgramLoads loads the slot flush program of keyed count() and
// sum() maps with keys of several sizes and alignments through the
// verifier, and checks which maps have slots.
func TestFlushProgramLoads(t *testing.T) {
	count := &lang.Type{Kind: lang.KindCount, Size: 8}
	sum := &lang.Type{Kind: lang.KindSum, Size: 8}
	maps := []*lang.MapInfo{
		{Name: "@byte", KeyParts: []*lang.Type{lang.TypeUint8}, Value: count},
		{Name: "@str", KeyParts: []*lang.Type{lang.StringType(64)}, Value: sum},
		{Name: "@pair", KeyParts: []*lang.Type{lang.TypeUint8, lang.TypeUint64}, Value: count},
		{Name: "@odd", KeyParts: []*lang.Type{lang.StringType(13)}, Value: count},
	}
	for _, mi := range maps {
		l, err := codegen.Layout(mi, nil)
		if err != nil {
			t.Fatal(err)
		}
		if l.Slot == nil {
			t.Fatalf("%s has no slot", mi.Name)
		}
		if got, want := int(l.Slot.ValueSize), (l.KeySize+7)&^7+40; got != want {
			t.Errorf("%s: slot value of %d bytes, want %d", mi.Name, got, want)
		}
		ps, err := codegen.FlushProgram(l)
		if err != nil {
			t.Fatal(err)
		}
		codegen.RequireRoot(t)
		spec := &ebpf.CollectionSpec{
			Maps:     map[string]*ebpf.MapSpec{mi.Name: l.Spec, codegen.SlotName(mi.Name): l.Slot},
			Programs: map[string]*ebpf.ProgramSpec{"flush": ps},
		}
		coll, err := ebpf.NewCollection(spec)
		if err != nil {
			t.Fatalf("%s: %v", mi.Name, err)
		}
		coll.Close()
	}
	for _, mi := range []*lang.MapInfo{
		{Name: "@scalar", Value: count},
		{Name: "@h", KeyParts: []*lang.Type{lang.TypeUint8}, Value: &lang.Type{Kind: lang.KindHist, Size: 8}},
		{Name: "@max", KeyParts: []*lang.Type{lang.TypeUint8}, Value: &lang.Type{Kind: lang.KindMax, Size: 8}},
		{Name: "@plain", KeyParts: []*lang.Type{lang.TypeUint8}, Value: lang.TypeInt64},
	} {
		if l, err := codegen.Layout(mi, nil); err != nil || l.Slot != nil {
			t.Errorf("%s: slot %v (err %v), want none", mi.Name, l != nil && l.Slot != nil, err)
		}
	}
}
