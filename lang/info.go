package lang

// The entry points, implemented in parse.go and check.go:
//
//	func Parse(file string, src []byte, opts *ParseOptions) (*Program, ErrorList)
//	func Check(prog *Program, cfg *Config) (*Info, ErrorList)
//
// Parse returns a nil *Program only when the list holds a syntax error.
// Check annotates prog in place and returns every diagnostic it found; Info
// is usable (for completion, say) even when there are errors, but code must
// only be generated from a program whose list HasErrors() is false.

// ParseOptions configure the parser.
type ParseOptions struct {
	// Cell allows statements outside any probe (a notebook cell's
	// "print(@lat)" or bare "@lat").
	Cell bool
	// Params are the positional parameters $1..$N; they may appear in
	// attach points, where they are substituted as text.
	Params []string
	// Defines are extra macros, as with `-D NAME=VALUE` (BPFTRACE_HAVE_BTF
	// is added by Check's TypeSource, not here).
	Defines map[string]string
	// HaveBTF defines BPFTRACE_HAVE_BTF for #ifdef.
	HaveBTF bool
	// PID is the -p process, 0 if none. With it, uprobe and usdt attach
	// points may leave out the binary ("uprobe:func", "usdt:probe"), which
	// the runtime then takes from the process, as bpftrace does.
	PID int
	// ReadInclude, when set, reads the file an #include line names, so
	// that its macros, struct, union and enum definitions and typedefs
	// become part of the program. lang does no file I/O: the runtime
	// knows the search path. path and system are the line's ("x.h" and
	// false for #include "x.h"); from names the file the line is in (the
	// program's file name, or a header's name as ReadInclude returned
	// it), for the directory "..." searches first. It returns the name
	// to give the file in diagnostics and its text, or ok false to leave
	// the line unread (recorded in Program.Includes with a nil Header).
	ReadInclude func(path string, system bool, from string) (name string, src []byte, ok bool)
	// IncludeFiles are read before the program as if it began with
	// #include "FILE" for each, as bpftrace's --include (clang's
	// -include) does. Each goes through ReadInclude; one it does not
	// read is left to the caller, which knows whether it exists.
	IncludeFiles []string
}

// Config configures the checker.
type Config struct {
	// Types answers questions about the running system. When nil, anything
	// that needs it (args->field, struct fields, wildcard expansion) is an
	// error saying kernel type information is unavailable.
	Types TypeSource
	// Session holds the maps earlier cells created, by name, with their
	// fixed types. A use that conflicts is an error naming MapInfo.Origin.
	Session map[string]*MapInfo
	// Cell names the source in messages about map origins ("cell[3]").
	Cell string
	// Params are the positional parameters $1..$N.
	Params []string
	// Unsafe allows system(), signal() and override().
	Unsafe bool
	// StrLen is the default string buffer size (BPFTRACE_STRLEN); 0 means 64.
	StrLen int
	// HaveCmd is set when -c gives a command (cpid is then allowed);
	// PID is the -p process, 0 if none.
	HaveCmd bool
	PID     int
}

// Info is what the checker learned about a program, for code generation,
// for the session, and for completion and inspection.
type Info struct {
	// Maps are every map the program uses, by name ("@x", "@").
	Maps map[string]*MapInfo
	// Vars are the scratch variables of each probe (and of the top-level
	// statements, under the nil key), with their types.
	Vars map[*Probe]map[string]*Type
	// Formats are the parsed format strings of printf, system and errorf
	// style calls, keyed by the call.
	Formats map[*CallExpr]*Format
	// StrLen is the string size in effect.
	StrLen int

	// Consts holds the value of every integer expression the checker could
	// evaluate at compile time: literals, negated literals, well-known and
	// enum constants, sizeof/offsetof, positional parameters used as
	// numbers, $#, signal names given to signal(), and constant
	// arithmetic on these. Code generation may emit them as immediates.
	Consts map[Expr]int64
	// StrConsts holds compile-time strings that are not string literals in
	// the source: a positional parameter used as a string ($1 given "abc",
	// or str($1)) maps to its text.
	StrConsts map[Expr]string
}

// MapInfo is a map's fixed type. A multi-key map @m[a, b] has one KeyParts
// entry per key expression and Key is their tuple; a scalar map has no key
// parts and Key nil.
type MapInfo struct {
	Name     string
	KeyParts []*Type
	Key      *Type
	Value    *Type
	// Origin is where the map got its types: the cell (Config.Cell, or the
	// file) and the position of the first use that fixed them.
	Origin    string
	OriginPos Pos
	// Read and Written report what this program does with the map.
	Read, Written bool
}

// Format is a parsed printf-style format string. The checker fills it;
// code generation packs the arguments; the runtime turns it into a
// value.Format for rendering.
type Format struct {
	Source   string // after escape decoding
	Segments []FormatSegment
}

// FormatSegment is literal text followed by at most one conversion.
type FormatSegment struct {
	Literal string
	Spec    *FormatSpec // nil for the trailing literal
}

// FormatSpec is one conversion, in bpftrace 0.17's grammar:
// %-?[0-9]*(\.[0-9]+)?(s|r|rx|rh|c|(hh|h|l|ll|j|z|t)?(d|u|o|x|X|p)).
type FormatSpec struct {
	Flags     string // "-" or "" ("0" is part of Width's digits in C; kept here)
	Width     int
	Precision int // -1 when absent
	Length    string
	Verb      string
	ArgType   *Type // the type of the argument it consumes, after checking
	// Hidden marks a conversion whose '%' snprintf pairs with a '%' before
	// it ("%%d"): it still consumes an argument, as bpftrace counts it, but
	// prints nothing of it; the segment's Literal already holds its text.
	Hidden bool
}
