package value

import "time"

// Diagnostic is an error or warning about the user's program, positioned in
// its source, for the renderers' caret display. The runtime builds these
// from lang's errors and from load/attach failures it can place in the
// source (a verifier rejection points at the statement that caused it).
type Diagnostic struct {
	File            string // "stdin", a path, "cell[3]"
	Line, Col       int    // 1-based; 0 when the diagnostic has no position
	EndLine, EndCol int    // End is exclusive
	Warning         bool
	Msg             string
	SourceLine      string   // the text of Line, for the excerpt
	Notes           []string // extra lines after the excerpt
	Detail          string   // a long appendix (the verifier log) shown on request
}

// Status is the state of a running cell, for the live display's status line.
type Status struct {
	Elapsed  time.Duration
	Duration time.Duration // 0 when the run has no set duration
	Events   uint64        // events received from the kernel
	Drops    uint64        // events the kernel could not deliver
	Probes   int           // attached probes
	Done     bool
}
