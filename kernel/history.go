package kernel

import "sync"

// historySession is the session number of this kernel's history. History
// lives in memory for the life of the kernel process (a kernel's maps do
// too), so there is only ever the current session; clients may also name it
// 0, IPython's "current session".
const historySession = 1

// maxHistory bounds the in-memory history; the oldest cells are forgotten.
const maxHistory = 10000

// history records the cells run with store_history, for history_request:
// consoles use "tail" for up-arrow recall and "search" for Ctrl-R.
type history struct {
	mu      sync.Mutex
	entries []historyEntry
}

type historyEntry struct {
	line   int // the cell's execution count
	input  string
	output *string // text/plain of its execute_result; nil if none
}

func (h *history) add(line int, input string, output *string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) >= maxHistory {
		h.entries = append(h.entries[:0], h.entries[len(h.entries)-maxHistory+1:]...)
	}
	h.entries = append(h.entries, historyEntry{line: line, input: input, output: output})
}

// query answers a history_request with [session, line, input] triples, or
// [session, line, [input, output]] when output is asked for.
func (h *history) query(r *HistoryRequest) []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var picked []historyEntry
	switch r.HistAccessType {
	case "tail":
		picked = lastN(h.entries, r.N)
	case "range":
		if r.Session.Set && r.Session.V != 0 && r.Session.V != historySession {
			break
		}
		start, stop := 1, int(^uint(0)>>1)
		if r.Start.Set {
			start = r.Start.V
		}
		if r.Stop.Set {
			stop = r.Stop.V
		}
		for _, e := range h.entries {
			if e.line >= start && e.line < stop {
				picked = append(picked, e)
			}
		}
	case "search":
		pattern := "*"
		if r.Pattern != nil {
			pattern = *r.Pattern
		}
		for _, e := range h.entries {
			if globMatch(pattern, e.input) {
				picked = append(picked, e)
			}
		}
		if r.Unique {
			picked = uniqueInputs(picked)
		}
		picked = lastN(picked, r.N)
	}
	out := make([]any, 0, len(picked))
	for _, e := range picked {
		var item any = e.input
		if r.Output {
			var o any
			if e.output != nil {
				o = *e.output
			}
			item = []any{e.input, o}
		}
		out = append(out, []any{historySession, e.line, item})
	}
	return out
}

// lastN returns the last n entries, all of them when n is unset or not
// positive.
func lastN(es []historyEntry, n optInt) []historyEntry {
	if !n.Set || n.V <= 0 || n.V >= len(es) {
		return es
	}
	return es[len(es)-n.V:]
}

// uniqueInputs keeps the latest entry of each distinct input, in order.
func uniqueInputs(es []historyEntry) []historyEntry {
	last := map[string]int{}
	for i, e := range es {
		last[e.input] = i
	}
	var out []historyEntry
	for i, e := range es {
		if last[e.input] == i {
			out = append(out, e)
		}
	}
	return out
}

// globMatch matches s against a glob with IPython's history-search
// semantics (SQLite GLOB): the whole string must match, '*' matches any run
// of characters including newlines and slashes, '?' one character, and
// [abc], [a-z], [^abc] a class. Case matters.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	// Iterative matcher with one backtrack point for the last '*'.
	pi, ti := 0, 0
	starP, starT := -1, 0
	for ti < len(t) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starT = pi, ti
				pi++
				continue
			case '?':
				pi++
				ti++
				continue
			case '[':
				if ok, next := matchClass(p, pi, t[ti]); next > 0 {
					if ok {
						pi = next
						ti++
						continue
					}
				} else if t[ti] == '[' { // unterminated class: a literal '['
					pi++
					ti++
					continue
				}
			default:
				if p[pi] == t[ti] {
					pi++
					ti++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starT++
		pi, ti = starP+1, starT
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches c against the class starting at p[i] == '['. It
// returns whether c is in the class and the index after the closing ']', or
// next 0 when the class is not terminated.
func matchClass(p []rune, i int, c rune) (ok bool, next int) {
	j := i + 1
	negate := false
	if j < len(p) && p[j] == '^' {
		negate = true
		j++
	}
	first := true
	for j < len(p) && (first || p[j] != ']') {
		first = false
		lo := p[j]
		hi := lo
		if j+2 < len(p) && p[j+1] == '-' && p[j+2] != ']' {
			hi = p[j+2]
			j += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
		j++
	}
	if j >= len(p) {
		return false, 0
	}
	return ok != negate, j + 1
}
