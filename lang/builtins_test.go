package lang

import (
	"strings"
	"testing"
)

// TestFuncTable checks that every builtin function is documented and has
// a consistent arity, so completion and inspection always have something
// to show.
func TestFuncTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Funcs() {
		if seen[f.Name] {
			t.Errorf("%s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Doc == "" || !strings.HasSuffix(f.Doc, ".") {
			t.Errorf("%s: doc %q should be a sentence", f.Name, f.Doc)
		}
		if !strings.HasPrefix(f.Signature, f.Name+"(") {
			t.Errorf("%s: signature %q should start with the name", f.Name, f.Signature)
		}
		if f.MaxArgs >= 0 && f.MinArgs > f.MaxArgs {
			t.Errorf("%s: MinArgs %d > MaxArgs %d", f.Name, f.MinArgs, f.MaxArgs)
		}
		if f.Returns == "" {
			t.Errorf("%s: no Returns", f.Name)
		}
		if LookupFunc(f.Name) != f {
			t.Errorf("LookupFunc(%q) does not find it", f.Name)
		}
		for _, p := range f.Probes {
			if !knownProviders[p] {
				t.Errorf("%s: unknown provider %q", f.Name, p)
			}
		}
	}
	// Every function bpftrace 0.17 knows.
	for _, name := range strings.Fields(`avg buf cat cgroupid clear count delete exit hist join kaddr kptr
		ksym lhist macaddr max min ntop override print printf cgroup_path reg signal sizeof stats str
		strerror strftime strncmp strcontains sum system time uaddr uptr usym zero path unwatch bswap
		skboutput pton debugf kstack ustack`) {
		if LookupFunc(name) == nil {
			t.Errorf("function %s missing from the table", name)
		}
	}
	if LookupFunc("nosuch") != nil {
		t.Error("LookupFunc(nosuch) found something")
	}
}

func TestBuiltinTable(t *testing.T) {
	for _, name := range strings.Fields(`arg0 arg5 args cgroup comm cpid numaid cpu ctx curtask elapsed
		func gid nsecs pid probe rand retval sarg0 sarg9 tid uid username kstack ustack`) {
		b := LookupBuiltin(name)
		if b == nil {
			t.Errorf("builtin %s missing", name)
			continue
		}
		if b.Doc == "" || b.Type == "" {
			t.Errorf("builtin %s lacks doc or type", name)
		}
	}
	if LookupBuiltin("arg6") != nil {
		t.Error("arg6 should not be listed: x86_64 passes six arguments in registers")
	}
	names := Builtins()
	for i := 1; i < len(names); i++ {
		if names[i-1].Name >= names[i].Name {
			t.Errorf("Builtins not sorted at %s, %s", names[i-1].Name, names[i].Name)
		}
	}
}

func TestConsts(t *testing.T) {
	for name, want := range map[string]int64{
		"AF_INET": 2, "AF_INET6": 10, "TCP_ESTABLISHED": 1, "TCP_CLOSE": 7, "SIGKILL": 9,
		"EPERM": 1, "ENOENT": 2, "O_CREAT": 64, "O_CLOEXEC": 0o2000000, "TASK_RUNNING": 0,
		"IPPROTO_TCP": 6, "SOCK_STREAM": 1, "PF_INET": 2,
	} {
		if got, ok := LookupConst(name); !ok || got != want {
			t.Errorf("LookupConst(%s) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for name, want := range map[string]int64{"SIGKILL": 9, "kill": 9, "sigterm": 15, "SIGFOO": -1, "": -1, "SIGPWR": -1} {
		if got := signalNumber(name); got != want {
			t.Errorf("signalNumber(%q) = %d, want %d", name, got, want)
		}
	}
}
