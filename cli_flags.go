package main

import (
	"fmt"
	"strings"
)

// The bpftrace-compatible command line's flags.
//
// parseCLIFlags accepts every flag bpftrace 0.17 accepts, with getopt's
// rules: short flags may be grouped (-qv, -kk, -dd) and take their value
// attached or as the next argument (-e'prog', -e 'prog'); long flags take
// "--name value" or "--name=value"; flags may follow the program file, as
// GNU getopt permutes arguments, until "--". The first operand is the
// program file (unless -e gives the program; "-" reads standard input),
// and the operands after it are the positional parameters $1, $2, ...
// With -l the single optional operand is the search pattern.
//
// tracebook adds --check: parse and check the program, load nothing.

// cliFlags holds every bpftrace flag, parsed.
type cliFlags struct {
	Program string   // -e PROGRAM
	File    string   // the program file, "-" for stdin ("" with -e)
	Params  []string // positional parameters $1..$N

	Cmd        string   // -c CMD: run CMD, enable cpid and USDT on it
	PID        int      // -p PID: enable USDT probes on PID (0: none)
	Format     string   // -f text|json
	Output     string   // -o FILE
	Buffering  string   // -B line|full|none
	Quiet      bool     // -q
	List       bool     // -l [SEARCH]
	Search     string   // -l's pattern
	Verbose    int      // -v (twice: more)
	Debug      int      // -d (twice: more): dry run
	HelperErrs int      // -k (twice: -kk): report helper errors
	Unsafe     bool     // --unsafe
	Includes   []string // --include FILE
	IncludeDir []string // -I DIR

	Check      bool // --check (tracebook): parse and check, load nothing
	NoWarnings bool // --no-warnings
	Info       bool // --info
	Help       bool // -h, --help
	Version    bool // -V, --version
	USDTFiles  bool // --usdt-file-activation
	BTF        bool // -b, --btf (accepted, no effect, as in bpftrace)
	EmitELF    string
	EmitLLVM   string
	Test       string // --test semantic|codegen
	AOT        string // --aot FILE
}

// usageError is a command-line mistake; bpftrace prints the usage text
// after some of them.
type usageError struct {
	msg   string
	usage bool
}

func (e *usageError) Error() string { return e.msg }

// shortWithArg are the short flags that take a value.
const shortWithArg = "BfepcoI"

// longFlags maps each long flag to whether it takes a value.
var longFlags = map[string]bool{
	"help": false, "version": false, "usdt-file-activation": false, "unsafe": false,
	"btf": false, "include": true, "info": false, "emit-llvm": true, "emit-elf": true,
	"no-warnings": false, "test": true, "aot": true, "check": false,
}

// parseCLIFlags parses the command line (without the program name).
func parseCLIFlags(args []string) (*cliFlags, error) {
	if len(args) == 0 {
		return nil, &usageError{usage: true}
	}
	f := &cliFlags{}
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			takes, ok := longFlags[name]
			if !ok {
				return nil, &usageError{msg: fmt.Sprintf("unrecognized option '%s'", a), usage: true}
			}
			if takes && !hasVal {
				if i+1 >= len(args) {
					return nil, &usageError{msg: fmt.Sprintf("option '--%s' requires an argument", name), usage: true}
				}
				i++
				val = args[i]
			} else if !takes && hasVal {
				return nil, &usageError{msg: fmt.Sprintf("option '--%s' doesn't allow an argument", name), usage: true}
			}
			if err := f.setLong(name, val); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := a[j]
				if strings.IndexByte(shortWithArg, c) >= 0 {
					val := a[j+1:]
					if val == "" {
						if i+1 >= len(args) {
							return nil, &usageError{msg: fmt.Sprintf("option requires an argument -- '%c'", c), usage: true}
						}
						i++
						val = args[i]
					}
					if err := f.setShort(c, val); err != nil {
						return nil, err
					}
					break
				}
				if err := f.setShort(c, ""); err != nil {
					return nil, err
				}
			}
		default:
			operands = append(operands, a)
		}
	}
	if f.Help || f.Version || f.Info {
		return f, nil
	}
	if f.Verbose > 0 && f.Debug > 0 {
		return nil, &usageError{msg: "USAGE: Use either -v or -d."}
	}
	if f.Cmd != "" && f.PID != 0 {
		return nil, &usageError{msg: "USAGE: Cannot use both -c and -p.", usage: true}
	}
	if f.List {
		switch len(operands) {
		case 0:
			f.Search = "*:*"
		case 1:
			f.Search = operands[0]
			if f.Search == "*" {
				f.Search = "*:*"
			}
		default:
			return nil, &usageError{usage: true}
		}
		return f, nil
	}
	if f.Program == "" {
		if len(operands) == 0 {
			return nil, &usageError{msg: "USAGE: filename or -e 'program' required."}
		}
		f.File, operands = operands[0], operands[1:]
	}
	if len(operands) > 0 {
		f.Params = operands
	}
	return f, nil
}

