package render

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// svgDoc is what a test needs to know about an SVG: that it parses, its
// texts, and its filled shapes by colour.
type svgDoc struct {
	texts  []string
	titles []string
	fills  map[string]int // fill colour (lower case) -> shapes
	width  string
	rects  []map[string]string
	// polylines and circles: the lines and lone points of a time series.
	polylines []map[string]string
	circles   []map[string]string
}

func parseSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	if s == "" {
		t.Fatal("empty SVG")
	}
	d := svgDoc{fills: map[string]int{}}
	dec := xml.NewDecoder(strings.NewReader(s))
	var stack []string
	var cur strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v\n%s", err, s[:min(len(s), 2000)])
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			cur.Reset()
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if tok.Name.Local == "svg" && d.width == "" {
				d.width = attrs["width"]
			}
			fill := strings.ToLower(attrs["fill"])
			if st := attrs["style"]; strings.Contains(st, "fill:#") {
				i := strings.Index(st, "fill:#")
				fill = strings.ToLower(st[i+5 : i+12])
			}
			if fill != "" && (tok.Name.Local == "path" || tok.Name.Local == "rect") {
				d.fills[fill]++
			}
			switch tok.Name.Local {
			case "rect":
				d.rects = append(d.rects, attrs)
			case "polyline":
				d.polylines = append(d.polylines, attrs)
			case "circle":
				d.circles = append(d.circles, attrs)
			}
		case xml.CharData:
			cur.Write(tok)
		case xml.EndElement:
			switch tok.Name.Local {
			case "text":
				d.texts = append(d.texts, cur.String())
			case "title":
				d.titles = append(d.titles, cur.String())
			}
			stack = stack[:len(stack)-1]
		}
	}
	return d
}

func (d svgDoc) hasText(s string) bool {
	for _, t := range d.texts {
		if t == s {
			return true
		}
	}
	return false
}

func (d svgDoc) textContaining(s string) string {
	for _, t := range d.texts {
		if strings.Contains(t, s) {
			return t
		}
	}
	return ""
}

const barFill = "#4c78a8"

func TestHistSVG(t *testing.T) {
	m := newMap("@ns", value.MapHist).add(nil, 3, 5000, 5000, 6000, 9000, 1<<20).done()
	d := parseSVG(t, HistSVG("@ns", m.Entries[0].Value, Options{}))
	lo, hi, _ := BucketRange(m.Entries[0].Value.(value.Hist).Buckets)
	for i := lo; i <= hi; i++ {
		if !d.hasText(HistLabel(i)) {
			t.Errorf("no row label %q in %q", HistLabel(i), d.texts)
		}
	}
	for _, want := range []string{"[4K, 8K)", "[8K, 16K)", "[1M, 2M)", "[2, 4)", "@ns", "count", "3"} {
		if !d.hasText(want) {
			t.Errorf("missing text %q", want)
		}
	}
	if d.hasText(HistLabel(lo-1)) || d.hasText(HistLabel(hi+1)) {
		t.Error("rows outside the non-empty range")
	}
	if got := d.fills[barFill]; got != 4 { // four non-empty buckets
		t.Errorf("%d bars, want 4", got)
	}
	if d.width != "480pt" {
		t.Errorf("width %s, want 480pt (640px)", d.width)
	}
	lh := newMap("@l", value.MapLhist).lhist(0, 4096, 1024).add(nil, -1, 2048, 5000).done()
	d = parseSVG(t, HistSVG("@l", lh.Entries[0].Value, Options{}))
	for _, want := range []string{"(..., 0)", "[0, 1K)", "[1K, 2K)", "[2K, 3K)", "[3K, 4K)", "[4K, ...)"} {
		if !d.hasText(want) {
			t.Errorf("lhist: missing %q in %q", want, d.texts)
		}
	}
	if HistSVG("@e", value.Hist{Buckets: make([]uint64, HistBuckets)}, Options{}) != "" {
		t.Error("an empty hist should not plot")
	}
}

func TestKeyedHistSVG(t *testing.T) {
	b := newMap("@lat", value.MapHist)
	for i := range 12 {
		for j := range i + 1 {
			b.add(key(str(fmt.Sprintf("k%02d", i))), int64(100*(j+1)))
		}
	}
	d := parseSVG(t, KeyedHistSVG(b.done(), Options{Panels: 4}))
	for i := range 12 {
		title := fmt.Sprintf("@lat[k%02d]", i)
		if want := i >= 8; d.hasText(title) != want {
			t.Errorf("panel %s shown=%v, want %v", title, !want, want)
		}
	}
	if note := d.textContaining("more keys not shown"); !strings.HasPrefix(note, "… 8 more keys") {
		t.Errorf("note %q", note)
	}
	// Panels share the bucket range: every panel has every row label.
	n := 0
	for _, tx := range d.texts {
		if tx == "[64, 128)" {
			n++
		}
	}
	if n != 4 {
		t.Errorf("[64, 128) appears in %d panels, want 4", n)
	}
}

