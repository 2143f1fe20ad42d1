package kernel

import (
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tracebook/tracebook/render"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/value"
)

// Background runs (%%bg): the cell returns as soon as its probes are
// attached, and they stay attached, filling the session's maps, until
// %stop, %reset, exit() or the cell's duration. Later cells read those
// maps. Nothing can be shown in a cell that has returned, so what the run
// prints is kept (up to bgKeep outputs, the latest) and shown by the
// %stop that detaches it, with its maps.

// bgKeep bounds the outputs a background run keeps for %stop.
const bgKeep = 10000

// bgRun is one background run.
type bgRun struct {
	cell  string
	prog  *runtime.Program
	run   *runtime.Run
	child *runtime.Child
	set   settings
	opts  render.Options
	// idPrefix starts the display ids of its outputs.
	idPrefix string
	started  time.Time

	mu      sync.Mutex
	outputs []bgOutput
	dropped int
}

// bgOutput is one thing a background run printed: an event, or a chunk
// of its -c command's output.
type bgOutput struct {
	ev     value.Event
	at     time.Time // when it arrived, for prints that make a series
	stream string
	text   string
}

func (b *bgRun) keep(o bgOutput) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.outputs) >= bgKeep {
		b.outputs = b.outputs[1:]
		b.dropped++
	}
	b.outputs = append(b.outputs, o)
}

// events is a background run's sink.
func (b *bgRun) events(batch []value.Event) {
	now := time.Now()
	for _, e := range batch {
		b.keep(bgOutput{ev: e, at: now})
	}
}

// write keeps output of a background run's -c command.
func (b *bgRun) write(stream, text string) { b.keep(bgOutput{stream: stream, text: text}) }

// replay publishes what the run printed, in order.
func (b *bgRun) replay(out Publisher) {
	b.mu.Lock()
	outputs, dropped := b.outputs, b.dropped
	b.outputs, b.dropped = nil, 0
	b.mu.Unlock()
	if dropped > 0 {
		out.Stream("stderr", fmt.Sprintf("[%d earlier outputs of the background run were not kept]\n", dropped))
	}
	var ps *printSeries
	if b.set.Format != "json" {
		ps = newPrintSeries(b.idPrefix+"-bg", b.opts)
		ps.setStart(b.started)
	}
	for _, o := range outputs {
		if o.ev != nil {
			publishEvents(out, []value.Event{o.ev}, b.set.Format == "json", b.opts, nil, ps, o.at)
		} else {
			out.Stream(o.stream, o.text)
		}
	}
	ps.final(out)
}

// addBackground registers a started background run and tells the user.
func (nb *Notebook) addBackground(b *bgRun, attach time.Duration, out Publisher) {
	nb.mu.Lock()
	nb.bg[b.run.ID()] = b
	nb.mu.Unlock()
	info := b.run.Info()
	n := len(info.Probes)
	text := fmt.Sprintf("%s: %d %s attached in the background as run %d (in %.1f ms)", b.cell, n,
		plural(n, "probe", "probes"), b.run.ID(), float64(attach.Microseconds())/1000)
	if d := b.run.Status().Duration; d > 0 {
		text += fmt.Sprintf(", for %s", d)
	}
	text += fmt.Sprintf(".\n%%probes lists what is attached; %%stop %d detaches it and shows its maps.\n", b.run.ID())
	out.Display(Bundle{
		Data: map[string]any{"text/plain": text, "text/html": "<pre>" + html.EscapeString(text) + "</pre>"},
		Metadata: map[string]any{"tracebook": map[string]any{
			"cell": b.cell, "run": b.run.ID(), "probes": n, "attach_ms": float64(attach.Microseconds()) / 1000,
		}},
	}, "")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// backgroundRuns returns the background runs, by id.
func (nb *Notebook) backgroundRuns() []*bgRun {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	runs := make([]*bgRun, 0, len(nb.bg))
	for _, b := range nb.bg {
		runs = append(runs, b)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].run.ID() < runs[j].run.ID() })
	return runs
}