func (f *cliFlags) setShort(c byte, val string) error {
	switch c {
	case 'e':
		f.Program = val
	case 'c':
		f.Cmd = val
	case 'p':
		pid, ok := parsePID(val)
		if !ok {
			return &usageError{msg: fmt.Sprintf("ERROR: pid '%s' is not a valid decimal number", val)}
		}
		if pid < 1 || pid > maxPID {
			return &usageError{msg: fmt.Sprintf("ERROR: pid '%s' out of valid pid range [1,%d]", val, maxPID)}
		}
		f.PID = pid
	case 'f':
		if val != "text" && val != "json" {
			return &usageError{msg: fmt.Sprintf("ERROR: Invalid output format \"%s\"\nValid formats: 'text', 'json'", val)}
		}
		f.Format = val
	case 'o':
		f.Output = val
	case 'B':
		switch val {
		case "line", "full", "none":
			f.Buffering = val
		default:
			return &usageError{msg: "USAGE: -B must be either 'line', 'full', or 'none'."}
		}
	case 'I':
		f.IncludeDir = append(f.IncludeDir, val)
	case 'q':
		f.Quiet = true
	case 'l':
		f.List = true
	case 'v':
		f.Verbose++
	case 'd':
		f.Debug++
		if f.Debug > 2 {
			return &usageError{usage: true}
		}
	case 'k':
		f.HelperErrs++
		if f.HelperErrs > 2 {
			return &usageError{usage: true}
		}
	case 'b':
		f.BTF = true
	case 'h':
		f.Help = true
	case 'V':
		f.Version = true
	default:
		return &usageError{msg: fmt.Sprintf("invalid option -- '%c'", c), usage: true}
	}
	return nil
}

func (f *cliFlags) setLong(name, val string) error {
	switch name {
	case "help":
		f.Help = true
	case "version":
		f.Version = true
	case "usdt-file-activation":
		f.USDTFiles = true
	case "unsafe":
		f.Unsafe = true
	case "btf":
		f.BTF = true
	case "include":
		f.Includes = append(f.Includes, val)
	case "info":
		f.Info = true
	case "emit-llvm":
		f.EmitLLVM = val
	case "emit-elf":
		f.EmitELF = val
	case "no-warnings":
		f.NoWarnings = true
	case "test":
		if val != "semantic" && val != "codegen" {
			return &usageError{msg: "USAGE: --test must be either 'semantic' or 'codegen'."}
		}
		f.Test = val
	case "aot":
		f.AOT = val
	case "check":
		f.Check = true
	}
	return nil
}

// maxPID is the kernel's largest pid (PID_MAX_LIMIT on 64-bit), which
// bpftrace checks -p against.
const maxPID = 4194304

// parsePID parses -p's value as a decimal number; range is checked apart.
func parsePID(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		if n > maxPID {
			continue // out of range; keep validating the digits
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// cliUsage is the help text, bpftrace's with tracebook's additions.
const cliUsage = `USAGE:
    tracebook [options] filename
    tracebook [options] - <stdin input>
    tracebook [options] -e 'program'
    tracebook --kernel CONNECTION_FILE    serve a Jupyter notebook
    tracebook --install [--user]          install the Jupyter kernelspec

OPTIONS:
    -B MODE        output buffering mode ('line', 'full', 'none')
    -f FORMAT      output format ('text', 'json')
    -o file        redirect bpftrace output to file
    -e 'program'   execute this program
    -h, --help     show this help message
    -I DIR         add the directory to the include search path
    --include FILE add an #include file before preprocessing
    -l [search]    list probes
    -p PID         enable USDT probes on PID
    -c 'CMD'       run CMD and enable USDT probes on resulting process
    --usdt-file-activation
                   activate usdt semaphores based on file path
    --unsafe       allow unsafe builtin functions
    -q             keep messages quiet
    --info         Print information about kernel BPF support
    -k             emit a warning when a bpf helper returns an error (except read functions)
    -kk            check all bpf helper functions
    -V, --version  bpftrace version
    --no-warnings  disable all warning messages
    --check        parse and check the program, print its errors, load nothing

TROUBLESHOOTING OPTIONS:
    -v                      verbose messages
    -d                      (dry run) debug info
    -dd                     (dry run) verbose debug info

ENVIRONMENT:
    BPFTRACE_STRLEN             [default: 64] bytes on BPF stack per str()
    BPFTRACE_MAP_KEYS_MAX       [default: 4096] max keys in a map

EXAMPLES:
tracebook --check -e 'kprobe:do_nanosleep { printf("PID %d sleeping...\n", pid); }'
    check a program without running it
tracebook -e 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
    trace files opened, by process
`
