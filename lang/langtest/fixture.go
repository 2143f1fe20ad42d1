package langtest

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tracebook/tracebook/lang"
)

// Fixture is a lang.TypeSource over a small, fixed picture of a Linux 6.18
// x86_64 system: the tracepoints, structs, functions and binaries the
// checker's tests and the bpftrace tools use. Its layouts are the real
// kernel's where tests depend on them (task_struct's pid, sock_common),
// and like the running kernel, struct cfs_rq has no nr_running.
type Fixture struct {
	tracepoints map[string]*lang.Type // "cat:name" → args record
	types       map[string]*lang.Type // "struct x", typedef names
	enums       map[string]int64
	kfuncs      map[string]fixtureFunc
	kprobes     []string                     // traceable kernel functions
	uprobes     map[string][]string          // binary or library → functions
	usdt        map[string][]string          // binary → "provider:probe"
	usyms       map[string]map[string]uint64 // binary → symbol → size (uaddr)
}

type fixtureFunc struct {
	args, ret *lang.Type
}

// NewFixture returns the fixture.
func NewFixture() *Fixture {
	f := &Fixture{
		tracepoints: map[string]*lang.Type{},
		types:       map[string]*lang.Type{},
		enums: map[string]int64{
			"SKB_DROP_REASON_NOT_SPECIFIED": 2, "SKB_DROP_REASON_NO_SOCKET": 3,
			"PIDTYPE_PID": 0, "PIDTYPE_TGID": 1, "BPF_ANY": 0,
		},
		kfuncs:  map[string]fixtureFunc{},
		uprobes: map[string][]string{},
		usdt:    map[string][]string{},
		usyms:   map[string]map[string]uint64{},
	}
	f.addStructs()
	f.addTracepoints()
	f.addFunctions()
	return f
}

// Integer types as BTF and tracepoint formats give them.
var (
	i8   = &lang.Type{Kind: lang.KindInt, Size: 1, Signed: true, Name: "char"}
	u8   = &lang.Type{Kind: lang.KindInt, Size: 1, Name: "u8"}
	i16  = &lang.Type{Kind: lang.KindInt, Size: 2, Signed: true, Name: "short"}
	u16  = &lang.Type{Kind: lang.KindInt, Size: 2, Name: "u16"}
	i32  = &lang.Type{Kind: lang.KindInt, Size: 4, Signed: true, Name: "int"}
	u32  = &lang.Type{Kind: lang.KindInt, Size: 4, Name: "u32"}
	i64  = &lang.Type{Kind: lang.KindInt, Size: 8, Signed: true, Name: "long"}
	u64  = &lang.Type{Kind: lang.KindInt, Size: 8, Name: "u64"}
	be16 = &lang.Type{Kind: lang.KindInt, Size: 2, Name: "__be16"}
	be32 = &lang.Type{Kind: lang.KindInt, Size: 4, Name: "__be32"}
)

func ptr(t *lang.Type) *lang.Type { return lang.PointerTo(t, lang.AddrKernel) }

// ref is an opaque reference to a named record, as BTF gives records
// reached through pointers.
func ref(name string) *lang.Type { return &lang.Type{Kind: lang.KindRecord, Name: name} }

func arr(elem *lang.Type, n int) *lang.Type {
	return &lang.Type{Kind: lang.KindArray, Elem: elem, Len: n, Size: n * elem.Size}
}

// fld is one member at an explicit offset.
type fld struct {
	name string
	off  int
	t    *lang.Type
}

func record(name string, size int, fields ...fld) *lang.Type {
	r := &lang.Type{Kind: lang.KindRecord, Name: name, Size: size, Fields: []*lang.Field{}}
	for _, f := range fields {
		r.Fields = append(r.Fields, &lang.Field{Name: f.name, Offset: f.off, Type: f.t})
	}
	return r
}

func (f *Fixture) add(t *lang.Type) *lang.Type {
	f.types[t.Name] = t
	return t
}

