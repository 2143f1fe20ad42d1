package codegen

import (
	"fmt"
	"path"
	"strings"

	"github.com/tracebook/tracebook/lang"
)

// fixtureTypes is a lang.TypeSource over a few tracepoints, functions and
// structs, shaped as the runtime's SystemTypes answers on this kernel, so
// golden listings need no kernel.
type fixtureTypes struct{}

func tpRecord(cat, name string, size int, fields ...*lang.Field) *lang.Type {
	common := []*lang.Field{
		{Name: "common_type", Offset: 0, Type: lang.TypeUint16},
		{Name: "common_flags", Offset: 2, Type: lang.TypeUint8},
		{Name: "common_preempt_count", Offset: 3, Type: lang.TypeUint8},
		{Name: "common_pid", Offset: 4, Type: lang.TypeInt32},
	}
	return &lang.Type{Kind: lang.KindRecord, Name: "struct _tracepoint_" + cat + "_" + name, IsCtx: true,
		Size: size, Fields: append(common, fields...)}
}

func userPtr(elem *lang.Type) *lang.Type { return lang.PointerTo(elem, lang.AddrUser) }

var fixtureTracepoints = map[string]*lang.Type{
	"syscalls:sys_enter_openat": tpRecord("syscalls", "sys_enter_openat", 48,
		&lang.Field{Name: "__syscall_nr", Offset: 8, Type: lang.TypeInt32},
		&lang.Field{Name: "dfd", Offset: 16, Type: lang.TypeInt64},
		&lang.Field{Name: "filename", Offset: 24, Type: userPtr(lang.TypeInt8)},
		&lang.Field{Name: "flags", Offset: 32, Type: lang.TypeInt64},
		&lang.Field{Name: "mode", Offset: 40, Type: lang.TypeUint64}),
	"syscalls:sys_enter_read": tpRecord("syscalls", "sys_enter_read", 40,
		&lang.Field{Name: "__syscall_nr", Offset: 8, Type: lang.TypeInt32},
		&lang.Field{Name: "fd", Offset: 16, Type: lang.TypeUint64},
		&lang.Field{Name: "buf", Offset: 24, Type: userPtr(lang.TypeInt8)},
		&lang.Field{Name: "count", Offset: 32, Type: lang.TypeUint64}),
	"syscalls:sys_enter_write": tpRecord("syscalls", "sys_enter_write", 40,
		&lang.Field{Name: "__syscall_nr", Offset: 8, Type: lang.TypeInt32},
		&lang.Field{Name: "fd", Offset: 16, Type: lang.TypeUint64},
		&lang.Field{Name: "buf", Offset: 24, Type: userPtr(lang.TypeInt8)},
		&lang.Field{Name: "count", Offset: 32, Type: lang.TypeUint64}),
	"syscalls:sys_exit_read": tpRecord("syscalls", "sys_exit_read", 24,
		&lang.Field{Name: "__syscall_nr", Offset: 8, Type: lang.TypeInt32},
		&lang.Field{Name: "ret", Offset: 16, Type: lang.TypeInt64}),
	"syscalls:sys_enter_execve": tpRecord("syscalls", "sys_enter_execve", 40,
		&lang.Field{Name: "__syscall_nr", Offset: 8, Type: lang.TypeInt32},
		&lang.Field{Name: "filename", Offset: 16, Type: userPtr(lang.TypeInt8)},
		&lang.Field{Name: "argv", Offset: 24, Type: userPtr(userPtr(lang.TypeInt8))},
		&lang.Field{Name: "envp", Offset: 32, Type: userPtr(userPtr(lang.TypeInt8))}),
	"sched:sched_switch": tpRecord("sched", "sched_switch", 64,
		&lang.Field{Name: "prev_comm", Offset: 8, Type: lang.StringType(16)},
		&lang.Field{Name: "prev_pid", Offset: 24, Type: lang.TypeInt32},
		&lang.Field{Name: "prev_prio", Offset: 28, Type: lang.TypeInt32},
		&lang.Field{Name: "prev_state", Offset: 32, Type: lang.TypeInt64},
		&lang.Field{Name: "next_comm", Offset: 40, Type: lang.StringType(16)},
		&lang.Field{Name: "next_pid", Offset: 56, Type: lang.TypeInt32},
		&lang.Field{Name: "next_prio", Offset: 60, Type: lang.TypeInt32}),
	"sched:sched_process_exec": tpRecord("sched", "sched_process_exec", 24,
		&lang.Field{Name: "filename", Offset: 8, DataLoc: true,
			Type: &lang.Type{Kind: lang.KindInt, Size: 8, Signed: true, AddrSpace: lang.AddrKernel}},
		&lang.Field{Name: "pid", Offset: 12, Type: lang.TypeInt32},
		&lang.Field{Name: "old_pid", Offset: 16, Type: lang.TypeInt32}),
}

