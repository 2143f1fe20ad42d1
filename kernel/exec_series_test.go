package kernel_test

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Maps printed again and again, and the live display's history panels,
// through the protocol (kernel tier: root, the live kernel).

// svgShapes parses an SVG (or HTML holding inline SVGs) as XML and counts
// its polylines and rects, and collects its texts.
func svgShapes(t *testing.T, s string) (polylines, rects int, texts []string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	var in string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("does not parse as XML: %v\n%.1500s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local
			switch in {
			case "polyline":
				polylines++
			case "rect":
				rects++
			}
		case xml.CharData:
			if in == "text" {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			in = ""
		}
	}
	return polylines, rects, texts
}

// displayed is one display_data or update_display_data message.
type displayed struct {
	update bool
	id     string
	data   map[string]any
	meta   map[string]any
}

func displays(t *testing.T, c *cell) []displayed {
	var out []displayed
	for _, m := range c.msgs {
		if m.Header.MsgType != "display_data" && m.Header.MsgType != "update_display_data" {
			continue
		}
		ct := content(t, m)
		d := displayed{update: m.Header.MsgType == "update_display_data"}
		if tr, ok := ct["transient"].(map[string]any); ok {
			d.id, _ = tr["display_id"].(string)
		}
		d.data, _ = ct["data"].(map[string]any)
		d.meta, _ = ct["metadata"].(map[string]any)
		out = append(out, d)
	}
	return out
}

func (d displayed) text() string { s, _ := d.data["text/plain"].(string); return s }

var printOfSw = regexp.MustCompile(`^(@sw\[\d+\]: \d+\n)*\n?$`)

func TestNotebookPrintSeries(t *testing.T) {
	n := startNotebook(t)
	// Two maps printed and cleared twice a second for 3 seconds: the
	// switches per CPU (a line per CPU) and a histogram (a heatmap).
	c := n.ok("%%trace 3s\n" +
		"tracepoint:sched:sched_switch { @sw[cpu] = count(); @lat = hist(nsecs % 100000); }\n" +
		"interval:ms:500 { print(@sw); print(@lat); clear(@sw); clear(@lat); }")
	ds := displays(t, c)
	var prints, lprints, firstIDs []displayed
	series := map[string]displayed{}
	keys := map[string]bool{}
	for _, d := range ds {
		switch {
		case d.update && strings.Contains(d.id, "-print-"):
			// The first prints, shown with their plots, turned to text.
			if _, ok := d.data["image/svg+xml"]; ok {
				t.Errorf("update of a first print still has a plot: %q", d.text())
			}
			firstIDs = append(firstIDs, d)
		case d.update:
		case strings.Contains(d.text(), " over time: "):
			series[strings.Fields(d.text())[0]] = d
		case len(series) > 0:
			// The exit dump, after the series.
		case strings.HasPrefix(d.text(), "@sw["):
			prints = append(prints, d)
			for _, m := range regexp.MustCompile(`@sw\[(\d+)\]`).FindAllStringSubmatch(d.text(), -1) {
				keys[m[1]] = true
			}
		case strings.HasPrefix(d.text(), "@lat:"):
			lprints = append(lprints, d)
		}
	}
	if len(prints) < 3 || len(lprints) < 3 {
		t.Fatalf("%d prints of @sw and %d of @lat, want 3 or more each:\n%s", len(prints), len(lprints), c.text(t))
	}
	// Every print goes out as bpftrace prints it, with its JSON; from the
	// third on without a plot.
	for i, d := range prints {
		if !printOfSw.MatchString(d.text()) {
			t.Errorf("print %d text %q", i, d.text())
		}
		if _, ok := d.data["application/json"]; !ok {
			t.Errorf("print %d has no JSON", i)
		}
		_, svg := d.data["image/svg+xml"]
		if svg != (i < 2) {
			t.Errorf("print %d: plot %v, want %v", i, svg, i < 2)
		}
		if (d.id != "") != (i < 2) {
			t.Errorf("print %d: display id %q", i, d.id)
		}
	}
	if len(firstIDs) != 4 {
		t.Errorf("%d updates of first prints, want 4 (two of each map)", len(firstIDs))
	}
	// The series, after the prints: a line per key, a heatmap with cells.
	sw, ok := series["@sw"]
	if !ok {
		t.Fatalf("no series of @sw:\n%s", c.text(t))
	}
	if !regexp.MustCompile(`^@sw over time: \d+ prints in [\d.]+s$`).MatchString(sw.text()) {
		t.Errorf("series text %q", sw.text())
	}
	lines, _, texts := svgShapes(t, sw.data["image/svg+xml"].(string))
	if lines != len(keys) {
		t.Errorf("%d polylines, want one per key (%d: %v)", lines, len(keys), keys)
	}
	if !strings.Contains(strings.Join(texts, "|"), "@sw over time") {
		t.Errorf("series texts %q", texts)
	}
	lat, ok := series["@lat"]
	if !ok {
		t.Fatalf("no series of @lat:\n%s", c.text(t))
	}
	if _, cells, texts := svgShapes(t, lat.data["image/svg+xml"].(string)); cells < len(lprints) || !strings.Contains(strings.Join(texts, "|"), "@lat over time") {
		t.Errorf("heatmap: %d cells for %d prints; texts %q", cells, len(lprints), texts)
	}
	if md, _ := sw.meta["tracebook"].(map[string]any); md["series"] != "@sw" || md["prints"] != float64(len(prints)) {
		t.Errorf("series metadata %v", sw.meta)
	}
	// While the cell ran, the live display showed the prints' series.
	found := false
	for _, d := range ds {
		if h, _ := d.data["text/html"].(string); d.update && strings.Contains(h, "@sw over time") {
			found = true
			svgShapes(t, h)
		}
	}
	if !found {
		t.Error("the live display never showed the series of @sw")
	}
}