func (f *Fixture) addStructs() {
	f.add(record("struct list_head", 16, fld{"next", 0, ptr(ref("struct list_head"))}, fld{"prev", 8, ptr(ref("struct list_head"))}))
	f.add(record("struct load_weight", 16, fld{"weight", 0, u64}, fld{"inv_weight", 8, u32}))
	// struct cfs_rq on 6.18: nr_running became nr_queued (and h_nr_queued).
	f.add(record("struct cfs_rq", 512,
		fld{"load", 0, f.types["struct load_weight"]},
		fld{"nr_queued", 16, u32}, fld{"h_nr_queued", 20, u32}, fld{"h_nr_runnable", 24, u32},
		fld{"h_nr_idle", 28, u32}, fld{"avg_vruntime", 32, i64}, fld{"min_vruntime", 48, u64}))
	f.add(record("struct sched_entity", 256,
		fld{"load", 0, f.types["struct load_weight"]},
		fld{"on_rq", 64, u8}, fld{"exec_start", 72, u64}, fld{"sum_exec_runtime", 80, u64},
		fld{"vruntime", 96, u64}, fld{"depth", 128, i32},
		fld{"parent", 136, ptr(ref("struct sched_entity"))},
		fld{"cfs_rq", 144, ptr(ref("struct cfs_rq"))},
		fld{"my_q", 152, ptr(ref("struct cfs_rq"))}))
	f.add(record("struct mm_struct", 1024, fld{"total_vm", 200, u64}))
	f.add(record("struct task_struct", 9792,
		fld{"__state", 24, u32},
		fld{"se", 128, f.types["struct sched_entity"]},
		fld{"mm", 2344, ptr(ref("struct mm_struct"))},
		fld{"exit_code", 2420, i32},
		fld{"pid", 2488, i32}, fld{"tgid", 2492, i32},
		fld{"real_parent", 2504, ptr(ref("struct task_struct"))},
		fld{"parent", 2512, ptr(ref("struct task_struct"))},
		fld{"comm", 3016, lang.StringType(16)},
		fld{"flags", 44, u32}))
	f.add(record("struct __kernel_timespec", 16, fld{"tv_sec", 0, i64}, fld{"tv_nsec", 8, i64}))
	f.add(record("struct qstr", 16, fld{"hash_len", 0, u64}, fld{"name", 8, ptr(u8)}))
	f.add(record("struct path", 16, fld{"mnt", 0, ptr(ref("struct vfsmount"))}, fld{"dentry", 8, ptr(ref("struct dentry"))}))
	f.add(record("struct nameidata", 200, fld{"path", 0, f.types["struct path"]}, fld{"last", 16, f.types["struct qstr"]}))
	f.add(record("struct file", 232, fld{"f_path", 64, f.types["struct path"]}, fld{"f_flags", 60, u32}))
	f.add(record("struct gendisk", 1024, fld{"major", 0, i32}, fld{"disk_name", 12, lang.StringType(32)}))
	f.add(record("struct request_queue", 1024, fld{"disk", 120, ptr(ref("struct gendisk"))}))
	f.add(record("struct request", 288, fld{"q", 0, ptr(ref("struct request_queue"))}, fld{"__data_len", 40, u32}, fld{"__sector", 48, u64}))
	f.add(record("struct block_device", 256, fld{"bd_disk", 152, ptr(ref("struct gendisk"))}))
	f.add(record("struct bio", 128, fld{"bi_bdev", 8, ptr(ref("struct block_device"))}))
	f.add(record("struct oom_control", 104, fld{"totalpages", 48, u64}, fld{"chosen", 64, ptr(ref("struct task_struct"))}))
	in6u := record("union (anonymous)", 16, fld{"u6_addr8", 0, arr(u8, 16)}, fld{"u6_addr16", 0, arr(be16, 8)}, fld{"u6_addr32", 0, arr(be32, 4)})
	f.add(record("struct in6_addr", 16, fld{"in6_u", 0, in6u}))
	addrpair := record("struct (anonymous)", 8, fld{"skc_daddr", 0, be32}, fld{"skc_rcv_saddr", 4, be32})
	portpair := record("struct (anonymous)", 4, fld{"skc_dport", 0, be16}, fld{"skc_num", 2, u16})
	f.add(record("struct sock_common", 136,
		fld{"", 0, record("union (anonymous)", 8, fld{"skc_addrpair", 0, u64}, fld{"", 0, addrpair})},
		fld{"", 12, record("union (anonymous)", 4, fld{"skc_portpair", 0, u32}, fld{"", 0, portpair})},
		fld{"skc_family", 16, u16}, fld{"skc_state", 18, u8},
		fld{"skc_v6_daddr", 56, f.types["struct in6_addr"]},
		fld{"skc_v6_rcv_saddr", 72, f.types["struct in6_addr"]}))
	f.add(record("struct sock", 760,
		fld{"__sk_common", 0, f.types["struct sock_common"]},
		fld{"sk_ack_backlog", 292, u32}, fld{"sk_max_ack_backlog", 296, u32},
		fld{"sk_protocol", 516, u16}))
	f.add(record("struct tcp_sock", 2304, fld{"inet_conn", 0, f.types["struct sock"]},
		fld{"bytes_received", 1600, u64}, fld{"bytes_acked", 1656, u64}))
	f.add(record("struct sk_buff", 232, fld{"sk", 24, ptr(ref("struct sock"))}, fld{"len", 112, u32},
		fld{"data", 208, ptr(u8)}, fld{"protocol", 180, be16}))
	f.add(record("struct pt_regs", 168, fld{"r15", 0, u64}, fld{"bp", 32, u64}, fld{"ax", 80, u64},
		fld{"di", 112, u64}, fld{"orig_ax", 120, u64}, fld{"ip", 128, u64}, fld{"sp", 152, u64}))
	f.add(record("struct bpf_perf_event_data", 184, fld{"regs", 0, f.types["struct pt_regs"]},
		fld{"sample_period", 168, u64}, fld{"addr", 176, u64}))
	// A struct with a bitfield and a float member bpftrace cannot type.
	f.add(record("struct fixture_bits", 8,
		fld{"lo", 0, u32}, fld{"weight", 4, &lang.Type{Kind: lang.KindNone, Size: 4, Name: "float"}}))
	f.types["struct fixture_bits"].Fields[0].BitSize = 3
	// Typedefs.
	f.types["pid_t"] = &lang.Type{Kind: lang.KindInt, Size: 4, Signed: true, Name: "pid_t"}
	f.types["u64"] = &lang.Type{Kind: lang.KindInt, Size: 8, Name: "u64"}
	f.types["enum pid_type"] = &lang.Type{Kind: lang.KindInt, Size: 4, Name: "enum pid_type"}
}

