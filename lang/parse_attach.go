package lang

// Attach points: from the raw text the scanner cut out (scanAttach) to
// AttachPoint fields, following bpftrace 0.17's AttachPointParser
// (src/ast/attachpoint_parser.cpp), its messages included, plus the newer
// forms: rawtracepoint, fentry/fexit, lowercase begin/end,
// kprobe:module:func, interval:1s and interval:N (nanoseconds).
//
// What needs the running system is left for later: "uprobe:libc:f" keeps
// Target "libc" (the runtime resolves library names), a kfunc without a
// module keeps Target "" (the runtime finds it in BTF), wildcards are
// expanded by the checker through TypeSource.Expand.

import (
	"fmt"
	"path"
	"strings"
)

// providers maps every provider name and alias to its canonical name.
var providers = map[string]string{
	"BEGIN": "BEGIN", "begin": "BEGIN", "END": "END", "end": "END",
	"kprobe": "kprobe", "k": "kprobe", "kretprobe": "kretprobe", "kr": "kretprobe",
	"uprobe": "uprobe", "u": "uprobe", "uretprobe": "uretprobe", "ur": "uretprobe",
	"usdt": "usdt", "U": "usdt", "tracepoint": "tracepoint", "t": "tracepoint",
	"rawtracepoint": "rawtracepoint", "rt": "rawtracepoint",
	"profile": "profile", "p": "profile", "interval": "interval", "i": "interval",
	"software": "software", "s": "software", "hardware": "hardware", "h": "hardware",
	"watchpoint": "watchpoint", "w": "watchpoint", "asyncwatchpoint": "asyncwatchpoint", "aw": "asyncwatchpoint",
	"kfunc": "kfunc", "f": "kfunc", "fentry": "kfunc", "kretfunc": "kretfunc", "fr": "kretfunc", "fexit": "kretfunc",
	"iter": "iter", "it": "iter",
}

// CanonicalProvider returns the canonical long name of a provider name or
// alias ("t" → "tracepoint", "fentry" → "kfunc"), or "" if it names none.
func CanonicalProvider(name string) string { return providers[name] }

// A wildcard provider ("k*:vfs_read") stands for each provider it matches
// among those bpftrace's listing considers: kernel ones, or user-space ones
// when the next part is a path. (kfunc is left out, as bpftrace does on
// kernels without kfunc support, since the parser cannot ask.)
var (
	kernelProviders = []string{"kprobe", "tracepoint", "software", "hardware", "iter"}
	userProviders   = []string{"uprobe", "usdt"}
)

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?[") }

// attachPoints turns one ATTACH lexeme into attach points: none for an
// empty one (bpftrace ignores them: "kprobe:f, {" is fine), several for a
// wildcard provider. Errors go to p.apErrs with the attach point's span.
func (p *parser) attachPoints(a lexeme) []*AttachPoint {
	if a.text == "" {
		return nil
	}
	fail := func(msg string) []*AttachPoint {
		p.apErrs.Add(&Error{File: p.file, Pos: a.pos, End: a.end, Msg: msg})
		return nil
	}
	raw, parts, err := splitAttach(a.text, p.opts.Params)
	if err != "" {
		return fail(err)
	}
	if parts[0] == "" {
		return nil
	}
	first := parts[0]
	if !hasWildcard(first) {
		ap, msg, _ := parseAttach(raw, parts, false, p.opts.PID)
		if msg != "" {
			return fail(msg)
		}
		ap.SetSpan(a.pos, a.end)
		return []*AttachPoint{ap}
	}
	list := kernelProviders
	if p.opts.PID > 0 || len(parts) >= 2 && strings.Contains(parts[1], "/") {
		list = userProviders
	}
	query := first
	if len(parts) == 1 {
		query = "*"
	}
	var out []*AttachPoint
	matched := 0
	for _, prov := range list {
		if ok, _ := path.Match(query, prov); !ok {
			continue
		}
		matched++
		ps := append([]string{prov}, parts[1:]...)
		ap, msg, skip := parseAttach(prov+raw[len(first):], ps, true, p.opts.PID)
		if skip {
			continue
		}
		if msg != "" {
			return fail(msg)
		}
		ap.SetSpan(a.pos, a.end)
		out = append(out, ap)
	}
	if matched == 0 {
		return fail("No probe type matched for " + first)
	}
	return out
}

// splitAttach splits an attach point's text at the ':'s outside quotes,
// decodes quoted parts and substitutes positional parameters. It returns
// the raw text after substitution and the parts.
func splitAttach(text string, params []string) (raw string, parts []string, err string) {
	var rb, cur strings.Builder
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '"':
			v, n, _ := unquote([]byte(text[i:]))
			cur.WriteString(v)
			rb.WriteString(text[i : i+n])
			i += n
		case c == ':':
			parts = append(parts, cur.String())
			cur.Reset()
			rb.WriteByte(c)
			i++
		case c == '\\' && i+1 < len(text):
			cur.WriteByte(text[i+1])
			rb.WriteString(text[i : i+2])
			i += 2
		case c == '$' && i+1 < len(text) && text[i+1] == '#':
			return "", nil, "Not a positional parameter"
		case c == '$' && i+1 < len(text) && isDigit(text[i+1]):
			j := i + 1
			for j < len(text) && isDigit(text[j]) {
				j++
			}
			num := text[i+1 : j]
			n := 0
			ok := len(num) <= 18
			for _, d := range num {
				n = n*10 + int(d-'0')
			}
			if !ok || n == 0 {
				return "", nil, fmt.Sprintf("param $%s is out of integer range [1, %d]", num, int64(1<<63-1))
			}
			k := j
			for k < len(text) && text[k] != ':' && text[k] != '"' {
				k++
			}
			if k > j {
				return "", nil, "Found trailing text '" + text[j:k] + "' in positional parameter index. Try quoting the trailing text."
			}
			v := ""
			if n <= len(params) {
				v = params[n-1]
			}
			cur.WriteString(v)
			rb.WriteString(v)
			i = j
		default:
			cur.WriteByte(c)
			rb.WriteByte(c)
			i++
		}
	}
	parts = append(parts, cur.String())
	return rb.String(), parts, ""
}

