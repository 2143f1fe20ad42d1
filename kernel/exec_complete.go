package kernel

import (
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
)

// Completion (Tab) and, in exec_inspect.go, inspection (Shift-Tab). Both
// start from where the cursor is in the cell's text: on a magic line, in a
// probe's attach points, in its /predicate/ or body, or in a statement
// outside any probe. The cell is usually incomplete while it is typed, so
// the place is found by a scan of brackets, strings and comments
// (scanCursor), not by the parser; only finished pieces (the attach points
// of the probe around the cursor) are parsed.
//
// What can be proposed comes from the language's tables (functions,
// builtins, providers), the system (tracepoints, kernel functions, ELF
// symbols, through lang.TypeSource.Expand with a wildcard, which is also
// how probes are listed) and the session (its maps and their types).

// assist answers completion and inspection requests.
type assist struct {
	// types is the system's type source; nil knows nothing of the system.
	types lang.TypeSource
	// maps returns the session's maps with their fixed types.
	maps func() map[string]*lang.MapInfo
	// summaries returns what %maps shows of each map (may be nil).
	summaries func() []runtime.MapSummary
	// tpFormat reads a tracepoint's format file (may be nil: the fields
	// then come from types).
	tpFormat func(category, name string) (*runtime.TracepointFormat, error)
	// readDir lists a directory, for uprobe binary paths (may be nil).
	readDir func(dir string) ([]os.DirEntry, error)
	// providerErr says why a provider cannot attach here (may be nil).
	providerErr func(provider string) error
	// bgIDs lists the background runs, for %stop (may be nil).
	bgIDs func() []int
}

// newSystemAssist answers from the running system and the session.
func newSystemAssist(s *runtime.Session) *assist {
	return &assist{
		types: s.Types(),
		maps:  s.MapTypes,
		summaries: func() []runtime.MapSummary {
			m, _ := s.Maps()
			return m
		},
		tpFormat:    runtime.ReadTracepointFormat,
		readDir:     os.ReadDir,
		providerErr: runtime.ProviderError,
	}
}

// maxMatches bounds a completion list (kprobe:* would list 50 000).
const maxMatches = 1000

// provider describes a probe provider for completion and inspection.
type provider struct {
	name, alias string
	form        string // how its attach points are written
	doc         string
}

var providers = []provider{
	{"BEGIN", "", "BEGIN", "runs once, when the program starts"},
	{"END", "", "END", "runs once, when the program ends (exit(), the end of a %%trace, an interrupt)"},
	{"tracepoint", "t", "tracepoint:CATEGORY:NAME", "a kernel tracepoint; args-> holds its fields"},
	{"rawtracepoint", "rt", "rawtracepoint:NAME", "a kernel tracepoint before its fields are filled; args-> holds its raw arguments (with BTF)"},
	{"kprobe", "k", "kprobe:FUNCTION[+OFFSET]", "a kernel function's entry; arg0..argN are its arguments"},
	{"kretprobe", "kr", "kretprobe:FUNCTION", "a kernel function's return; retval is its value"},
	{"kfunc", "f", "kfunc:[MODULE:]FUNCTION", "a kernel function's entry through BTF (fentry); args-> names its arguments"},
	{"kretfunc", "fr", "kretfunc:[MODULE:]FUNCTION", "a kernel function's return through BTF (fexit); args-> and retval"},
	{"uprobe", "u", "uprobe:BINARY:FUNCTION[+OFFSET]", "a user-space function's entry; arg0..argN are its arguments"},
	{"uretprobe", "ur", "uretprobe:BINARY:FUNCTION", "a user-space function's return; retval is its value"},
	{"usdt", "U", "usdt:BINARY:[PROVIDER:]PROBE", "a user-space static probe (USDT); arg0..argN are its arguments"},
	{"profile", "p", "profile:hz:RATE (or s, ms, us)", "a timer on every CPU, for sampling (kstack, ustack)"},
	{"interval", "i", "interval:s:N (or ms, us, hz)", "a timer on one CPU, for periodic output"},
	{"software", "s", "software:EVENT[:COUNT]", "a kernel software event (page-faults, context-switches, ...), every COUNT events"},
	{"hardware", "h", "hardware:EVENT[:COUNT]", "a processor counter (cycles, cache-misses, ...), every COUNT events"},
	{"watchpoint", "w", "watchpoint:ADDRESS:LENGTH:MODE", "a hardware watchpoint on memory (MODE r, w, x)"},
	{"asyncwatchpoint", "aw", "asyncwatchpoint:ADDRESS:LENGTH:MODE", "a watchpoint whose program runs asynchronously"},
	{"iter", "it", "iter:NAME[:PIN]", "a BPF iterator over kernel objects (task, task_file, ...)"},
}

