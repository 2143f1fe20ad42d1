package codegen

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/value"
)

// The layouts codegen writes are decoded here, next to the code that
// writes them, so the two cannot drift apart. What needs the live system
// (symbols, user names, stacks, the wall clock) is asked of a Resolver,
// which the runtime implements.

// Resolver turns the numbers that resolved values carry into what they
// stand for. Any method may be left to return zero values.
type Resolver interface {
	KSym(addr uint64) string
	USym(addr uint64, pid uint32) string
	// Stack returns the frames of stack id in the stack map of t's limit
	// (StackMapName), innermost first, cut to t.Stack.Limit.
	Stack(t *lang.Type, id int64, pid uint32) []value.Frame
	Username(uid uint32) string
	CgroupPath(id uint64, filter string) string
	Strerror(errno int) string
	// WallClock converts a CLOCK_MONOTONIC/boot timestamp in ns (what
	// nsecs gives) to ns since the Unix epoch.
	WallClock(ns uint64) uint64
}

// Decoder decodes map entries and event records. Names holds the NameID
// table (Object.Names, or the union of a session's); Resolver may be nil,
// which leaves symbols and stacks unresolved (Text.S empty, no frames).
type Decoder struct {
	Names    map[uint64]string
	Resolver Resolver
}

var le = binary.LittleEndian

