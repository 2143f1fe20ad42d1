package lang

import "sort"

// The table of builtin variables and functions.
//
// Every name bpftrace 0.17 knows is here, plus the few later additions the
// notebook relies on (len, has_key, exit(code), for-loops over maps,
// delete(@m, key)), each marked with the version that introduced it. The
// checker takes arity and allowed probe types from this table and
// implements the per-function rules in check_call.go; the notebook shows
// Signature and Doc for completion and inspection.

// Provider groups used by the table.
var (
	probesKprobeUprobeUSDT = []string{"kprobe", "uprobe", "usdt"}
	probesKprobeUprobe     = []string{"kprobe", "uprobe"}
	probesRet              = []string{"kretprobe", "uretprobe", "kfunc", "kretfunc"}
	probesFunc             = []string{"kprobe", "kretprobe", "uprobe", "uretprobe", "kfunc", "kretfunc"}
	probesArgs             = []string{"tracepoint", "kfunc", "kretfunc", "rawtracepoint", "uprobe"}
	probesReg              = []string{"kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "profile",
		"interval", "software", "hardware", "watchpoint", "asyncwatchpoint"}
	probesSignal = []string{"kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "tracepoint",
		"rawtracepoint", "profile", "kfunc", "kretfunc"}
	probesUser = []string{"uprobe", "uretprobe", "usdt"}
	probesPath = []string{"kfunc", "kretfunc", "iter"}
)

var builtinVars = []*Builtin{
	{Name: "pid", Type: "uint64", Doc: "The process id (the kernel's thread-group id) of the task that hit the probe."},
	{Name: "tid", Type: "uint64", Doc: "The thread id (the kernel's pid) of the task that hit the probe."},
	{Name: "uid", Type: "uint64", Doc: "The real user id of the current task."},
	{Name: "gid", Type: "uint64", Doc: "The real group id of the current task."},
	{Name: "nsecs", Type: "uint64", Doc: "Nanoseconds since boot from the kernel's monotonic clock; subtract two readings to time something."},
	{Name: "elapsed", Type: "uint64", Doc: "Nanoseconds since the program started (since the notebook cell started running)."},
	{Name: "cpu", Type: "uint64", Doc: "The number of the CPU the probe fired on."},
	{Name: "numaid", Type: "uint64", Doc: "The NUMA node of the CPU the probe fired on."},
	{Name: "comm", Type: "string[16]", Doc: "The current task's command name, at most 15 characters, as ps shows it."},
	{Name: "kstack", Type: "kstack", Doc: "The kernel call stack at the probe, printed one frame per line as symbol+offset. Call it as kstack(mode, limit) to choose perf-style output or fewer frames."},
	{Name: "ustack", Type: "ustack", Doc: "The user-space call stack of the current task, symbolised when printed. Call it as ustack(mode, limit) to choose perf-style output or fewer frames."},
	{Name: "retval", Type: "uint64", Probes: probesRet, Doc: "The value the probed function returned. Only return probes have it (kretprobe, uretprobe, kretfunc); in a syscall exit tracepoint use args->ret."},
	{Name: "func", Type: "ksym or usym", Probes: probesFunc, Doc: "The name of the probed function, resolved when printed; handy as a map key when one probe covers a wildcard of functions."},
	{Name: "probe", Type: "probe", Doc: "The full name of the probe that fired (tracepoint:syscalls:sys_enter_read), useful when one action serves several attach points."},
	{Name: "curtask", Type: "struct task_struct *", Doc: "A pointer to the kernel's task_struct of the current task; follow its fields with ->, typed from kernel BTF."},
	{Name: "rand", Type: "uint64", Doc: "A pseudo-random 32-bit number from the kernel, fresh at every use."},
	{Name: "cgroup", Type: "uint64", Doc: "The id of the current task's cgroup (v2); compare it with cgroupid(\"/sys/fs/cgroup/...\")."},
	{Name: "cpid", Type: "uint32", Doc: "The process id of the command started with -c. Only available when a command is given."},
	{Name: "args", Type: "struct *", Probes: probesArgs, Doc: "The probe's typed arguments: args->field reads a tracepoint's format field, or a kfunc's named parameter."},
	{Name: "username", Type: "username", Doc: "The current task's user, printed as a name from /etc/passwd."},
	{Name: "ctx", Type: "pointer", Doc: "The raw probe context the BPF program receives (struct pt_regs * in kprobes). Mostly for casts; prefer args and argN."},
}

