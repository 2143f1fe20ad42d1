package render

import (
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// Printf formats a printf() call as bpftrace 0.17 does, which is C
// snprintf applied to each piece of the format with one argument:
//
//   - %d %i-less integer verbs (d u o x X) without a length modifier read
//     the low 32 bits of the argument, so printf("%d", 4294967301) prints
//     5; hh and h read 8 and 16 bits; l, ll, j, z and t read all 64;
//   - %c prints the low byte; %p prints 0x-hex, or "(nil)" for zero;
//   - %s prints strings and everything that prints as text (symbols,
//     stacks, addresses, user names, tuples);
//   - %r prints a buffer with non-printable bytes as \xNN, %rx every byte
//     as \xNN, %rh as space-separated hex pairs;
//   - flags (- 0 + space #), width and precision follow C. Each piece is
//     cut at a NUL byte, as bpftrace prints snprintf's buffer as a C
//     string: printf("a%cb", 0) prints "ab".
//
// Literal text is printed as the parser left it (bpftrace's "%%" quirks
// are already applied there).
func Printf(f *value.Format, args []value.Value) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, seg := range f.Segments {
		if seg.Spec == nil {
			b.WriteString(seg.Literal)
			continue
		}
		var arg value.Value
		if n < len(args) {
			arg = args[n]
		}
		n++
		piece := seg.Literal + FormatArg(seg.Spec, arg)
		if i := strings.IndexByte(piece, 0); i >= 0 {
			piece = piece[:i]
		}
		b.WriteString(piece)
	}
	return b.String()
}

// FormatArg formats one argument by one conversion. A NUL byte from %c of
// zero stays in the result; Printf cuts the piece there.
func FormatArg(s *value.Spec, arg value.Value) string {
	left := strings.Contains(s.Flags, "-")
	switch s.Verb {
	case "s":
		str := argString(arg)
		if s.Precision >= 0 && s.Precision < len(str) {
			str = str[:s.Precision]
		}
		return pad(str, s.Width, left, ' ')
	case "r", "rx", "rh":
		if s.Width != 0 || s.Precision >= 0 || s.Flags != "" {
			// bpftrace only rewrites a bare %r/%rx/%rh to %s; with a
			// width or precision, C's printf sees an unknown conversion
			// and prints it as written.
			return specSource(s)
		}
		p := argBytes(arg)
		var str string
		switch s.Verb {
		case "r":
			str = escapeBuffer(p)
		case "rx":
			str = hexBuffer(p)
		default:
			str = hexBytes(p)
		}
		if s.Precision >= 0 && s.Precision < len(str) {
			str = str[:s.Precision]
		}
		return pad(str, s.Width, left, ' ')
	case "c":
		return pad(string([]byte{byte(argUint(arg))}), s.Width, left, ' ')
	case "p":
		v := argUint(arg)
		if v == 0 {
			return pad("(nil)", s.Width, left, ' ')
		}
		return formatInt(s, v, false, 16, false, "0x")
	}
	bits := 32
	switch s.Length {
	case "hh":
		bits = 8
	case "h":
		bits = 16
	case "l", "ll", "j", "z", "t":
		bits = 64
	}
	v := argUint(arg)
	if bits < 64 {
		v &= 1<<bits - 1
	}
	switch s.Verb {
	case "d", "i":
		sv := int64(v)
		if bits < 64 && v&(1<<(bits-1)) != 0 {
			sv = int64(v) - 1<<bits
		}
		if sv < 0 {
			return formatInt(s, uint64(-sv), true, 10, false, "")
		}
		return formatInt(s, uint64(sv), false, 10, false, "")
	case "u":
		return formatInt(s, v, false, 10, false, "")
	case "o":
		return formatInt(s, v, false, 8, false, "")
	case "x":
		return formatInt(s, v, false, 16, false, "")
	case "X":
		return formatInt(s, v, false, 16, true, "")
	}
	return specSource(s)
}

// specSource rebuilds the conversion as written in the format.
func specSource(s *value.Spec) string {
	var b strings.Builder
	b.WriteByte('%')
	if strings.Contains(s.Flags, "-") {
		b.WriteByte('-')
	}
	for _, f := range s.Flags {
		if f != '-' && f != '0' {
			b.WriteRune(f)
		}
	}
	if strings.Contains(s.Flags, "0") {
		b.WriteByte('0')
	}
	if s.Width > 0 {
		b.WriteString(strconv.Itoa(s.Width))
	}
	if s.Precision >= 0 {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(s.Precision))
	}
	b.WriteString(s.Length)
	b.WriteString(s.Verb)
	return b.String()
}

// formatInt lays out a C integer conversion of magnitude mag. prefix is
// forced ("0x" for %p); the # flag adds 0x/0X to non-zero hex and a
// leading 0 to octal.
func formatInt(s *value.Spec, mag uint64, neg bool, base int, upper bool, prefix string) string {
	digits := strconv.FormatUint(mag, base)
	if upper {
		digits = strings.ToUpper(digits)
	}
	if s.Precision == 0 && mag == 0 {
		digits = ""
	}
	if s.Precision > len(digits) {
		digits = strings.Repeat("0", s.Precision-len(digits)) + digits
	}
	alt := strings.Contains(s.Flags, "#")
	if alt {
		switch {
		case base == 16 && mag != 0 && prefix == "":
			prefix = "0x"
			if upper {
				prefix = "0X"
			}
		case base == 8 && !strings.HasPrefix(digits, "0"):
			digits = "0" + digits
		}
	}
	sign := ""
	switch {
	case neg:
		sign = "-"
	case base == 10 && strings.Contains(s.Flags, "+"):
		sign = "+"
	case base == 10 && strings.Contains(s.Flags, " "):
		sign = " "
	}
	left := strings.Contains(s.Flags, "-")
	zero := strings.Contains(s.Flags, "0") && !left && s.Precision < 0
	head := sign + prefix
	if zero && len(head)+len(digits) < s.Width {
		digits = strings.Repeat("0", s.Width-len(head)-len(digits)) + digits
	}
	return pad(head+digits, s.Width, left, ' ')
}

// pad pads s to width with c, on the right when left-justified.
func pad(s string, width int, left bool, c byte) string {
	if width <= len(s) {
		return s
	}
	p := strings.Repeat(string(c), width-len(s))
	if left {
		return s + p
	}
	return p + s
}

// argString is the text %s prints for an argument.
func argString(v value.Value) string {
	switch v := v.(type) {
	case value.Str:
		return v.S
	case value.Buffer:
		return escapeBuffer(v.B)
	case nil:
		return ""
	}
	return ValueText(v)
}

// argBytes is the byte content %r prints.
func argBytes(v value.Value) []byte {
	switch v := v.(type) {
	case value.Buffer:
		return v.B
	case value.Str:
		return []byte(v.S)
	}
	return []byte(argString(v))
}

// argUint is the 64-bit register value an integer conversion reads.
func argUint(v value.Value) uint64 {
	switch v := v.(type) {
	case value.Int:
		return v.Bits
	case value.Pointer:
		return v.Addr
	case value.Count:
		return v.N
	case value.Sum:
		return uint64(v.V)
	case value.Min:
		return uint64(v.V)
	case value.Max:
		return uint64(v.V)
	case value.Avg:
		return uint64(average(v.Total, v.Count))
	case value.Text:
		return v.Raw
	}
	return 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