func lookupProvider(name string) *provider {
	canon := lang.CanonicalProvider(name)
	for i := range providers {
		if providers[i].name == canon {
			return &providers[i]
		}
	}
	return nil
}

// keywords are the statement words completion offers in a probe body.
var keywords = []string{"if", "else", "unroll", "while", "return", "break", "continue", "sizeof", "offsetof"}

// place is where the cursor is.
type place uint8

const (
	inNothing   place = iota // a string, a comment, after a predicate
	inMagic                  // a %magic line
	inAttach                 // a probe's attach points, or a statement outside probes
	inPredicate              // a probe's /predicate/
	inBody                   // a probe's { body }
)

// cursorScan is what scanCursor learned about the text before the cursor.
type cursorScan struct {
	where place
	// header is the attach point text of the probe the cursor is in (its
	// predicate or body), "" at the top level.
	header string
	// segStart is where the current top-level piece (a probe's attach
	// points, or a statement) starts.
	segStart int
}

// scanCursor finds where code[:cursor] leaves the cursor.
func scanCursor(code string, cursor int) cursorScan {
	text := code[:cursor]
	lineStart := strings.LastIndexByte(text, '\n') + 1
	if strings.HasPrefix(strings.TrimLeft(text[lineStart:], " \t"), "%") {
		return cursorScan{where: inMagic, segStart: lineStart}
	}
	var (
		depth              int
		inStr, lineComment bool
		blockComment       bool
		segStart           int
		pred               = 0 // 0: attach points, 1: in a predicate, 2: after it
		predStart          = -1
		header             string
		atLineStart        = true
	)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if atLineStart {
			// Magic lines are not bpftrace.
			j := i
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			if !inStr && !blockComment && j < len(text) && text[j] == '%' {
				for i < len(text) && text[i] != '\n' {
					i++
				}
				if depth == 0 && pred == 0 {
					segStart = i + 1
				}
				continue
			}
			atLineStart = false
		}
		switch {
		case c == '\n':
			atLineStart = true
			lineComment = false
			inStr = false // bpftrace strings do not span lines
			continue
		case lineComment:
			continue
		case blockComment:
			if c == '*' && i+1 < len(text) && text[i+1] == '/' {
				blockComment = false
				i++
			}
			continue
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		case c == '"':
			inStr = true
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			lineComment = true
			i++
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			blockComment = true
			i++
			continue
		}
		switch c {
		case '{':
			if depth == 0 {
				end := i
				if predStart >= 0 {
					end = predStart
				}
				header = text[segStart:end]
			}
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
			if depth == 0 {
				segStart, pred, predStart, header = i+1, 0, -1, ""
			}
		case ';':
			if depth == 0 {
				segStart, pred, predStart = i+1, 0, -1
			}
		case '/':
			if depth == 0 {
				switch pred {
				case 0:
					// A predicate's slash follows a blank; a slash in an
					// attach point (uprobe:/bin/bash:f) follows its text.
					if i > segStart && (text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n') {
						pred, predStart = 1, i
					}
				case 1:
					pred = 2
				}
			}
		}
	}
	s := cursorScan{segStart: segStart}
	switch {
	case inStr || lineComment || blockComment:
		s.where = inNothing
	case depth > 0:
		s.where, s.header = inBody, header
	case pred == 1:
		s.where, s.header = inPredicate, text[segStart:predStart]
	case pred == 2:
		s.where = inNothing
	default:
		s.where = inAttach
	}
	return s
}

// probeAttach parses the attach points of a probe header ("" gives none).
func probeAttach(header string) []*lang.AttachPoint {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil
	}
	p, errs := lang.Parse("complete", []byte(header+" {}"), nil)
	if p == nil || errs.HasErrors() || len(p.Probes) != 1 {
		return nil
	}
	return p.Probes[0].Attach
}