// parseAttach fills an AttachPoint from its parts. With ignoreInvalid (an
// expansion of a wildcard provider) a wrong number of parts skips the
// provider instead of failing. pid is the -p process, which lets uprobe
// and usdt leave out the binary.
func parseAttach(raw string, parts []string, ignoreInvalid bool, pid int) (ap *AttachPoint, msg string, skip bool) {
	ap = &AttachPoint{Raw: raw, Provider: providers[parts[0]]}
	if ap.Provider == "" {
		return nil, "Invalid probe type: " + parts[0], false
	}
	n := len(parts) - 1 // arguments after the provider
	count := func(text string) (*AttachPoint, string, bool) {
		if ignoreInvalid {
			return nil, "", true
		}
		return nil, ap.Provider + " probe type requires " + text, false
	}
	var err string
	switch ap.Provider {
	case "BEGIN", "END":
		if n == 1 && parts[1] == "*" {
			n = 0
		}
		if n != 0 {
			return count("0 arguments")
		}
	case "kprobe", "kretprobe":
		if n != 1 && n != 2 {
			return count("1 argument")
		}
		if n == 2 {
			ap.Target = parts[1]
		}
		ap.Func, ap.Offset, err = funcOffset(parts[n], ap.Provider == "kprobe")
	case "uprobe", "uretprobe":
		if n == 1 && pid > 0 {
			ap.Func, ap.Offset, err = funcOffset(parts[1], ap.Provider == "uprobe")
			break
		}
		if n != 2 {
			return count("2 arguments")
		}
		ap.Target = parts[1]
		fn := parts[2]
		if strings.Contains(fn, "+") {
			ap.Func, ap.Offset, err = funcOffset(fn, ap.Provider == "uprobe")
		} else if v, e := parseIntLit(fn); e == "" && fn != "" {
			if hasWildcard(ap.Target) {
				return nil, "Cannot use wildcards with absolute address", false
			}
			ap.Address = v
		} else {
			ap.Func = fn
		}
	case "usdt":
		switch {
		case n == 1 && pid > 0:
			ap.Func = parts[1]
		case n == 2:
			ap.Target, ap.Func = parts[1], parts[2]
		case n == 3:
			ap.Target, ap.NS, ap.Func = parts[1], parts[2], parts[3]
		default:
			return count("2 or 3 arguments")
		}
	case "tracepoint":
		if n == 1 && hasWildcard(parts[1]) {
			// "tracepoint:*foo*" looks for the event in every category.
			parts = []string{parts[0], "*", parts[1]}
			n = 2
		}
		if n != 2 {
			return count("2 arguments")
		}
		ap.Target, ap.Func = parts[1], parts[2]
	case "rawtracepoint":
		switch n {
		case 1:
			ap.Func = parts[1]
		case 2:
			ap.Target, ap.Func = parts[1], parts[2]
		default:
			return count("1 or 2 arguments")
		}
	case "profile", "interval":
		switch n {
		case 2:
			ap.Unit = parts[1]
			ap.Freq, err = parseIntLit(parts[2])
		case 1:
			if parts[1] == "" || !isDigit(parts[1][0]) {
				return count("2 arguments")
			}
			ap.Unit, ap.Freq, err = parseRate(ap.Provider, parts[1])
		default:
			return count("2 arguments")
		}
	case "software", "hardware":
		if n != 1 && n != 2 {
			return count("1 or 2 arguments")
		}
		ap.Func = parts[1]
		if n == 2 && parts[2] != "*" {
			ap.Freq, err = parseIntLit(parts[2])
		}
	case "watchpoint", "asyncwatchpoint":
		if n != 3 {
			return count("3 arguments")
		}
		ap.Async = ap.Provider == "asyncwatchpoint"
		what := parts[1]
		if !strings.Contains(what, "+") {
			ap.Address, err = parseIntLit(what)
		} else {
			fa := splitNonEmpty(what, '+')
			if len(fa) != 2 {
				return nil, "Invalid function/address argument", false
			}
			ap.Func = fa[0]
			if len(fa[1]) <= 3 || !strings.HasPrefix(fa[1], "arg") {
				return nil, "Invalid function argument", false
			}
			var argn uint64
			argn, err = parseIntLit(fa[1][3:])
			ap.ArgN = int(argn & 0xffff)
		}
		if err == "" {
			ap.Len, err = parseIntLit(parts[2])
		}
		ap.Mode = parts[3]
		if err == "" && !validWatchMode(ap.Mode) {
			err = "watchpoint mode must be combination of (r,w,x)"
		}
	case "kfunc", "kretfunc":
		switch n {
		case 1:
			ap.Func = parts[1]
		case 2:
			ap.Target, ap.Func = parts[1], parts[2]
		default:
			return count("1 or 2 arguments")
		}
	case "iter":
		if n != 1 && n != 2 {
			if ignoreInvalid {
				return nil, "", true
			}
			return nil, "iter probe type takes 2 arguments (1 optional)", false
		}
		if hasWildcard(parts[1]) {
			if ignoreInvalid {
				return nil, "", true
			}
			return nil, "iter probe type does not support wildcards", false
		}
		ap.Func = parts[1]
		if n == 2 {
			ap.Target = parts[2]
		}
	}
	if err != "" {
		return nil, err, false
	}
	ap.Wildcard = hasWildcard(ap.Target) || hasWildcard(ap.Func) || hasWildcard(ap.NS)
	return ap, "", false
}

