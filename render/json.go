package render

import (
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// The -f json output of bpftrace 0.17 is NDJSON: one
// {"type": ..., "data": ...} object per line, with a space after every
// colon and comma of the envelope. The functions here write exactly that.
//
// Two deliberate differences from 0.17, both fixes of output that is not
// JSON at all: strerror(), strftime(), macaddr() and cgroup_path() values
// are quoted strings (0.17 printed them bare; bpftrace#2920, fixed by
// PR #3381), and bytes ≥ 0x80 pass through unchanged (0.17 escaped them
// as "\uffffffc3" because its char is signed). Hist buckets above [2G, 4G)
// carry their true 64-bit bounds.

// MapJSON formats m for -f json, as print(@m, top, div) and the exit dump
// do: one line with its newline, or "" for an empty map (0.17 prints
// nothing for those). count, sum, min, max and plain maps are type "map";
// hist and lhist "hist"; avg and stats "stats" (avg with a bare number).
func MapJSON(m *value.Map, top, div uint64) string {
	if len(m.Entries) == 0 {
		return ""
	}
	kind := mapKind(m)
	if kind == value.MapStats {
		top, div = 0, 0
	}
	if kind == value.MapLhist {
		div = 0
	}
	typ := "map"
	switch kind {
	case value.MapHist, value.MapLhist:
		typ = "hist"
	case value.MapAvg, value.MapStats:
		typ = "stats"
	}
	var b strings.Builder
	b.WriteString(`{"type": "`)
	b.WriteString(typ)
	b.WriteString(`", "data": {`)
	writeJSONString(&b, m.Name)
	b.WriteString(": ")
	b.WriteString(mapDataJSON(m, top, div))
	b.WriteString("}}\n")
	return b.String()
}

// mapDataJSON is the value of the map's name in the data object: the
// scalar's value, or an object from joined keys to values.
func mapDataJSON(m *value.Map, top, div uint64) string {
	es := TopEntries(SortedEntries(m), top)
	keyed := m.Keyed || (len(es) > 0 && len(es[0].Key) > 0)
	var b strings.Builder
	if keyed {
		b.WriteByte('{')
	}
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		if keyed {
			writeJSONString(&b, JSONKey(e.Key))
			b.WriteString(": ")
		}
		writeJSONValue(&b, e.Value, div)
	}
	if keyed {
		b.WriteByte('}')
	}
	return b.String()
}

// JSONKey is the string a map key becomes in JSON: its parts as text,
// joined by "," (no space).
func JSONKey(key []value.Value) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = KeyPartText(k)
	}
	return strings.Join(parts, ",")
}

// ValueJSON formats a value as the data of a {"type": "value"} line:
// numbers bare, text quoted, tuples and arrays as arrays.
func ValueJSON(v value.Value) string {
	var b strings.Builder
	writeJSONValue(&b, v, 1)
	return b.String()
}

// writeJSONArray writes elems as a JSON array with no spaces. JSON has no
// tuples, so bpftrace writes a tuple exactly as it writes an array: [1,"a"].
func writeJSONArray(b *strings.Builder, elems []value.Value) {
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONValue(b, e, 1)
	}
	b.WriteByte(']')
}

func writeJSONValue(b *strings.Builder, v value.Value, div uint64) {
	if div == 0 {
		div = 1
	}
	switch v := v.(type) {
	case value.Str, value.Buffer, value.Stack, value.Text:
		writeJSONString(b, ValueText(v))
	case value.Tuple:
		writeJSONArray(b, v.Elems)
	case value.Array:
		writeJSONArray(b, v.Elems)
	case value.Record:
		// bpftrace 0.17 pads a struct's braces: { "m": 2, "n": 3 }.
		b.WriteString("{ ")
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, f.Name)
			b.WriteString(": ")
			writeJSONValue(b, f.Value, 1)
		}
		b.WriteString(" }")
	case value.Stats:
		b.WriteString(`{"count": `)
		b.WriteString(strconv.FormatUint(v.Count, 10))
		b.WriteString(`, "average": `)
		b.WriteString(strconv.FormatInt(average(v.Total, v.Count), 10))
		b.WriteString(`, "total": `)
		b.WriteString(strconv.FormatInt(v.Total, 10))
		b.WriteByte('}')
	case value.Hist:
		writeHistJSON(b, v, div)
	case value.Lhist:
		writeLhistJSON(b, v)
	case nil:
		b.WriteString("null")
	default:
		writeValue(b, v, div)
	}
}