// provOf is the canonical provider of a probe header's first attach
// point; a statement outside probes runs as BEGIN does.
func provOf(aps []*lang.AttachPoint) string {
	if len(aps) == 0 {
		return "BEGIN"
	}
	return aps[0].Provider
}

func isIdent(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// identStart is where the identifier ending at cursor starts.
func identStart(code string, cursor int) int {
	i := cursor
	for i > 0 && isIdent(code[i-1]) {
		i--
	}
	return i
}

// isAttachChar reports whether c may be part of an attach point as
// written (uprobe:/usr/lib/libc.so.6:malloc+4, tracepoint:syscalls:sys_*).
func isAttachChar(c byte) bool {
	return isIdent(c) || strings.IndexByte(":/.-+*?[]@$~", c) >= 0
}

func (a *assist) complete(code string, cursor int) Completion {
	cursor = min(max(cursor, 0), len(code))
	s := scanCursor(code, cursor)
	switch s.where {
	case inMagic:
		return a.completeMagic(code, cursor, s.segStart)
	case inAttach:
		return a.completeTop(code, cursor, s)
	case inPredicate, inBody:
		return a.completeExpr(code, cursor, probeAttach(s.header))
	}
	return Completion{Start: cursor, End: cursor}
}

// completeTop completes at the top level: an attach point, or a
// statement outside probes.
func (a *assist) completeTop(code string, cursor int, s cursorScan) Completion {
	start := cursor
	for start > s.segStart && isAttachChar(code[start-1]) {
		start--
	}
	word := code[start:cursor]
	switch {
	case strings.HasPrefix(word, "@") || strings.HasPrefix(word, "$"):
		return a.completeExpr(code, cursor, nil)
	case strings.Contains(word, ":"):
		return a.completeAttach(word, start)
	case word != "" && !isIdentString(word):
		return Completion{Start: cursor, End: cursor}
	}
	// A provider, or a statement (print, clear, ...) outside probes.
	c := Completion{Start: start, End: cursor}
	c.Matches = append(c.Matches, a.providerMatches(word)...)
	c.Matches = append(c.Matches, a.identMatches(word, "BEGIN", false)...)
	return c
}

func isIdentString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isIdent(s[i]) {
			return false
		}
	}
	return true
}

// providerMatches are the providers (and their aliases) starting with
// prefix, available ones first.
func (a *assist) providerMatches(prefix string) []Match {
	var ok, no []Match
	for _, p := range providers {
		note := ""
		if a.providerErr != nil {
			if err := a.providerErr(p.name); err != nil {
				note = " (not on this kernel: " + err.Error() + ")"
			}
		}
		suffix := ":"
		if p.name == "BEGIN" || p.name == "END" {
			suffix = ""
		}
		var ms []Match
		if strings.HasPrefix(p.name, prefix) {
			ms = append(ms, Match{Text: p.name + suffix, Type: "probe", Signature: p.form + ": " + p.doc + note})
		}
		if p.alias != "" && strings.HasPrefix(p.alias, prefix) && prefix != "" {
			ms = append(ms, Match{Text: p.alias + suffix, Type: "probe", Signature: "alias of " + p.name + ": " + p.form + note})
		}
		if note == "" {
			ok = append(ok, ms...)
		} else {
			no = append(no, ms...)
		}
	}
	return append(ok, no...)
}

