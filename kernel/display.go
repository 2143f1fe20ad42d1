package kernel

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// OutputLimits bound what one cell sends on IOPub. jupyter_server drops IOPub
// output past 1000 messages/s or 1 MB/s of stream data (averaged over 3 s,
// reset at each idle), and a notebook that receives megabytes of printf output
// becomes unusable long before that. The defaults keep a flooding trace well
// inside both limits: stream text is batched into at most 10 messages a second
// and cut after MaxStreamLines lines or MaxStreamBytes bytes, and a live
// display is redrawn at most 5 times a second. stdout and stderr are capped
// separately, so a printf flood cannot cut the warnings a run ends with
// (lost events, a full map), which go to stderr.
type OutputLimits struct {
	MaxStreamLines int           // per cell and stream; 0 means DefaultOutputLimits' value
	MaxStreamBytes int           // per cell and stream
	StreamInterval time.Duration // minimum gap between two stream messages
	UpdateInterval time.Duration // minimum gap between two updates of one display
}

// DefaultOutputLimits are the limits a Kernel uses unless told otherwise.
var DefaultOutputLimits = OutputLimits{
	MaxStreamLines: 10000,
	MaxStreamBytes: 1 << 20,
	StreamInterval: 100 * time.Millisecond,
	UpdateInterval: 200 * time.Millisecond,
}

func (l OutputLimits) withDefaults() OutputLimits {
	d := DefaultOutputLimits
	if l.MaxStreamLines > 0 {
		d.MaxStreamLines = l.MaxStreamLines
	}
	if l.MaxStreamBytes > 0 {
		d.MaxStreamBytes = l.MaxStreamBytes
	}
	if l.StreamInterval > 0 {
		d.StreamInterval = l.StreamInterval
	}
	if l.UpdateInterval > 0 {
		d.UpdateInterval = l.UpdateInterval
	}
	return d
}

// cellPublisher is the Publisher of one execute_request. All state is under
// mu, and messages are sent while holding it, so IOPub order is the order of
// the calls (with stream text possibly held back, never reordered against
// other outputs: any output other than a display update flushes the stream
// buffers first).
type cellPublisher struct {
	send   func(msgType string, content any)
	count  int
	silent bool
	lim    OutputLimits
	now    func() time.Time

	mu        sync.Mutex
	closed    bool
	errorSent bool
	result    *string // text/plain of the last execute_result, for history

	streams    [2]streamBuf // stdout, stderr
	lastStream time.Time

	displays map[string]*displayState

	stopTicker chan struct{}
}

type streamBuf struct {
	name  string
	text  strings.Builder
	since time.Time // when the oldest buffered text arrived

	// The stream's cap.
	lines      int // lines and bytes let through, counted against the cap
	bytes      int
	cutting    bool
	cutLines   int
	cutPartial bool // the cut text did not end in a newline
	openLine   bool // the text let through so far ends mid-line
}

type displayState struct {
	last    time.Time
	pending *Bundle
}

// newCellPublisher returns a publisher that sends through send. With ticker,
// a goroutine flushes held-back output; tests pass false and call tick.
func newCellPublisher(send func(string, any), count int, silent bool, lim OutputLimits, ticker bool) *cellPublisher {
	p := &cellPublisher{
		send:     send,
		count:    count,
		silent:   silent,
		lim:      lim.withDefaults(),
		now:      time.Now,
		displays: map[string]*displayState{},
	}
	p.streams[0].name, p.streams[1].name = "stdout", "stderr"
	if ticker && !silent {
		p.stopTicker = make(chan struct{})
		go p.run(p.stopTicker)
	}
	return p
}

func (p *cellPublisher) run(stop <-chan struct{}) {
	t := time.NewTicker(p.lim.StreamInterval / 2)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			p.tick(now)
		}
	}
}

// tick sends what was held back and is now due: at most one stream message
// (so two buffers still make at most one message per StreamInterval) and the
// pending update of each display whose interval has passed.
func (p *cellPublisher) tick(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.maybeFlushStream(now)
	for id, d := range p.displays {
		if d.pending != nil && now.Sub(d.last) >= p.lim.UpdateInterval {
			p.sendUpdate(id, *d.pending)
			d.pending = nil
			d.last = now
		}
	}
}

func (p *cellPublisher) active() bool { return !p.silent && !p.closed }

func (p *cellPublisher) Stream(name, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active() || text == "" {
		return
	}
	i := 0
	if name == "stderr" {
		i = 1
	}
	b := &p.streams[i]
	kept := p.admit(b, text)
	if kept == "" {
		return
	}
	if b.text.Len() == 0 {
		b.since = p.now()
	}
	b.text.WriteString(kept)
	p.maybeFlushStream(p.now())
}

// admit applies the stream's cap to text and returns the part let
// through. Once the cap is hit, everything after is cut, so the stream
// never has a hole in the middle.
func (p *cellPublisher) admit(b *streamBuf, text string) string {
	if b.cutting {
		b.countCut(text)
		return ""
	}
	var kept strings.Builder
	for len(text) > 0 {
		line := text
		if j := strings.IndexByte(text, '\n'); j >= 0 {
			line = text[:j+1]
		}
		if b.lines >= p.lim.MaxStreamLines || b.bytes+len(line) > p.lim.MaxStreamBytes {
			b.cutting = true
			b.countCut(text)
			break
		}
		kept.WriteString(line)
		b.bytes += len(line)
		b.openLine = !strings.HasSuffix(line, "\n")
		if !b.openLine {
			b.lines++
		}
		text = text[len(line):]
	}
	return kept.String()
}

