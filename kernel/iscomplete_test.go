package kernel

import "testing"

func TestCheckBalance(t *testing.T) {
	tests := []struct {
		code, status, indent string
	}{
		{"", "complete", ""},
		{"kprobe:do_nanosleep { @[comm] = count(); }", "complete", ""},
		{"BEGIN {", "incomplete", "    "},
		{"BEGIN {\n  if (1) {", "incomplete", "        "},
		{"BEGIN { printf(\"%d\\n\",", "incomplete", "        "},
		{"BEGIN { @x[1", "incomplete", "        "},
		{"}", "invalid", ""},
		{"BEGIN { ) }", "invalid", ""},
		{"BEGIN { (] }", "invalid", ""},
		{`BEGIN { printf("{ not a brace"); }`, "complete", ""},
		{`BEGIN { printf("escaped \" quote {"); }`, "complete", ""},
		{"BEGIN { printf(\"unterminated\n); }", "invalid", ""},
		{`BEGIN { printf("no end`, "invalid", ""},
		{"BEGIN { // a { in a comment\n}", "complete", ""},
		{"BEGIN { /* { */ }", "complete", ""},
		{"/* an open comment {", "incomplete", ""},
		{"#include <linux/sched.h>\nBEGIN { }", "complete", ""},
		{"#define X(a) { \\\n  a }\nBEGIN {}", "complete", ""},
		{"%probes", "complete", ""},
		{"%%trace 30s", "incomplete", ""},
		{"%%trace 30s\nBEGIN {\n}", "incomplete", ""},
		{"%%trace 30s\nBEGIN {\n}\n", "complete", ""},
		{"  %set x {", "complete", ""},
		{"BEGIN { $x = 1 \\", "incomplete", "    "},
		{"tracepoint:syscalls:sys_enter_openat /comm == \"bash\"/ { printf(\"%s\\n\", str(args.filename)); }", "complete", ""},
	}
	for _, tt := range tests {
		got := CheckBalance(tt.code)
		if got.Status != tt.status || got.Indent != tt.indent {
			t.Errorf("CheckBalance(%q) = %+v, want %s %q", tt.code, got, tt.status, tt.indent)
		}
	}
}
