package render

import (
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// Indentation of stack frames: print()/printf() and map values use 8
// spaces, stacks used as map keys use 4.
const (
	stackIndentValue = 8
	stackIndentKey   = 4
)

// ValueText formats v as print(v) shows it, without the newline print()
// adds. Strings are raw, tuples are "(1, two, -3)", stacks start with a
// newline and indent frames by 8 spaces.
func ValueText(v value.Value) string {
	var b strings.Builder
	writeValue(&b, v, 1)
	return b.String()
}

// KeyText formats the key of a map entry as bpftrace prints it after the
// map name: "" for a scalar map, "[k]" or "[k1, k2]" otherwise.
func KeyText(key []value.Value) string {
	if len(key) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, k := range key {
		if i > 0 {
			b.WriteString(", ")
		}
		writeKey(&b, k)
	}
	b.WriteByte(']')
	return b.String()
}

// KeyPartText formats one part of a map key (ints signed, stacks with a
// 4-space indent, records as {.a=1,.b=2}).
func KeyPartText(k value.Value) string {
	var b strings.Builder
	writeKey(&b, k)
	return b.String()
}

// writeValue formats a value in value position. div divides numeric
// aggregation values (print(@m, top, div)); 0 and 1 mean no division.
func writeValue(b *strings.Builder, v value.Value, div uint64) {
	if div == 0 {
		div = 1
	}
	switch v := v.(type) {
	case value.Int:
		b.WriteString(intValueText(v, div))
	case value.Str:
		b.WriteString(v.S)
	case value.Buffer:
		b.WriteString(escapeBuffer(v.B))
	case value.Tuple:
		b.WriteByte('(')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e, 1)
		}
		b.WriteByte(')')
	case value.Record:
		if len(v.Fields) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('.')
			b.WriteString(f.Name)
			b.WriteString(" = ")
			writeValue(b, f.Value, 1)
		}
		b.WriteString(" }")
	case value.Array:
		b.WriteByte('[')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e, 1)
		}
		b.WriteByte(']')
	case value.Pointer:
		// bpftrace 0.17 prints pointer map values as signed decimal
		// (@q = (int8*)1234 prints "@q: 1234"); as keys they are hex.
		b.WriteString(strconv.FormatInt(int64(v.Addr)/int64(div), 10))
	case value.Stack:
		writeStack(b, v, stackIndentValue)
	case value.Text:
		b.WriteString(textString(v))
	case value.Count:
		b.WriteString(strconv.FormatUint(v.N/div, 10))
	case value.Sum:
		b.WriteString(strconv.FormatInt(v.V/int64(div), 10))
	case value.Min:
		b.WriteString(strconv.FormatInt(v.V/int64(div), 10))
	case value.Max:
		b.WriteString(strconv.FormatInt(v.V/int64(div), 10))
	case value.Avg:
		b.WriteString(strconv.FormatInt(average(v.Total, v.Count)/int64(div), 10))
	case value.Stats:
		b.WriteString("count ")
		b.WriteString(strconv.FormatUint(v.Count, 10))
		b.WriteString(", average ")
		b.WriteString(strconv.FormatInt(average(v.Total, v.Count), 10))
		b.WriteString(", total ")
		b.WriteString(strconv.FormatInt(v.Total, 10))
	case value.Hist:
		b.WriteString(HistText(v, div))
	case value.Lhist:
		b.WriteString(LhistText(v))
	case nil:
	}
}

// average is bpftrace's integer average: 0 for no samples, else the
// quotient truncated toward zero.
func average(total int64, count uint64) int64 {
	if count == 0 {
		return 0
	}
	return total / int64(count)
}

// intValueText prints an integer value according to its signedness. The
// value's bits are already extended to 64, so one path serves all sizes;
// division follows C's rules for the operand types (signed truncates toward
// zero).
func intValueText(v value.Int, div uint64) string {
	if v.Signed {
		return strconv.FormatInt(int64(v.Bits)/int64(div), 10)
	}
	return strconv.FormatUint(truncUnsigned(v)/div, 10)
}