// writeHistJSON writes the non-empty range of a hist as objects with
// inclusive bounds: the negative bucket has only "max": -1.
func writeHistJSON(b *strings.Builder, h value.Hist, div uint64) {
	lo, hi, ok := BucketRange(h.Buckets)
	b.WriteByte('[')
	if ok {
		for i := lo; i <= hi; i++ {
			if i > lo {
				b.WriteString(", ")
			}
			b.WriteByte('{')
			if i == 0 {
				b.WriteString(`"max": -1, `)
			} else {
				min, max, _ := HistBounds(i)
				b.WriteString(`"min": `)
				b.WriteString(strconv.FormatUint(min, 10))
				b.WriteString(`, "max": `)
				b.WriteString(strconv.FormatUint(max, 10))
				b.WriteString(", ")
			}
			b.WriteString(`"count": `)
			b.WriteString(strconv.FormatUint(h.Buckets[i]/div, 10))
			b.WriteByte('}')
		}
	}
	b.WriteByte(']')
}

// writeLhistJSON writes an lhist's non-empty range: the underflow bucket
// has only "max" (min-1), the overflow bucket only "min" (max), the others
// inclusive bounds.
func writeLhistJSON(b *strings.Builder, l value.Lhist) {
	lo, hi, ok := BucketRange(l.Buckets)
	b.WriteByte('[')
	if ok {
		n := len(l.Buckets) - 2
		for i := lo; i <= hi; i++ {
			if i > lo {
				b.WriteString(", ")
			}
			b.WriteByte('{')
			switch {
			case i == 0:
				b.WriteString(`"max": `)
				b.WriteString(strconv.FormatInt(l.Min-1, 10))
				b.WriteString(", ")
			case i == n+1:
				b.WriteString(`"min": `)
				b.WriteString(strconv.FormatInt(l.Max, 10))
				b.WriteString(", ")
			default:
				low := l.Min + int64(i-1)*l.Step
				b.WriteString(`"min": `)
				b.WriteString(strconv.FormatInt(low, 10))
				b.WriteString(`, "max": `)
				b.WriteString(strconv.FormatInt(low+l.Step-1, 10))
				b.WriteString(", ")
			}
			b.WriteString(`"count": `)
			b.WriteString(strconv.FormatUint(l.Buckets[i], 10))
			b.WriteByte('}')
		}
	}
	b.WriteByte(']')
}

// writeJSONString writes s quoted, escaping as bpftrace does: \" \\ \n \r
// \t, other control bytes as \u00XX.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// JSONString quotes s as bpftrace's JSON output does.
func JSONString(s string) string {
	var b strings.Builder
	writeJSONString(&b, s)
	return b.String()
}

// messageJSON is a {"type": t, "data": "text"} line.
func messageJSON(typ, text string) string {
	return `{"type": "` + typ + `", "data": ` + JSONString(text) + "}\n"
}

// AttachJSON is the attached_probes line of -f json.
func AttachJSON(n int) string {
	return `{"type": "attached_probes", "data": {"probes": ` + itoa(int64(n)) + "}}\n"
}

// MapsJSON prints every non-empty map, sorted by name, one line each.
func MapsJSON(maps []*value.Map) string {
	var b strings.Builder
	for _, m := range SortMaps(maps) {
		b.WriteString(MapJSON(m, 0, 0))
	}
	return b.String()
}

// ExitJSON is the end-of-program output in -f json mode: the two raw
// newlines (0.17 prints them even here), then the maps.
func ExitJSON(maps []*value.Map) string {
	return "\n\n" + MapsJSON(maps)
}