func TestNotebookLiveHistory(t *testing.T) {
	n := startNotebook(t)
	c := n.ok("%%trace 3500ms\ntracepoint:sched:sched_switch { @sw[cpu] = count(); @lat = hist(nsecs % 100000); }")
	// Late redraws carry a per-second panel for each map: a line per CPU,
	// a heatmap of what the buckets gained.
	var last string
	for _, d := range displays(t, c) {
		if h, _ := d.data["text/html"].(string); strings.Contains(h, "tracebook-over-time") {
			last = h
		}
	}
	if last == "" {
		t.Fatalf("no history panel in the live display:\n%s", c.text(t))
	}
	lines, rects, texts := svgShapes(t, last)
	all := strings.Join(texts, "|")
	if !strings.Contains(all, "@sw per second") || !strings.Contains(all, "@lat per second") {
		t.Errorf("panel titles: %q", texts)
	}
	if lines < 1 || rects < 1 {
		t.Errorf("%d polylines and %d cells in the live display", lines, rects)
	}
	// The run's end leaves no series display: nothing was printed.
	for _, d := range displays(t, c) {
		if strings.Contains(d.text(), "over time:") {
			t.Errorf("a series display without prints: %q", d.text())
		}
	}
}

// A print that makes no time series (a stack-keyed map) keeps its plot.
func TestNotebookPrintNoSeries(t *testing.T) {
	n := startNotebook(t)
	c := n.ok("%%trace 1500ms\ntracepoint:sched:sched_switch { @k[kstack(2)] = count(); }\ninterval:ms:300 { print(@k); }")
	plots := 0
	for _, d := range displays(t, c) {
		if strings.HasPrefix(d.text(), "@k[") && !d.update {
			if _, ok := d.data["image/svg+xml"]; ok {
				plots++
			}
		}
		if strings.Contains(d.text(), "over time:") {
			t.Errorf("a series of a stack-keyed map: %q", d.text())
		}
	}
	if plots < 3 {
		t.Errorf("%d prints with their flame graph:\n%s", plots, c.text(t))
	}
}

// A background run's prints are replayed by %stop, and make a series
// there too, dated as they arrived.
func TestNotebookBackgroundPrintSeries(t *testing.T) {
	n := startNotebook(t)
	n.ok("%%bg\ntracepoint:sched:sched_switch { @bgsw = count(); }\ninterval:ms:300 { print(@bgsw); clear(@bgsw); }")
	time.Sleep(1500 * time.Millisecond)
	c := n.ok("%stop")
	var texts []string
	for _, d := range displays(t, c) {
		texts = append(texts, d.text())
		if strings.HasPrefix(d.text(), "@bgsw over time: ") {
			if lines, _, _ := svgShapes(t, d.data["image/svg+xml"].(string)); lines != 1 {
				t.Errorf("%d polylines for a scalar map", lines)
			}
			return
		}
	}
	t.Errorf("no series after the replay: %q", texts)
}
