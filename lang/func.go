package lang

// Func describes a builtin function (printf, count, hist, kstack, ...).
// The checker's table of them (builtins.go) is also what the notebook's
// completion and inspection show, so each carries its signature and a
// one-paragraph doc.
type Func struct {
	Name      string
	Signature string // as shown to users: "lhist(int64 n, int64 min, int64 max, int64 step)"
	Doc       string // one paragraph, plain text
	MinArgs   int
	MaxArgs   int // -1 for variadic (printf, system)
	// Aggregation is the map value kind a call produces when assigned to a
	// map (count → KindCount); KindInvalid for other functions.
	Aggregation Kind
	// Unsafe functions (system, signal, override) need unsafe mode.
	Unsafe bool

	// Returns describes the result as users see it: "uint64", "string",
	// "none" for statement-only calls, "count" for an aggregation.
	Returns string
	// Probes lists the canonical providers the function may be used in;
	// nil means every probe type.
	Probes []string
	// Since is the bpftrace version that introduced the function when it
	// is newer than 0.17, which tracebook otherwise follows; "" for 0.17.
	Since string
	// Alias names the function this one is another name for
	// (quantize → hist); "" otherwise.
	Alias string

	// varargs selects bpftrace's wording for a wrong argument count:
	// "requires at least N"/"takes up to N" rather than "requires N".
	varargs bool
}

// Builtin describes a builtin variable (pid, comm, args, retval, ...), for
// the checker and for completion and inspection.
type Builtin struct {
	Name string
	Type string // as shown to users: "uint64", "string[16]", "struct task_struct *"
	Doc  string

	// Probes lists the canonical providers the builtin may be used in;
	// nil means every probe type.
	Probes []string
	// Since is the bpftrace version that introduced the builtin when it is
	// newer than 0.17; "" for 0.17.
	Since string
}