func (b *streamBuf) countCut(text string) {
	b.cutLines += strings.Count(text, "\n")
	b.cutPartial = !strings.HasSuffix(text, "\n")
}

// maybeFlushStream sends the older of the two buffers if the last stream
// message is at least StreamInterval old.
func (p *cellPublisher) maybeFlushStream(now time.Time) {
	if !p.lastStream.IsZero() && now.Sub(p.lastStream) < p.lim.StreamInterval {
		return
	}
	var oldest *streamBuf
	for i := range p.streams {
		b := &p.streams[i]
		if b.text.Len() > 0 && (oldest == nil || b.since.Before(oldest.since)) {
			oldest = b
		}
	}
	if oldest != nil {
		p.flushBuf(oldest, now)
	}
}

func (p *cellPublisher) flushBuf(b *streamBuf, now time.Time) {
	p.send("stream", streamContent{Name: b.name, Text: b.text.String()})
	b.text.Reset()
	p.lastStream = now
}

// flushStreams sends all buffered text, oldest first, whatever the rate:
// it runs before any other output so text keeps its place.
func (p *cellPublisher) flushStreams() {
	a, b := &p.streams[0], &p.streams[1]
	if b.text.Len() > 0 && (a.text.Len() == 0 || b.since.Before(a.since)) {
		a, b = b, a
	}
	for _, s := range []*streamBuf{a, b} {
		if s.text.Len() > 0 {
			p.flushBuf(s, p.now())
		}
	}
}

func (p *cellPublisher) Display(b Bundle, displayID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active() {
		return
	}
	p.flushStreams()
	transient := map[string]any{}
	if displayID != "" {
		transient["display_id"] = displayID
		// A new output supersedes an update still waiting for its slot.
		p.displays[displayID] = &displayState{last: p.now()}
	}
	p.send("display_data", displayContent{Data: dict(b.Data), Metadata: dict(b.Metadata), Transient: transient})
}

func (p *cellPublisher) UpdateDisplay(b Bundle, displayID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active() || displayID == "" {
		return
	}
	d := p.displays[displayID]
	if d == nil {
		// An output shown by an earlier cell: update it, throttled from now on.
		d = &displayState{}
		p.displays[displayID] = d
	}
	now := p.now()
	if d.pending == nil && (d.last.IsZero() || now.Sub(d.last) >= p.lim.UpdateInterval) {
		p.sendUpdate(displayID, b)
		d.last = now
		return
	}
	d.pending = &b
}

func (p *cellPublisher) sendUpdate(id string, b Bundle) {
	p.send("update_display_data", displayContent{
		Data: dict(b.Data), Metadata: dict(b.Metadata), Transient: map[string]any{"display_id": id},
	})
}

func (p *cellPublisher) Result(b Bundle) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active() {
		return
	}
	p.flushStreams()
	if s, ok := b.Data["text/plain"].(string); ok {
		p.result = &s
	}
	p.send("execute_result", executeResultContent{ExecutionCount: p.count, Data: dict(b.Data), Metadata: dict(b.Metadata)})
}

func (p *cellPublisher) Error(ename, evalue string, traceback []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active() {
		return
	}
	p.sendError(&CellError{Name: ename, Value: evalue, Traceback: traceback})
}

func (p *cellPublisher) sendError(e *CellError) {
	p.flushStreams()
	tb := e.Traceback
	if tb == nil {
		tb = []string{}
	}
	p.send("error", errorContent{Ename: e.Name, Evalue: e.Value, Traceback: tb})
	p.errorSent = true
}

func (p *cellPublisher) ClearOutput(wait bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active() {
		return
	}
	p.flushStreams()
	p.send("clear_output", clearOutputContent{Wait: wait})
}

// finish ends the cell: it sends held-back text, the last state of every
// live display (the final update is never throttled away), the note about
// each stream's cut output, and the cell's error unless the executor already showed one.
// Later calls on the publisher are dropped.
func (p *cellPublisher) finish(cellErr *CellError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopTicker != nil {
		close(p.stopTicker)
		p.stopTicker = nil
	}
	if p.closed {
		return
	}
	if !p.silent {
		p.flushStreams()
		for id, d := range p.displays {
			if d.pending != nil {
				p.sendUpdate(id, *d.pending)
				d.pending = nil
			}
		}
		for i := range p.streams {
			b := &p.streams[i]
			if !b.cutting {
				continue
			}
			n := b.cutLines
			if b.cutPartial {
				n++
			}
			note := fmt.Sprintf("[... %d more lines cut]\n", n)
			if b.openLine {
				note = "\n" + note
			}
			p.send("stream", streamContent{Name: b.name, Text: note})
		}
		if cellErr != nil && !p.errorSent {
			p.sendError(cellErr)
		}
	}
	p.closed = true
}

// resultText is the text/plain of the cell's execute_result, if it had one.
func (p *cellPublisher) resultText() *string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.result
}
