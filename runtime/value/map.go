package value

// Map is a snapshot of one bpftrace map, read at one moment. Entries are in
// no particular order: the renderers sort them by bpftrace's rules, which
// depend on the value kind.
type Map struct {
	Name string // "@x", or "@" for the unnamed map
	// Keyed is set for maps written with keys (@x[k]); a scalar map (@x = 1)
	// has one entry with a nil Key.
	Keyed bool
	// Kind is the map's value kind, known even when the map is empty.
	Kind    MapKind
	Entries []Entry
	// Truncated is set when the map held more entries than were read
	// (the reader's limit); Total is then the number it held.
	Truncated bool
	Total     int
}

// Entry is one key/value pair. Key holds the key's parts: one element for
// @m[k], two for @m[k1, k2].
type Entry struct {
	Key   []Value
	Value Value
}

// MapKind is the kind of a map's values, which decides how the map sorts
// and prints.
type MapKind uint8

const (
	MapPlain MapKind = iota // ints, strings, tuples, ... assigned directly
	MapCount
	MapSum
	MapMin
	MapMax
	MapAvg
	MapStats
	MapHist
	MapLhist
)
