package lang

import (
	"fmt"
	"strings"
	"testing"
)

// segs renders a parsed format compactly: each segment as
// literal⟨spec⟩, a hidden spec as ⟨!spec⟩.
func segs(f *Format) string {
	var b strings.Builder
	for _, s := range f.Segments {
		fmt.Fprintf(&b, "%q", s.Literal)
		if sp := s.Spec; sp != nil {
			bang := ""
			if sp.Hidden {
				bang = "!"
			}
			fmt.Fprintf(&b, "<%s%s|%d|%d|%s%s>", bang, sp.Flags, sp.Width, sp.Precision, sp.Length, sp.Verb)
		}
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"hello\n", `"hello\n"`},
		{"", `""`},
		{"%d\n", `""<|0|-1|d> "\n"`},
		{"pid %d comm %s\n", `"pid "<|0|-1|d> " comm "<|0|-1|s> "\n"`},
		{"%-5d|%05d|%5.2s|", `""<-|5|-1|d> "|"<0|5|-1|d> "|"<|5|2|s> "|"`},
		{"%-08.3lld", `""<-0|8|3|lld>`},
		{"%lu %llx %hhd %hX %jd %zu %td", `""<|0|-1|lu> " "<|0|-1|llx> " "<|0|-1|hhd> " "<|0|-1|hX> " "<|0|-1|jd> " "<|0|-1|zu> " "<|0|-1|td>`},
		{"%r %rx %rh", `""<|0|-1|r> " "<|0|-1|rx> " "<|0|-1|rh>`},
		{"%c%p%o%x%X%u", `""<|0|-1|c> ""<|0|-1|p> ""<|0|-1|o> ""<|0|-1|x> ""<|0|-1|X> ""<|0|-1|u>`},
		// "%%" collapses only in text a conversion follows.
		{"100%%\n", `"100%%\n"`},
		{"%d %%\n", `""<|0|-1|d> " %%\n"`},
		{"a%%b %d|%%\n", `"a%b "<|0|-1|d> "|%%\n"`},
		{"%%%d", `"%"<|0|-1|d>`},
		// "%%d": the search finds "%d", snprintf prints "%d".
		{"%%d|\n", `"%d"<!|0|-1|d> "|\n"`},
		{"x%%5ld", `"x%5ld"<!|5|-1|ld>`},
		// Not conversions: printed as text, no argument.
		{"%i|%d\n", `"%i|"<|0|-1|d> "\n"`},
		{"%f\n", `"%f\n"`},
		{"%5", `"%5"`},
		{"%.d", `"%.d"`},
		{"%-", `"%-"`},
		{"%l", `"%l"`},
		{"%hs", `"%hs"`},
		{"%", `"%"`},
		{"%.3s", `""<|0|3|s>`},
	}
	for _, tt := range tests {
		if got := segs(ParseFormat(tt.in)); got != tt.want {
			t.Errorf("ParseFormat(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestFormatArgsError(t *testing.T) {
	str := StringType(16)
	i64 := TypeInt64
	tests := []struct {
		fn, format string
		args       []*Type
		want       string
	}{
		{"printf", "%d %s\n", []*Type{i64, str}, ""},
		{"printf", "%d\n", nil, "printf: Not enough arguments for format string (0 supplied, 1 expected)"},
		{"printf", "x\n", []*Type{i64}, "printf: Too many arguments for format string (1 supplied, 0 expected)"},
		{"printf", "%f\n", []*Type{i64}, "printf: Too many arguments for format string (1 supplied, 0 expected)"},
		{"printf", "%s\n", []*Type{i64}, "printf: %s specifier expects a value of type string (integer supplied)"},
		{"printf", "%d\n", []*Type{str}, "printf: %d specifier expects a value of type integer (string supplied)"},
		{"printf", "%lld\n", []*Type{str}, "printf: %lld specifier expects a value of type integer (string supplied)"},
		{"system", "%d\n", []*Type{{Kind: KindCount, Size: 8}}, "system: %d specifier expects a value of type integer (count supplied)"},
		{"printf", "%r\n", []*Type{str}, "printf: %r specifier expects a value of type buffer (string supplied)"},
		{"printf", "%rx\n", []*Type{{Kind: KindBuffer, Size: 4}}, ""},
		// Values that print as text take %s; pointers take integer verbs.
		{"printf", "%s %s %s %s %s\n", []*Type{{Kind: KindStack}, {Kind: KindKSym}, {Kind: KindInet}, {Kind: KindUsername}, {Kind: KindProbe}}, ""},
		{"printf", "%p %x\n", []*Type{PointerTo(nil, AddrKernel), PointerTo(TypeInt32, AddrUser)}, ""},
		{"printf", "%d\n", []*Type{{Kind: KindHist}}, "printf: %d specifier expects a value of type integer (hist supplied)"},
		{"printf", "%%d\n", []*Type{i64}, ""},
		{"debugf", "%d %d %d %d", []*Type{i64, i64, i64, i64}, "debugf: Cannot use more than 3 conversion specifiers"},
		{"debugf", "%X", []*Type{i64}, "debugf: Unknown format string token: %X"},
		{"debugf", "%s %llu", []*Type{str, i64}, ""},
	}
	for _, tt := range tests {
		if got := formatArgsError(tt.fn, ParseFormat(tt.format), tt.args); got != tt.want {
			t.Errorf("%s(%q): got %q, want %q", tt.fn, tt.format, got, tt.want)
		}
	}
}