var taskStruct = &lang.Type{Kind: lang.KindRecord, Name: "struct task_struct", Size: 9792, Fields: []*lang.Field{
	{Name: "pid", Offset: 1264, Type: lang.TypeInt32},
	{Name: "tgid", Offset: 1268, Type: lang.TypeInt32},
	{Name: "real_parent", Offset: 1280, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct task_struct"}, lang.AddrKernel)},
	{Name: "comm", Offset: 1888, Type: &lang.Type{Kind: lang.KindArray, Elem: lang.TypeInt8, Len: 16, Size: 16}},
}}

var fileStruct = &lang.Type{Kind: lang.KindRecord, Name: "struct file", Size: 232, Fields: []*lang.Field{
	{Name: "f_inode", Offset: 32, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct inode"}, lang.AddrKernel)},
}}

var inodeStruct = &lang.Type{Kind: lang.KindRecord, Name: "struct inode", Size: 600, Fields: []*lang.Field{
	{Name: "i_ino", Offset: 64, Type: lang.TypeUint64},
}}

func (fixtureTypes) TracepointArgs(category, name string) (*lang.Type, error) {
	if t := fixtureTracepoints[category+":"+name]; t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("tracepoint %s:%s: %w", category, name, lang.ErrNotFound)
}

func (fixtureTypes) FuncArgs(module, fn string) (*lang.Type, *lang.Type, error) {
	switch fn {
	case "vfs_read":
		rec := &lang.Type{Kind: lang.KindRecord, Name: "struct _kfunc_vmlinux_vfs_read_args", IsCtx: true, Size: 32,
			Fields: []*lang.Field{
				{Name: "file", Offset: 0, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct file"}, lang.AddrKernel)},
				{Name: "buf", Offset: 8, Type: lang.PointerTo(lang.TypeInt8, lang.AddrKernel)},
				{Name: "count", Offset: 16, Type: lang.TypeUint64},
				{Name: "pos", Offset: 24, Type: lang.PointerTo(lang.TypeInt64, lang.AddrKernel)},
			}}
		return rec, lang.TypeInt64, nil
	case "cap_capable":
		// A function and a raw tracepoint share this name; their
		// arguments differ.
		rec := &lang.Type{Kind: lang.KindRecord, Name: "struct _kfunc_vmlinux_cap_capable_args", IsCtx: true, Size: 32,
			Fields: []*lang.Field{
				{Name: "cred", Offset: 0, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct cred"}, lang.AddrKernel)},
				{Name: "target_ns", Offset: 8, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct user_namespace"}, lang.AddrKernel)},
				{Name: "cap", Offset: 16, Type: lang.TypeInt32},
				{Name: "opts", Offset: 24, Type: lang.TypeUint32},
			}}
		return rec, lang.TypeInt32, nil
	case "btf_trace_cap_capable":
		rec := &lang.Type{Kind: lang.KindRecord, Name: "struct _rawtracepoint_cap_capable_args", IsCtx: true, Size: 40,
			Fields: []*lang.Field{
				{Name: "cred", Offset: 0, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct cred"}, lang.AddrKernel)},
				{Name: "target_ns", Offset: 8, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct user_namespace"}, lang.AddrKernel)},
				{Name: "capable_ns", Offset: 16, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct user_namespace"}, lang.AddrKernel)},
				{Name: "cap", Offset: 24, Type: lang.TypeInt32},
				{Name: "ret", Offset: 32, Type: lang.TypeInt32},
			}}
		return rec, nil, nil
	case "btf_trace_sched_switch":
		rec := &lang.Type{Kind: lang.KindRecord, Name: "struct _rawtracepoint_sched_switch_args", IsCtx: true, Size: 32,
			Fields: []*lang.Field{
				{Name: "preempt", Offset: 0, Type: lang.TypeUint8},
				{Name: "prev", Offset: 8, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct task_struct"}, lang.AddrKernel)},
				{Name: "next", Offset: 16, Type: lang.PointerTo(&lang.Type{Kind: lang.KindRecord, Name: "struct task_struct"}, lang.AddrKernel)},
				{Name: "prev_state", Offset: 24, Type: lang.TypeUint32},
			}}
		return rec, nil, nil
	}
	return nil, nil, fmt.Errorf("function %s: %w", fn, lang.ErrNotFound)
}

func (fixtureTypes) LookupType(name string) (*lang.Type, error) {
	switch name {
	case "struct task_struct":
		return taskStruct, nil
	case "struct file":
		return fileStruct, nil
	case "struct inode":
		return inodeStruct, nil
	}
	return nil, fmt.Errorf("type %s: %w", name, lang.ErrNotFound)
}

func (fixtureTypes) Enum(name string) (int64, bool) { return 0, false }

func (fixtureTypes) Expand(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	if ap.Provider != "tracepoint" {
		c := *ap
		c.Wildcard = false
		c.Matches = nil
		return []*lang.AttachPoint{&c}, nil
	}
	var out []*lang.AttachPoint
	names := make([]string, 0, len(fixtureTracepoints))
	for n := range fixtureTracepoints {
		names = append(names, n)
	}
	sortStrings(names)
	for _, n := range names {
		cat, name, _ := strings.Cut(n, ":")
		if ok, _ := path.Match(ap.Target, cat); !ok {
			continue
		}
		if ok, _ := path.Match(ap.Func, name); !ok {
			continue
		}
		c := *ap
		c.Target, c.Func, c.Wildcard, c.Matches = cat, name, false, nil
		c.Raw = "tracepoint:" + n
		out = append(out, &c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tracepoint %s:%s: %w", ap.Target, ap.Func, lang.ErrNotFound)
	}
	return out, nil
}

func (fixtureTypes) HaveBTF() bool { return true }

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// fixtureCommOffset is comm's offset in the fixture's task_struct, where
// the goldens read it.
func fixtureCommOffset() int {
	for _, f := range taskStruct.Fields {
		if f.Name == "comm" {
			return f.Offset
		}
	}
	panic("the fixture task_struct has no comm")
}