// truncUnsigned returns the value cut to its size, as an unsigned number.
func truncUnsigned(v value.Int) uint64 {
	switch v.Size {
	case 1:
		return v.Bits & 0xff
	case 2:
		return v.Bits & 0xffff
	case 4:
		return v.Bits & 0xffffffff
	}
	return v.Bits
}

// truncSigned returns the value cut to its size and sign-extended, which
// is how bpftrace reads integer map keys regardless of their signedness.
func truncSigned(v value.Int) int64 {
	switch v.Size {
	case 1:
		return int64(int8(v.Bits))
	case 2:
		return int64(int16(v.Bits))
	case 4:
		return int64(int32(v.Bits))
	}
	return int64(v.Bits)
}

// writeKey formats a value in map-key position. Integer keys print
// signed whatever their type; stacks indent by 4; records are compact.
func writeKey(b *strings.Builder, v value.Value) {
	switch v := v.(type) {
	case value.Int:
		b.WriteString(strconv.FormatInt(truncSigned(v), 10))
	case value.Stack:
		writeStack(b, v, stackIndentKey)
	case value.Pointer:
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(v.Addr, 16))
	case value.Record:
		b.WriteByte('{')
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('.')
			b.WriteString(f.Name)
			b.WriteByte('=')
			writeKey(b, f.Value)
		}
		b.WriteByte('}')
	case value.Array:
		b.WriteByte('[')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			writeKey(b, e)
		}
		b.WriteByte(']')
	case value.Tuple:
		b.WriteByte('(')
		for i, e := range v.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeKey(b, e)
		}
		b.WriteByte(')')
	default:
		writeValue(b, v, 1)
	}
}

// StackText formats a stack as print() shows it (leading newline, one
// frame per line). indent is the number of spaces before each frame in
// bpftrace mode: 8 for values, 4 for map keys.
func StackText(s value.Stack, indent int) string {
	var b strings.Builder
	writeStack(&b, s, indent)
	return b.String()
}

func writeStack(b *strings.Builder, s value.Stack, indent int) {
	b.WriteByte('\n')
	for _, f := range s.Frames {
		switch s.Mode {
		case value.StackRaw:
			b.WriteString(strconv.FormatUint(f.Addr, 16))
		case value.StackPerf:
			b.WriteByte('\t')
			b.WriteString(strconv.FormatUint(f.Addr, 16))
			b.WriteByte(' ')
			b.WriteString(FrameText(f, s.User, true))
		default:
			for range indent {
				b.WriteByte(' ')
			}
			b.WriteString(FrameText(f, s.User, false))
		}
		b.WriteByte('\n')
	}
}

// FrameText formats one frame: "sym+off", or the address in hex when it
// was not resolved. perf mode adds " (module)" to user frames, and
// " ([unknown])" when there is no module.
func FrameText(f value.Frame, user, perf bool) string {
	var s string
	if f.Sym == "" {
		s = hexAddr(f.Addr)
		if perf && user {
			s += " ([unknown])"
		}
		return s
	}
	s = f.Sym + "+" + strconv.FormatUint(f.Offset, 10)
	if perf && user {
		mod := f.Module
		if mod == "" {
			mod = "[unknown]"
		}
		s += " (" + mod + ")"
	}
	return s
}

// hexAddr prints an address as C++'s ostream prints a void*: "0x1f", and
// "0" for the null pointer.
func hexAddr(a uint64) string {
	if a == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(a, 16)
}

// textString returns the text of a Text value. A timestamp the runtime
// left unformatted (S empty, Format set) is formatted here.
func textString(t value.Text) string {
	if t.Kind == value.TextTimestamp && t.S == "" {
		return Strftime(t.Format, timeFromNanos(t.Raw))
	}
	return t.S
}

// escapeBuffer prints bytes the way bpftrace prints buf() values and %r:
// printable ASCII as is, everything else as \xNN.
func escapeBuffer(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		if c >= 32 && c <= 126 {
			b.WriteByte(c)
		} else {
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// hexBuffer is %rx: every byte as \xNN.
func hexBuffer(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		b.WriteString(`\x`)
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// hexBytes is %rh: bytes as two hex digits separated by spaces.
func hexBytes(p []byte) string {
	var b strings.Builder
	for i, c := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"
