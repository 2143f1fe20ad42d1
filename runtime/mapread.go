package runtime

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// Reading bpftrace maps from user space: every entry in a few BPF batch
// lookups (a million-entry map is read in about 130 system calls, not a
// million), each per-CPU value reduced as its aggregation says (codegen's
// Decoder), keys decoded by the map's layout.

// batchEntries is how many entries one batch lookup asks for. Hash maps
// return whole buckets, and ENOSPC when one does not fit; the batch then
// grows.
const batchEntries = 4096

// rawEntries are a map's entries as the kernel returned them: keys of
// keySize bytes, values of stride bytes (one value, or one aligned value
// per possible CPU for per-CPU maps).
type rawEntries struct {
	keySize, stride int
	n               int
	keys, vals      []byte
}

func (r *rawEntries) key(i int) []byte { return r.keys[i*r.keySize : (i+1)*r.keySize] }
func (r *rawEntries) val(i int) []byte { return r.vals[i*r.stride : (i+1)*r.stride] }

// byteArrays returns a slice of n arrays of size bytes (what cilium's batch
// calls count entries in) and the bytes it is made of.
func byteArrays(n, size int) (any, []byte) {
	if n == 0 || size == 0 {
		return reflect.MakeSlice(reflect.SliceOf(reflect.ArrayOf(max(size, 1), reflect.TypeFor[byte]())), 0, 0).Interface(), nil
	}
	sl := reflect.MakeSlice(reflect.SliceOf(reflect.ArrayOf(size, reflect.TypeFor[byte]())), n, n)
	return sl.Interface(), unsafe.Slice((*byte)(sl.UnsafePointer()), n*size)
}

func align8(n int) int { return (n + 7) &^ 7 }

// possibleCPUs is the number of values a per-CPU map holds per key.
func possibleCPUs() int {
	n, err := ebpf.PossibleCPU()
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// readRaw reads every entry of m: with batch lookups where the kernel has
// them, else by iterating.
func readRaw(m *ebpf.Map, perCPU bool) (*rawEntries, error) {
	ks, vs := int(m.KeySize()), int(m.ValueSize())
	ncpu := 1
	stride := vs
	if perCPU {
		ncpu = possibleCPUs()
		stride = ncpu * align8(vs)
	}
	r := &rawEntries{keySize: ks, stride: stride}
	chunk := min(batchEntries, max(int(m.MaxEntries()), 1))
	var cursor ebpf.MapBatchCursor
	for {
		keysOut, kb := byteArrays(chunk, ks)
		valsOut, vb := byteArrays(chunk*ncpu, stride/ncpu)
		n, err := m.BatchLookup(&cursor, keysOut, valsOut, nil)
		if n > 0 {
			r.keys = append(r.keys, kb[:n*ks]...)
			r.vals = append(r.vals, vb[:n*stride]...)
			r.n += n
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, ebpf.ErrKeyNotExist):
			return r, nil
		case errors.Is(err, unix.ENOSPC) && n == 0:
			chunk *= 2
			continue
		case errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) && r.n == 0:
			return iterateRaw(m, perCPU, ks, vs, ncpu)
		}
		return nil, fmt.Errorf("reading map %s: %w", m.String(), CleanError(err))
	}
}