func init() {
	for i := 0; i <= maxArgRegs; i++ {
		n := string(rune('0' + i))
		builtinVars = append(builtinVars, &Builtin{Name: "arg" + n, Type: "uint64", Probes: probesKprobeUprobeUSDT,
			Doc: "Argument " + n + " of the probed function, as a raw 64-bit register value; cast it or pass it to str() to use it as a pointer. Only kprobe, uprobe and usdt probes have it."})
	}
	for i := 0; i <= 9; i++ {
		n := string(rune('0' + i))
		builtinVars = append(builtinVars, &Builtin{Name: "sarg" + n, Type: "uint64", Probes: probesKprobeUprobe,
			Doc: "Argument " + n + " passed on the stack (for calling conventions that spill arguments there). Only kprobe and uprobe probes have it."})
	}
	sort.Slice(builtinVars, func(i, j int) bool { return builtinVars[i].Name < builtinVars[j].Name })
	for _, f := range funcs {
		funcIndex[f.Name] = f
	}
	for _, b := range builtinVars {
		builtinIndex[b.Name] = b
	}
}

// maxArgRegs is the highest argN x86_64 passes in a register (arg0..arg5).
const maxArgRegs = 5

var funcs = []*Func{
	// Aggregations.
	{Name: "count", Signature: "count()", MinArgs: 0, MaxArgs: 0, Aggregation: KindCount, Returns: "count",
		Doc: "Counts how many times it runs. Assign it to a map: @calls[comm] = count()."},
	{Name: "sum", Signature: "sum(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindSum, Returns: "sum",
		Doc: "Adds n to the map's running total. Assign it to a map: @bytes[comm] = sum(args->count)."},
	{Name: "avg", Signature: "avg(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindAvg, Returns: "avg",
		Doc: "Keeps the integer average of the values given, by keeping their count and total per CPU."},
	{Name: "min", Signature: "min(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindMin, Returns: "min",
		Doc: "Keeps the smallest value given."},
	{Name: "max", Signature: "max(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindMax, Returns: "max",
		Doc: "Keeps the largest value given."},
	{Name: "stats", Signature: "stats(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindStats, Returns: "stats",
		Doc: "Keeps the count, average and total of the values given, printed together."},
	{Name: "hist", Signature: "hist(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindHist, Returns: "hist",
		Doc: "Counts values in power-of-two buckets ([4, 8), [8, 16), ...) and prints an ASCII histogram; the notebook also draws it."},
	{Name: "quantize", Signature: "quantize(int n)", MinArgs: 1, MaxArgs: 1, Aggregation: KindHist, Returns: "hist", Alias: "hist",
		Doc: "Another name for hist(), as DTrace spells it: power-of-two buckets."},
	{Name: "lhist", Signature: "lhist(int n, int min, int max, int step)", MinArgs: 4, MaxArgs: 4, Aggregation: KindLhist, Returns: "lhist",
		Doc: "Counts values in linear buckets of width step between min and max, with one bucket below and one above. min, max and step are integer constants; at most 1000 buckets."},

	// Map operations.
	{Name: "delete", Signature: "delete(@m[key])", MinArgs: 1, MaxArgs: 2, Returns: "none",
		Doc: "Removes one element from a map. delete(@m, key) is accepted too (bpftrace 0.21)."},
	{Name: "clear", Signature: "clear(@m)", MinArgs: 1, MaxArgs: 1, Returns: "none",
		Doc: "Removes every element of a map."},
	{Name: "zero", Signature: "zero(@m)", MinArgs: 1, MaxArgs: 1, Returns: "none",
		Doc: "Sets every value of a map to zero, keeping its keys."},
	{Name: "print", Signature: "print(@m [, int top [, int div]]) | print(value)", MinArgs: 1, MaxArgs: 3, Returns: "none", varargs: true,
		Doc: "Prints a map now, as it would print at exit: top keeps only the largest entries, div divides the values. Given any other value, prints that value on its own line."},
	{Name: "len", Signature: "len(@m)", MinArgs: 1, MaxArgs: 1, Returns: "int64", Since: "0.20",
		Doc: "The number of elements in a map."},
	{Name: "has_key", Signature: "has_key(@m, key)", MinArgs: 2, MaxArgs: 2, Returns: "uint8", Since: "0.22",
		Doc: "1 when the map holds the key, else 0, without creating the element."},

	// Output.
	{Name: "printf", Signature: "printf(string fmt, ...)", MinArgs: 1, MaxArgs: 128, Returns: "none", varargs: true,
		Doc: "Prints formatted text. The format is a string literal with C-like conversions (%d %u %x %s %c %p, %r for buffers); each argument is checked against its conversion."},
	{Name: "time", Signature: "time([string fmt])", MinArgs: 0, MaxArgs: 1, Returns: "none", varargs: true,
		Doc: "Prints the current local time with a strftime format, \"%H:%M:%S\\n\" by default."},
	{Name: "join", Signature: "join(char **argv [, string delim])", MinArgs: 1, MaxArgs: 2, Returns: "none", varargs: true,
		Doc: "Prints the strings of a NULL-terminated array such as execve's argv, separated by delim (a space by default), and a newline."},
	{Name: "cat", Signature: "cat(string fmt, ...)", MinArgs: 1, MaxArgs: 128, Returns: "none", varargs: true,
		Doc: "Prints the contents of a file, named by a format string, when the event reaches user space."},
	{Name: "system", Signature: "system(string fmt, ...)", MinArgs: 1, MaxArgs: 128, Returns: "none", varargs: true, Unsafe: true,
		Doc: "Runs a shell command, built from a format string, when the event reaches user space, and prints its output. Needs --unsafe."},
	{Name: "debugf", Signature: "debugf(string fmt, ...)", MinArgs: 1, MaxArgs: 128, Returns: "none", varargs: true,
		Doc: "Writes formatted text to the kernel trace pipe with bpf_trace_printk; at most three conversions. For debugging only."},
	{Name: "exit", Signature: "exit([int code])", MinArgs: 0, MaxArgs: 1, Returns: "none", varargs: true,
		Doc: "Stops the program (the running cell): END runs and the maps are printed. exit(code) sets the exit status (bpftrace 0.21)."},

	// Strings and buffers.
	{Name: "str", Signature: "str(char *s [, int length])", MinArgs: 1, MaxArgs: 2, Returns: "string", varargs: true,
		Doc: "Reads a NUL-terminated string from a kernel or user address, up to length bytes (64 by default, see BPFTRACE_STRLEN). str($1) is a positional parameter as text."},
	{Name: "buf", Signature: "buf(void *data [, int length])", MinArgs: 1, MaxArgs: 2, Returns: "buffer", varargs: true,
		Doc: "Reads length raw bytes from an address (or copies an array); print it with %r, %rx or %rh."},
	{Name: "strncmp", Signature: "strncmp(string a, string b, int n)", MinArgs: 3, MaxArgs: 3, Returns: "uint64",
		Doc: "Compares at most n bytes of two strings; 0 when they are equal, as in C. n is an integer constant."},
	{Name: "strcontains", Signature: "strcontains(string haystack, string needle)", MinArgs: 2, MaxArgs: 2, Returns: "uint64",
		Doc: "1 when needle occurs in haystack, else 0."},
	{Name: "strerror", Signature: "strerror(int errno)", MinArgs: 1, MaxArgs: 1, Returns: "strerror",
		Doc: "An errno value, printed as its message (\"Operation not permitted\")."},
	{Name: "strftime", Signature: "strftime(string fmt, int nsecs)", MinArgs: 2, MaxArgs: 2, Returns: "timestamp", varargs: true,
		Doc: "A boot-time timestamp in nanoseconds, printed as wall-clock time with a strftime format; %f gives microseconds."},

	// Symbols and addresses.
	{Name: "ksym", Signature: "ksym(void *addr)", MinArgs: 1, MaxArgs: 1, Returns: "ksym",
		Doc: "A kernel address, printed as the name of the kernel symbol that contains it."},
	{Name: "usym", Signature: "usym(void *addr)", MinArgs: 1, MaxArgs: 1, Returns: "usym",
		Doc: "A user address in the current process, printed as the name of its symbol."},
	{Name: "kaddr", Signature: "kaddr(string symbol)", MinArgs: 1, MaxArgs: 1, Returns: "uint64",
		Doc: "The address of a kernel symbol, looked up in kallsyms when the program is compiled. The name is a string literal."},
	{Name: "uaddr", Signature: "uaddr(string symbol)", MinArgs: 1, MaxArgs: 1, Returns: "pointer", Probes: probesUser,
		Doc: "A pointer to a global variable of the probed binary, looked up in its symbol table. Only in uprobe, uretprobe and usdt probes."},
	{Name: "kptr", Signature: "kptr(void *p)", MinArgs: 1, MaxArgs: 1, Returns: "same as argument",
		Doc: "Marks a value as a kernel address, so reads through it use kernel memory."},
	{Name: "uptr", Signature: "uptr(void *p)", MinArgs: 1, MaxArgs: 1, Returns: "same as argument",
		Doc: "Marks a value as a user address, so reads through it use the current process's memory."},
	{Name: "reg", Signature: "reg(string name)", MinArgs: 1, MaxArgs: 1, Returns: "uint64", Probes: probesReg,
		Doc: "The value of a CPU register at the probe (\"ip\", \"sp\", \"ax\", ...). The name is a string literal; not in tracepoint, kfunc or BEGIN/END probes."},
	{Name: "kstack", Signature: "kstack([mode] [, int limit])", MinArgs: 0, MaxArgs: 2, Returns: "kstack", varargs: true,
		Doc: "The kernel stack, optionally in perf mode and limited to a number of frames (a constant, at most 1024)."},
	{Name: "ustack", Signature: "ustack([mode] [, int limit])", MinArgs: 0, MaxArgs: 2, Returns: "ustack", varargs: true,
		Doc: "The user stack, optionally in perf mode and limited to a number of frames (a constant, at most 1024)."},

	// Networking and bytes.
	{Name: "ntop", Signature: "ntop([int af,] int|char[4]|char[16] addr)", MinArgs: 1, MaxArgs: 2, Returns: "inet", varargs: true,
		Doc: "An IPv4 or IPv6 address, printed in its usual text form. The family comes from the size of addr unless given."},
	{Name: "pton", Signature: "pton(string addr)", MinArgs: 1, MaxArgs: 1, Returns: "uint8[4] or uint8[16]",
		Doc: "The bytes of an IPv4 or IPv6 address written as a string literal, for comparing with addresses read from the kernel."},
	{Name: "macaddr", Signature: "macaddr(char[6] addr)", MinArgs: 1, MaxArgs: 1, Returns: "mac_address",
		Doc: "Six bytes, printed as a MAC address aa:bb:cc:dd:ee:ff."},
	{Name: "bswap", Signature: "bswap(int n)", MinArgs: 1, MaxArgs: 1, Returns: "unsigned, same size",
		Doc: "Reverses the byte order of an integer, for network-order fields such as ports."},
	{Name: "cgroupid", Signature: "cgroupid(string path)", MinArgs: 1, MaxArgs: 1, Returns: "uint64",
		Doc: "The id of the cgroup at a path, resolved when the program is compiled, to compare with the cgroup builtin."},
	{Name: "cgroup_path", Signature: "cgroup_path(int id [, string filter])", MinArgs: 1, MaxArgs: 2, Returns: "cgroup_path", varargs: true,
		Doc: "A cgroup id, printed as the cgroup's path in each mounted hierarchy."},
	{Name: "path", Signature: "path(struct path *p)", MinArgs: 1, MaxArgs: 1, Returns: "string", varargs: true, Probes: probesPath,
		Doc: "The full path of a struct path, with the kernel's d_path. Only in kfunc, kretfunc and iter probes."},
	{Name: "skboutput", Signature: "skboutput(string file, struct sk_buff *skb, int len, int offset)", MinArgs: 4, MaxArgs: 4, Returns: "uint32",
		Doc: "Writes len bytes of a packet, from offset, to a pcap file."},

	// Side effects.
	{Name: "signal", Signature: "signal(int sig | string name)", MinArgs: 1, MaxArgs: 1, Returns: "none", varargs: true, Unsafe: true, Probes: probesSignal,
		Doc: "Sends a signal to the current task (a number from 1 to 64, or a name such as \"SIGKILL\"). Needs --unsafe."},
	{Name: "override", Signature: "override(int rc)", MinArgs: 1, MaxArgs: 1, Returns: "none", varargs: true, Unsafe: true, Probes: []string{"kprobe"},
		Doc: "Makes the probed kernel function return rc without running it. Only in kprobes on functions that allow error injection; needs --unsafe."},
	{Name: "unwatch", Signature: "unwatch(int addr)", MinArgs: 1, MaxArgs: 1, Returns: "none",
		Doc: "Removes a watchpoint set on an address."},

	// Compile-time.
	{Name: "sizeof", Signature: "sizeof(type | expr)", MinArgs: 1, MaxArgs: 1, Returns: "uint64",
		Doc: "The size in bytes of a type or of an expression's type, as a constant."},
	{Name: "offsetof", Signature: "offsetof(struct S, field)", MinArgs: 2, MaxArgs: 2, Returns: "uint64", Since: "0.18",
		Doc: "The offset in bytes of a field within a struct, as a constant."},
}

var (
	funcIndex    = map[string]*Func{}
	builtinIndex = map[string]*Builtin{}
)

// Funcs returns every builtin function, in table order.
func Funcs() []*Func { return funcs }

// Builtins returns every builtin variable, sorted by name.
func Builtins() []*Builtin { return builtinVars }

// LookupFunc returns the builtin function called name, or nil.
func LookupFunc(name string) *Func { return funcIndex[name] }

// LookupBuiltin returns the builtin variable called name, or nil.
func LookupBuiltin(name string) *Builtin { return builtinIndex[name] }

func funcNames() []string {
	names := make([]string, 0, len(funcs))
	for _, f := range funcs {
		names = append(names, f.Name)
	}
	return names
}

func builtinNames() []string {
	names := make([]string, 0, len(builtinVars))
	for _, b := range builtinVars {
		names = append(names, b.Name)
	}
	return names
}