func TestBarsSVG(t *testing.T) {
	b := newMap("@c", value.MapCount)
	for i := range 30 {
		for range i + 1 {
			b.add(key(str(fmt.Sprintf("comm%02d", i))), 0)
		}
	}
	m := b.done()
	d := parseSVG(t, BarsSVG(m, Options{}))
	if got := d.fills[barFill]; got != 20 {
		t.Errorf("%d bars, want 20", got)
	}
	for i := range 30 {
		if want := i >= 10; d.hasText(fmt.Sprintf("comm%02d", i)) != want {
			t.Errorf("comm%02d shown=%v", i, !want)
		}
	}
	if !d.hasText("@c: top 20 of 30 keys") || !strings.HasPrefix(d.textContaining("not shown"), "… 10 more keys") {
		t.Errorf("title/note missing: %q", d.texts)
	}
	if !d.hasText("30") || !d.hasText("11") {
		t.Error("bar values not written")
	}
	d = parseSVG(t, BarsSVG(m, Options{TopN: 5}))
	if d.fills[barFill] != 5 {
		t.Errorf("TopN 5: %d bars", d.fills[barFill])
	}
	// Negative sums get the other colour.
	s := newMap("@s", value.MapSum).add(key(i64(1)), -5).add(key(i64(2)), 7).done()
	d = parseSVG(t, BarsSVG(s, Options{}))
	if d.fills[barFill] != 1 || d.fills["#e15759"] != 1 {
		t.Errorf("sum bars: %v", d.fills)
	}
	if BarsSVG(newMap("@x", value.MapCount).add(nil, 1).done(), Options{}) != "" {
		t.Error("a scalar should not plot")
	}
	// Stack keys are written on one line.
	st := newMap("@", value.MapCount).add(key(i64(1), kstack), 1).done()
	if !parseSVG(t, BarsSVG(st, Options{})).hasText("1, perf_syscall_enter+397 ← syscall_tra…") {
		t.Errorf("stack label: %q", parseSVG(t, BarsSVG(st, Options{})).texts)
	}
}

func TestFlameSVG(t *testing.T) {
	leaf := func(names ...string) value.Stack {
		var fs []value.Frame
		for _, n := range names {
			fs = append(fs, value.Frame{Sym: n, Offset: 1, Addr: 0xffffffff81000000})
		}
		return value.Stack{Frames: fs}
	}
	m := newMap("@", value.MapCount).
		add(key(leaf("vfs_read", "ksys_read", "do_syscall_64")), 0, 0, 0).
		add(key(leaf("vfs_write", "ksys_write", "do_syscall_64")), 0).
		add(key(leaf("<lambda>&", "do_syscall_64")), 0, 0, 0, 0).done()
	s := FlameSVG(m, Options{})
	d := parseSVG(t, s)
	wantTitles := []string{"all (8, 100.00%)", "do_syscall_64 (8, 100.00%)", "ksys_read (3, 37.50%)", "vfs_read (3, 37.50%)",
		"ksys_write (1, 12.50%)", "vfs_write (1, 12.50%)", "<lambda>& (4, 50.00%)"}
	for _, w := range wantTitles {
		found := false
		for _, ti := range d.titles {
			found = found || ti == w
		}
		if !found {
			t.Errorf("no tooltip %q in %q", w, d.titles)
		}
	}
	if len(d.titles) != len(wantTitles) {
		t.Errorf("%d frames, want %d", len(d.titles), len(wantTitles))
	}
	// Widths are proportional to counts: the frames of the root and of
	// ksys_read are 8 and 3 units of the same scale.
	widths := map[string]float64{}
	for i, r := range d.rects[1:] { // the first rect is the background
		w, _ := strconv.ParseFloat(r["width"], 64)
		widths[strings.Fields(d.titles[i])[0]] = w
	}
	if r := widths["ksys_read"] / widths["all"]; r < 0.374 || r > 0.376 {
		t.Errorf("ksys_read/all = %v, want 3/8", r)
	}
	if FlameSVG(m, Options{}) != s {
		t.Error("flame graph not deterministic")
	}
	if FlameSVG(newMap("@c", value.MapCount).add(key(str("x")), 1).done(), Options{}) != "" {
		t.Error("no stacks, no flame graph")
	}
	// Colours are a function of the name and the kind.
	if flameColor(&flameNode{name: "vfs_read", kind: flameKernel}) != flameColor(&flameNode{name: "vfs_read", kind: flameKernel}) {
		t.Error("colour not stable")
	}
}

