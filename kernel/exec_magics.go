package kernel

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tracebook/tracebook/runtime"
)

// Magics are the notebook's commands that are not bpftrace: lines that
// start with % (line magics, run before the cell's program, in order) and
// lines at the top of a cell that start with %% (cell magics, which change
// how the cell's program runs). Magic lines are blanked out of the source
// the compiler sees, so its line numbers stay those of the cell.

// cellSource is a cell split into its magics and its program.
type cellSource struct {
	run   runMagic    // from %%trace and %%bg
	lines []lineMagic // line magics, in order
	body  string      // the program, magic lines blanked
	// cellMagic is set when the cell had a %% line.
	cellMagic bool
}

// runMagic is how a cell's probes run.
type runMagic struct {
	bg       bool          // %%bg: leave the probes attached and return
	duration time.Duration // %%trace DURATION: stop after this long (0: no limit)
	command  string        // -c COMMAND: run it while tracing; its end ends the run
}

// lineMagic is one %name line.
type lineMagic struct {
	name string
	args []string
	line int // 1-based
}

// magicHelp documents every magic; %help prints it, completion shows the
// first line as the signature, and unknown magics list the names.
var magicHelp = map[string]string{
	"%%trace": "%%trace [DURATION] [-c COMMAND]: run the cell's probes for DURATION (30s, 500ms, 2m; a bare number is seconds), " +
		"and with -c run COMMAND meanwhile (its end ends the trace; cpid is its pid)",
	"%%bg":     "%%bg [DURATION] [-c COMMAND]: attach the cell's probes and return at once; they stay attached until %stop, %reset, exit() or DURATION",
	"%probes":  "%probes: list the probes attached in the background (id, cell, probes, elapsed, events)",
	"%stop":    "%stop [ID...]: detach background probes (all of them without an ID), run their END and show their maps and output",
	"%maps":    "%maps: list the session's maps with their types, entry counts, memory and the cell that fixed their types",
	"%reset":   "%reset: detach every probe and drop every map: the session starts afresh",
	"%list":    "%list [-v] [PATTERN]: list probes as bpftrace -l does (tracepoint:sched:*, uprobe:/bin/bash:*)",
	"%set":     "%set [NAME VALUE]: show or change a setting: strlen, mapsize (max entries of new maps), format (text or json), top (keys a plot shows), rate (live updates a second, at most 5)",
	"%unsafe":  "%unsafe [on|off]: allow system(), signal() and override() (bpftrace's --unsafe)",
	"%verbose": "%verbose [on|off]: show the verifier's full log when the kernel refuses a program",
	"%help":    "%help: this help",
}

// magicNames lists the magics, cell magics first.
func magicNames() []string {
	names := make([]string, 0, len(magicHelp))
	for n := range magicHelp {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ci, cj := strings.HasPrefix(names[i], "%%"), strings.HasPrefix(names[j], "%%")
		if ci != cj {
			return ci
		}
		return names[i] < names[j]
	})
	return names
}

// usageError is how the notebook reports a misused magic.
func usageError(format string, args ...any) *CellError {
	msg := fmt.Sprintf(format, args...)
	return &CellError{Name: "UsageError", Value: msg, Traceback: []string{"UsageError: " + msg}}
}

// unknownMagic reports a magic that does not exist, with the list of
// those that do.
func unknownMagic(name string) *CellError {
	e := usageError("unknown magic %s", name)
	e.Traceback = append(e.Traceback, "the magics are: "+strings.Join(magicNames(), " "), "%help describes them")
	return e
}

