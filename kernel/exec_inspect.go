package kernel

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tracebook/tracebook/lang"
)

// Inspection (Shift-Tab): the documentation of what is under the cursor.
// A function or builtin shows its signature and doc from lang's tables; a
// tracepoint attach point its format (fields and types); kfunc its
// arguments; args the fields of the probe around it; struct NAME a kernel
// struct's fields; @map the session map's type, entry count and size; a
// magic its help. detail_level 1 adds offsets, sizes and the fine print.

func (a *assist) inspect(code string, cursor, detail int) Inspection {
	text := a.inspectText(code, cursor, detail)
	if text == "" {
		return Inspection{}
	}
	return Inspection{Found: true, Data: TextBundle(text)}
}

var structRE = regexp.MustCompile(`\b(struct|union|enum)\s+([A-Za-z_][A-Za-z0-9_]*)`)

func (a *assist) inspectText(code string, cursor, detail int) string {
	cursor = min(max(cursor, 0), len(code))
	s := scanCursor(code, cursor)
	// The word under the cursor: what surrounds it on both sides.
	start, end := identStart(code, cursor), cursor
	for end < len(code) && isIdent(code[end]) {
		end++
	}
	word := code[start:end]

	switch s.where {
	case inNothing:
		return ""
	case inMagic:
		ms, me := cursor, cursor
		for ms > 0 && (isIdent(code[ms-1]) || code[ms-1] == '%') {
			ms--
		}
		for me < len(code) && isIdent(code[me]) {
			me++
		}
		return magicHelp[code[ms:me]]
	case inAttach:
		as, ae := cursor, cursor
		for as > s.segStart && isAttachChar(code[as-1]) {
			as--
		}
		for ae < len(code) && isAttachChar(code[ae]) {
			ae++
		}
		if ap := code[as:ae]; strings.Contains(ap, ":") && !strings.HasPrefix(ap, "@") && !strings.HasPrefix(ap, "$") {
			return a.inspectAttach(ap, detail)
		}
		if p := lookupProvider(word); p != nil && (word == "BEGIN" || word == "END") {
			return p.name + ": " + p.doc
		}
	}

	// struct NAME anywhere on the line, if the cursor is on it.
	lineStart := strings.LastIndexByte(code[:cursor], '\n') + 1
	lineEnd := len(code)
	if i := strings.IndexByte(code[cursor:], '\n'); i >= 0 {
		lineEnd = cursor + i
	}
	for _, m := range structRE.FindAllStringSubmatchIndex(code[lineStart:lineEnd], -1) {
		if lineStart+m[0] <= cursor && cursor <= lineStart+m[1] {
			return a.inspectType(code[lineStart+m[2]:lineStart+m[3]]+" "+code[lineStart+m[4]:lineStart+m[5]], detail)
		}
	}
	if word == "" {
		return ""
	}
	if start > 0 && code[start-1] == '@' {
		return a.inspectMap(code, "@"+word)
	}
	if start > 0 && code[start-1] == '$' {
		return ""
	}
	aps := probeAttach(s.header)
	if m := argsRE.FindStringSubmatch(code[:end]); m != nil && m[1] == word {
		for _, f := range a.argsFields(aps) {
			if f.Name == word {
				return fmt.Sprintf("args->%s: %s", f.Name, typeName(f.Type))
			}
		}
	}
	if word == "args" && len(aps) > 0 {
		if fields := a.argsFields(aps); len(fields) > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "args in %s:\n", aps[0].Name())
			for _, f := range fields {
				fmt.Fprintf(&b, "    %s %s\n", typeName(f.Type), f.Name)
			}
			return b.String()
		}
	}
	if f := lang.LookupFunc(word); f != nil {
		return funcDoc(f, detail)
	}
	if b := lang.LookupBuiltin(word); b != nil {
		return builtinDoc(b, detail)
	}
	return ""
}

// funcDoc documents a builtin function.
func funcDoc(f *lang.Func, detail int) string {
	var b strings.Builder
	b.WriteString(f.Signature + "\n\n" + f.Doc + "\n")
	if f.Returns != "" && f.Returns != "none" {
		b.WriteString("\nreturns: " + f.Returns + "\n")
	}
	if f.Alias != "" {
		b.WriteString("another name for " + f.Alias + "()\n")
	}
	if f.Unsafe {
		b.WriteString("unsafe: needs %unsafe on\n")
	}
	if detail > 0 {
		if f.Probes != nil {
			b.WriteString("probes: " + strings.Join(f.Probes, ", ") + "\n")
		}
		if f.Since != "" {
			b.WriteString("since bpftrace " + f.Since + "\n")
		}
	}
	return b.String()
}

