package value

import "time"

// Event is one thing a running program asks user space to do or show, in
// the order it happened. Its dynamic type is one of the types below.
type Event interface {
	isEvent()
}

// Printf is a printf() call: the parsed format and its arguments.
type Printf struct {
	Format *Format
	Args   []Value
}

// Format is a printf format string split into literal text and
// conversions. Literal text is exactly what is printed, with bpftrace
// 0.17's quirks about "%%" already applied by the parser.
type Format struct {
	Source   string    // the format as written (after escape decoding)
	Segments []Segment // in order
}

// Segment is literal text followed by at most one conversion.
type Segment struct {
	Literal string
	Spec    *Spec // nil for trailing literal text
}

// Spec is one conversion: %-08.3lld is Flags "-0"... Width 8, Precision 3,
// Length "ll", Verb "d". Precision is -1 when absent. Verbs are bpftrace's:
// d u x X o c s p, and r rx rh for buffers.
type Spec struct {
	Flags     string
	Width     int
	Precision int
	Length    string // "", "h", "hh", "l", "ll", "j", "z", "t"
	Verb      string
}

// Print is print(value) for a non-map value, or print(@m[k]).
type Print struct {
	Value Value
}

// PrintMap is print(@m[, top[, div]]): the map as read when the event
// arrived. Top 0 means all entries; Div 0 means 1.
type PrintMap struct {
	Map      *Map
	Top, Div uint64
}

// Time is time([fmt]): Format is a strftime format ("%H:%M:%S\n" by default).
type Time struct {
	Format string
	At     time.Time
}

// Cat is cat(file): the file's content (or the error bpftrace prints).
type Cat struct {
	Text string
}

// Join is join(argv[, delim]): the joined text, without the newline
// bpftrace adds when printing it.
type Join struct {
	Text string
}

// System is system(fmt, ...): the command's output.
type System struct {
	Text string
}

// Exit is exit([code]): the program asked to stop.
type Exit struct {
	Code int
}

// LostEvents reports events the kernel dropped because the ring buffer was
// full.
type LostEvents struct {
	N uint64
}

// Warning is a runtime problem the user should see (a full map, a failed
// helper), printed on stderr in bpftrace's words.
type Warning struct {
	Msg string
	// Error marks a problem bpftrace reports as an error rather than a
	// warning ("ERROR: failed to open file ..." for cat() of a missing
	// file), though the program goes on.
	Error bool
	// Source places the warning in the program (the statement that
	// updates a full map, the call whose output was lost or whose string
	// was cut), with notes; render prints it as a caret excerpt. Its Msg
	// and Warning fields are ignored: the Warning's own are used. Nil
	// when the warning is about no one place.
	Source *Diagnostic
}

// Message is a line the tracer itself prints on the program's output
// stream, as bpftrace 0.17 does for "Failed to attach watchpoint probe.
// You are out of watchpoint registers.". Type is the message type of its
// -f json form ({"type": Type, "data": Text}).
type Message struct {
	Type string
	Text string
}

// HelperError is a BPF helper call that failed, reported under -k or -kk
// as bpftrace 0.17 reports it: Helper is the helper's name
// ("map_delete_elem", "probe_read_kernel"), Ret its return value (a
// negative errno, or 0 for a map lookup that found nothing), Pos the
// warning as the text output shows it: the call's place in the source and
// bpftrace's words ("Failed to map_delete_elem: No such file or directory
// (-2)").
type HelperError struct {
	Helper string
	Ret    int64
	Pos    Diagnostic
}

func (Printf) isEvent()      {}
func (Print) isEvent()       {}
func (PrintMap) isEvent()    {}
func (Time) isEvent()        {}
func (Cat) isEvent()         {}
func (Join) isEvent()        {}
func (System) isEvent()      {}
func (Exit) isEvent()        {}
func (LostEvents) isEvent()  {}
func (Warning) isEvent()     {}
func (Message) isEvent()     {}
func (HelperError) isEvent() {}