func TestFlameSVGMixedKeys(t *testing.T) {
	m := newMap("@", value.MapCount).add(key(str("bash"), ustack, kstack), 0, 0).add(key(str("sshd"), ustack, kstack), 0).done()
	d := parseSVG(t, FlameSVG(m, Options{}))
	for _, w := range []string{"bash (2, 66.67%)", "sshd (1, 33.33%)", "0x7ffe18db1bd8 (2, 66.67%)", "0x7ffe18db1bd8 (1, 33.33%)"} {
		found := false
		for _, ti := range d.titles {
			found = found || ti == w
		}
		if !found {
			t.Errorf("no %q in %q", w, d.titles)
		}
	}
}

func TestSeriesSVG(t *testing.T) {
	ls, hs := sampleSeries()
	d := parseSVG(t, SeriesSVG(ls, Options{}))
	for _, w := range []string{"@rate over time", "bash", "sshd", "containerd", "seconds"} {
		if !d.hasText(w) {
			t.Errorf("lines: missing %q", w)
		}
	}
	if len(d.polylines) != 5 {
		t.Errorf("%d polylines, want one per key (5)", len(d.polylines))
	}
	d = parseSVG(t, SeriesSVG(hs, Options{}))
	if !d.hasText("@lat over time") || !d.hasText("[8K, 16K)") {
		t.Errorf("heatmap texts: %q", d.texts)
	}
	// One rect per non-empty bucket of each snapshot, with its bucket,
	// time and count as a title.
	want := 0
	for _, sn := range hs.Snaps {
		for _, c := range sn.Map.Entries[0].Value.(value.Hist).Buckets {
			if c > 0 {
				want++
			}
		}
	}
	if len(d.rects) != want {
		t.Errorf("%d heatmap cells, want %d", len(d.rects), want)
	}
	if !slices.Contains(d.titles, "[8K, 16K) at 0s: 70") {
		t.Errorf("no cell title for [8K, 16K) at 0s in %q", d.titles[:min(len(d.titles), 5)])
	}
	one := NewSeries("@x")
	one.Add(time.Now(), newMap("@x", value.MapCount).add(nil, 1).done())
	if SeriesSVG(one, Options{}) != "" {
		t.Error("one snapshot is not a series")
	}
	// A scalar gets one line, named after the map, without a legend.
	sc := NewSeries("")
	t0 := time.Unix(0, 0)
	for i := range 5 {
		sc.Add(t0.Add(time.Duration(i)*time.Second), newMap("@n", value.MapCount).add(nil, make([]int64, i+1)...).done())
		sc.Add(t0, newMap("@other", value.MapCount).done()) // ignored
	}
	if sc.Len() != 5 {
		t.Errorf("series holds %d", sc.Len())
	}
	parseSVG(t, SeriesSVG(sc, Options{}))
	sc.Max = 3
	sc.Add(t0.Add(10*time.Second), newMap("@n", value.MapCount).add(nil, 1).done())
	if sc.Len() != 3 {
		t.Errorf("Max not honoured: %d", sc.Len())
	}
}

func TestTableHTML(t *testing.T) {
	st := newMap("@kst", value.MapStats).add(key(str("p"), i64(1)), 5).add(key(str("q<"), i64(2)), 1, 3).done()
	h := TableHTML(st, Options{})
	checkXML(t, h)
	for _, w := range []string{"<th style=\"" + numStyle + "\">average</th>", ">q&lt;<", ">key 2<"} {
		if !strings.Contains(h, w) {
			t.Errorf("stats table lacks %q:\n%s", w, h)
		}
	}
	// Rows in bpftrace's order: q (average 2) before p (average 5).
	if strings.Index(h, ">q&lt;<") > strings.Index(h, ">p<") {
		t.Error("rows not in bpftrace order")
	}
	b := newMap("@m", 0)
	for i := range 300 {
		b.set(tup(i64(int64(i)), str("x")), i64(int64(i)), str("comm"))
	}
	h = TableHTML(b.done(), Options{TableRows: 50})
	checkXML(t, h)
	if n := strings.Count(h, "<tr>") - 1; n != 50 { // and the header
		t.Errorf("%d rows, want 50", n)
	}
	if !strings.Contains(h, "250 more rows not shown") || !strings.Contains(h, ">(299, x)<") {
		t.Errorf("table cut wrongly")
	}
}

func checkXML(t *testing.T, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader("<root>" + s + "</root>"))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
	}
}

