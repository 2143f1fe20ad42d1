// Package value holds the plain data that crosses from the runtime to the
// renderers: map snapshots, aggregation states, printf events, stacks,
// diagnostics. It imports nothing, so render can depend on it alone.
//
// Everything that needs the live system (symbolising addresses, looking up
// user names, cgroup paths, errno strings) is resolved by the runtime before
// a value is built; render only formats. Values are immutable once built.
package value

// Value is one bpftrace value: a map key part, a map value, a printf
// argument, a print() argument. Its dynamic type is one of the types below.
type Value interface {
	isValue()
}

// Int is an integer. Bits holds the value's bits sign- or zero-extended to
// 64 according to Signed; Size is the source type's size in bytes, which
// printf's 32-bit specifiers (%d %u %x) need.
type Int struct {
	Bits   uint64
	Signed bool
	Size   int
}

// Int64 returns the value as a signed number.
func (i Int) Int64() int64 { return int64(i.Bits) }

// Str is a string value (from str(), comm, a string literal), already cut at
// its NUL. Truncated is set when the source was longer than the buffer.
type Str struct {
	S         string
	Truncated bool
}

// Buffer is a buf() value: raw bytes, printed with %r / %rx / %rh or as
// escaped text.
type Buffer struct {
	B []byte
}

// Tuple is (a, b, ...).
type Tuple struct {
	Elems []Value
}

// Record is a C struct value (bpftrace ≥ 0.18 prints whole structs as
// { .a = 1, .b = 2 }).
type Record struct {
	Name   string
	Fields []NamedValue
}

// NamedValue is a record member.
type NamedValue struct {
	Name  string
	Value Value
}

// Array is a fixed-size array value, printed [1,2,3].
type Array struct {
	Elems []Value
}

// Pointer is an address typed as a pointer; it prints as 0x-hex.
type Pointer struct {
	Addr uint64
}

// StackMode is how a stack prints: bpftrace's default, perf's, or raw.
type StackMode uint8

const (
	StackBpftrace StackMode = iota
	StackPerf
	StackRaw
)

// Frame is one resolved stack frame. Sym is empty when the address could
// not be resolved (bpftrace then prints the address in hex).
type Frame struct {
	Addr   uint64
	Sym    string
	Offset uint64
	Module string // binary or shared object path, for perf mode's "(path)"
}

// Stack is a kstack or ustack value, frames innermost first, already cut to
// its limit.
type Stack struct {
	User   bool
	Mode   StackMode
	Frames []Frame
}

// Text is a value that was computed in user space and prints as a string:
// a symbol (ksym, usym, func), an address (ntop), a user name, a probe name,
// a strftime result, a MAC address, a cgroup path or an errno message. Kind
// says which, for renderers that style them (and for JSON, which prints
// some of them differently).
type Text struct {
	Kind TextKind
	S    string
	// Raw is the number the text was made from, where there is one
	// (the address of a symbol, the uid, the errno, the cgroup id, the
	// timestamp in ns); maps keyed by such values sort by it.
	Raw uint64
	// Format is set on a TextTimestamp (strftime()) that the runtime leaves
	// for the renderer to format: S is then empty, Raw holds the wall-clock
	// time in nanoseconds since the Unix epoch, and render applies Format
	// with C strftime rules plus bpftrace's %f (microseconds), in local
	// time. The runtime cannot import render, so this keeps one strftime.
	Format string
}

// TextKind says what a Text was made from.
type TextKind uint8

const (
	TextKSym TextKind = iota
	TextUSym
	TextInet
	TextUsername
	TextProbe
	TextTimestamp
	TextMacaddr
	TextCgroupPath
	TextStrerror
)

// Aggregations: the values of maps written by count(), sum(), and so on,
// already reduced across CPUs.

// Count is a count() state.
type Count struct{ N uint64 }

// Sum is a sum() state.
type Sum struct{ V int64 }

// Min is a min() state. Set is false while nothing has been recorded.
type Min struct {
	V   int64
	Set bool
}

// Max is a max() state.
type Max struct {
	V   int64
	Set bool
}

// Avg is an avg() state: it prints Total/Count, integer division.
type Avg struct {
	Count uint64
	Total int64
}

// Stats is a stats() state: count, average, total.
type Stats struct {
	Count uint64
	Total int64
}

// Hist is a hist() state with log2 buckets, in bpftrace's numbering:
// bucket 0 holds negative values, 1 holds 0, 2 holds 1, and bucket i ≥ 3
// holds [2^(i-2), 2^(i-1)). Buckets has 66 entries for the full 64-bit range
// (the behaviour of bpftrace ≥ 0.20; 0.17 capped at [2G, 4G)).
type Hist struct {
	Buckets []uint64
}

// Lhist is an lhist(n, min, max, step) state. Buckets[0] counts values below
// Min, Buckets[len-1] values at or above Max, and Buckets[i] for the others
// [Min+(i-1)*Step, Min+i*Step).
type Lhist struct {
	Min, Max, Step int64
	Buckets        []uint64
}

func (Int) isValue()     {}
func (Str) isValue()     {}
func (Buffer) isValue()  {}
func (Tuple) isValue()   {}
func (Record) isValue()  {}
func (Array) isValue()   {}
func (Pointer) isValue() {}
func (Stack) isValue()   {}
func (Text) isValue()    {}
func (Count) isValue()   {}
func (Sum) isValue()     {}
func (Min) isValue()     {}
func (Max) isValue()     {}
func (Avg) isValue()     {}
func (Stats) isValue()   {}
func (Hist) isValue()    {}
func (Lhist) isValue()   {}