// iterateRaw is readRaw for kernels without batch operations.
func iterateRaw(m *ebpf.Map, perCPU bool, ks, vs, ncpu int) (*rawEntries, error) {
	stride := vs
	if perCPU {
		stride = ncpu * align8(vs)
	}
	r := &rawEntries{keySize: ks, stride: stride}
	it := m.Iterate()
	key := make([]byte, ks)
	if perCPU {
		var vals [][]byte
		for it.Next(&key, &vals) {
			r.keys = append(r.keys, key...)
			for c := 0; c < ncpu; c++ {
				v := make([]byte, align8(vs))
				if c < len(vals) {
					copy(v, vals[c])
				}
				r.vals = append(r.vals, v...)
			}
			r.n++
		}
	} else {
		var val []byte
		for it.Next(&key, &val) {
			r.keys = append(r.keys, key...)
			v := make([]byte, vs)
			copy(v, val)
			r.vals = append(r.vals, v...)
			r.n++
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading map %s: %w", m.String(), CleanError(err))
	}
	return r, nil
}

// perCPUValues splits one entry's value into its per-CPU values.
func perCPUValues(l *codegen.MapLayout, b []byte, vs int) [][]byte {
	if !l.PerCPU {
		return [][]byte{b}
	}
	step := align8(vs)
	out := make([][]byte, 0, len(b)/step)
	for off := 0; off+step <= len(b); off += step {
		out = append(out, b[off:off+vs])
	}
	return out
}

// ReadMap reads a bpftrace map into a snapshot. limit bounds how many
// entries are decoded (0: all); a map that holds more is Truncated, with
// Total its size, and keeps the entries that sort last in bpftrace's order
// (the largest counts), which are the ones a reader wants to see.
func ReadMap(l *codegen.MapLayout, m *ebpf.Map, d *codegen.Decoder, limit int) (*value.Map, error) {
	raw, err := readEntries(l, m)
	if err != nil {
		return nil, err
	}
	out := &value.Map{Name: l.Name, Keyed: l.Keyed, Kind: l.Kind, Total: raw.n}
	if raw.n == 0 && !l.Keyed && l.Kind == value.MapCount {
		// bpftrace keeps a scalar count() in a one-entry array, which
		// always has its entry: never written (or cleared) it reads 0.
		out.Entries = []value.Entry{{Value: value.Count{}}}
		out.Total = 1
		return out, nil
	}
	vs := int(m.ValueSize())
	idx := make([]int, raw.n)
	for i := range idx {
		idx[i] = i
	}
	if limit > 0 && raw.n > limit {
		out.Truncated = true
		// Rank every entry by its value and keep the last limit, with a
		// min-heap of the best so far: O(n log limit).
		// Only the kept entries' values are kept (decoded again
		// below): holding a million decoded values would cost
		// hundreds of MB for a snapshot of a few thousand entries.
		h := make(rankHeap, 0, limit)
		for i := 0; i < raw.n; i++ {
			v, err := d.MapValue(l, perCPUValues(l, raw.val(i), vs))
			if err != nil {
				return nil, err
			}
			r := rankItem{rank(v), i}
			if len(h) < limit {
				heap.Push(&h, r)
			} else if h[0].less(r) {
				h[0] = r
				heap.Fix(&h, 0)
			}
		}
		sort.Slice(h, func(a, b int) bool { return h[a].less(h[b]) })
		idx = idx[:0]
		for _, r := range h {
			idx = append(idx, r.i)
		}
	}
	out.Entries = make([]value.Entry, 0, len(idx))
	for _, i := range idx {
		v, err := d.MapValue(l, perCPUValues(l, raw.val(i), vs))
		if err != nil {
			return nil, err
		}
		k, err := d.Key(l, raw.key(i))
		if err != nil {
			return nil, err
		}
		out.Entries = append(out.Entries, value.Entry{Key: k, Value: v})
	}
	return out, nil
}

// rankItem is an entry's rank and index; ties go to the later index.
type rankItem struct {
	r float64
	i int
}

func (a rankItem) less(b rankItem) bool { return a.r < b.r || a.r == b.r && a.i < b.i }

// rankHeap is a min-heap of rankItems.
type rankHeap []rankItem

func (h rankHeap) Len() int           { return len(h) }
func (h rankHeap) Less(i, j int) bool { return h[i].less(h[j]) }
func (h rankHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(x any)        { *h = append(*h, x.(rankItem)) }
func (h *rankHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// rank is the number an entry sorts by when a map is cut to its largest
// entries: the value of numeric maps, the average of avg/stats, the total
// of histograms; 0 for the others (which sort by key).
func rank(v value.Value) float64 {
	switch v := v.(type) {
	case value.Count:
		return float64(v.N)
	case value.Sum:
		return float64(v.V)
	case value.Min:
		return float64(v.V)
	case value.Max:
		return float64(v.V)
	case value.Int:
		if v.Signed {
			return float64(v.Int64())
		}
		return float64(v.Bits)
	case value.Avg:
		if v.Count == 0 {
			return 0
		}
		return float64(v.Total) / float64(v.Count)
	case value.Stats:
		if v.Count == 0 {
			return 0
		}
		return float64(v.Total) / float64(v.Count)
	case value.Hist:
		return float64(sumBuckets(v.Buckets))
	case value.Lhist:
		return float64(sumBuckets(v.Buckets))
	}
	return 0
}

func sumBuckets(b []uint64) uint64 {
	var n uint64
	for _, c := range b {
		n += c
	}
	return n
}

// readEntries reads every entry of the map m laid out as l: for a scalar
// aggregation kept in an array (MapLayout.InArray), its one entry only
// when a CPU has written it.
func readEntries(l *codegen.MapLayout, m *ebpf.Map) (*rawEntries, error) {
	raw, err := readRaw(m, l.PerCPU)
	if err != nil || !l.InArray || raw.n == 0 {
		return raw, err
	}
	written := false
	for _, v := range perCPUValues(l, raw.val(0), int(m.ValueSize())) {
		written = written || binary.LittleEndian.Uint64(v[l.ValueSize:]) != 0
	}
	if !written {
		raw.n = 0
	}
	return raw, nil
}

// CountEntries returns how many entries m holds (a batch read of its keys
// and values; the kernel has no cheaper count for hash maps).
func CountEntries(l *codegen.MapLayout, m *ebpf.Map) (int, error) {
	raw, err := readEntries(l, m)
	if err != nil {
		return 0, err
	}
	return raw.n, nil
}

// ClearMap deletes every entry of m (clear(@m)); a scalar aggregation's
// array goes back to zeros, unwritten on every CPU.
func ClearMap(l *codegen.MapLayout, m *ebpf.Map) error {
	if l.InArray {
		return writeScalar(l, m, func(int, []byte) {})
	}
	raw, err := readRaw(m, l.PerCPU)
	if err != nil || raw.n == 0 {
		return err
	}
	keys, kb := byteArrays(raw.n, raw.keySize)
	copy(kb, raw.keys)
	if _, err := m.BatchDelete(keys, nil); err == nil {
		return nil
	}
	// No batch deletes, or an entry was deleted meanwhile (which stops a
	// batch delete half-way): one delete per key.
	for i := 0; i < raw.n; i++ {
		if err := m.Delete(raw.key(i)); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("clearing map %s: %w", m.String(), CleanError(err))
		}
	}
	return nil
}

// ZeroMap sets every value of m to zero, keeping the keys (zero(@m)); a
// scalar aggregation's array keeps which CPUs have written it.
func ZeroMap(l *codegen.MapLayout, m *ebpf.Map) error {
	if l.InArray {
		raw, err := readRaw(m, true)
		if err != nil || raw.n == 0 {
			return err
		}
		per := perCPUValues(l, raw.val(0), int(m.ValueSize()))
		return writeScalar(l, m, func(cpu int, v []byte) {
			if cpu < len(per) {
				copy(v[l.ValueSize:], per[cpu][l.ValueSize:])
			}
		})
	}
	raw, err := readRaw(m, l.PerCPU)
	if err != nil || raw.n == 0 {
		return err
	}
	vs := int(m.ValueSize())
	var zero any = make([]byte, vs)
	if l.PerCPU {
		per := make([][]byte, possibleCPUs())
		for i := range per {
			per[i] = make([]byte, vs)
		}
		zero = per
	}
	for i := 0; i < raw.n; i++ {
		if err := m.Update(raw.key(i), zero, ebpf.UpdateExist); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("zeroing map %s: %w", m.String(), CleanError(err))
		}
	}
	return nil
}

// writeScalar writes zeros to every CPU's value of a scalar aggregation
// kept in an array, each first given to fill (with the CPU's number) to
// set what is kept.
func writeScalar(l *codegen.MapLayout, m *ebpf.Map, fill func(cpu int, v []byte)) error {
	per := make([][]byte, possibleCPUs())
	for i := range per {
		per[i] = make([]byte, m.ValueSize())
		fill(i, per[i])
	}
	if err := m.Update(uint32(0), per, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("writing map %s: %w", l.Name, CleanError(err))
	}
	return nil
}

// readU64Array reads an array map of u64 values (MapErrors).
func readU64Array(m *ebpf.Map) ([]uint64, error) {
	n := int(m.MaxEntries())
	out := make([]uint64, n)
	buf := make([]byte, 8)
	for i := 0; i < n; i++ {
		if err := m.Lookup(uint32(i), buf); err != nil {
			return nil, err
		}
		out[i] = binary.LittleEndian.Uint64(buf)
	}
	return out, nil
}

// EncodeKey lays out a key's parts as the map stores them (the inverse of
// Decoder.Key) for integer and string parts, which is what a user names a
// key with; a scalar map's key is all zeros.
func EncodeKey(l *codegen.MapLayout, parts []value.Value) ([]byte, error) {
	key := make([]byte, l.KeySize)
	if !l.Keyed {
		return key, nil
	}
	if len(parts) != len(l.Keys) {
		return nil, fmt.Errorf("%s takes %d key parts, not %d", l.Name, len(l.Keys), len(parts))
	}
	for i, kp := range l.Keys {
		dst := key[kp.Offset : kp.Offset+kp.Type.Size]
		switch v := parts[i].(type) {
		case value.Int:
			if kp.Type.Kind != lang.KindInt {
				return nil, fmt.Errorf("%s: key part %d is a %s, not an integer", l.Name, i+1, kp.Type)
			}
			for b := 0; b < len(dst); b++ {
				dst[b] = byte(v.Bits >> (8 * b))
			}
		case value.Str:
			if kp.Type.Kind != lang.KindString {
				return nil, fmt.Errorf("%s: key part %d is a %s, not a string", l.Name, i+1, kp.Type)
			}
			if len(v.S) >= len(dst) {
				return nil, fmt.Errorf("%s: key %q is longer than the map's strings (%d bytes)", l.Name, v.S, len(dst)-1)
			}
			copy(dst, v.S)
		default:
			return nil, fmt.Errorf("%s: cannot name a key part of type %s from user space", l.Name, kp.Type)
		}
	}
	return key, nil
}
