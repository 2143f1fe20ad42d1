package kernel

import (
	"fmt"
	"sync"
	"time"

	"github.com/tracebook/tracebook/render"
	"github.com/tracebook/tracebook/runtime/value"
)

// Maps printed again and again. A program that prints a map from an
// interval probe (interval:s:1 { print(@x); clear(@x); }) reports the map
// over time, and a stack of one bar chart per print reads badly. Each
// print still goes out as bpftrace prints it (its text, and its JSON),
// but from the seriesAfter-th print of a map (once its prints span some
// time), the prints are shown as text and the map's pictures become one
// plot over time: a line per key for counts, sums, minimums, maximums and
// averages, a latency heatmap for histograms (render.Series). The first
// prints, shown with their own plots before it was known that more would
// come, are turned into text too. While the cell runs, the plot is the
// "over time" panel of its map in the live display (exec_live.go), redrawn
// with it; when the run ends it is shown once more, after the prints, as
// the cell's picture of the map.
//
// Maps that make no time series (keyed by stacks, strings, tuples,
// stats) keep a picture per print. So does -f json output (%set format
// json), which is a stream of bpftrace's JSON lines and nothing else.

// seriesAfter is the number of prints of a map from which they make a
// series: two prints read well as two plots, three as a line.
const seriesAfter = 3

// maxFirstPrints bounds the displays a map's first prints keep ids for
// (prints that all come at one instant, from a BEGIN block, never make a
// series, however many there are).
const maxFirstPrints = 20

// printSeries follows the maps one run prints.
type printSeries struct {
	prefix string // of the display ids of first prints
	opts   render.Options

	mu    sync.Mutex
	start time.Time // of the run: the series count seconds from it
	maps  map[string]*printed
	order []string
}

// printed is one map's prints.
type printed struct {
	series *render.Series
	n      int
	on     bool // the prints make a series
	first  []firstPrint
}

// firstPrint is a print shown with its own plot, before the series.
type firstPrint struct {
	id string
	e  value.PrintMap
}

func newPrintSeries(prefix string, opts render.Options) *printSeries {
	return &printSeries{prefix: prefix, opts: opts, maps: map[string]*printed{}}
}

// show displays a print() of a map taken at at, and returns false for the
// prints it leaves to the caller: maps that make no time series.
func (ps *printSeries) show(out Publisher, e value.PrintMap, at time.Time) bool {
	if ps == nil || e.Map == nil || !render.SeriesPlottable(e.Map) {
		return false
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	name := e.Map.Name
	p := ps.maps[name]
	if p == nil {
		p = &printed{series: render.NewSeries(name)}
		p.series.Start = ps.start
		ps.maps[name] = p
		ps.order = append(ps.order, name)
	}
	p.n++
	p.series.Add(at, printView(e))
	text := ps.opts
	text.NoPlots = true
	if !p.on && p.n >= seriesAfter && p.series.Span() > 0 {
		p.on = true
		for _, f := range p.first {
			out.UpdateDisplay(printBundle(f.e, text), f.id)
		}
		p.first = nil
	}
	if p.on {
		out.Display(printBundle(e, text), "")
		return true
	}
	id := ""
	if len(p.first) < maxFirstPrints {
		id = fmt.Sprintf("%s-print-%s-%d", ps.prefix, name, p.n)
		p.first = append(p.first, firstPrint{id: id, e: e})
	}
	out.Display(printBundle(e, ps.opts), id)
	return true
}

// setStart tells when the run started (once its probes were attached).
func (ps *printSeries) setStart(t time.Time) {
	if ps == nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.start = t
	for _, p := range ps.maps {
		p.series.Start = t
	}
}

// printView is the map a print shows: its top entries when print() was
// given a top (a partial snapshot: a key missing from it is not zero).
func printView(e value.PrintMap) *value.Map {
	m := e.Map
	if e.Top == 0 || uint64(len(m.Entries)) <= e.Top {
		return m
	}
	v := *m
	v.Entries = render.TopEntries(render.SortedEntries(m), e.Top)
	v.Truncated, v.Total = true, len(m.Entries)
	return &v
}

// putInto makes the series of the maps whose prints make one the history
// tl shows for them. The caller holds ps.mu while it draws with tl.
func (ps *printSeries) putInto(tl *render.Timeline) {
	for _, name := range ps.order {
		if p := ps.maps[name]; p.on {
			tl.Put(p.series)
		}
	}
}

// final shows each series, after the run's last print.
func (ps *printSeries) final(out Publisher) {
	if ps == nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, name := range ps.order {
		if p := ps.maps[name]; p.on {
			out.Display(Bundle{Data: map[string]any(render.SeriesBundle(p.series, ps.opts)),
				Metadata: map[string]any{"tracebook": map[string]any{"series": name, "prints": p.n}}}, "")
		}
	}
}