// tp defines a tracepoint. Fields start at offset 8, after the common
// fields, exactly as tracefs formats give them.
func (f *Fixture) tp(name string, fields ...fld) {
	all := []fld{{"common_type", 0, u16}, {"common_flags", 2, u8}, {"common_preempt_count", 3, u8}, {"common_pid", 4, i32}}
	all = append(all, fields...)
	size := 8
	for _, x := range fields {
		if end := x.off + x.t.Size; end > size {
			size = end
		}
	}
	cat, ev, _ := strings.Cut(name, ":")
	f.tracepoints[name] = record(fmt.Sprintf("struct _tracepoint_%s_%s", cat, ev), (size+7)/8*8, all...)
}

func userPtr(t *lang.Type) *lang.Type { return lang.PointerTo(t, lang.AddrUser) }

func (f *Fixture) addTracepoints() {
	nr := fld{"__syscall_nr", 8, i32}
	ret := fld{"ret", 16, i64}
	cstr := userPtr(i8)
	f.tp("syscalls:sys_enter_openat", nr, fld{"dfd", 16, i64}, fld{"filename", 24, cstr}, fld{"flags", 32, i64}, fld{"mode", 40, u64})
	f.tp("syscalls:sys_exit_openat", nr, ret)
	f.tp("syscalls:sys_enter_open", nr, fld{"filename", 16, cstr}, fld{"flags", 24, i64}, fld{"mode", 32, u64})
	f.tp("syscalls:sys_exit_open", nr, ret)
	f.tp("syscalls:sys_enter_read", nr, fld{"fd", 16, u64}, fld{"buf", 24, userPtr(i8)}, fld{"count", 32, u64})
	f.tp("syscalls:sys_exit_read", nr, ret)
	f.tp("syscalls:sys_enter_write", nr, fld{"fd", 16, u64}, fld{"buf", 24, userPtr(i8)}, fld{"count", 32, u64})
	f.tp("syscalls:sys_exit_write", nr, ret)
	f.tp("syscalls:sys_enter_execve", nr, fld{"filename", 16, cstr}, fld{"argv", 24, userPtr(userPtr(i8))}, fld{"envp", 32, userPtr(userPtr(i8))})
	f.tp("syscalls:sys_enter_execveat", nr, fld{"fd", 16, i64}, fld{"filename", 24, cstr}, fld{"argv", 32, userPtr(userPtr(i8))}, fld{"envp", 40, userPtr(userPtr(i8))}, fld{"flags", 48, i64})
	f.tp("syscalls:sys_enter_kill", nr, fld{"pid", 16, i64}, fld{"sig", 24, i64})
	f.tp("syscalls:sys_exit_kill", nr, ret)
	f.tp("syscalls:sys_enter_nanosleep", nr, fld{"rqtp", 16, userPtr(ref("struct __kernel_timespec"))}, fld{"rmtp", 24, userPtr(ref("struct __kernel_timespec"))})
	f.tp("syscalls:sys_enter_clock_nanosleep", nr, fld{"which_clock", 16, i64}, fld{"flags", 24, i64}, fld{"rqtp", 32, userPtr(ref("struct __kernel_timespec"))})
	for _, s := range []string{"setuid", "setfsuid"} {
		f.tp("syscalls:sys_enter_"+s, nr, fld{"uid", 16, u64})
		f.tp("syscalls:sys_exit_"+s, nr, ret)
	}
	f.tp("syscalls:sys_enter_setresuid", nr, fld{"ruid", 16, u64}, fld{"euid", 24, u64}, fld{"suid", 32, u64})
	f.tp("syscalls:sys_exit_setresuid", nr, ret)
	f.tp("syscalls:sys_enter_statfs", nr, fld{"pathname", 16, cstr}, fld{"buf", 24, userPtr(ref("struct statfs"))})
	for _, s := range []string{"statx", "newstat", "newlstat"} {
		f.tp("syscalls:sys_enter_"+s, nr, fld{"filename", 16, cstr})
	}
	for _, s := range []string{"statfs", "statx", "newstat", "newlstat"} {
		f.tp("syscalls:sys_exit_"+s, nr, ret)
	}
	for _, s := range []string{"sync", "syncfs", "fsync", "fdatasync", "sync_file_range", "msync"} {
		f.tp("syscalls:sys_enter_"+s, nr)
	}
	f.tp("raw_syscalls:sys_enter", fld{"id", 8, i64}, fld{"args", 16, arr(u64, 6)})
	f.tp("raw_syscalls:sys_exit", fld{"id", 8, i64}, fld{"ret", 16, i64})
	f.tp("sched:sched_switch", fld{"prev_comm", 8, lang.StringType(16)}, fld{"prev_pid", 24, i32}, fld{"prev_prio", 28, i32},
		fld{"prev_state", 32, i64}, fld{"next_comm", 40, lang.StringType(16)}, fld{"next_pid", 56, i32}, fld{"next_prio", 60, i32})
	for _, s := range []string{"sched_wakeup", "sched_wakeup_new"} {
		f.tp("sched:"+s, fld{"comm", 8, lang.StringType(16)}, fld{"pid", 24, i32}, fld{"prio", 28, i32}, fld{"target_cpu", 32, i32})
	}
	f.tp("sched:sched_process_fork", fld{"parent_comm", 8, lang.StringType(16)}, fld{"parent_pid", 24, i32},
		fld{"child_comm", 28, lang.StringType(16)}, fld{"child_pid", 44, i32})
	f.tp("sched:sched_process_exit", fld{"comm", 8, lang.StringType(16)}, fld{"pid", 24, i32}, fld{"prio", 28, i32})
	cmd := fld{"cmd", 56, i64}
	f.tp("block:block_rq_issue", fld{"dev", 8, u32}, fld{"sector", 16, u64}, fld{"nr_sector", 24, u32}, fld{"bytes", 28, u32},
		fld{"ioprio", 32, u16}, fld{"rwbs", 34, lang.StringType(10)}, fld{"comm", 44, lang.StringType(16)}, cmd)
	f.tracepoints["block:block_rq_issue"].Fields[len(f.tracepoints["block:block_rq_issue"].Fields)-1].DataLoc = true
	f.tp("skb:kfree_skb", fld{"skbaddr", 8, ptr(nil)}, fld{"location", 16, ptr(nil)}, fld{"rx_sk", 24, ptr(nil)},
		fld{"protocol", 32, u16}, fld{"reason", 36, &lang.Type{Kind: lang.KindInt, Size: 4, Name: "enum skb_drop_reason"}})
	f.tp("writeback:writeback_start", fld{"name", 8, lang.StringType(32)}, fld{"nr_pages", 40, i64}, fld{"sb_dev", 48, u32},
		fld{"sync_mode", 52, i32}, fld{"for_kupdate", 56, i32}, fld{"range_cyclic", 60, i32}, fld{"for_background", 64, i32},
		fld{"reason", 68, i32}, fld{"cgroup_ino", 72, u64})
	f.tracepoints["writeback:writeback_written"] = renamed(f.tracepoints["writeback:writeback_start"], "struct _tracepoint_writeback_writeback_written")
}