// builtinDoc documents a builtin variable.
func builtinDoc(bi *lang.Builtin, detail int) string {
	var b strings.Builder
	b.WriteString(bi.Name + ": " + bi.Type + "\n\n" + bi.Doc + "\n")
	if bi.Probes != nil {
		b.WriteString("\nin: " + strings.Join(bi.Probes, ", ") + " probes\n")
	}
	if detail > 0 && bi.Since != "" {
		b.WriteString("since bpftrace " + bi.Since + "\n")
	}
	return b.String()
}

// inspectAttach documents an attach point: a tracepoint's format, a
// kfunc's arguments, what a wildcard matches, or its provider.
func (a *assist) inspectAttach(text string, detail int) string {
	aps := probeAttach(text)
	if len(aps) != 1 {
		if p := lookupProvider(strings.SplitN(text, ":", 2)[0]); p != nil {
			return p.form + "\n\n" + p.doc + "\n"
		}
		return ""
	}
	ap := aps[0]
	p := lookupProvider(ap.Provider)
	var b strings.Builder
	if ap.Wildcard {
		ms := a.expand(text)
		fmt.Fprintf(&b, "%s matches %d %s", text, len(ms), plural(len(ms), "probe", "probes"))
		if len(ms) > 0 {
			b.WriteString(":")
		}
		b.WriteString("\n")
		for i, m := range ms {
			if i == 20 && detail == 0 {
				fmt.Fprintf(&b, "    ... (%d more)\n", len(ms)-20)
				break
			}
			b.WriteString("    " + m.Name() + "\n")
		}
		return b.String()
	}
	b.WriteString(ap.Name() + "\n")
	switch ap.Provider {
	case "tracepoint":
		if a.tpFormat == nil {
			for _, f := range a.argsFields(aps) {
				fmt.Fprintf(&b, "    %s %s\n", typeName(f.Type), f.Name)
			}
			break
		}
		f, err := a.tpFormat(ap.Target, ap.Func)
		if err != nil {
			return err.Error() + "\n"
		}
		for _, fd := range f.Fields {
			switch {
			case fd.Common && detail == 0:
			case detail > 0:
				fmt.Fprintf(&b, "    %-40s offset %d, size %d\n", fd.Decl+";", fd.Offset, fd.Size)
			default:
				b.WriteString("    " + fd.Decl + "\n")
			}
		}
	case "kfunc", "kretfunc", "rawtracepoint":
		if a.types != nil {
			fn := ap.Func
			if ap.Provider == "rawtracepoint" {
				fn = "btf_trace_" + fn
			}
			args, ret, err := a.types.FuncArgs(ap.Target, fn)
			if err != nil {
				return b.String() + err.Error() + "\n"
			}
			if args != nil {
				for _, f := range args.Fields {
					fmt.Fprintf(&b, "    %s %s\n", typeName(f.Type), f.Name)
				}
			}
			if ap.Provider == "kretfunc" && ret != nil {
				fmt.Fprintf(&b, "    %s retval\n", typeName(ret))
			}
		}
	}
	if p != nil {
		b.WriteString("\n" + p.form + ": " + p.doc + "\n")
	}
	return b.String()
}

// inspectType documents a kernel struct, union or enum from BTF.
func (a *assist) inspectType(name string, detail int) string {
	if a.types == nil {
		return ""
	}
	t, err := a.types.LookupType(name)
	if err != nil {
		return err.Error() + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d bytes)\n", name, t.Size)
	for _, f := range t.Fields {
		if detail > 0 {
			fmt.Fprintf(&b, "    %-40s offset %d\n", typeName(f.Type)+" "+f.Name+";", f.Offset)
		} else {
			fmt.Fprintf(&b, "    %s %s;\n", typeName(f.Type), f.Name)
		}
	}
	return b.String()
}

// inspectMap documents a map: its type, and for a session map the cell
// that fixed it, its entries and its size.
func (a *assist) inspectMap(code, name string) string {
	var mi *lang.MapInfo
	if a.maps != nil {
		mi = a.maps()[name]
	}
	if mi == nil {
		if strings.Contains(code, name) {
			return name + ": not in the session yet; running this cell creates it\n"
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(mapSignature(mi) + "\n")
	if mi.Origin != "" {
		where := mi.Origin
		if mi.OriginPos.IsValid() {
			where += fmt.Sprintf(" at %d:%d", mi.OriginPos.Line, mi.OriginPos.Col)
		}
		b.WriteString("type fixed by " + where + "\n")
	}
	if a.summaries != nil {
		for _, s := range a.summaries() {
			if s.Name == name {
				fmt.Fprintf(&b, "%d of %d entries, %s\n", s.Entries, s.MaxEntries, humanBytes(s.Memory))
			}
		}
	}
	return b.String()
}
