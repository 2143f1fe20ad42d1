package kernel

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// sent is one message a publisher under test sent.
type sent struct {
	typ     string
	content any
}

// testPublisher returns a publisher with a fake clock and no ticker
// goroutine: tests advance the clock and call tick themselves.
func testPublisher(lim OutputLimits) (*cellPublisher, *[]sent, *time.Time) {
	var out []sent
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newCellPublisher(func(t string, c any) { out = append(out, sent{t, c}) }, 7, false, lim, false)
	p.now = func() time.Time { return clock }
	return p, &out, &clock
}

func streamText(msgs []sent) string {
	var b strings.Builder
	for _, m := range msgs {
		if m.typ == "stream" {
			b.WriteString(m.content.(streamContent).Text)
		}
	}
	return b.String()
}

func countType(msgs []sent, typ string) int {
	n := 0
	for _, m := range msgs {
		if m.typ == typ {
			n++
		}
	}
	return n
}

func TestStreamBatching(t *testing.T) {
	p, out, clock := testPublisher(OutputLimits{})
	p.Stream("stdout", "first\n") // nothing sent yet: goes out at once
	if len(*out) != 1 {
		t.Fatalf("the first line should go out at once, got %d messages", len(*out))
	}
	// 1000 lines within one second, ticking every 50ms as the goroutine does.
	for i := 0; i < 1000; i++ {
		p.Stream("stdout", fmt.Sprintf("l%d\n", i))
		if i%50 == 49 {
			*clock = clock.Add(50 * time.Millisecond)
			p.tick(*clock)
		}
	}
	p.finish(nil)
	if n := countType(*out, "stream"); n > 12 {
		t.Errorf("%d stream messages for one second of output; want at most ~10", n)
	}
	if !strings.HasPrefix(streamText(*out), "first\nl0\nl1\n") || !strings.HasSuffix(streamText(*out), "l999\n") {
		t.Errorf("text lost or reordered: %.40q…", streamText(*out))
	}
}

func TestStreamKeepsOrderAgainstOtherOutput(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{})
	p.Stream("stdout", "a\n")
	p.Stream("stdout", "b\n") // held back: rate limit
	p.Result(TextBundle("r"))
	p.Stream("stderr", "c\n")
	p.finish(nil)
	var got []string
	for _, m := range *out {
		switch c := m.content.(type) {
		case streamContent:
			got = append(got, c.Name+":"+strings.TrimSpace(c.Text))
		default:
			got = append(got, m.typ)
		}
	}
	want := "stdout:a stdout:b execute_result stderr:c"
	if strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
}

func TestStreamCap(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{MaxStreamLines: 5})
	for i := 1; i <= 12; i++ {
		p.Stream("stdout", fmt.Sprintf("line %d\n", i))
	}
	p.Stream("stdout", "partial")
	p.finish(nil)
	text := streamText(*out)
	want := "line 1\nline 2\nline 3\nline 4\nline 5\n[... 8 more lines cut]\n"
	if text != want {
		t.Errorf("got %q, want %q", text, want)
	}
}

func TestStreamCapBytes(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{MaxStreamBytes: 10})
	p.Stream("stderr", "0123456789abc\nmore\n")
	p.finish(nil)
	if text := streamText(*out); text != "[... 2 more lines cut]\n" {
		t.Errorf("got %q", text)
	}
	if c := (*out)[len(*out)-1].content.(streamContent); c.Name != "stderr" {
		t.Errorf("the note went to %s, want the stream that was cut", c.Name)
	}
}

// A flood on stdout does not cut what comes on stderr (the warnings a run
// ends with), and each stream's cut gets its own note.
func TestStreamsCappedSeparately(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{MaxStreamLines: 3})
	for i := 1; i <= 10; i++ {
		p.Stream("stdout", fmt.Sprintf("line %d\n", i))
	}
	p.Stream("stderr", "WARNING: 7 events lost\n")
	p.finish(nil)
	got := map[string]string{}
	for _, m := range *out {
		if c, ok := m.content.(streamContent); ok {
			got[c.Name] += c.Text
		}
	}
	if got["stdout"] != "line 1\nline 2\nline 3\n[... 7 more lines cut]\n" || got["stderr"] != "WARNING: 7 events lost\n" {
		t.Errorf("stdout %q, stderr %q", got["stdout"], got["stderr"])
	}
}

