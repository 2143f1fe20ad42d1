package render

import (
	"strconv"
	"strings"
	"time"
)

// Strftime formats t like bpftrace's strftime(): every "%f" is first
// replaced by the microseconds of t (six digits, leftmost match first, as a
// plain text substitution that does not know about "%%"), then the result
// is formatted by C strftime rules (glibc, C locale). As in bpftrace 0.17,
// whose buffer holds 63 characters, a longer (or empty) result is "(?)".
func Strftime(format string, t time.Time) string {
	us := strconv.Itoa(t.Nanosecond() / 1000)
	us = strings.Repeat("0", 6-len(us)) + us
	s, ok := StrftimeFits(CStrftime(strings.ReplaceAll(format, "%f", us), t))
	if !ok {
		return "(?)"
	}
	return s
}

// StrftimeMax is the longest text bpftrace 0.17's strftime() and time()
// produce: their buffer is 64 bytes (STRING_SIZE), and C strftime fails
// (returns 0) when the text and its NUL do not fit, or the text is empty.
const StrftimeMax = 63

// StrftimeFits reports whether s is a text bpftrace's strftime would
// produce (at most StrftimeMax bytes, not empty).
func StrftimeFits(s string) (string, bool) {
	return s, s != "" && len(s) <= StrftimeMax
}

// maxStrftimeWidth bounds a conversion's field width: results longer than
// StrftimeMax are refused anyway, and "%999999999H" must not allocate.
const maxStrftimeWidth = 1024

// CStrftime formats t by C strftime rules in the C locale, as glibc does
// them, including the GNU flags (_ - 0 ^ #), field widths and the E/O
// modifiers (which the C locale ignores). time() uses it directly: it does
// not know %f. t is formatted in its own location; pass a local time.
func CStrftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		start := i
		i++
		for i < len(format) && strings.IndexByte("_-0^#", format[i]) >= 0 {
			i++
		}
		// Padding flags (_ - 0) replace each other; case flags (^ #) add.
		var pad byte
		var upper, swap bool
		for j := start + 1; j < i; j++ {
			switch format[j] {
			case '^':
				upper = true
			case '#':
				swap = true
			default:
				pad = format[j]
			}
		}
		width := -1
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			if width < 0 {
				width = 0
			}
			width = min(width*10+int(format[i]-'0'), maxStrftimeWidth)
			i++
		}
		if i < len(format) && (format[i] == 'E' || format[i] == 'O') {
			i++
		}
		if i >= len(format) {
			// A lone '%' (with flags or width) at the end is copied,
			// padded to the width like any unknown conversion.
			b.WriteString(padLeft(format[start:], width, ' '))
			break
		}
		conv := format[i]
		s, ok := strftimeConv(conv, t, pad, width, upper, swap)
		if !ok {
			b.WriteString(padLeft(format[start:i+1], width, ' '))
			continue
		}
		b.WriteString(s)
	}
	return b.String()
}

var (
	weekdayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames   = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
)