// probesTable is %probes: the background runs, attached or ended.
func (nb *Notebook) probesTable() Bundle {
	runs := nb.backgroundRuns()
	if len(runs) == 0 {
		return TextBundle("no probes are attached in the background (%bg runs a cell's probes in the background)\n")
	}
	t := table{
		header: []string{"id", "cell", "probes", "state", "elapsed", "events"},
		right:  []bool{true, false, false, false, true, true},
	}
	for _, b := range runs {
		info := b.run.Info()
		state, elapsed := "attached", time.Since(info.Started)
		select {
		case <-b.run.Done():
			if res, _ := b.run.Wait(); res != nil {
				state, elapsed = "ended ("+res.Reason.String()+")", res.Elapsed
			}
		default:
		}
		t.rows = append(t.rows, []string{strconv.Itoa(info.ID), info.Name, probeList(info.Probes), state,
			elapsed.Round(100 * time.Millisecond).String(), strconv.FormatUint(info.Events, 10)})
	}
	return t.bundle()
}

// probeList shortens a long list of probes for a table cell.
func probeList(probes []string) string {
	const show = 3
	if len(probes) <= show {
		return strings.Join(probes, ", ")
	}
	return strings.Join(probes[:show], ", ") + fmt.Sprintf(", … (%d more)", len(probes)-show)
}

// stop detaches background runs (every one when ids is empty), each
// showing what it printed and the maps it wrote.
func (nb *Notebook) stop(ids []string, out Publisher) error {
	var runs []*bgRun
	if len(ids) == 0 || len(ids) == 1 && ids[0] == "all" {
		runs = nb.backgroundRuns()
		if len(runs) == 0 {
			out.Stream("stdout", "no background runs to stop\n")
			return nil
		}
	} else {
		nb.mu.Lock()
		for _, s := range ids {
			id, err := strconv.Atoi(strings.TrimPrefix(s, "#"))
			b := nb.bg[id]
			if err != nil || b == nil {
				var known []string
				for id := range nb.bg {
					known = append(known, strconv.Itoa(id))
				}
				sort.Strings(known)
				nb.mu.Unlock()
				if len(known) == 0 {
					return usageError("%%stop: no background run %s (there are none)", s)
				}
				return usageError("%%stop: no background run %s (the runs are %s)", s, strings.Join(known, ", "))
			}
			runs = append(runs, b)
		}
		nb.mu.Unlock()
	}
	for _, b := range runs {
		b.run.Stop()
	}
	for _, b := range runs {
		res, err := b.run.Wait()
		if b.child != nil {
			b.child.Kill()
		}
		nb.mu.Lock()
		delete(nb.bg, b.run.ID())
		nb.mu.Unlock()
		head := fmt.Sprintf("run %d (%s) ", b.run.ID(), b.cell)
		if res != nil {
			if res.Reason == runtime.StopDetached {
				head += "stopped"
			} else {
				head += "ended (" + res.Reason.String() + ")"
			}
			head += fmt.Sprintf(" after %s: %d events, %d drops\n", res.Elapsed.Round(100*time.Millisecond), res.Events, res.Drops)
		} else {
			head += "stopped\n"
		}
		out.Stream("stdout", head)
		b.replay(out)
		if err != nil {
			out.Stream("stderr", "WARNING: "+err.Error()+"\n")
		}
		if res != nil {
			showExitMaps(out, writtenMaps(b.prog, res.Maps), b.set.Format == "json", b.opts)
		}
	}
	return nil
}

// dropBackground forgets every background run (after %reset stopped
// them) and returns how many there were.
func (nb *Notebook) dropBackground() int {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	n := len(nb.bg)
	for id, b := range nb.bg {
		if b.child != nil {
			b.child.Kill()
		}
		delete(nb.bg, id)
	}
	return n
}

// table is a small table shown as aligned text and as HTML.
type table struct {
	header []string
	rows   [][]string
	right  []bool // right-align the column
}

func (t table) text() string {
	w := make([]int, len(t.header))
	for i, h := range t.header {
		w[i] = len([]rune(h))
	}
	for _, r := range t.rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			pad := strings.Repeat(" ", w[i]-len([]rune(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < len(t.right) && t.right[i] {
				b.WriteString(pad + c)
			} else if i < len(cells)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
		}
		b.WriteString("\n")
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}

func (t table) html() string {
	var b strings.Builder
	b.WriteString(`<table class="tracebook-table"><thead><tr>`)
	for _, h := range t.header {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range t.rows {
		b.WriteString("<tr>")
		for i, c := range r {
			style := ""
			if i < len(t.right) && t.right[i] {
				style = ` style="text-align: right"`
			}
			b.WriteString("<td" + style + ">" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

func (t table) bundle() Bundle {
	return Bundle{Data: map[string]any{"text/plain": t.text(), "text/html": t.html()}}
}
