package render

import (
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// strftimeCases were produced by glibc's strftime (Python's time.strftime
// on this machine, TZ=UTC, gmtime) and are facts about C strftime.
var strftimeCases = []struct {
	unix   int64
	format string
	want   string
}{
	{0, "%a %A %b %B %h", "Thu Thursday Jan January Jan"},
	{0, "%c", "Thu Jan  1 00:00:00 1970"},
	{0, "%C %d %D %e %F", "19 01 01/01/70  1 1970-01-01"},
	{0, "%g %G %V", "70 1970 01"},
	{0, "%H %I %j %k %l", "00 12 001  0 12"},
	{0, "%m %M %n %p %P", "01 00 \n AM am"},
	{0, "%r %R %s %S %t %T", "12:00:00 AM 00:00 0 00 \t 00:00:00"},
	{0, "%u %U %w %W", "4 00 4 00"},
	{0, "%x %X %y %Y %z %Z %%", "01/01/70 00:00:00 70 1970 +0000 GMT %"},
	{0, "%-d %_H %10Y %^a %#b %#p %#Z %^B", "1  0 0000001970 THU JAN am gmt JANUARY"},
	{0, "%Ec %Od %EY %Oe", "Thu Jan  1 00:00:00 1970 01 1970  1"},
	{0, "%-5d %_5d %05e %3j %-j %_m %010s %-y", "    1     1 00001 001 1  1 0000000000 70"},
	{0, "%+ %5% %Q", "%+     % %Q"},
	{0, "%-z %_z", "+0 +   0"},
	{0, "trailing %", "trailing %"},
	{0, "%5", "   %5"},
	{0, "%H:%M:%S.%f", "00:00:00.%f"},
	{1700000000, "%a %A %b %B %h", "Tue Tuesday Nov November Nov"},
	{1700000000, "%c", "Tue Nov 14 22:13:20 2023"},
	{1700000000, "%C %d %D %e %F", "20 14 11/14/23 14 2023-11-14"},
	{1700000000, "%g %G %V", "23 2023 46"},
	{1700000000, "%H %I %j %k %l", "22 10 318 22 10"},
	{1700000000, "%m %M %n %p %P", "11 13 \n PM pm"},
	{1700000000, "%r %R %s %S %t %T", "10:13:20 PM 22:13 1700000000 20 \t 22:13:20"},
	{1700000000, "%u %U %w %W", "2 46 2 46"},
	{1700000000, "%x %X %y %Y %z %Z %%", "11/14/23 22:13:20 23 2023 +0000 GMT %"},
	{1700000000, "%-d %_H %10Y %^a %#b %#p %#Z %^B", "14 22 0000002023 TUE NOV pm gmt NOVEMBER"},
	{1700000000, "%Ec %Od %EY %Oe", "Tue Nov 14 22:13:20 2023 14 2023 14"},
	{1700000000, "%-5d %_5d %05e %3j %-j %_m %010s %-y", "   14    14 00014 318 318 11 1700000000 23"},
	{1700000000, "%+ %5% %Q", "%+     % %Q"},
	{1700000000, "%-z %_z", "+0 +   0"},
	{1700000000, "trailing %", "trailing %"},
	{1700000000, "%5", "   %5"},
	{1700000000, "%H:%M:%S.%f", "22:13:20.%f"},
	{1704067199, "%a %A %b %B %h", "Sun Sunday Dec December Dec"},
	{1704067199, "%c", "Sun Dec 31 23:59:59 2023"},
	{1704067199, "%C %d %D %e %F", "20 31 12/31/23 31 2023-12-31"},
	{1704067199, "%g %G %V", "23 2023 52"},
	{1704067199, "%H %I %j %k %l", "23 11 365 23 11"},
	{1704067199, "%m %M %n %p %P", "12 59 \n PM pm"},
	{1704067199, "%r %R %s %S %t %T", "11:59:59 PM 23:59 1704067199 59 \t 23:59:59"},
	{1704067199, "%u %U %w %W", "7 53 0 52"},
	{1704067199, "%x %X %y %Y %z %Z %%", "12/31/23 23:59:59 23 2023 +0000 GMT %"},
	{1704067199, "%-d %_H %10Y %^a %#b %#p %#Z %^B", "31 23 0000002023 SUN DEC pm gmt DECEMBER"},
	{1704067199, "%Ec %Od %EY %Oe", "Sun Dec 31 23:59:59 2023 31 2023 31"},
	{1704067199, "%-5d %_5d %05e %3j %-j %_m %010s %-y", "   31    31 00031 365 365 12 1704067199 23"},
	{1704067199, "%+ %5% %Q", "%+     % %Q"},
	{1704067199, "%-z %_z", "+0 +   0"},
	{1704067199, "trailing %", "trailing %"},
	{1704067199, "%5", "   %5"},
	{1704067199, "%H:%M:%S.%f", "23:59:59.%f"},
	{1735995661, "%a %A %b %B %h", "Sat Saturday Jan January Jan"},
	{1735995661, "%c", "Sat Jan  4 13:01:01 2025"},
	{1735995661, "%C %d %D %e %F", "20 04 01/04/25  4 2025-01-04"},
	{1735995661, "%g %G %V", "25 2025 01"},
	{1735995661, "%H %I %j %k %l", "13 01 004 13  1"},
	{1735995661, "%m %M %n %p %P", "01 01 \n PM pm"},
	{1735995661, "%r %R %s %S %t %T", "01:01:01 PM 13:01 1735995661 01 \t 13:01:01"},
	{1735995661, "%u %U %w %W", "6 00 6 00"},
	{1735995661, "%x %X %y %Y %z %Z %%", "01/04/25 13:01:01 25 2025 +0000 GMT %"},
	{1735995661, "%-d %_H %10Y %^a %#b %#p %#Z %^B", "4 13 0000002025 SAT JAN pm gmt JANUARY"},
	{1735995661, "%Ec %Od %EY %Oe", "Sat Jan  4 13:01:01 2025 04 2025  4"},
	{1735995661, "%-5d %_5d %05e %3j %-j %_m %010s %-y", "    4     4 00004 004 4  1 1735995661 25"},
	{1735995661, "%+ %5% %Q", "%+     % %Q"},
	{1735995661, "%-z %_z", "+0 +   0"},
	{1735995661, "trailing %", "trailing %"},
	{1735995661, "%5", "   %5"},
	{1735995661, "%H:%M:%S.%f", "13:01:01.%f"},
	{951782400, "%a %A %b %B %h", "Tue Tuesday Feb February Feb"},
	{951782400, "%c", "Tue Feb 29 00:00:00 2000"},
	{951782400, "%C %d %D %e %F", "20 29 02/29/00 29 2000-02-29"},
	{951782400, "%g %G %V", "00 2000 09"},
	{951782400, "%H %I %j %k %l", "00 12 060  0 12"},
	{951782400, "%m %M %n %p %P", "02 00 \n AM am"},
	{951782400, "%r %R %s %S %t %T", "12:00:00 AM 00:00 951782400 00 \t 00:00:00"},
	{951782400, "%u %U %w %W", "2 09 2 09"},
	{951782400, "%x %X %y %Y %z %Z %%", "02/29/00 00:00:00 00 2000 +0000 GMT %"},
	{951782400, "%-d %_H %10Y %^a %#b %#p %#Z %^B", "29  0 0000002000 TUE FEB am gmt FEBRUARY"},
	{951782400, "%Ec %Od %EY %Oe", "Tue Feb 29 00:00:00 2000 29 2000 29"},
	{951782400, "%-5d %_5d %05e %3j %-j %_m %010s %-y", "   29    29 00029 060 60  2 0951782400 0"},
	{951782400, "%+ %5% %Q", "%+     % %Q"},
	{951782400, "%-z %_z", "+0 +   0"},
	{951782400, "trailing %", "trailing %"},
	{951782400, "%5", "   %5"},
	{951782400, "%H:%M:%S.%f", "00:00:00.%f"},
}

func TestCStrftime(t *testing.T) {
	gmt := time.FixedZone("GMT", 0)
	for _, c := range strftimeCases {
		tm := time.Unix(c.unix, 0).In(gmt)
		if got := CStrftime(c.format, tm); got != c.want {
			t.Errorf("CStrftime(%q, %d) = %q, want %q", c.format, c.unix, got, c.want)
		}
	}
}

func TestStrftimeMicroseconds(t *testing.T) {
	tm := time.Date(2026, 11, 25, 14, 10, 42, 327234567, time.FixedZone("X", 3600))
	for _, c := range []struct{ f, want string }{
		{"%Y-%m-%d %H:%M:%S.%f", "2026-11-25 14:10:42.327234"},
		{"%f", "327234"},
		{"%H%f%f", "14327234327234"},
	} {
		if got := Strftime(c.f, tm); got != c.want {
			t.Errorf("Strftime(%q) = %q, want %q", c.f, got, c.want)
		}
	}
	early := time.Date(2026, 1, 1, 0, 0, 0, 5000, time.UTC)
	if got := Strftime("%f", early); got != "000005" {
		t.Errorf("%%f of 5us = %q", got)
	}
}

// TestStrftimeBuffer: bpftrace 0.17's buffer holds 63 characters; a longer
// or empty result is "(?)" (and time() reports an error), and a huge field
// width does not allocate.
func TestStrftimeBuffer(t *testing.T) {
	tm := time.Date(2026, 11, 25, 14, 10, 42, 327234567, time.UTC)
	for _, c := range []struct{ f, want string }{
		{"", "(?)"},
		{"%c %c %c", "(?)"},
		{"%%f=%f", "(?)"}, // "%327234=327234": a 327234-wide field
		{"%63H", "000000000000000000000000000000000000000000000000000000000000014"},
		{"%64H", "(?)"},
		{"%999999999999H", "(?)"},
	} {
		if got := Strftime(c.f, tm); got != c.want {
			t.Errorf("Strftime(%q) = %q, want %q", c.f, got, c.want)
		}
	}
	if s, stream := EventText(value.Time{Format: "%c %c %c", At: tm}); stream != Stderr || s != "ERROR: strftime returned 0\n" {
		t.Errorf("time() too long: %q on %v", s, stream)
	}
}