// parseCell splits a cell into magics and program.
func parseCell(code string) (cellSource, error) {
	var c cellSource
	lines := strings.Split(code, "\n")
	top := true
	for i, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "%%"):
			if !top {
				return c, usageError("line %d: the cell magic %s must come before the program", i+1, firstWord(t))
			}
			if err := c.run.parse(t); err != nil {
				return c, err
			}
			c.cellMagic = true
			lines[i] = ""
		case strings.HasPrefix(t, "%"):
			words, err := splitWords(t)
			if err != nil {
				return c, usageError("line %d: %v", i+1, err)
			}
			c.lines = append(c.lines, lineMagic{name: strings.TrimPrefix(words[0], "%"), args: words[1:], line: i + 1})
			lines[i] = ""
		default:
			top = false
		}
	}
	c.body = strings.Join(lines, "\n")
	return c, nil
}

// parse reads one %%trace or %%bg line into m.
func (m *runMagic) parse(line string) error {
	words, err := splitWords(line)
	if err != nil {
		return usageError("%s: %v", firstWord(line), err)
	}
	name := words[0]
	switch name {
	case "%%trace":
	case "%%bg":
		m.bg = true
	default:
		return unknownMagic(name)
	}
	args := words[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c":
			if i+1 >= len(args) || args[i+1] == "" {
				return usageError("%s: -c needs a command", name)
			}
			i++
			m.command = args[i]
		case strings.HasPrefix(a, "-c"):
			m.command = a[2:]
		default:
			d, err := parseDuration(a)
			if err != nil {
				return usageError("%s: %v", name, err)
			}
			m.duration = d
		}
	}
	return nil
}

// parseDuration reads a %%trace duration: Go's syntax (30s, 1m30s, 500ms)
// or a bare number of seconds.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0, fmt.Errorf("%q is not a duration (30s, 500ms, 2m, or a number of seconds)", s)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("the duration must be positive, not %s", s)
	}
	return d, nil
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// splitWords splits a magic line into words as a shell would: blanks
// separate words, and '...' or "..." quote (so -c 'dd if=/dev/zero
// count=1000' is one word); a backslash escapes the next character
// outside single quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				w.WriteByte(s[i])
			} else {
				w.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote = c
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty magic")
	}
	return words, nil
}

// onOff reads the argument of %unsafe and %verbose: nil shows the state.
func onOff(name string, args []string) (*bool, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if len(args) > 1 {
		return nil, usageError("%%%s takes on or off", name)
	}
	switch strings.ToLower(args[0]) {
	case "on", "true", "1", "yes":
		v := true
		return &v, nil
	case "off", "false", "0", "no":
		v := false
		return &v, nil
	}
	return nil, usageError("%%%s takes on or off, not %q", name, args[0])
}

// settings are what %set, %unsafe and %verbose change.
type settings struct {
	StrLen  int     // default string size of new programs
	MapSize int     // max entries of new maps
	Format  string  // "text" or "json": how printf-like events and maps print
	TopN    int     // keys a bar chart shows
	Rate    float64 // live display updates a second
	Unsafe  bool
	Verbose bool
}

func defaultSettings() settings {
	return settings{StrLen: 64, MapSize: 4096, Format: "text", TopN: 20, Rate: 5}
}

// maxRate is the most live updates a second: the kernel's publisher
// throttles a display to five updates a second anyway.
const maxRate = 5

// settingNames are %set's names, with their aliases.
var settingNames = map[string]string{
	"strlen": "strlen", "mapsize": "mapsize", "map_keys_max": "mapsize", "max_map_entries": "mapsize",
	"format": "format", "top": "top", "topn": "top", "rate": "rate",
}

// settingDocs describe each setting for %set and completion.
var settingDocs = map[string]string{
	"strlen":  "default size of strings in programs compiled from now on (BPFTRACE_STRLEN), 1 to 200",
	"mapsize": "max entries of maps created from now on (BPFTRACE_MAP_KEYS_MAX)",
	"format":  "text (bpftrace's) or json (bpftrace -f json's) for printf-like output and printed maps",
	"top":     "how many keys a bar chart shows",
	"rate":    "live display updates a second, more than 0 and at most 5",
}

