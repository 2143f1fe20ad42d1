package runtime

import "strings"

// hasWildcard reports whether s contains a character that makes it a
// pattern in bpftrace's sense. bpftrace 0.17 knows only '*'; '?' and
// bracket classes are accepted here as well because lang marks them as
// wildcards (AttachPoint.Wildcard), and no kernel or ELF name contains them.
func hasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?[")
}

// globMatch reports whether name matches pattern, where '*' matches any run
// of characters (':' and '/' included: probe patterns are matched against
// whole "path:symbol" strings), '?' matches one character and "[...]" one
// character of a class ("[!...]" or "[^...]" negates it). A malformed class
// is matched literally.
func globMatch(pattern, name string) bool {
	// Iterative matcher with one backtracking point per '*', as in the
	// classic wildcard algorithm: linear in practice on symbol names.
	p, n := 0, 0
	starP, starN := -1, 0
	for n < len(name) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				starP, starN = p, n
				p++
				continue
			case '?':
				p++
				n++
				continue
			case '[':
				if ok, width, valid := matchClass(pattern[p:], name[n]); valid {
					if ok {
						p += width
						n++
						continue
					}
				} else if name[n] == '[' {
					p++
					n++
					continue
				}
			default:
				if pattern[p] == name[n] {
					p++
					n++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starN++
		p, n = starP+1, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the bracket class at the start of pat. It
// returns whether c is in the class, the class's width in pat, and whether
// the class is well formed.
func matchClass(pat string, c byte) (ok bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	start := i
	for i < len(pat) && (pat[i] != ']' || i == start) {
		lo := pat[i]
		hi := lo
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			hi = pat[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
		i++
	}
	if i >= len(pat) {
		return false, 0, false
	}
	return ok != negate, i + 1, true
}

// matchAll returns the names that match pattern, in the order given.
func matchAll(pattern string, names []string) []string {
	var out []string
	for _, s := range names {
		if globMatch(pattern, s) {
			out = append(out, s)
		}
	}
	return out
}
