package lang

import (
	"fmt"
	"strings"
)

// Kind is the class of a bpftrace value, after bpftrace's SizedType.
type Kind uint8

const (
	KindInvalid    Kind = iota
	KindNone            // no value: the type of a statement-only call like printf
	KindInt             // integer of Size 1, 2, 4 or 8 bytes, Signed or not
	KindString          // NUL-padded string of Size bytes (Size includes the NUL)
	KindBuffer          // buf(): Size bytes of data, printed with %r
	KindPointer         // pointer to Elem, in address space AddrSpace
	KindRecord          // C struct or union: Name, Fields, Size
	KindArray           // Len elements of Elem
	KindTuple           // (a, b, ...): Fields named "0", "1", ... with offsets
	KindStack           // kstack or ustack (Stack says which, mode and depth)
	KindKSym            // ksym(addr): an address resolved to a kernel symbol at print time
	KindUSym            // usym(addr) and func in uprobes: a user address + pid
	KindInet            // ntop(): address family + 16 address bytes
	KindUsername        // username: a uid printed as a name
	KindProbe           // probe: an id printed as the probe's name
	KindTimestamp       // strftime(fmt, ns): a format id + nanoseconds
	KindMacaddr         // macaddr(): 6 bytes printed as aa:bb:..
	KindCgroupPath      // cgroup_path(id): an id printed as paths
	KindStrerror        // strerror(n): an errno printed as its message
	KindStackMode       // the words bpftrace, perf, raw as arguments

	// Aggregations: the value types of maps assigned from count(), sum(), ...
	KindCount
	KindSum
	KindMin
	KindMax
	KindAvg
	KindStats
	KindHist
	KindLhist
)