// completeAttach completes the last part of an attach point.
func (a *assist) completeAttach(word string, start int) Completion {
	parts := strings.Split(word, ":")
	last := parts[len(parts)-1]
	c := Completion{Start: start + len(word) - len(last), End: start + len(word)}
	if strings.ContainsAny(last, "*?[") {
		return c // a wildcard is already what the user wants
	}
	prov := lang.CanonicalProvider(parts[0])
	add := func(text, typ, sig string) {
		if len(c.Matches) < maxMatches {
			c.Matches = append(c.Matches, Match{Text: text, Type: typ, Signature: sig})
		}
	}
	uniq := map[string]bool{}
	addOnce := func(text, typ, sig string) {
		if !uniq[text] {
			uniq[text] = true
			add(text, typ, sig)
		}
	}
	n := len(parts)
	switch prov {
	case "tracepoint":
		switch n {
		case 2:
			for _, ap := range a.expand("tracepoint:" + last + "*:*") {
				addOnce(ap.Target+":", "module", "tracepoint category")
			}
		case 3:
			for _, ap := range a.expand("tracepoint:" + parts[1] + ":" + last + "*") {
				addOnce(ap.Func, "probe", ap.Name())
			}
		}
	case "rawtracepoint":
		if n == 2 {
			for _, ap := range a.expand("rawtracepoint:" + last + "*") {
				addOnce(ap.Func, "probe", ap.Name())
			}
		}
	case "kprobe", "kretprobe", "kfunc", "kretfunc":
		pattern := prov + ":" + last + "*"
		if n == 3 {
			pattern = prov + ":" + parts[1] + ":" + last + "*"
		} else if n != 2 {
			return c
		}
		for _, ap := range a.expand(pattern) {
			addOnce(ap.Func, "function", ap.Name())
		}
	case "uprobe", "uretprobe", "usdt":
		switch {
		case n == 2:
			for _, m := range a.pathMatches(last) {
				add(m.Text, m.Type, m.Signature)
			}
		case n == 3 && prov != "usdt":
			for _, ap := range a.expand(prov + ":" + parts[1] + ":" + last + "*") {
				addOnce(ap.Func, "function", ap.Name())
			}
		case n == 3 || n == 4:
			pattern := "usdt:" + parts[1] + ":" + last + "*"
			if n == 4 {
				pattern = "usdt:" + parts[1] + ":" + parts[2] + ":" + last + "*"
			}
			for _, ap := range a.expand(pattern) {
				addOnce(ap.Func, "probe", ap.Name())
			}
		}
	case "software", "hardware":
		if n == 2 {
			events := runtime.SoftwareEvents
			if prov == "hardware" {
				events = runtime.HardwareEvents
			}
			for _, e := range events {
				for _, name := range []string{e.Name, e.Alias} {
					if name != "" && strings.HasPrefix(name, last) {
						addOnce(name, "probe", prov+":"+e.Name+" (every "+strconv.FormatUint(e.DefaultPeriod, 10)+" events unless a count follows)")
					}
				}
			}
		}
	case "profile", "interval":
		if n == 2 {
			for _, u := range []string{"hz", "s", "ms", "us"} {
				if strings.HasPrefix(u, last) {
					add(u+":", "keyword", prov+":"+u+":N")
				}
			}
		}
	case "iter":
		if n == 2 {
			for _, ap := range a.expand("iter:" + last + "*") {
				addOnce(ap.Func, "probe", ap.Name())
			}
		}
	}
	return c
}

// expand lists the attach points a wildcard pattern matches on this
// system, as bpftrace -l does.
func (a *assist) expand(pattern string) []*lang.AttachPoint {
	if a.types == nil {
		return nil
	}
	aps := probeAttach(pattern)
	if len(aps) != 1 {
		return nil
	}
	ms, err := a.types.Expand(aps[0])
	if err != nil {
		return nil
	}
	return ms
}

// pathMatches completes the path of a uprobe's binary: directories (with
// a slash, to go on) and files.
func (a *assist) pathMatches(prefix string) []Match {
	if a.readDir == nil || !strings.HasPrefix(prefix, "/") {
		return nil
	}
	dir, base := path.Split(prefix)
	entries, err := a.readDir(dir)
	if err != nil {
		return nil
	}
	var out []Match
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		full := dir + name
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(full); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir {
			out = append(out, Match{Text: full + "/", Type: "path", Signature: "directory"})
		} else {
			out = append(out, Match{Text: full, Type: "path", Signature: "binary or library"})
		}
		if len(out) >= maxMatches {
			break
		}
	}
	return out
}

// argsRE matches "args->name" or "args.name" just before the cursor.
var argsRE = regexp.MustCompile(`\bargs\s*(?:->|\.)\s*([A-Za-z_0-9]*)$`)