func TestCutNoteStartsOnItsOwnLine(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{MaxStreamBytes: 4})
	p.Stream("stdout", "abc")
	p.Stream("stdout", "defgh\n")
	p.finish(nil)
	if text := streamText(*out); text != "abc\n[... 1 more lines cut]\n" {
		t.Errorf("got %q", text)
	}
}

func TestUpdateThrottle(t *testing.T) {
	p, out, clock := testPublisher(OutputLimits{})
	p.Display(TextBundle("v0"), "h")
	// 100 updates over one second, 10ms apart.
	for i := 1; i <= 100; i++ {
		*clock = clock.Add(10 * time.Millisecond)
		p.UpdateDisplay(TextBundle(fmt.Sprintf("v%d", i)), "h")
		if i%5 == 0 {
			p.tick(*clock)
		}
	}
	p.finish(nil)
	n := countType(*out, "update_display_data")
	if n < 4 || n > 6 {
		t.Errorf("%d updates in one second; want about 5", n)
	}
	last := (*out)[len(*out)-1]
	if last.typ != "update_display_data" || last.content.(displayContent).Data["text/plain"] != "v100" {
		t.Errorf("the final state must always be sent; last message %+v", last)
	}
	if id := last.content.(displayContent).Transient["display_id"]; id != "h" {
		t.Errorf("display_id %v", id)
	}
}

func TestDisplayTransientAndMetadataAreObjects(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{})
	p.Display(Bundle{Data: map[string]any{"text/plain": "x"}}, "")
	p.finish(nil)
	c := (*out)[0].content.(displayContent)
	if c.Metadata == nil || c.Transient == nil {
		t.Errorf("nil metadata or transient would be sent as null: %+v", c)
	}
	b, _ := marshal(c)
	if !strings.Contains(string(b), `"metadata":{}`) || !strings.Contains(string(b), `"transient":{}`) {
		t.Errorf("json %s", b)
	}
}

func TestSilentPublishesNothing(t *testing.T) {
	var out []sent
	p := newCellPublisher(func(t string, c any) { out = append(out, sent{t, c}) }, 1, true, OutputLimits{}, true)
	p.Stream("stdout", "x\n")
	p.Display(TextBundle("d"), "id")
	p.Result(TextBundle("r"))
	p.Error("E", "v", nil)
	p.ClearOutput(true)
	p.finish(&CellError{Name: "E"})
	if len(out) != 0 {
		t.Errorf("silent cell sent %d messages", len(out))
	}
}

func TestFinishSendsErrorOnce(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{})
	p.Error("Shown", "by the executor", []string{"tb"})
	p.finish(&CellError{Name: "Returned"})
	if n := countType(*out, "error"); n != 1 {
		t.Errorf("%d error messages, want 1", n)
	}
	p2, out2, _ := testPublisher(OutputLimits{})
	p2.finish(&CellError{Name: "Returned", Value: "v"})
	if n := countType(*out2, "error"); n != 1 {
		t.Errorf("%d error messages, want 1", n)
	}
}

func TestPublisherClosedAfterFinish(t *testing.T) {
	p, out, _ := testPublisher(OutputLimits{})
	p.finish(nil)
	p.Stream("stdout", "late\n")
	p.Display(TextBundle("late"), "")
	p.tick(time.Now().Add(time.Hour))
	if len(*out) != 0 {
		t.Errorf("output after the cell ended was sent: %+v", *out)
	}
}

func TestResultRecordedForHistory(t *testing.T) {
	p, _, _ := testPublisher(OutputLimits{})
	p.Result(Bundle{Data: map[string]any{"text/plain": "42", "text/html": "<b>42</b>"}})
	p.finish(nil)
	if r := p.resultText(); r == nil || *r != "42" {
		t.Errorf("result text %v", r)
	}
}
