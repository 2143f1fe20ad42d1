package runtime

import (
	"fmt"
	"sort"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// When a run ends it says which of eBPF's limits cost it output, each once
// and at the place in the program it is about (value.Warning.Source):
//
//   - a full map: how many updates failed, at the first statement that
//     updates the map (bpftrace 0.17 drops them silently, bpftrace#2809);
//   - lost events: how many the ring buffer had no room for, at the
//     statement that sent most of what got through (the one to filter or
//     aggregate). The command also prints bpftrace's "Lost N events" as
//     they happen;
//   - strings cut at their buffer: a str() whose value filled its whole
//     buffer (BPFTRACE_STRLEN bytes, NUL included) was probably longer,
//     as bpftrace 0.17 cuts it without a word. Counted for the values
//     printf, print, system and cat received and for the map keys and
//     values in the final snapshot. The length of a str() source (a user
//     pointer, a kernel string) is only known when the probe reads it,
//     so this is a check of what was read, not a checker warning; a
//     string that fits its buffer exactly is counted too, which the
//     message allows for ("probably").
//
// One summary per cause and place, after the run, keeps a flood from
// turning into a flood of warnings.

// strCheck is a str() call whose values are checked for filling their
// buffer: the index of the event argument (or map key part, -1 for the
// map's value) that holds them.
type strCheck struct {
	index int
	size  int
	call  *lang.CallExpr
}

// limitState is a run's bookkeeping for its limit warnings. The
// dispatcher goroutine writes it; finish reads it after the last
// barrier.
type limitState struct {
	perEvent  []uint64     // events received, by id - eventBase
	strArgs   [][]strCheck // by id - eventBase
	strFilled map[*lang.CallExpr]uint64
	strSeen   map[*lang.CallExpr]uint64
}

// defaultStr returns c when it is str(x) with the default size, whose
// values are cut at the session's string size.
func defaultStr(e lang.Expr) (*lang.CallExpr, int) {
	c, ok := e.(*lang.CallExpr)
	if !ok || c.Name != "str" || len(c.Args) != 1 {
		return nil, 0
	}
	t := c.Type()
	if t == nil || t.Kind != lang.KindString || t.Size < 2 {
		return nil, 0
	}
	return c, t.Size
}

// initLimits prepares the checks of p's events.
func (r *Run) initLimits() {
	p := r.prog
	r.limits = limitState{perEvent: make([]uint64, len(p.events)), strArgs: make([][]strCheck, len(p.events)),
		strFilled: map[*lang.CallExpr]uint64{}, strSeen: map[*lang.CallExpr]uint64{}}
	for i, ev := range p.events {
		if ev == nil {
			continue
		}
		call, ok := ev.Call.(*lang.CallExpr)
		if !ok {
			continue
		}
		var args []lang.Expr
		switch ev.Kind {
		case codegen.EventPrintf, codegen.EventSystem, codegen.EventCat:
			if len(call.Args) > 0 {
				args = call.Args[1:]
			}
		case codegen.EventPrint:
			args = call.Args
		}
		for j, a := range args {
			if c, size := defaultStr(a); c != nil && j < len(ev.Args) {
				r.limits.strArgs[i] = append(r.limits.strArgs[i], strCheck{index: j, size: size, call: c})
			}
		}
	}
}

// noteEvent counts a received event and checks its strings. It runs on
// the dispatcher goroutine.
func (r *Run) noteEvent(id uint64, args []value.Value) {
	i := id - r.prog.eventBase
	if i >= uint64(len(r.limits.perEvent)) {
		return
	}
	r.limits.perEvent[i]++
	for _, c := range r.limits.strArgs[i] {
		if c.index < len(args) {
			r.noteStr(c, args[c.index])
		}
	}
}

func (r *Run) noteStr(c strCheck, v value.Value) {
	s, ok := v.(value.Str)
	if !ok {
		return
	}
	r.limits.strSeen[c.call]++
	if s.Truncated || len(s.S) >= c.size-1 {
		r.limits.strFilled[c.call]++
	}
}

// sourceOf is the diagnostic that places a warning at n.
func (r *Run) sourceOf(n lang.Node) *value.Diagnostic {
	if n == nil {
		return nil
	}
	e := &lang.Error{File: r.prog.Name, Severity: lang.SevWarning}
	e.Pos, e.End = n.Span()
	if !e.Pos.IsValid() {
		return nil
	}
	d := Diagnostics(lang.ErrorList{e}, r.prog.Src)[0]
	return &d
}

// mapUpdates returns the statements of the program that assign to each
// map, in source order.
func (r *Run) mapUpdates() map[string][]*lang.AssignStmt {
	out := map[string][]*lang.AssignStmt{}
	lang.Inspect(r.prog.AST, func(n lang.Node) bool {
		if a, ok := n.(*lang.AssignStmt); ok {
			if m, ok := a.Target.(*lang.MapExpr); ok {
				out[m.Name] = append(out[m.Name], a)
			}
		}
		return true
	})
	return out
}

// fullMapSource places a full map's warning at the first statement that
// updates it.
func (r *Run) fullMapSource(name string, updates map[string][]*lang.AssignStmt) *value.Diagnostic {
	sites := updates[name]
	if len(sites) == 0 {
		return nil
	}
	d := r.sourceOf(sites[0])
	if d != nil && len(sites) > 1 {
		d.Notes = append(d.Notes, fmt.Sprintf("the first of %d statements that update %s", len(sites), name))
	}
	return d
}

// limitWarnings are the end-of-run warnings about lost events and strings
// cut at their buffer (full maps: mapErrors), given the run's drops and
// its final map snapshots.
func (r *Run) limitWarnings(drops uint64, maps []*value.Map, updates map[string][]*lang.AssignStmt) []value.Event {
	var out []value.Event
	if drops > 0 {
		out = append(out, r.lostWarning(drops))
	}
	// Map keys and values that came from str().
	byName := map[string]*value.Map{}
	for _, m := range maps {
		byName[m.Name] = m
	}
	for name, sites := range updates {
		m := byName[name]
		if m == nil {
			continue
		}
		for _, a := range sites {
			me := a.Target.(*lang.MapExpr)
			var checks []strCheck
			for i, k := range me.Keys {
				if c, size := defaultStr(k); c != nil {
					checks = append(checks, strCheck{index: i, size: size, call: c})
				}
			}
			if c, size := defaultStr(a.Value); c != nil && a.Op == lang.Assign {
				checks = append(checks, strCheck{index: -1, size: size, call: c})
			}
			for _, c := range checks {
				for _, e := range m.Entries {
					switch {
					case c.index < 0:
						r.noteStr(c, e.Value)
					case c.index < len(e.Key):
						r.noteStr(c, e.Key[c.index])
					}
				}
			}
		}
	}
	calls := make([]*lang.CallExpr, 0, len(r.limits.strFilled))
	for c, n := range r.limits.strFilled {
		if n > 0 {
			calls = append(calls, c)
		}
	}
	sort.Slice(calls, func(i, j int) bool {
		a, _ := calls[i].Span()
		b, _ := calls[j].Span()
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	for _, c := range calls {
		size := c.Type().Size
		w := value.Warning{
			Msg: fmt.Sprintf("str() filled its %d-byte buffer in %d of %d values: longer strings were probably cut to %d bytes",
				size, r.limits.strFilled[c], r.limits.strSeen[c], size-1),
			Source: r.sourceOf(c),
		}
		if w.Source != nil {
			w.Source.Notes = append(w.Source.Notes,
				"the string size is BPFTRACE_STRLEN (at most 200) on the command line, %set strlen in a notebook")
		}
		out = append(out, w)
	}
	return out
}

// lostWarning words the run's lost events, placed at the event the run
// received most of.
func (r *Run) lostWarning(drops uint64) value.Warning {
	var total, most uint64
	busiest := -1
	for i, n := range r.limits.perEvent {
		total += n
		if n > most {
			most, busiest = n, i
		}
	}
	w := value.Warning{Msg: fmt.Sprintf("%d events lost: the ring buffer that carries them to user space was full", drops)}
	if busiest >= 0 {
		ev := r.prog.events[busiest]
		if w.Source = r.sourceOf(ev.Call); w.Source != nil {
			w.Source.Notes = append(w.Source.Notes, fmt.Sprintf(
				"this %s sent %d%% of the %d events that got through: filter it (/predicate/) or count into a map instead",
				ev.Kind, most*100/total, total))
		}
	}
	return w
}