// completeExpr completes inside a predicate, a probe body or a statement:
// args fields, maps, variables, functions, builtins and keywords.
func (a *assist) completeExpr(code string, cursor int, aps []*lang.AttachPoint) Completion {
	text := code[:cursor]
	if m := argsRE.FindStringSubmatchIndex(text); m != nil {
		prefix := text[m[2]:m[3]]
		c := Completion{Start: m[2], End: cursor}
		for _, f := range a.argsFields(aps) {
			if strings.HasPrefix(f.Name, prefix) {
				c.Matches = append(c.Matches, Match{Text: f.Name, Type: "field", Signature: typeName(f.Type) + " " + f.Name})
			}
		}
		return c
	}
	start := identStart(code, cursor)
	prefix := code[start:cursor]
	if start > 0 && code[start-1] == '@' {
		return Completion{Start: start - 1, End: cursor, Matches: a.mapMatches(code, "@"+prefix, start-1)}
	}
	if start > 0 && code[start-1] == '$' {
		return Completion{Start: start - 1, End: cursor, Matches: varMatches(code, "$"+prefix, start-1)}
	}
	if start > 0 && (code[start-1] == '.' || code[start-1] == '>') {
		return Completion{Start: cursor, End: cursor} // a field of something else
	}
	c := Completion{Start: start, End: cursor}
	c.Matches = a.identMatches(prefix, provOf(aps), true)
	return c
}