func renamed(t *lang.Type, name string) *lang.Type {
	cp := *t
	cp.Name = name
	return &cp
}

func (f *Fixture) addFunctions() {
	f.kprobes = []string{
		"vfs_read", "vfs_write", "vfs_readv", "vfs_writev", "vfs_open", "vfs_fsync", "vfs_fsync_range",
		"vfs_create", "vfs_unlink", "vfs_statx", "do_nanosleep", "do_sys_openat2",
		"blk_mq_start_request", "__blk_account_io_start", "__blk_account_io_done",
		"cap_capable", "d_lookup", "lookup_fast", "md_flush_request", "oom_kill_process",
		"swap_readpage", "tcp_connect", "tcp_set_state", "tcp_retransmit_skb", "tcp_v4_syn_recv_sock",
		"tcp_v6_syn_recv_sock", "inet_csk_accept", "unix_stream_read_actor", "tcp_sendmsg", "schedule",
		"__x64_sys_read", "ksys_read",
	}
	sort.Strings(f.kprobes)
	file := ptr(ref("struct file"))
	f.kfuncs["vfs_read"] = fixtureFunc{
		args: record("struct vfs_read_args", 32, fld{"file", 0, file}, fld{"buf", 8, ptr(i8)}, fld{"count", 16, u64}, fld{"pos", 24, ptr(i64)}),
		ret:  i64,
	}
	f.kfuncs["vfs_open"] = fixtureFunc{
		args: record("struct vfs_open_args", 16, fld{"path", 0, ptr(ref("struct path"))}, fld{"file", 8, file}),
		ret:  i32,
	}
	// A function returning void: kretfunc has no retval.
	f.kfuncs["schedule"] = fixtureFunc{args: record("struct schedule_args", 0)}
	f.kfuncs["tcp_connect"] = fixtureFunc{
		args: record("struct tcp_connect_args", 8, fld{"sk", 0, ptr(ref("struct sock"))}),
		ret:  i32,
	}
	// Raw tracepoints, answered under lang.FuncArgsName's name for them as
	// the runtime does. cap_capable is both a function and a tracepoint,
	// with different arguments, as on the real kernel.
	f.kfuncs["cap_capable"] = fixtureFunc{
		args: record("struct cap_capable_args", 32, fld{"cred", 0, ptr(ref("struct cred"))},
			fld{"target_ns", 8, ptr(ref("struct user_namespace"))}, fld{"cap", 16, i32}, fld{"opts", 24, u32}),
		ret: i32,
	}
	f.kfuncs["btf_trace_cap_capable"] = fixtureFunc{
		args: record("struct _rawtracepoint_cap_capable_args", 40, fld{"cred", 0, ptr(ref("struct cred"))},
			fld{"target_ns", 8, ptr(ref("struct user_namespace"))}, fld{"capable_ns", 16, ptr(ref("struct user_namespace"))},
			fld{"cap", 24, i32}, fld{"ret", 32, i32}),
	}
	f.kfuncs["btf_trace_sched_switch"] = fixtureFunc{
		args: record("struct _rawtracepoint_sched_switch_args", 32, fld{"preempt", 0, u8},
			fld{"prev", 8, ptr(ref("struct task_struct"))}, fld{"next", 16, ptr(ref("struct task_struct"))},
			fld{"prev_state", 24, u32}),
	}
	f.uprobes["/bin/bash"] = []string{"readline", "main", "execute_command"}
	f.uprobes["/usr/lib/x86_64-linux-gnu/libc.so.6"] = []string{"getaddrinfo", "gethostbyname", "gethostbyname2", "malloc", "free", "pthread_create"}
	f.uprobes["/usr/lib/x86_64-linux-gnu/libssl.so.3"] = []string{"SSL_read", "SSL_write", "SSL_do_handshake"}
	f.uprobes["/usr/lib/x86_64-linux-gnu/libcrypto.so.3"] = []string{"rsa_ossl_public_encrypt", "rsa_ossl_public_decrypt",
		"rsa_ossl_private_encrypt", "rsa_ossl_private_decrypt", "RSA_sign", "RSA_verify", "ossl_ecdsa_sign",
		"ossl_ecdsa_verify", "ecdh_simple_compute_key", "ossl_ecdh_compute_key"}
	f.usdt["/usr/bin/fixture"] = []string{"fixture:start", "fixture:stop"}
	// Symbol sizes as bash 5.2's dynamic symbol table has them; the
	// fixture binary's are made up so that one name differs in size.
	f.usyms["/bin/bash"] = map[string]uint64{"readline": 153, "main": 6295, "execute_command": 94,
		"history_expansion_char": 1, "rl_point": 4, "EOF_Reached": 4, "rl_line_buffer": 8}
	f.usyms["/usr/bin/fixture"] = map[string]uint64{"fixture_state": 2, "rl_point": 8}
}

