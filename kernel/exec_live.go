package kernel

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/render"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/value"
)

// The live display of a running cell: one display_data shown when the
// probes are attached, then redrawn in place (update_display_data) with the
// maps the cell writes and a status line (elapsed time, a progress bar when
// the cell has a duration, events, drops) until the run ends. Redraws come
// at most settings.Rate times a second (five by default, which is also the
// publisher's cap), and at most once a second when a map is keyed by
// stacks: a flame graph is a big SVG, and redrawing it five times a second
// would flood the notebook, or when a drawing grows past liveBigBundle.
// When the run ends, the display keeps only the final status line: the
// maps themselves follow as the exit dump.
//
// Each map's picture is followed by a small panel of its history once
// there is enough of it: the maps are added to a timeline once a second
// (liveSampleEvery), and the panel plots what they gained per second (a
// line per key for counts and sums, a heatmap for histograms; other kinds
// as they are). A map the cell prints again and again shows the series of
// its prints there instead (exec_series.go).

// liveEntries bounds the entries read per map for a redraw: the largest
// ones (those bpftrace prints last) are what a plot shows, and reading a
// full 4096-entry map five times a second would cost more than it shows.
const liveEntries = 500

// flameInterval is the slowest redraw, for cells whose maps draw as flame
// graphs, and for displays bigger than liveBigBundle.
const flameInterval = time.Second

// liveBigBundle is the size of a drawing (its HTML) past which the display
// is redrawn at most once a second.
const liveBigBundle = 256 << 10

// liveSampleEvery is how often the maps read for a redraw are added to
// their history.
const liveSampleEvery = time.Second

type liveDisplay struct {
	c        *cellRun
	id       string
	names    []string
	interval time.Duration
	tl       render.Timeline
	sampled  time.Time // when tl last got the maps
	shown    bool
	// reshow is set when the cell's output was cleared (a clear-screen
	// escape): the display must be shown again, not updated.
	reshow atomic.Bool
	run    *runtime.Run
}

func newLiveDisplay(c *cellRun) *liveDisplay {
	l := &liveDisplay{
		c:        c,
		id:       fmt.Sprintf("tracebook-%s-%s", c.nb.id, c.name),
		names:    writtenMapNames(c.prog),
		interval: c.set.interval(),
		tl:       render.Timeline{Deltas: true},
	}
	if stackKeyed(c.prog, l.names) && l.interval < flameInterval {
		l.interval = flameInterval
	}
	return l
}

// stackKeyed reports whether one of the maps is keyed by a stack (a flame
// graph).
func stackKeyed(p *runtime.Program, names []string) bool {
	for _, n := range names {
		mi := p.Info.Maps[n]
		if mi == nil {
			continue
		}
		for _, k := range mi.KeyParts {
			if k != nil && k.Kind == lang.KindStack {
				return true
			}
		}
	}
	return false
}

// cleared is called when the cell's output was cleared.
func (l *liveDisplay) cleared() { l.reshow.Store(true) }

// follow shows the display and redraws it until the run ends.
func (l *liveDisplay) follow(run *runtime.Run) {
	l.run = run
	l.draw(false)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-run.Done():
			return
		case <-t.C:
			t0 := time.Now()
			if size := l.draw(true); size > liveBigBundle && l.interval < flameInterval {
				l.interval = flameInterval
				t.Reset(l.interval)
			}
			// Reading a huge map (a million entries take about a
			// second) must not keep a CPU busy: at most a fifth of the
			// time goes to redrawing.
			if took := time.Since(t0); 5*took > l.interval {
				l.interval = 5 * took
				t.Reset(l.interval)
			}
		}
	}
}

// draw reads the maps and shows or redraws the display. It returns the
// size of the drawing's HTML.
func (l *liveDisplay) draw(readMaps bool) int {
	var maps []*value.Map
	if readMaps && len(l.names) > 0 {
		// A map the run is clearing at this moment may fail to read; the
		// next redraw shows it.
		maps, _ = l.c.nb.sess.ReadMaps(l.names, liveEntries)
		if now := time.Now(); now.Sub(l.sampled) >= liveSampleEvery {
			l.tl.Add(now, maps...)
			l.sampled = now
		}
	}
	st := l.run.Status()
	b := Bundle{Data: map[string]any(l.render(maps, st)), Metadata: l.metadata(st)}
	if !l.shown || l.reshow.Swap(false) {
		l.c.out.Display(b, l.id)
		l.shown = true
	} else {
		l.c.out.UpdateDisplay(b, l.id)
	}
	h, _ := b.Data[render.MIMEHTML].(string)
	return len(h)
}

// render draws the display: the sampled history of each map, or the
// series of its prints when it has one.
func (l *liveDisplay) render(maps []*value.Map, st value.Status) render.Bundle {
	ps := l.c.prints
	if ps == nil {
		return render.LiveBundle(maps, st, &l.tl, l.c.opts)
	}
	var view render.Timeline
	for _, n := range l.tl.Names() {
		view.Put(l.tl.Series(n))
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.putInto(&view)
	return render.LiveBundle(maps, st, &view, l.c.opts)
}

// metadata travels with every drawing (an update replaces the
// metadata too): the cell, how long attaching took (the benchmarks read
// it) and the run's counters, which a saved notebook keeps.
func (l *liveDisplay) metadata(st value.Status) map[string]any {
	return map[string]any{"tracebook": map[string]any{
		"cell":      l.c.name,
		"probes":    st.Probes,
		"attach_ms": float64(l.c.attachTime.Microseconds()) / 1000,
		"elapsed_s": st.Elapsed.Seconds(),
		"events":    st.Events,
		"drops":     st.Drops,
		"done":      st.Done,
	}}
}

// finish leaves the display with the run's final status line.
func (l *liveDisplay) finish(res *runtime.RunResult) {
	st := finalStatus(res, l.run)
	b := Bundle{Data: map[string]any(render.LiveBundle(nil, st, nil, l.c.opts)), Metadata: l.metadata(st)}
	if !l.shown || l.reshow.Swap(false) {
		l.c.out.Display(b, l.id)
		l.shown = true
		return
	}
	l.c.out.UpdateDisplay(b, l.id)
}

// finalStatus is the status line of a finished run.
func finalStatus(res *runtime.RunResult, run *runtime.Run) value.Status {
	st := run.Status()
	st.Elapsed = res.Elapsed
	st.Events = res.Events
	st.Drops = res.Drops
	st.Done = true
	return st
}