// identMatches are the functions, builtins (and in a probe, keywords)
// starting with prefix that a probe of provider prov may use.
func (a *assist) identMatches(prefix, prov string, inProbe bool) []Match {
	var out []Match
	allowed := func(probes []string) bool {
		if probes == nil {
			return true
		}
		for _, p := range probes {
			if p == prov {
				return true
			}
		}
		return false
	}
	if prefix == "" && !inProbe {
		return nil
	}
	for _, f := range lang.Funcs() {
		if strings.HasPrefix(f.Name, prefix) && allowed(f.Probes) {
			out = append(out, Match{Text: f.Name, Type: "function", Signature: f.Signature})
		}
	}
	if inProbe {
		for _, b := range lang.Builtins() {
			if strings.HasPrefix(b.Name, prefix) && allowed(b.Probes) {
				out = append(out, Match{Text: b.Name, Type: "builtin", Signature: b.Name + ": " + b.Type})
			}
		}
		for _, k := range keywords {
			if strings.HasPrefix(k, prefix) {
				out = append(out, Match{Text: k, Type: "keyword"})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	// kstack, ustack, cgroup and the like are both a builtin and a
	// function: keep the function, which has a signature.
	kept := out[:0]
	for i, m := range out {
		if i > 0 && m.Text == kept[len(kept)-1].Text {
			continue
		}
		kept = append(kept, m)
	}
	return kept
}

var (
	mapNameRE = regexp.MustCompile(`@[A-Za-z_][A-Za-z0-9_]*`)
	varNameRE = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*`)
)

// mapMatches are the session's maps, and those the cell itself names,
// starting with prefix ("@by" → @bytes).
func (a *assist) mapMatches(code, prefix string, at int) []Match {
	seen := map[string]bool{}
	var out []Match
	if a.maps != nil {
		maps := a.maps()
		names := make([]string, 0, len(maps))
		for n := range maps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				seen[n] = true
				out = append(out, Match{Text: n, Type: "map", Signature: mapSignature(maps[n])})
			}
		}
	}
	for _, loc := range mapNameRE.FindAllStringIndex(code, -1) {
		n := code[loc[0]:loc[1]]
		if loc[0] == at || seen[n] || !strings.HasPrefix(n, prefix) {
			continue
		}
		seen[n] = true
		out = append(out, Match{Text: n, Type: "map", Signature: n + " (in this cell)"})
	}
	return out
}

// mapSignature is a session map's type as completion shows it:
// "@bytes[string[16]]: hist (cell[1])".
func mapSignature(mi *lang.MapInfo) string {
	s := mi.Name
	if len(mi.KeyParts) > 0 {
		ks := make([]string, len(mi.KeyParts))
		for i, k := range mi.KeyParts {
			ks[i] = typeName(k)
		}
		s += "[" + strings.Join(ks, ", ") + "]"
	}
	s += ": " + typeName(mi.Value)
	if mi.Origin != "" {
		s += " (" + mi.Origin + ")"
	}
	return s
}

// typeName prints a type as bpftrace's messages do; nil is "?".
func typeName(t *lang.Type) string {
	if t == nil {
		return "?"
	}
	return t.String()
}

// varMatches are the cell's scratch variables starting with prefix.
func varMatches(code, prefix string, at int) []Match {
	seen := map[string]bool{}
	var out []Match
	for _, loc := range varNameRE.FindAllStringIndex(code, -1) {
		n := code[loc[0]:loc[1]]
		if loc[0] == at || seen[n] || !strings.HasPrefix(n, prefix) {
			continue
		}
		seen[n] = true
		out = append(out, Match{Text: n, Type: "variable"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	return out
}

// argsFields are the fields of args in a probe: a tracepoint's format
// fields (without the common_ ones), or a kfunc's or raw tracepoint's
// arguments from BTF. A wildcard probe takes its first match's.
func (a *assist) argsFields(aps []*lang.AttachPoint) []*lang.Field {
	if a.types == nil || len(aps) == 0 {
		return nil
	}
	ap := aps[0]
	if ap.Wildcard {
		ms, err := a.types.Expand(ap)
		if err != nil || len(ms) == 0 {
			return nil
		}
		ap = ms[0]
	}
	var rec *lang.Type
	var err error
	switch ap.Provider {
	case "tracepoint":
		rec, err = a.types.TracepointArgs(ap.Target, ap.Func)
	case "kfunc", "kretfunc":
		rec, _, err = a.types.FuncArgs(ap.Target, ap.Func)
	case "rawtracepoint":
		rec, _, err = a.types.FuncArgs(ap.Target, "btf_trace_"+ap.Func)
	default:
		return nil
	}
	if err != nil || rec == nil {
		return nil
	}
	var out []*lang.Field
	for _, f := range rec.Fields {
		if !strings.HasPrefix(f.Name, "common_") {
			out = append(out, f)
		}
	}
	return out
}

// completeMagic completes a magic line: the magic's name, then its
// arguments.
func (a *assist) completeMagic(code string, cursor, lineStart int) Completion {
	line := code[lineStart:cursor]
	indent := len(line) - len(strings.TrimLeft(line, " \t"))
	line = line[indent:]
	wordStart := strings.LastIndexAny(line, " \t") + 1
	word := line[wordStart:]
	c := Completion{Start: lineStart + indent + wordStart, End: cursor}
	if wordStart == 0 {
		for _, n := range magicNames() {
			if strings.HasPrefix(n, word) {
				c.Matches = append(c.Matches, Match{Text: n, Type: "magic", Signature: magicHelp[n]})
			}
		}
		return c
	}
	fields := strings.Fields(line[:wordStart])
	name, nargs := fields[0], len(fields)-1
	var opts []string
	switch {
	case name == "%set" && nargs == 0:
		for n := range settingDocs {
			opts = append(opts, n)
		}
	case name == "%set" && nargs == 1 && fields[1] == "format":
		opts = []string{"text", "json"}
	case name == "%unsafe" || name == "%verbose":
		opts = []string{"on", "off"}
	case name == "%stop" && a.bgIDs != nil:
		for _, id := range a.bgIDs() {
			opts = append(opts, strconv.Itoa(id))
		}
	case name == "%list" && strings.Contains(word, ":"):
		return a.completeAttach(word, c.Start)
	case name == "%list":
		c.Matches = a.providerMatches(word)
		return c
	}
	sort.Strings(opts)
	for _, o := range opts {
		if strings.HasPrefix(o, word) {
			sig := settingDocs[o]
			c.Matches = append(c.Matches, Match{Text: o, Type: "keyword", Signature: sig})
		}
	}
	return c
}

// isComplete answers is_complete_request: brackets and comments first
// (CheckBalance), then, for a cell whose brackets balance, the parser: a
// program that ends too early (a probe's attach points, or its predicate,
// still waiting for the { of its body; an expression cut short) is
// incomplete, so a console waits for more lines.
func isComplete(code string) IsCompleteResult {
	r := CheckBalance(code)
	if r.Status != "complete" {
		return r
	}
	for _, line := range strings.Split(code, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "%") {
			return r // magics: CheckBalance's rules
		}
	}
	_, errs := lang.Parse("cell", []byte(code), &lang.ParseOptions{Cell: true})
	for _, e := range errs {
		if e.Severity == lang.SevError && strings.Contains(e.Msg, "end of file") {
			return IsCompleteResult{Status: "incomplete", Indent: ""}
		}
	}
	return r
}