// Value decodes one value of type t from b (at least t.Size bytes).
func (d *Decoder) Value(t *lang.Type, b []byte) (value.Value, error) {
	if t == nil {
		return nil, fmt.Errorf("decode: no type")
	}
	if len(b) < t.Size {
		return nil, fmt.Errorf("decode: %d bytes for a %s of %d", len(b), t, t.Size)
	}
	b = b[:t.Size]
	r := d.Resolver
	switch t.Kind {
	case lang.KindInt:
		return decodeInt(b, t.Size, t.Signed), nil
	case lang.KindPointer:
		return value.Pointer{Addr: uint64(decodeInt(b, t.Size, false).Bits)}, nil
	case lang.KindString:
		for i, c := range b {
			if c == 0 {
				return value.Str{S: string(b[:i])}, nil
			}
		}
		return value.Str{S: string(b), Truncated: true}, nil
	case lang.KindBuffer:
		n := int(b[0])
		if n > len(b)-1 {
			n = len(b) - 1
		}
		return value.Buffer{B: append([]byte(nil), b[1:1+n]...)}, nil
	case lang.KindTuple, lang.KindRecord:
		var elems []value.Value
		var fields []value.NamedValue
		for _, f := range t.Fields {
			if f.Offset+f.Type.Size > len(b) {
				return nil, fmt.Errorf("decode: field %s of %s is out of bounds", f.Name, t)
			}
			v, err := d.Value(f.Type, b[f.Offset:])
			if err != nil {
				return nil, err
			}
			if f.BitSize > 0 {
				if iv, ok := v.(value.Int); ok {
					iv.Bits = iv.Bits >> uint(f.BitOffset) & (1<<uint(f.BitSize) - 1)
					v = iv
				}
			}
			elems = append(elems, v)
			fields = append(fields, value.NamedValue{Name: f.Name, Value: v})
		}
		if t.Kind == lang.KindTuple {
			return value.Tuple{Elems: elems}, nil
		}
		return value.Record{Name: t.Name, Fields: fields}, nil
	case lang.KindArray:
		if t.Elem == nil || t.Elem.Size <= 0 {
			return value.Array{}, nil
		}
		var elems []value.Value
		for i := 0; i < t.Len && (i+1)*t.Elem.Size <= len(b); i++ {
			v, err := d.Value(t.Elem, b[i*t.Elem.Size:])
			if err != nil {
				return nil, err
			}
			elems = append(elems, v)
		}
		return value.Array{Elems: elems}, nil
	case lang.KindKSym:
		addr := le.Uint64(b)
		s := ""
		if r != nil {
			s = r.KSym(addr)
		}
		return value.Text{Kind: value.TextKSym, S: s, Raw: addr}, nil
	case lang.KindUSym:
		addr, pid := le.Uint64(b), uint32(le.Uint64(b[8:]))
		s := ""
		if r != nil {
			s = r.USym(addr, pid)
		}
		return value.Text{Kind: value.TextUSym, S: s, Raw: addr}, nil
	case lang.KindInet:
		return value.Text{Kind: value.TextInet, S: formatInet(le.Uint64(b), b[8:24])}, nil
	case lang.KindUsername:
		uid := le.Uint64(b)
		s := ""
		if r != nil {
			s = r.Username(uint32(uid))
		}
		return value.Text{Kind: value.TextUsername, S: s, Raw: uid}, nil
	case lang.KindProbe:
		id := le.Uint64(b)
		return value.Text{Kind: value.TextProbe, S: d.Names[id], Raw: id}, nil
	case lang.KindTimestamp:
		format, ns := d.Names[le.Uint64(b)], le.Uint64(b[8:])
		if r != nil {
			ns = r.WallClock(ns)
		}
		return value.Text{Kind: value.TextTimestamp, Raw: ns, Format: format}, nil
	case lang.KindMacaddr:
		return value.Text{Kind: value.TextMacaddr,
			S: fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", b[0], b[1], b[2], b[3], b[4], b[5])}, nil
	case lang.KindCgroupPath:
		id := le.Uint64(b)
		filter := ""
		if len(b) >= 16 {
			filter = d.Names[le.Uint64(b[8:])]
		}
		s := ""
		if r != nil {
			s = r.CgroupPath(id, filter)
		}
		return value.Text{Kind: value.TextCgroupPath, S: s, Raw: id}, nil
	case lang.KindStrerror:
		n := le.Uint64(b)
		s := ""
		if r != nil {
			s = r.Strerror(int(int64(n)))
		}
		return value.Text{Kind: value.TextStrerror, S: s, Raw: n}, nil
	case lang.KindStack:
		st := value.Stack{User: t.Stack.User, Mode: value.StackMode(t.Stack.Mode)}
		id := int64(le.Uint64(b))
		var pid uint32
		if len(b) >= 16 {
			pid = uint32(le.Uint64(b[8:]))
		}
		if r != nil && id >= 0 {
			st.Frames = r.Stack(t, id, pid)
		}
		return st, nil
	}
	return nil, fmt.Errorf("decode: cannot decode a value of type %s", t)
}

// decodeInt reads a little-endian integer of size bytes, extended to 64
// bits by its signedness.
func decodeInt(b []byte, size int, signed bool) value.Int {
	var u uint64
	for i := size - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if signed && size < 8 {
		shift := uint(64 - 8*size)
		u = uint64(int64(u<<shift) >> shift)
	}
	return value.Int{Bits: u, Signed: signed, Size: size}
}

// formatInet prints an address as inet_ntop does.
func formatInet(af uint64, b []byte) string {
	switch af {
	case 2:
		return netip.AddrFrom4([4]byte(b[:4])).String()
	case 10:
		return netip.AddrFrom16([16]byte(b[:16])).String()
	}
	return ""
}

// Key decodes a map key into its parts (nil for a scalar map).
func (d *Decoder) Key(l *MapLayout, b []byte) ([]value.Value, error) {
	if !l.Keyed {
		return nil, nil
	}
	if len(b) < l.KeySize {
		return nil, fmt.Errorf("decode: key of %s has %d bytes, want %d", l.Name, len(b), l.KeySize)
	}
	parts := make([]value.Value, len(l.Keys))
	for i, k := range l.Keys {
		v, err := d.Value(k.Type, b[k.Offset:])
		if err != nil {
			return nil, err
		}
		parts[i] = v
	}
	return parts, nil
}

// MapValue decodes a map value. For a per-CPU map, perCPU holds each
// CPU's value and the result is their reduction; otherwise perCPU holds
// the one value.
func (d *Decoder) MapValue(l *MapLayout, perCPU [][]byte) (value.Value, error) {
	if len(perCPU) == 0 {
		return nil, fmt.Errorf("decode: no value for %s", l.Name)
	}
	for _, b := range perCPU {
		if len(b) < l.ValueSize {
			return nil, fmt.Errorf("decode: value of %s has %d bytes, want %d", l.Name, len(b), l.ValueSize)
		}
	}
	switch l.Value.Kind {
	case lang.KindCount:
		var n uint64
		for _, b := range perCPU {
			n += le.Uint64(b)
		}
		return value.Count{N: n}, nil
	case lang.KindSum:
		var v int64
		for _, b := range perCPU {
			v += int64(le.Uint64(b))
		}
		return value.Sum{V: v}, nil
	case lang.KindMin, lang.KindMax:
		var v int64
		set := false
		for _, b := range perCPU {
			if le.Uint64(b[8:]) == 0 {
				continue
			}
			x := int64(le.Uint64(b))
			switch {
			case !set:
				v, set = x, true
			case l.Value.Kind == lang.KindMin && x < v, l.Value.Kind == lang.KindMax && x > v:
				v = x
			}
		}
		if l.Value.Kind == lang.KindMin {
			return value.Min{V: v, Set: set}, nil
		}
		return value.Max{V: v, Set: set}, nil
	case lang.KindAvg, lang.KindStats:
		var count uint64
		var total int64
		for _, b := range perCPU {
			count += le.Uint64(b)
			total += int64(le.Uint64(b[8:]))
		}
		if l.Value.Kind == lang.KindAvg {
			return value.Avg{Count: count, Total: total}, nil
		}
		return value.Stats{Count: count, Total: total}, nil
	case lang.KindHist, lang.KindLhist:
		buckets := make([]uint64, l.Buckets)
		for _, b := range perCPU {
			for i := range buckets {
				buckets[i] += le.Uint64(b[8*i:])
			}
		}
		if l.Value.Kind == lang.KindHist {
			return value.Hist{Buckets: buckets}, nil
		}
		return value.Lhist{Min: l.Value.LhistMin, Max: l.Value.LhistMax, Step: l.Value.LhistStep, Buckets: buckets}, nil
	}
	return d.Value(l.Value, perCPU[0])
}

// Args decodes the arguments of an event record (the whole record, id
// included).
func (d *Decoder) Args(ev *Event, rec []byte) ([]value.Value, error) {
	if len(rec) < ev.Size {
		return nil, fmt.Errorf("decode: %s record has %d bytes, want %d", ev.Kind, len(rec), ev.Size)
	}
	vals := make([]value.Value, len(ev.Args))
	for i, a := range ev.Args {
		v, err := d.Value(a.Type, rec[a.Offset:])
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// EventID returns the id a record starts with.
func EventID(rec []byte) (uint64, bool) {
	if len(rec) < 8 {
		return 0, false
	}
	return le.Uint64(rec), true
}

// JoinText returns the text of a join() record: the arguments it read,
// joined by the event's delimiter.
func (d *Decoder) JoinText(ev *Event, rec []byte) (string, error) {
	vals, err := d.Args(ev, rec)
	if err != nil {
		return "", err
	}
	n := int(vals[0].(value.Int).Bits)
	arr := vals[1].(value.Array)
	s := ""
	for i := 0; i < n && i < len(arr.Elems); i++ {
		if i > 0 {
			s += ev.Text
		}
		s += arr.Elems[i].(value.Str).S
	}
	return s, nil
}

// Printf builds the printf event of a decoded record: the format in
// runtime/value's terms and the arguments its conversions print. A
// conversion the checker marked Hidden ("%%d": snprintf pairs the '%'s)
// consumes its argument and prints nothing; both are left out.
func Printf(f *lang.Format, args []value.Value) value.Printf {
	if f == nil {
		return value.Printf{Args: args}
	}
	vf := &value.Format{Source: f.Source}
	var out []value.Value
	i := 0
	for _, s := range f.Segments {
		seg := value.Segment{Literal: s.Literal}
		if s.Spec != nil {
			if !s.Spec.Hidden {
				seg.Spec = &value.Spec{Flags: s.Spec.Flags, Width: s.Spec.Width, Precision: s.Spec.Precision,
					Length: s.Spec.Length, Verb: s.Spec.Verb}
				if i < len(args) {
					out = append(out, args[i])
				}
			}
			i++
		}
		vf.Segments = append(vf.Segments, seg)
	}
	return value.Printf{Format: vf, Args: out}
}
