package render

import (
	"slices"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// StatsTopDivWarning is the warning bpftrace gives, at compile time, for
// print(@m, top, div) on a stats() map: stats maps always print in full.
const StatsTopDivWarning = "print()'s top and div arguments are ignored when used on stats() maps."

// PrintMapWarning returns StatsTopDivWarning when print(m, top, div)
// would ignore its arguments, and "" otherwise. The checker reports it with
// a position; render only knows the words.
func PrintMapWarning(m *value.Map, top, div uint64) string {
	if mapKind(m) == value.MapStats && (top != 0 || div != 0) {
		return StatsTopDivWarning
	}
	return ""
}

// MapText formats m as bpftrace 0.17 prints it for print(@m, top, div) and
// at exit (top and div 0), including the trailing newline(s):
//
//   - one "@name[key]: value" line per entry; count, sum, min, max and
//     plain maps end with a newline, avg and stats maps with one blank line
//     more;
//   - hist and lhist entries are "@name[key]: " (trailing space) and their
//     rows, each entry followed by a blank line;
//   - maps of stacks, ksym, usym and inet values join their entries with
//     nothing at all (bpftrace's delimiter quirk): a stack ends in a
//     newline anyway, but "@m[1]: 127.0.0.1@m[2]: 127.0.0.2" is real;
//   - an empty map prints a lone newline (two for avg and stats); a
//     zeroed hist entry prints its header and a blank line.
//
// top keeps the last top entries of the sorted order (ignored for stats);
// div divides count, sum, min, max, avg, integer and hist values (ignored
// for stats and lhist, as in 0.17).
func MapText(m *value.Map, top, div uint64) string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	writeMap(&b, m, top, div)
	return b.String()
}

func writeMap(b *strings.Builder, m *value.Map, top, div uint64) {
	kind := mapKind(m)
	if kind == value.MapStats {
		top, div = 0, 0
	}
	if kind == value.MapLhist {
		div = 0
	}
	es := TopEntries(SortedEntries(m), top)
	delim := "\n"
	if len(es) > 0 && joinsWithoutDelimiter(es[0].Value) {
		delim = ""
	}
	hist := kind == value.MapHist || kind == value.MapLhist
	for i, e := range es {
		if i > 0 {
			b.WriteString(delim)
		}
		b.WriteString(m.Name)
		b.WriteString(KeyText(e.Key))
		b.WriteString(": ")
		if hist {
			b.WriteByte('\n')
		}
		writeValue(b, e.Value, div)
	}
	b.WriteByte('\n')
	if kind == value.MapAvg || kind == value.MapStats {
		b.WriteByte('\n')
	}
}

// joinsWithoutDelimiter reports the value types whose maps bpftrace 0.17
// prints without a newline between entries.
func joinsWithoutDelimiter(v value.Value) bool {
	switch v := v.(type) {
	case value.Stack:
		return true
	case value.Text:
		return v.Kind == value.TextKSym || v.Kind == value.TextUSym || v.Kind == value.TextInet
	}
	return false
}

// SortMaps returns maps in the order bpftrace prints them at exit: by name,
// bytewise ("@" < "@A" < "@_" < "@a").
func SortMaps(maps []*value.Map) []*value.Map {
	out := slices.Clone(maps)
	slices.SortStableFunc(out, func(a, b *value.Map) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// MapsText prints every map, sorted by name, as SIGUSR1 does in 0.17 (and
// as the exit dump does after its two newlines).
func MapsText(maps []*value.Map) string {
	var b strings.Builder
	for _, m := range SortMaps(maps) {
		writeMap(&b, m, 0, 0)
	}
	return b.String()
}

// ExitText is what bpftrace prints on stdout when a program ends: two
// newlines, then every map sorted by name.
func ExitText(maps []*value.Map) string {
	return "\n\n" + MapsText(maps)
}

// AttachText is the "Attaching N probes..." line (singular for one).
func AttachText(n int) string {
	if n == 1 {
		return "Attaching 1 probe...\n"
	}
	return "Attaching " + itoa(int64(n)) + " probes...\n"
}