// set applies "%set NAME VALUE" to s.
func (s *settings) set(name, val string) error {
	canon, ok := settingNames[strings.ToLower(name)]
	if !ok {
		return usageError("%%set: no setting %q (the settings are strlen, mapsize, format, top, rate)", name)
	}
	bad := func(why string) error { return usageError("%%set %s: %q: %s", canon, val, why) }
	switch canon {
	case "strlen":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 200 {
			return bad("a string size from 1 to 200")
		}
		s.StrLen = n
	case "mapsize":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 1<<24 {
			return bad("a number of entries from 1 to 16777216")
		}
		s.MapSize = n
	case "format":
		v := strings.ToLower(val)
		if v != "text" && v != "json" {
			return bad("text or json")
		}
		s.Format = v
	case "top":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 1000 {
			return bad("a number of keys from 1 to 1000")
		}
		s.TopN = n
	case "rate":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f <= 0 || f > maxRate {
			return bad("updates a second, more than 0 and at most 5")
		}
		s.Rate = f
	}
	return nil
}

// value returns a setting's current value as text.
func (s *settings) value(canon string) string {
	switch canon {
	case "strlen":
		return strconv.Itoa(s.StrLen)
	case "mapsize":
		return strconv.Itoa(s.MapSize)
	case "format":
		return s.Format
	case "top":
		return strconv.Itoa(s.TopN)
	case "rate":
		return strconv.FormatFloat(s.Rate, 'g', -1, 64)
	}
	return ""
}

// interval is the gap between two live updates.
func (s *settings) interval() time.Duration {
	r := s.Rate
	if r <= 0 || r > maxRate {
		r = maxRate
	}
	return time.Duration(float64(time.Second) / r)
}

// lineMagic runs one line magic. Payloads (the pager) go to the reply.
func (nb *Notebook) lineMagic(m lineMagic, out Publisher) ([]map[string]any, error) {
	noArgs := func() error {
		if len(m.args) > 0 {
			return usageError("%%%s takes no arguments", m.name)
		}
		return nil
	}
	switch m.name {
	case "help":
		return []map[string]any{PagePayload(TextBundle(helpText()), 0)}, nil
	case "probes":
		if err := noArgs(); err != nil {
			return nil, err
		}
		out.Display(nb.probesTable(), "")
	case "stop":
		return nil, nb.stop(m.args, out)
	case "maps":
		if err := noArgs(); err != nil {
			return nil, err
		}
		out.Display(nb.mapsTable(), "")
	case "reset":
		if err := noArgs(); err != nil {
			return nil, err
		}
		maps := len(nb.sess.MapNames())
		err := nb.sess.Reset()
		runs := nb.dropBackground()
		out.Stream("stdout", fmt.Sprintf("session reset: %d %s dropped, %d background %s stopped\n",
			maps, plural(maps, "map", "maps"), runs, plural(runs, "run", "runs")))
		if err != nil {
			out.Stream("stderr", "WARNING: "+err.Error()+"\n")
		}
	case "list":
		return nil, nb.list(m.args, out)
	case "set":
		return nil, nb.setMagic(m.args, out)
	case "unsafe", "verbose":
		v, err := onOff(m.name, m.args)
		if err != nil {
			return nil, err
		}
		nb.mu.Lock()
		p := &nb.set.Unsafe
		if m.name == "verbose" {
			p = &nb.set.Verbose
		}
		if v != nil {
			*p = *v
		}
		state := map[bool]string{true: "on", false: "off"}[*p]
		nb.mu.Unlock()
		out.Stream("stdout", fmt.Sprintf("%s mode is %s\n", m.name, state))
	default:
		return nil, unknownMagic("%" + m.name)
	}
	return nil, nil
}

