package kernel

import "unicode/utf8"

// Cursor positions in protocol 5.2 and later count Unicode code points;
// Go strings index bytes. These two functions convert, clamping anything
// out of range (a negative position, one past the end, a client counting
// UTF-16 units) to the nearest valid place instead of failing.

// runeToByte converts a code-point offset into code to a byte offset.
func runeToByte(code string, cp int) int {
	if cp <= 0 {
		return 0
	}
	n := 0
	for i := range code {
		if n == cp {
			return i
		}
		n++
	}
	return len(code)
}

// cursorByte is the byte offset in code of a complete or inspect request's
// cursor_pos. Completion and inspection read it alike: a missing or null
// cursor_pos puts the cursor after the last character.
func cursorByte(code string, pos optInt) int {
	if !pos.Set {
		return len(code)
	}
	return runeToByte(code, pos.V)
}

// byteToRune converts a byte offset into code to a code-point offset. An
// offset inside a multi-byte character counts as that character's start.
func byteToRune(code string, b int) int {
	if b <= 0 {
		return 0
	}
	if b > len(code) {
		b = len(code)
	}
	for b > 0 && b < len(code) && !utf8.RuneStart(code[b]) {
		b--
	}
	return utf8.RuneCountInString(code[:b])
}