var kindNames = [...]string{
	KindInvalid: "invalid", KindNone: "none", KindInt: "int", KindString: "string",
	KindBuffer: "buffer", KindPointer: "pointer", KindRecord: "record", KindArray: "array",
	KindTuple: "tuple", KindStack: "stack", KindKSym: "ksym", KindUSym: "usym",
	KindInet: "inet", KindUsername: "username", KindProbe: "probe", KindTimestamp: "timestamp",
	KindMacaddr: "mac_address", KindCgroupPath: "cgroup_path", KindStrerror: "strerror",
	KindStackMode: "stack_mode",
	KindCount:     "count", KindSum: "sum", KindMin: "min", KindMax: "max", KindAvg: "avg",
	KindStats: "stats", KindHist: "hist", KindLhist: "lhist",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsAggregation reports whether k is the value type of an aggregating map.
func (k Kind) IsAggregation() bool { return k >= KindCount && k <= KindLhist }

// AddrSpace says where a pointer (or an integer holding an address read
// from a probe's arguments) points, which decides between
// bpf_probe_read_kernel and bpf_probe_read_user. A record or array read
// through a pointer carries the pointer's space too: the checker gives a
// member (x->f, x.f, x[i], *p) the space of what it was reached through,
// as bpftrace does, so a pointer loaded from kernel memory points into the
// kernel.
type AddrSpace uint8

const (
	AddrNone AddrSpace = iota // unknown: bpftrace picks by probe type
	AddrKernel
	AddrUser
)

// StackMode is how a stack prints.
type StackMode uint8

const (
	StackBpftrace StackMode = iota // "\n        sym+off\n" lines
	StackPerf                      // "\t<hex> sym+off (module)\n"
	StackRaw                       // "\t<hex>\n" (bpftrace ≥ 0.18)
)

func (m StackMode) String() string {
	switch m {
	case StackPerf:
		return "perf"
	case StackRaw:
		return "raw"
	}
	return "bpftrace"
}

// StackInfo describes a kstack/ustack value.
type StackInfo struct {
	User  bool      // ustack rather than kstack
	Mode  StackMode // print mode
	Limit int       // frames kept, 1..127 (bpftrace's default is 127)
}

// Type is a sized type. Types are values: the checker creates them and
// never mutates one it has shared, so *Type may be compared with Equal.
type Type struct {
	Kind Kind
	// Size is the size in bytes of the value as stored in a BPF map or an
	// event: 1/2/4/8 for ints, the buffer size for strings (NUL included)
	// and buffers, 8 for pointers, the record/tuple/array size.
	Size   int
	Signed bool // KindInt

	Elem      *Type     // KindPointer target, KindArray element
	Len       int       // KindArray length
	AddrSpace AddrSpace // KindPointer, KindInt holding an address; KindRecord, KindArray read through a pointer

	// Name is a record's C name with its keyword ("struct task_struct",
	// "union bpf_attr"), or a typedef name it was reached through.
	Name string
	// Fields are a record's members or a tuple's elements, with offsets.
	// A KindRecord with Fields == nil and Size == 0 is opaque: it was reached
	// through a pointer and not yet looked up; the checker asks the
	// TypeSource for it when a field is accessed.
	Fields []*Field

	Stack StackInfo // KindStack

	// Lhist parameters, part of a KindLhist map's type: every lhist() call
	// that writes the map must use the same ones.
	LhistMin, LhistMax, LhistStep int64

	// IsCtx marks the `args` record and `ctx` pointer of a probe: reads
	// through them load from the probe context rather than kernel memory.
	IsCtx bool
}

// Field is a record member or a tuple element.
type Field struct {
	Name   string
	Type   *Type
	Offset int // bytes from the record's start
	// Bitfield members: BitOffset, the member's first bit counted from
	// the start of the value of the member's type read at Offset (within
	// the byte at Offset for BTF types; C definitions read the whole
	// storage unit, so it may be larger), and BitSize.
	BitOffset, BitSize int
	// DataLoc marks a tracepoint's "__data_loc T[] name" field. Its Type is
	// a 64-bit integer (as bpftrace types it) whose value is computed, not
	// loaded: the u32 at Offset holds the data's length in its high 16 bits
	// and the data's offset from the start of the record in its low 16
	// bits, so the value is args + (u32 & 0xffff), a kernel address that
	// str() reads.
	DataLoc bool
}

// Common types.
var (
	TypeNone   = &Type{Kind: KindNone}
	TypeInt64  = &Type{Kind: KindInt, Size: 8, Signed: true}
	TypeUint64 = &Type{Kind: KindInt, Size: 8}
	TypeInt32  = &Type{Kind: KindInt, Size: 4, Signed: true}
	TypeUint32 = &Type{Kind: KindInt, Size: 4}
	TypeUint16 = &Type{Kind: KindInt, Size: 2}
	TypeUint8  = &Type{Kind: KindInt, Size: 1}
	TypeInt8   = &Type{Kind: KindInt, Size: 1, Signed: true}
)

// The values that user space resolves when it prints them travel in events
// and map keys as raw numbers, in these layouts (all fields little-endian,
// at the offsets shown). Code generation (runtime/codegen) writes them, the
// runtime decodes them, and the checker should give the builtins and calls
// that produce them these types, so that all three agree on Size (use
// StackType for kstack/ustack, whose sizes differ, and BufferType for buf,
// whose Size counts its length byte):
//
//	ksym(addr), func in kprobes/kfuncs  8 bytes   u64 address
//	usym(addr), func in uprobes        16 bytes   u64 address, u64 pid (tgid)
//	ntop([af,] addr)                   24 bytes   u64 family (2 or 10), 16 address bytes (IPv4 in the first 4)
//	username                            8 bytes   u64 uid
//	probe                               8 bytes   u64 id of the probe's name (codegen.NameID)
//	strftime(fmt, ns)                  16 bytes   u64 id of the format (codegen.NameID), u64 ns as given
//	macaddr(p)                          6 bytes   the address bytes
//	cgroup_path(id[, filter])          16 bytes   u64 cgroup id, u64 id of the filter (codegen.NameID; 0: none)
//	strerror(n)                         8 bytes   u64 errno
//	kstack                              8 bytes   i64 stack id in the stack-trace map (negative: none)
//	ustack                             16 bytes   i64 stack id, u64 pid (tgid)
//	buf(p, n)                         1+n bytes   u8 length, then n data bytes (BufferType)
var (
	TypeKSym       = &Type{Kind: KindKSym, Size: 8}
	TypeUSym       = &Type{Kind: KindUSym, Size: 16}
	TypeInet       = &Type{Kind: KindInet, Size: 24}
	TypeUsername   = &Type{Kind: KindUsername, Size: 8}
	TypeProbe      = &Type{Kind: KindProbe, Size: 8}
	TypeTimestamp  = &Type{Kind: KindTimestamp, Size: 16}
	TypeMacaddr    = &Type{Kind: KindMacaddr, Size: 6}
	TypeCgroupPath = &Type{Kind: KindCgroupPath, Size: 16}
	TypeStrerror   = &Type{Kind: KindStrerror, Size: 8}
)

// StackType returns the type of a kstack or ustack value (see the layouts
// above: 8 bytes for kstack, 16 for ustack).
func StackType(info StackInfo) *Type {
	size := 8
	if info.User {
		size = 16
	}
	return &Type{Kind: KindStack, Size: size, Stack: info}
}

// BufferType returns the type of buf(p, n): a u8 length (n is at most
// the string size, 200) followed by n data bytes, so its Size is 1+n, as
// in bpftrace, whose buffer type counts its length byte. The length is
// what buf() read, which a variable n makes smaller than n.
func BufferType(n int) *Type { return &Type{Kind: KindBuffer, Size: 1 + n} }

// IntType returns the integer type of the given size and signedness.
func IntType(size int, signed bool) *Type {
	return &Type{Kind: KindInt, Size: size, Signed: signed}
}

// StringType returns a string type with a buffer of size bytes.
func StringType(size int) *Type { return &Type{Kind: KindString, Size: size} }

// PointerTo returns a pointer to elem in address space as.
func PointerTo(elem *Type, as AddrSpace) *Type {
	return &Type{Kind: KindPointer, Size: 8, Elem: elem, AddrSpace: as}
}

// TupleOf returns a tuple of the given element types, laid out as bpftrace
// lays out tuples, like a C struct: each element at an offset aligned to its
// own alignment (at most 8), the whole size rounded up to the tuple's
// alignment. sizeof((int32, int8)) is 8 and sizeof((int8, int8, int8)) is 3.
func TupleOf(elems ...*Type) *Type {
	t := &Type{Kind: KindTuple}
	off := 0
	for i, e := range elems {
		a := e.Align()
		off = (off + a - 1) / a * a
		t.Fields = append(t.Fields, &Field{Name: fmt.Sprint(i), Type: e, Offset: off})
		off += e.Size
	}
	a := t.Align()
	t.Size = (off + a - 1) / a * a
	return t
}

// Align returns the alignment of t in bytes.
func (t *Type) Align() int {
	switch t.Kind {
	case KindInt, KindPointer:
		if t.Size >= 1 && t.Size <= 8 {
			return t.Size
		}
	case KindString, KindBuffer, KindMacaddr, KindInet:
		return 1
	case KindArray:
		if t.Elem != nil {
			return t.Elem.Align()
		}
	case KindRecord, KindTuple:
		a := 1
		for _, f := range t.Fields {
			if fa := f.Type.Align(); fa > a {
				a = fa
			}
		}
		return a
	}
	return 8
}

// IsInt reports whether t is an integer.
func (t *Type) IsInt() bool { return t != nil && t.Kind == KindInt }

// IsOpaque reports whether t is a record that has not been looked up yet.
func (t *Type) IsOpaque() bool {
	return t != nil && t.Kind == KindRecord && t.Fields == nil && t.Size == 0
}

// Field returns the member of a record or tuple with the given name,
// descending into anonymous struct and union members, with the offset
// adjusted to be from t's start. It returns nil if there is none.
func (t *Type) Field(name string) *Field {
	if t == nil {
		return nil
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	for _, f := range t.Fields {
		if f.Name == "" && f.Type != nil && f.Type.Kind == KindRecord {
			if sub := f.Type.Field(name); sub != nil {
				c := *sub
				c.Offset += f.Offset
				return &c
			}
		}
	}
	return nil
}

// Equal reports whether t and u are the same type for the purpose of a map's
// key or value: same kind, size, signedness, and the same shape inside.
func (t *Type) Equal(u *Type) bool {
	if t == u {
		return true
	}
	if t == nil || u == nil || t.Kind != u.Kind || t.Size != u.Size {
		return false
	}
	switch t.Kind {
	case KindInt:
		return t.Signed == u.Signed
	case KindPointer, KindArray:
		return t.Len == u.Len && t.Elem.Equal(u.Elem)
	case KindRecord:
		return t.Name == u.Name
	case KindTuple:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i := range t.Fields {
			if !t.Fields[i].Type.Equal(u.Fields[i].Type) {
				return false
			}
		}
	case KindStack:
		return t.Stack == u.Stack
	case KindLhist:
		return t.LhistMin == u.LhistMin && t.LhistMax == u.LhistMax && t.LhistStep == u.LhistStep
	}
	return true
}

// String names the type the way bpftrace's messages do: "int64",
// "uint32", "string[64]", "struct task_struct *", "(int64,string[16])",
// "count", "hist", "kstack".
func (t *Type) String() string {
	if t == nil {
		return "none"
	}
	switch t.Kind {
	case KindInt:
		if t.Signed {
			return fmt.Sprintf("int%d", t.Size*8)
		}
		return fmt.Sprintf("uint%d", t.Size*8)
	case KindString:
		return fmt.Sprintf("string[%d]", t.Size)
	case KindBuffer:
		return fmt.Sprintf("buffer[%d]", t.Size)
	case KindPointer:
		if t.Elem == nil {
			return "void *"
		}
		s := t.Elem.String()
		if strings.HasSuffix(s, "*") {
			return s + "*"
		}
		return s + " *"
	case KindRecord:
		return t.Name
	case KindArray:
		return fmt.Sprintf("%s[%d]", t.Elem, t.Len)
	case KindTuple:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Type.String()
		}
		return "(" + strings.Join(parts, ",") + ")"
	case KindStack:
		if t.Stack.User {
			return "ustack"
		}
		return "kstack"
	}
	return t.Kind.String()
}