// strftimeConv formats one conversion. Numbers have a natural width and
// pad character (zero for most, space for %e %k %l); the flags override
// the pad and a width widens it. Strings pad with spaces (zeros under the
// 0 flag) to the width.
func strftimeConv(conv byte, t time.Time, pad byte, width int, upper, swap bool) (string, bool) {
	num := func(n int64, digits int, defPad byte) string {
		return strftimeNum(n, digits, defPad, pad, width)
	}
	str := func(s string, swapLower bool) string {
		if upper || (swap && !swapLower) {
			s = strings.ToUpper(s)
		} else if swap && swapLower {
			s = strings.ToLower(s)
		}
		p := byte(' ')
		if pad == '0' {
			p = '0'
		}
		return padLeft(s, width, p)
	}
	comp := func(f string) string { return str(CStrftime(f, t), false) }
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch conv {
	case 'a':
		return str(weekdayNames[t.Weekday()][:3], false), true
	case 'A':
		return str(weekdayNames[t.Weekday()], false), true
	case 'b', 'h':
		return str(monthNames[t.Month()-1][:3], false), true
	case 'B':
		return str(monthNames[t.Month()-1], false), true
	case 'c':
		return comp("%a %b %e %H:%M:%S %Y"), true
	case 'C':
		return num(int64(t.Year()/100), 2, '0'), true
	case 'd':
		return num(int64(t.Day()), 2, '0'), true
	case 'D', 'x':
		return comp("%m/%d/%y"), true
	case 'e':
		return num(int64(t.Day()), 2, ' '), true
	case 'F':
		return comp("%Y-%m-%d"), true
	case 'g':
		y, _ := t.ISOWeek()
		return num(int64(y%100), 2, '0'), true
	case 'G':
		y, _ := t.ISOWeek()
		return num(int64(y), 1, '0'), true
	case 'H':
		return num(int64(t.Hour()), 2, '0'), true
	case 'I':
		return num(int64(hour12), 2, '0'), true
	case 'j':
		return num(int64(t.YearDay()), 3, '0'), true
	case 'k':
		return num(int64(t.Hour()), 2, ' '), true
	case 'l':
		return num(int64(hour12), 2, ' '), true
	case 'm':
		return num(int64(t.Month()), 2, '0'), true
	case 'M':
		return num(int64(t.Minute()), 2, '0'), true
	case 'n':
		return str("\n", false), true
	case 'p':
		ampm := "AM"
		if t.Hour() >= 12 {
			ampm = "PM"
		}
		return str(ampm, true), true
	case 'P':
		ampm := "am"
		if t.Hour() >= 12 {
			ampm = "pm"
		}
		if upper {
			ampm = strings.ToUpper(ampm)
		}
		return padLeft(ampm, width, ' '), true
	case 'r':
		return comp("%I:%M:%S %p"), true
	case 'R':
		return comp("%H:%M"), true
	case 's':
		return num(t.Unix(), 1, '0'), true
	case 'S':
		return num(int64(t.Second()), 2, '0'), true
	case 't':
		return str("\t", false), true
	case 'T', 'X':
		return comp("%H:%M:%S"), true
	case 'u':
		wd := int64(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return num(wd, 1, '0'), true
	case 'U':
		return num(int64((t.YearDay()-1+7-int(t.Weekday()))/7), 2, '0'), true
	case 'V':
		_, w := t.ISOWeek()
		return num(int64(w), 2, '0'), true
	case 'w':
		return num(int64(t.Weekday()), 1, '0'), true
	case 'W':
		return num(int64((t.YearDay()-1+7-(int(t.Weekday())+6)%7)/7), 2, '0'), true
	case 'y':
		return num(int64(t.Year()%100), 2, '0'), true
	case 'Y':
		return num(int64(t.Year()), 1, '0'), true
	case 'z':
		_, off := t.Zone()
		sign := "+"
		if off < 0 {
			sign = "-"
			off = -off
		}
		hhmm := int64(off/3600*100 + off%3600/60)
		w := width
		if w > 0 {
			w-- // the sign counts toward the width
		}
		return sign + strftimeNum(hhmm, 4, '0', pad, w), true
	case 'Z':
		name, _ := t.Zone()
		return str(name, true), true
	case '%':
		return padLeft("%", width, ' '), true
	}
	return "", false
}

// strftimeNum formats n with at least digits digits padded with defPad,
// unless a flag says otherwise: '-' no padding, '_' spaces, '0' zeros. A
// width larger than digits pads further with the same character.
func strftimeNum(n int64, digits int, defPad, flag byte, width int) string {
	s := strconv.FormatInt(n, 10)
	p := defPad
	switch flag {
	case '-':
		if width < 0 {
			return s
		}
		p = ' '
	case '_':
		p = ' '
	case '0':
		p = '0'
	}
	w := digits
	if width >= 0 {
		w = width
	}
	if flag == '-' {
		return padLeft(s, w, ' ')
	}
	if p == '0' && n < 0 {
		return "-" + padLeft(s[1:], w-1, '0')
	}
	return padLeft(s, w, p)
}

// padLeft pads s on the left with c to width bytes.
func padLeft(s string, width int, c byte) string {
	if width <= len(s) {
		return s
	}
	return strings.Repeat(string(c), width-len(s)) + s
}

// timeFromNanos converts nanoseconds since the Unix epoch to local time.
func timeFromNanos(ns uint64) time.Time {
	return time.Unix(0, int64(ns)).Local()
}