// libAliases resolves library names as bpftrace does (uprobe:libc:f).
var libAliases = map[string]string{
	"libc":       "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"libpthread": "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"libssl":     "/usr/lib/x86_64-linux-gnu/libssl.so.3",
	"libcrypto":  "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
	"bash":       "/bin/bash",
}

// TracepointArgs implements lang.TypeSource.
func (f *Fixture) TracepointArgs(category, name string) (*lang.Type, error) {
	if t, ok := f.tracepoints[category+":"+name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("tracepoint %s:%s: %w", category, name, lang.ErrNotFound)
}

// FuncArgs implements lang.TypeSource.
func (f *Fixture) FuncArgs(module, fn string) (*lang.Type, *lang.Type, error) {
	if k, ok := f.kfuncs[fn]; ok {
		return k.args, k.ret, nil
	}
	return nil, nil, fmt.Errorf("function %s: %w", fn, lang.ErrNotFound)
}

// UserSymbolSize implements lang.UserSymbolSource.
func (f *Fixture) UserSymbolSize(binary, name string) (uint64, error) {
	if size, ok := f.usyms[binary][name]; ok {
		return size, nil
	}
	return 0, fmt.Errorf("symbol %s in %s: %w", name, binary, lang.ErrNotFound)
}

// LookupType implements lang.TypeSource.
func (f *Fixture) LookupType(name string) (*lang.Type, error) {
	if t, ok := f.types[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("type %s: %w", name, lang.ErrNotFound)
}

// Enum implements lang.TypeSource.
func (f *Fixture) Enum(name string) (int64, bool) {
	v, ok := f.enums[name]
	return v, ok
}

// HaveBTF implements lang.TypeSource.
func (f *Fixture) HaveBTF() bool { return true }

// Expand implements lang.TypeSource.
func (f *Fixture) Expand(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	var out []*lang.AttachPoint
	match := func(pattern, s string) bool {
		ok, _ := path.Match(pattern, s)
		return ok
	}
	with := func(target, fn string) *lang.AttachPoint {
		cp := *ap
		cp.Target, cp.Func, cp.Wildcard, cp.Matches = target, fn, false, nil
		cp.Raw = cp.Name()
		return &cp
	}
	switch ap.Provider {
	case "tracepoint":
		var names []string
		for n := range f.tracepoints {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			cat, ev, _ := strings.Cut(n, ":")
			if match(ap.Target, cat) && match(ap.Func, ev) {
				out = append(out, with(cat, ev))
			}
		}
	case "kprobe", "kretprobe":
		for _, fn := range f.kprobes {
			if match(ap.Func, fn) {
				out = append(out, with(ap.Target, fn))
			}
		}
	case "kfunc", "kretfunc":
		// Every traceable function can be attached; only some have BTF
		// argument records in the fixture (FuncArgs).
		names := append([]string(nil), f.kprobes...)
		for n := range f.kfuncs {
			if strings.HasPrefix(n, "btf_trace_") {
				continue
			}
			if sort.SearchStrings(f.kprobes, n) == len(f.kprobes) || f.kprobes[sort.SearchStrings(f.kprobes, n)] != n {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if match(ap.Func, n) {
				out = append(out, with(ap.Target, n))
			}
		}
	case "rawtracepoint":
		// The raw tracepoints are those with a btf_trace_<name> typedef.
		var names []string
		for n := range f.kfuncs {
			if tp, ok := strings.CutPrefix(n, "btf_trace_"); ok {
				names = append(names, tp)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if match(ap.Func, n) {
				out = append(out, with(ap.Target, n))
			}
		}
	case "uprobe", "uretprobe":
		target := ap.Target
		if target == "" {
			target = "/bin/bash" // the -p process of the fixture
		}
		if p, ok := libAliases[target]; ok {
			target = p
		}
		fns, ok := f.uprobes[target]
		if !ok {
			return nil, notFound("uprobe target file '%s' does not exist or is not executable", ap.Target)
		}
		if ap.Func == "" && ap.Address != 0 {
			return []*lang.AttachPoint{with(target, "")}, nil
		}
		for _, fn := range fns {
			if match(ap.Func, fn) {
				out = append(out, with(target, fn))
			}
		}
	case "usdt":
		probes, ok := f.usdt[ap.Target]
		if !ok {
			return nil, notFound("usdt target file '%s' does not exist or is not executable", ap.Target)
		}
		for _, p := range probes {
			ns, name, _ := strings.Cut(p, ":")
			if (ap.NS == "" || match(ap.NS, ns)) && match(ap.Func, name) {
				m := with(ap.Target, name)
				m.NS = ns
				out = append(out, m)
			}
		}
	default:
		return []*lang.AttachPoint{ap}, nil
	}
	if len(out) == 0 {
		switch ap.Provider {
		case "uprobe", "uretprobe":
			return nil, notFound("no probes match %s", ap.Name())
		case "usdt":
			return nil, notFound("usdt probe not found: %s", strings.TrimPrefix(ap.Name(), "usdt:"))
		case "kfunc", "kretfunc":
			return nil, notFound("no kernel functions in BTF match %s", ap.Name())
		case "tracepoint":
			return nil, notFound("tracepoint not found: %s:%s", ap.Target, ap.Func)
		}
		// A bare ErrNotFound: the checker words the message itself.
		return nil, lang.ErrNotFound
	}
	return out, nil
}

// notFoundError reads as a complete message, as the runtime's do, and
// matches lang.ErrNotFound.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return lang.ErrNotFound }

func notFound(format string, args ...any) error {
	return &notFoundError{fmt.Sprintf(format, args...)}
}

var (
	_ lang.TypeSource       = (*Fixture)(nil)
	_ lang.UserSymbolSource = (*Fixture)(nil)
)
