package lang

import (
	"fmt"
	"strings"
)

// printf-style format strings, by bpftrace 0.17's rules.
//
// bpftrace 0.17 finds conversions with one regular expression,
//
//	%-?[0-9]*(\.[0-9]+)?(s|r|rx|rh|c|(hh|h|l|ll|j|z|t)?(d|u|o|x|X|p))
//
// searched left to right through the format. The text up to and including
// each conversion is handed to C's snprintf with that one argument, and the
// text after the last conversion is printed as it is. Three quirks follow,
// and ParseFormat reproduces them so the renderer prints what bpftrace
// prints:
//
//   - "%%" becomes "%" only in text that precedes a conversion (snprintf
//     sees it); after the last conversion, and in a format with no
//     conversions at all, "%%" is printed as two characters.
//   - The search does not know "%%": in "%%d" it finds the conversion "%d",
//     which counts as one (and takes an argument), but snprintf reads
//     "%%" "d" and prints "%d" without printing the argument. Such a
//     conversion is marked Hidden.
//   - Anything else after a '%' that is not a conversion ("%i", "%f", "%5")
//     is not a conversion: it takes no argument and is printed as text.
//
// Flags are only '-' and a leading '0' of the width; there is no '*'.

// ParseFormat splits a format string (escapes already decoded) into
// literal text and conversions.
func ParseFormat(src string) *Format {
	f := &Format{Source: src}
	last := 0
	for i := 0; i < len(src); i++ {
		if src[i] != '%' {
			continue
		}
		spec, n := matchConversion(src[i:])
		if spec == nil {
			continue
		}
		raw := src[last:i]
		// The length of the run of '%' that ends raw decides whether
		// snprintf pairs this conversion's '%' with the one before it.
		run := 0
		for run < len(raw) && raw[len(raw)-1-run] == '%' {
			run++
		}
		seg := FormatSegment{Spec: spec}
		if run%2 == 1 {
			spec.Hidden = true
			seg.Literal = collapsePercents(raw[:len(raw)-1]) + "%" + src[i+1:i+n]
		} else {
			seg.Literal = collapsePercents(raw)
		}
		f.Segments = append(f.Segments, seg)
		last = i + n
		i = last - 1
	}
	if last < len(src) || len(f.Segments) == 0 {
		f.Segments = append(f.Segments, FormatSegment{Literal: src[last:]})
	}
	return f
}

// Specs returns the conversions of f in order, one per argument.
func (f *Format) Specs() []*FormatSpec {
	var specs []*FormatSpec
	for _, s := range f.Segments {
		if s.Spec != nil {
			specs = append(specs, s.Spec)
		}
	}
	return specs
}

// collapsePercents does what snprintf does to "%%" in text it formats.
func collapsePercents(s string) string {
	if !strings.Contains(s, "%%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '%' && i+1 < len(s) && s[i+1] == '%' {
			i++
		}
	}
	return b.String()
}

// matchConversion matches bpftrace's conversion pattern at the start of s
// (which starts with '%'). It returns the conversion and its length, or
// nil.
func matchConversion(s string) (*FormatSpec, int) {
	spec := &FormatSpec{Precision: -1}
	i := 1
	if i < len(s) && s[i] == '-' {
		spec.Flags = "-"
		i++
	}
	start := i
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	if i > start {
		if s[start] == '0' {
			spec.Flags += "0"
		}
		spec.Width = atoiSat(s[start:i])
	}
	if i+1 < len(s) && s[i] == '.' && isASCIIDigit(s[i+1]) {
		j := i + 1
		for j < len(s) && isASCIIDigit(s[j]) {
			j++
		}
		spec.Precision = atoiSat(s[i+1 : j])
		i = j
	}
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "rx"), strings.HasPrefix(rest, "rh"):
		spec.Verb = rest[:2]
		return spec, i + 2
	case strings.HasPrefix(rest, "s"), strings.HasPrefix(rest, "r"), strings.HasPrefix(rest, "c"):
		spec.Verb = rest[:1]
		return spec, i + 1
	}
	for _, l := range [...]string{"hh", "ll", "h", "l", "j", "z", "t", ""} {
		if !strings.HasPrefix(rest, l) || len(rest) <= len(l) {
			continue
		}
		if strings.IndexByte("duoxXp", rest[len(l)]) >= 0 {
			spec.Length = l
			spec.Verb = rest[len(l) : len(l)+1]
			return spec, i + len(l) + 1
		}
	}
	return nil, 0
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoiSat converts a run of digits, saturating instead of overflowing.
func atoiSat(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if n > 1<<30 {
			return 1 << 30
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// Token is the conversion without flags, width and precision, as
// bpftrace's messages name it: "d", "lld", "rx".
func (s *FormatSpec) Token() string { return s.Length + s.Verb }

// wantClass is the class of value a conversion takes: "string",
// "buffer" or "integer".
func (s *FormatSpec) wantClass() string {
	switch s.Verb {
	case "s":
		return "string"
	case "r", "rx", "rh":
		return "buffer"
	}
	return "integer"
}

// printkTokens are the conversions bpf_trace_printk (debugf) accepts.
var printkTokens = map[string]bool{
	"d": true, "u": true, "x": true, "ld": true, "lu": true, "lx": true,
	"lld": true, "llu": true, "llx": true, "p": true, "s": true,
}

// printkMaxArgs is bpf_trace_printk's limit on conversions.
const printkMaxArgs = 3

// formatArgsError checks the arguments of a printf-like call against its
// format, as bpftrace 0.17 does: first the count, then each argument's
// class against its conversion, stopping at the first mismatch. It returns
// bpftrace's message, or "".
func formatArgsError(fn string, f *Format, args []*Type) string {
	specs := f.Specs()
	switch {
	case len(args) < len(specs):
		return fmt.Sprintf("%s: Not enough arguments for format string (%d supplied, %d expected)", fn, len(args), len(specs))
	case len(args) > len(specs):
		return fmt.Sprintf("%s: Too many arguments for format string (%d supplied, %d expected)", fn, len(args), len(specs))
	case fn == "debugf" && len(args) > printkMaxArgs:
		return fmt.Sprintf("%s: Cannot use more than %d conversion specifiers", fn, printkMaxArgs)
	}
	for i, spec := range specs {
		if fn == "debugf" && !printkTokens[spec.Token()] {
			return fmt.Sprintf("%s: Unknown format string token: %%%s", fn, spec.Token())
		}
		if args[i] == nil || args[i].Kind == KindInvalid {
			continue // already reported
		}
		have := printClass(args[i])
		if want := spec.wantClass(); have != want {
			return fmt.Sprintf("%s: %%%s specifier expects a value of type %s (%s supplied)", fn, spec.Token(), want, have)
		}
	}
	return ""
}

// printClass is the class a value has for a format conversion: values that
// print as text (symbols, stacks, addresses, names) are strings; pointers
// are integers.
func printClass(t *Type) string {
	switch t.Kind {
	case KindKSym, KindUSym, KindProbe, KindUsername, KindStack, KindInet,
		KindTimestamp, KindMacaddr, KindCgroupPath, KindStrerror:
		return "string"
	case KindPointer:
		return "integer"
	}
	return kindClass(t)
}