// funcOffset splits "func+off" (off decimal or hex).
func funcOffset(s string, allowOffset bool) (fn string, off uint64, err string) {
	plus := strings.Count(s, "+")
	if plus == 0 {
		return s, 0, ""
	}
	if !allowOffset {
		return "", 0, "Offset not allowed"
	}
	if plus != 1 {
		return "", 0, "Cannot take more than one offset"
	}
	parts := splitNonEmpty(s, '+')
	if len(parts) != 2 {
		return "", 0, "Invalid offset"
	}
	off, err = parseIntLit(parts[1])
	return parts[0], off, err
}

// splitNonEmpty splits s at sep, dropping empty pieces.
func splitNonEmpty(s string, sep byte) []string {
	var out []string
	for _, p := range strings.Split(s, string(sep)) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validWatchMode reports whether m is a combination of r, w and x.
func validWatchMode(m string) bool {
	if m == "" || len(m) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range m {
		if c != 'r' && c != 'w' && c != 'x' || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// parseRate parses the one-argument form of profile and interval (bpftrace
// ≥ 0.24): "1s", "100ms", "10us", "500ns", "99hz", "2m", "1h", "1d", or a
// bare number of nanoseconds.
func parseRate(provider, s string) (unit string, n uint64, err string) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
		i++
	}
	num, suffix := s[:i], s[i:]
	if num == "" {
		return "", 0, "Invalid rate of " + provider + " probe: " + s
	}
	v, e := parseIntLit(num)
	if e != "" {
		return "", 0, "Invalid rate of " + provider + " probe: " + e
	}
	switch suffix {
	case "":
		return "ns", v, ""
	case "ns", "us", "ms", "s", "hz":
		return suffix, v, ""
	case "m":
		return "s", v * 60, ""
	case "h":
		return "s", v * 3600, ""
	case "d":
		return "s", v * 86400, ""
	}
	return "", 0, "Invalid rate of " + provider + " probe: " + s
}
