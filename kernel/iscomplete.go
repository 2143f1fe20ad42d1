package kernel

import "strings"

// CheckBalance answers is_complete_request for C-like source such as
// bpftrace: code is "incomplete" while a bracket or a block comment is open
// (indented by four spaces per open bracket), "invalid" when a closing
// bracket has no partner or a string runs past the end of its line (bpftrace
// strings cannot span lines), and "complete" otherwise. Comments, strings and
// preprocessor lines are skipped so their brackets do not count. Lines
// starting with % are magics and are skipped too; a cell magic (%%) on the
// first line makes the cell run only once its last line is blank, as in
// IPython's console.
func CheckBalance(code string) IsCompleteResult {
	var stack []byte
	i := 0
	atLineStart := true
	for i < len(code) {
		c := code[i]
		if atLineStart {
			j := i
			for j < len(code) && (code[j] == ' ' || code[j] == '\t') {
				j++
			}
			if j < len(code) && (code[j] == '%' || code[j] == '#') {
				// A magic or a preprocessor line: skip it, with any
				// backslash-newline continuations.
				for j < len(code) && code[j] != '\n' {
					if code[j] == '\\' && j+1 < len(code) && code[j+1] == '\n' {
						j++
					}
					j++
				}
				i = j
				continue
			}
			atLineStart = false
		}
		switch {
		case c == '\n':
			atLineStart = true
			i++
		case c == '/' && i+1 < len(code) && code[i+1] == '/':
			for i < len(code) && code[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(code) && code[i+1] == '*':
			end := strings.Index(code[i+2:], "*/")
			if end < 0 {
				return IsCompleteResult{Status: "incomplete", Indent: strings.Repeat("    ", len(stack))}
			}
			i += 2 + end + 2
		case c == '"':
			i++
			for {
				if i >= len(code) || code[i] == '\n' {
					return IsCompleteResult{Status: "invalid"}
				}
				if code[i] == '\\' {
					i += 2
					continue
				}
				if code[i] == '"' {
					i++
					break
				}
				i++
			}
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
			i++
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 || stack[len(stack)-1] != opener(c) {
				return IsCompleteResult{Status: "invalid"}
			}
			stack = stack[:len(stack)-1]
			i++
		default:
			i++
		}
	}
	if len(stack) > 0 {
		return IsCompleteResult{Status: "incomplete", Indent: strings.Repeat("    ", len(stack))}
	}
	if strings.HasSuffix(strings.TrimRight(code, " \t"), "\\") {
		return IsCompleteResult{Status: "incomplete"}
	}
	if strings.HasPrefix(strings.TrimLeft(code, " \t"), "%%") && !strings.HasSuffix(code, "\n") {
		return IsCompleteResult{Status: "incomplete"}
	}
	return IsCompleteResult{Status: "complete"}
}

func opener(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}