func TestBundles(t *testing.T) {
	ms := sampleMaps()
	stats := newMap("@st", value.MapStats).add(key(str("a")), 1, 2).done()
	strs := newMap("@s", 0).set(str("x"), i64(1), str("a")).done()
	scalar := newMap("@c", value.MapCount).add(nil, 1, 1).done()
	empty := newMap("@e", value.MapCount).done()
	cases := []struct {
		m    *value.Map
		want []string
	}{
		{ms["hist"], []string{MIMEText, MIMEJSON, MIMESVG}},
		{ms["keyed"], []string{MIMEText, MIMEJSON, MIMESVG}},
		{ms["bars"], []string{MIMEText, MIMEJSON, MIMESVG}},
		{syntheticStacks(20), []string{MIMEText, MIMEJSON, MIMESVG}},
		{stats, []string{MIMEText, MIMEJSON, MIMEHTML}},
		{strs, []string{MIMEText, MIMEJSON, MIMEHTML}},
		{scalar, []string{MIMEText, MIMEJSON}},
		{empty, []string{MIMEText}},
	}
	for _, c := range cases {
		b := MapBundle(c.m, Options{})
		if len(b) != len(c.want) {
			t.Errorf("%s: types %v, want %v", c.m.Name, keys(b), c.want)
		}
		for _, w := range c.want {
			if _, ok := b[w]; !ok {
				t.Errorf("%s: no %s", c.m.Name, w)
			}
		}
		if b.Text() != MapText(c.m, 0, 0) {
			t.Errorf("%s: text/plain is not bpftrace's text", c.m.Name)
		}
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("%s: %v", c.m.Name, err)
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if js, ok := back[MIMEJSON]; ok {
			if _, isObj := js.(map[string]any); !isObj {
				t.Errorf("%s: application/json is %T, want an object", c.m.Name, js)
			}
		}
	}
	// print(@m, top, div) bundles honour both.
	pb := PrintMapBundle(value.PrintMap{Map: ms["bars"], Top: 3, Div: 2}, Options{})
	if pb.Text() != MapText(ms["bars"], 3, 2) || parseSVG(t, pb[MIMESVG].(string)).fills[barFill] != 3 {
		t.Error("print bundle ignores top/div")
	}
	if EventBundle(printfEv("x"), Options{}) != nil || EventBundle(value.Print{Value: i64(1)}, Options{}).Text() != "1\n" {
		t.Error("EventBundle")
	}
	ex := ExitBundles([]*value.Map{scalar, stats, empty}, Options{})
	var all strings.Builder
	for _, b := range ex {
		all.WriteString(b.Text())
	}
	if "\n\n"+all.String() != ExitText([]*value.Map{scalar, stats, empty}) {
		t.Error("exit bundles do not add up to the exit text")
	}
	if NoPlots := MapBundle(ms["hist"], Options{NoPlots: true}); NoPlots[MIMESVG] != nil {
		t.Error("NoPlots")
	}
}

func keys(b Bundle) []string {
	var out []string
	for k := range b {
		out = append(out, k)
	}
	return out
}

func TestLiveBundle(t *testing.T) {
	ms := sampleMaps()
	ls, _ := sampleSeries()
	var tl Timeline
	for _, sn := range ls.Snaps {
		tl.Add(sn.At, sn.Map)
	}
	st := value.Status{Elapsed: 12300 * time.Millisecond, Duration: 30 * time.Second, Events: 1234, Drops: 5, Probes: 3}
	b := LiveBundle([]*value.Map{ms["bars"], tl.Series("@rate").Snaps[29].Map, newMap("@n", value.MapCount).add(nil, 1).done()}, st, &tl, Options{})
	text := b.Text()
	if !strings.HasPrefix(text, "running 12.3s / 30s [########------------] 41% | 1,234 events | 5 drops | 3 probes\n@n: 1\n@rate[") {
		t.Errorf("live text:\n%s", text)
	}
	h := b[MIMEHTML].(string)
	checkXML(t, h)
	for _, w := range []string{"width:41.0%", "5 drops", "@rate over time", "<pre style=\"margin:0\">@n: 1</pre>"} {
		if !strings.Contains(h, w) {
			t.Errorf("live HTML lacks %q", w)
		}
	}
	if strings.Contains(h, "<?xml") {
		t.Error("XML prolog inside HTML")
	}
	done := StatusText(value.Status{Elapsed: 125 * time.Second, Events: 1, Done: true})
	if done != "done after 2m05s | 1 event | 0 drops" {
		t.Errorf("done status %q", done)
	}
}

func TestHumanNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", 1.5e6: "1.5M", 2e9: "2G", -2500: "-2,500", 0.5: "0.5"} {
		if got := humanNumber(v); got != want {
			t.Errorf("humanNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestTruncatedSnapshotNote(t *testing.T) {
	m := bigCountMap(30)
	m.Truncated, m.Total = true, 5000
	if !parseSVG(t, BarsSVG(m, Options{})).hasText("@c: top 20 of 30 keys (snapshot holds 30 of 5000 keys)") {
		t.Error("no truncation note")
	}
	if MapText(nil, 0, 0) != "" {
		t.Error("nil map")
	}
}
