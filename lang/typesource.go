package lang

import "errors"

// TypeSource is what lang needs to know of the running system. The runtime
// implements it over tracefs, kernel BTF and ELF files; tests implement it
// over small fixtures. It plays the part of go/types' Importer: lang calls
// it, never the other way round, and lang imports nothing to do it.
//
// Methods return ErrNotFound (possibly wrapped, with detail) when the thing
// asked for does not exist; other errors are reported to the user as they
// are.
type TypeSource interface {
	// TracepointArgs returns the record `args` has in tracepoint:cat:name,
	// built from the tracepoint's format file. Fields start after the
	// common_* fields' offsets exactly as the format file gives them.
	TracepointArgs(category, name string) (*Type, error)

	// FuncArgs returns, for kfunc/kretfunc (fentry/fexit) and rawtracepoint
	// with BTF, the record of the function's arguments (each field 8 bytes,
	// at offset 8*i, as the trampoline context lays them out) and the return
	// type (nil for void).
	//
	// fn names a kernel function for kfunc/kretfunc. For rawtracepoint:<tp>
	// it is "btf_trace_<tp>", the typedef kernel BTF has for every
	// tracepoint's prototype (see FuncArgsName): a tracepoint and a function
	// often share a name (cap_capable, consume_skb, ...) with different
	// arguments, so the two must be asked for apart. Callers ask with
	// FuncArgsName; an implementation answers "btf_trace_<tp>" with the
	// tracepoint's arguments (without the leading void *__data) and a nil
	// ret.
	FuncArgs(module, fn string) (args *Type, ret *Type, err error)

	// LookupType resolves a C type name from kernel BTF: "struct task_struct",
	// "union bpf_attr", "enum pid_type", or a typedef such as "pid_t" or
	// "u64". A record comes back with its fields; records reached through
	// pointer fields may be opaque (see Type.IsOpaque).
	LookupType(name string) (*Type, error)

	// Enum returns the value of an enumerator known to kernel BTF
	// (TASK_RUNNING is not one; BPF_ANY, PIDTYPE_PID and the like are).
	Enum(name string) (int64, bool)

	// Expand returns the concrete attach points a wildcard one stands for,
	// sorted. For an attach point without a wildcard it checks that the
	// target exists and returns it alone (or ErrNotFound). Listing and
	// matching is the runtime's job: tracefs events, BTF functions, ELF
	// symbols, USDT notes.
	Expand(ap *AttachPoint) ([]*AttachPoint, error)

	// HaveBTF reports whether kernel BTF is available; the preprocessor
	// defines BPFTRACE_HAVE_BTF when it is.
	HaveBTF() bool
}

// UserSymbolSource is implemented by a TypeSource that reads the symbol
// tables of user binaries. The checker types uaddr("sym") by the symbol's
// size, as bpftrace does: a pointer to an int8, int16 or int32 for a symbol
// of 1, 2 or 4 bytes, to an int64 otherwise. Without it uaddr is an int64
// pointer.
type UserSymbolSource interface {
	// UserSymbolSize returns the size (st_size) of symbol name in the
	// executable or library at path binary (an attach point's resolved
	// Target), or ErrNotFound when the file has no such symbol.
	UserSymbolSize(binary, name string) (uint64, error)
}

// FuncArgsName returns the name TypeSource.FuncArgs is asked with for the
// arguments of a kfunc, kretfunc or rawtracepoint attach point to fn:
// fn itself for a function, "btf_trace_"+fn for a raw tracepoint.
func FuncArgsName(provider, fn string) string {
	if provider == "rawtracepoint" {
		return "btf_trace_" + fn
	}
	return fn
}

// ErrNotFound is returned (possibly wrapped) by TypeSource methods when the
// tracepoint, function, type or symbol asked for does not exist.
var ErrNotFound = errors.New("not found")
