package codegen

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/value"
)

// HistBuckets is the number of counters of a hist() value: negative, zero,
// one, and [2^k, 2^(k+1)) for k = 1..63 (runtime/value.Hist's numbering).
const HistBuckets = 66

// LhistBuckets returns the number of counters of an lhist(n, min, max,
// step) value: below min, (max-min)/step steps, and max or above.
func LhistBuckets(min, max, step int64) int {
	if step <= 0 || max < min {
		return 2
	}
	return int((max-min)/step) + 2
}

// Layout returns the layout of a map with the given fixed types, as
// Compile gives it: the same MapInfo types and opts always give the same
// Spec. A session can call it to check a map's spec without compiling.
func Layout(mi *lang.MapInfo, opts *Options) (*MapLayout, error) {
	o := opts.withDefaults()
	l := &MapLayout{Name: mi.Name, Info: mi, Value: mi.Value}
	if mi.Value == nil {
		return nil, fmt.Errorf("map %s has no value type", mi.Name)
	}

	// Key.
	switch len(mi.KeyParts) {
	case 0:
		l.KeySize = 8
	case 1:
		l.Keyed = true
		l.Keys = []KeyPart{{Offset: 0, Type: mi.KeyParts[0]}}
		l.KeySize = mi.KeyParts[0].Size
	default:
		l.Keyed = true
		tup := lang.TupleOf(mi.KeyParts...)
		for _, f := range tup.Fields {
			l.Keys = append(l.Keys, KeyPart{Offset: f.Offset, Type: f.Type})
		}
		l.KeySize = tup.Size
	}
	if l.KeySize <= 0 {
		return nil, fmt.Errorf("map %s has a key of size %d", mi.Name, l.KeySize)
	}

	// Value.
	v := mi.Value
	l.PerCPU = v.Kind.IsAggregation()
	switch v.Kind {
	case lang.KindCount:
		l.Kind, l.ValueSize = value.MapCount, 8
	case lang.KindSum:
		l.Kind, l.ValueSize = value.MapSum, 8
	case lang.KindMin:
		l.Kind, l.ValueSize = value.MapMin, 16
	case lang.KindMax:
		l.Kind, l.ValueSize = value.MapMax, 16
	case lang.KindAvg:
		l.Kind, l.ValueSize = value.MapAvg, 16
	case lang.KindStats:
		l.Kind, l.ValueSize = value.MapStats, 16
	case lang.KindHist:
		l.Kind, l.Buckets = value.MapHist, HistBuckets
		l.ValueSize = 8 * l.Buckets
	case lang.KindLhist:
		l.Kind, l.Buckets = value.MapLhist, LhistBuckets(v.LhistMin, v.LhistMax, v.LhistStep)
		l.ValueSize = 8 * l.Buckets
	default:
		l.Kind, l.ValueSize = value.MapPlain, v.Size
	}
	if l.ValueSize <= 0 {
		return nil, fmt.Errorf("map %s has a value of type %s, which has no size", mi.Name, v)
	}
	if l.ValueSize > ZeroSize && (v.Kind == lang.KindHist || v.Kind == lang.KindLhist) {
		return nil, fmt.Errorf("map %s: lhist has too many buckets (%d)", mi.Name, l.Buckets)
	}

	spec := &ebpf.MapSpec{
		Name:       KernelMapName(mi.Name),
		Type:       ebpf.Hash,
		KeySize:    uint32(l.KeySize),
		ValueSize:  uint32(l.ValueSize),
		MaxEntries: 1,
	}
	if l.Keyed {
		spec.MaxEntries = uint32(o.MaxMapEntries)
	}
	if l.PerCPU {
		spec.Type = ebpf.PerCPUHash
	}
	if !l.Keyed && l.PerCPU {
		l.InArray = true
		l.KeySize = 4
		spec.Type = ebpf.PerCPUArray
		spec.KeySize = 4
		spec.ValueSize = uint32(l.ValueSize + 8)
	}
	if l.Keyed && (v.Kind == lang.KindCount || v.Kind == lang.KindSum) {
		l.Slot = slotSpec(l)
	}
	if l.Keyed && l.Buckets > 0 {
		// A histogram per key is large; allocate entries as keys appear
		// rather than MaxEntries of them per CPU up front (perf-event
		// programs may use such maps since Linux 6.1).
		spec.Flags = flagNoPrealloc
	}
	l.Spec = spec
	return l, nil
}

// KernelMapName is the name a bpftrace map has in the kernel (bpftool
// lists it): "AT_" and the name without '@', cut to the kernel's 15
// characters, with characters the kernel refuses replaced by '_'.
func KernelMapName(name string) string {
	return kernelName("AT_" + strings.TrimPrefix(name, "@"))
}

// kernelName makes s acceptable as a BPF object name: [A-Za-z0-9_.], at
// most 15 bytes.
func kernelName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 15 {
		b = b[:15]
	}
	return string(b)
}