// helpText is %help.
func helpText() string {
	var b strings.Builder
	b.WriteString("tracebook: bpftrace in Jupyter\n\n")
	b.WriteString("A cell is a bpftrace program. Its probes run until exit(), the end of a %%trace duration,\n")
	b.WriteString("or an interrupt (the stop button), which ends them as Ctrl-C ends bpftrace: END runs and the\n")
	b.WriteString("maps are shown. Statements outside any probe run once, at once; a bare @map as the last one\n")
	b.WriteString("is the cell's result. Maps live for the whole session and keep the types their first use\n")
	b.WriteString("gave them, so later cells read and write what earlier cells filled.\n\nMagics:\n")
	for _, n := range magicNames() {
		b.WriteString("  " + magicHelp[n] + "\n")
	}
	b.WriteString("\nShift-Tab on a function, builtin, map, probe or struct shows its documentation; Tab completes\n")
	b.WriteString("probes, functions, maps and args-> fields.\n")
	return b.String()
}

// list is %list [-v] [PATTERN], bpftrace -l.
func (nb *Notebook) list(args []string, out Publisher) error {
	verbose := false
	pattern := ""
	for _, a := range args {
		switch {
		case a == "-v" || a == "-lv":
			verbose = true
		case pattern == "":
			pattern = a
		default:
			return usageError("%%list takes one pattern, e.g. %%list 'tracepoint:sched:*'")
		}
	}
	var b strings.Builder
	if err := runtime.ListProbes(&b, nb.sess.Types(), pattern, verbose); err != nil {
		return &CellError{Name: "ListError", Value: err.Error(), Traceback: []string{"ListError: " + err.Error()}}
	}
	if b.Len() == 0 {
		out.Stream("stdout", fmt.Sprintf("no probes match %q\n", pattern))
		return nil
	}
	out.Stream("stdout", b.String())
	return nil
}

// setMagic is %set [NAME [VALUE]].
func (nb *Notebook) setMagic(args []string, out Publisher) error {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	switch len(args) {
	case 0:
	case 1:
		canon, ok := settingNames[strings.ToLower(args[0])]
		if !ok {
			return usageError("%%set: no setting %q (the settings are strlen, mapsize, format, top, rate)", args[0])
		}
		out.Stream("stdout", fmt.Sprintf("%s = %s\n", canon, nb.set.value(canon)))
		return nil
	case 2:
		if err := nb.set.set(args[0], args[1]); err != nil {
			return err
		}
	default:
		return usageError("%%set takes a name and a value, e.g. %%set strlen 128")
	}
	t := table{header: []string{"setting", "value", "meaning"}}
	for _, n := range []string{"strlen", "mapsize", "format", "top", "rate"} {
		t.rows = append(t.rows, []string{n, nb.set.value(n), settingDocs[n]})
	}
	t.rows = append(t.rows, []string{"unsafe", map[bool]string{true: "on", false: "off"}[nb.set.Unsafe], "%unsafe on|off"})
	t.rows = append(t.rows, []string{"verbose", map[bool]string{true: "on", false: "off"}[nb.set.Verbose], "%verbose on|off"})
	out.Display(t.bundle(), "")
	return nil
}

// mapsTable is %maps.
func (nb *Notebook) mapsTable() Bundle {
	sums, err := nb.sess.Maps()
	if len(sums) == 0 {
		return TextBundle("the session has no maps yet\n")
	}
	t := table{
		header: []string{"map", "key", "value", "entries", "max", "memory", "type fixed by"},
		right:  []bool{false, false, false, true, true, true, false},
	}
	for _, s := range sums {
		t.rows = append(t.rows, []string{s.Name, s.Key, s.Value, strconv.Itoa(s.Entries), strconv.Itoa(s.MaxEntries),
			humanBytes(s.Memory), s.Origin})
	}
	b := t.bundle()
	if err != nil {
		b.Data["text/plain"] = b.Data["text/plain"].(string) + "WARNING: " + err.Error() + "\n"
	}
	return b
}

// humanBytes prints a size in bytes as KiB or MiB.
func humanBytes(n uint64) string {
	switch {
	case n == 0:
		return "-"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
