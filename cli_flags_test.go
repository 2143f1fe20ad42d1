package main

import (
	"reflect"
	"testing"
)

func TestParseCLIFlags(t *testing.T) {
	tests := []struct {
		args []string
		want cliFlags
	}{
		{[]string{"-e", "BEGIN {}"}, cliFlags{Program: "BEGIN {}"}},
		{[]string{"-eBEGIN {}"}, cliFlags{Program: "BEGIN {}"}},
		{[]string{"tool.bt", "42", "hello"}, cliFlags{File: "tool.bt", Params: []string{"42", "hello"}}},
		{[]string{"-e", "p", "a", "b"}, cliFlags{Program: "p", Params: []string{"a", "b"}}},
		{[]string{"-"}, cliFlags{File: "-"}},
		{[]string{"--check", "-e", "p"}, cliFlags{Check: true, Program: "p"}},
		{[]string{"tool.bt", "--check", "-q"}, cliFlags{File: "tool.bt", Check: true, Quiet: true}},
		{[]string{"-qv", "-kk", "-e", "p"}, cliFlags{Quiet: true, Verbose: 1, HelperErrs: 2, Program: "p"}},
		{[]string{"-dd", "-e", "p"}, cliFlags{Debug: 2, Program: "p"}},
		{[]string{"-c", "sleep 1", "-o", "out.txt", "-f", "json", "-B", "none", "-e", "p"},
			cliFlags{Cmd: "sleep 1", Output: "out.txt", Format: "json", Buffering: "none", Program: "p"}},
		{[]string{"-p", "123", "-e", "p"}, cliFlags{PID: 123, Program: "p"}},
		{[]string{"-p123", "-e", "p"}, cliFlags{PID: 123, Program: "p"}},
		{[]string{"--unsafe", "--include", "a.h", "--include=b.h", "-I", "/inc", "-Iother", "-e", "p"},
			cliFlags{Unsafe: true, Includes: []string{"a.h", "b.h"}, IncludeDir: []string{"/inc", "other"}, Program: "p"}},
		{[]string{"-l"}, cliFlags{List: true, Search: "*:*"}},
		{[]string{"-l", "*"}, cliFlags{List: true, Search: "*:*"}},
		{[]string{"-l", "tracepoint:syscalls:*"}, cliFlags{List: true, Search: "tracepoint:syscalls:*"}},
		{[]string{"-e", "p", "--", "-1", "--x"}, cliFlags{Program: "p", Params: []string{"-1", "--x"}}},
		{[]string{"--no-warnings", "-b", "--btf", "--usdt-file-activation", "-e", "p"},
			cliFlags{NoWarnings: true, BTF: true, USDTFiles: true, Program: "p"}},
		{[]string{"-h"}, cliFlags{Help: true}},
		{[]string{"--version"}, cliFlags{Version: true}},
		{[]string{"--info"}, cliFlags{Info: true}},
		{[]string{"--emit-elf", "x.o", "--test", "semantic", "-e", "p"}, cliFlags{EmitELF: "x.o", Test: "semantic", Program: "p"}},
	}
	for _, tt := range tests {
		got, err := parseCLIFlags(tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, *got, tt.want)
		}
	}
}

func TestParseCLIFlagsErrors(t *testing.T) {
	tests := []struct {
		args  []string
		msg   string
		usage bool
	}{
		{nil, "", true},
		{[]string{"-q"}, "USAGE: filename or -e 'program' required.", false},
		{[]string{"-v", "-d", "-e", "p"}, "USAGE: Use either -v or -d.", false},
		{[]string{"-c", "ls", "-p", "1", "-e", "p"}, "USAGE: Cannot use both -c and -p.", true},
		{[]string{"-B", "sometimes", "-e", "p"}, "USAGE: -B must be either 'line', 'full', or 'none'.", false},
		{[]string{"-p", "abc", "-e", "p"}, "ERROR: pid 'abc' is not a valid decimal number", false},
		{[]string{"-p", "0", "-e", "p"}, "ERROR: pid '0' out of valid pid range [1,4194304]", false},
		{[]string{"-p", "99999999999999999999", "-e", "p"}, "ERROR: pid '99999999999999999999' out of valid pid range [1,4194304]", false},
		{[]string{"-f", "yaml", "-e", "p"}, "ERROR: Invalid output format \"yaml\"\nValid formats: 'text', 'json'", false},
		{[]string{"-e"}, "option requires an argument -- 'e'", true},
		{[]string{"--include"}, "option '--include' requires an argument", true},
		{[]string{"--unsafe=yes", "-e", "p"}, "option '--unsafe' doesn't allow an argument", true},
		{[]string{"--bogus"}, "unrecognized option '--bogus'", true},
		{[]string{"-x", "-e", "p"}, "invalid option -- 'x'", true},
		{[]string{"-ddd", "-e", "p"}, "", true},
		{[]string{"-kkk", "-e", "p"}, "", true},
		{[]string{"-l", "a", "b"}, "", true},
		{[]string{"--test", "other", "-e", "p"}, "USAGE: --test must be either 'semantic' or 'codegen'.", false},
	}
	for _, tt := range tests {
		_, err := parseCLIFlags(tt.args)
		ue, ok := err.(*usageError)
		if !ok {
			t.Errorf("%q: got %v, want a usage error", tt.args, err)
			continue
		}
		if ue.msg != tt.msg || ue.usage != tt.usage {
			t.Errorf("%q: got (%q, usage %v), want (%q, usage %v)", tt.args, ue.msg, ue.usage, tt.msg, tt.usage)
		}
	}
}
