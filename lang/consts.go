package lang

import (
	"sort"
	"strings"
)

// Well-known constants.
//
// bpftrace 0.17 gets names such as AF_INET or O_CREAT from the C headers a
// program includes, which it parses with clang. tracebook has no clang and
// no kernel headers, so it keeps the constants that tracing programs
// actually use in a table of its own: the values below are Linux's on
// x86_64 (the uapi headers and glibc's, which agree for these). Enum
// constants that kernel BTF knows (SKB_DROP_REASON_*, PIDTYPE_*) come from
// TypeSource.Enum instead; a #define or an enum written in the program
// itself takes precedence over both.
//
// The table also covers what the 38 tools shipped with bpftrace use:
// AF_INET/AF_INET6, the TCP_* states, and TASK_RUNNING (a #define in
// linux/sched.h, so absent from BTF).

// ConstGroup is one family of constants, for completion and inspection.
type ConstGroup struct {
	Name   string // "AF_*"
	Doc    string
	Consts []Const
}

// Const is one named constant.
type Const struct {
	Name  string
	Value int64
}

var constGroups = []ConstGroup{
	{Name: "AF_*", Doc: "Address families, as in socket(2) and sk->__sk_common.skc_family.", Consts: []Const{
		{"AF_UNSPEC", 0}, {"AF_UNIX", 1}, {"AF_LOCAL", 1}, {"AF_INET", 2}, {"AF_AX25", 3},
		{"AF_IPX", 4}, {"AF_APPLETALK", 5}, {"AF_NETROM", 6}, {"AF_BRIDGE", 7}, {"AF_ATMPVC", 8},
		{"AF_X25", 9}, {"AF_INET6", 10}, {"AF_ROSE", 11}, {"AF_DECnet", 12}, {"AF_NETBEUI", 13},
		{"AF_SECURITY", 14}, {"AF_KEY", 15}, {"AF_NETLINK", 16}, {"AF_ROUTE", 16}, {"AF_PACKET", 17},
		{"AF_ASH", 18}, {"AF_ECONET", 19}, {"AF_ATMSVC", 20}, {"AF_RDS", 21}, {"AF_SNA", 22},
		{"AF_IRDA", 23}, {"AF_PPPOX", 24}, {"AF_WANPIPE", 25}, {"AF_LLC", 26}, {"AF_IB", 27},
		{"AF_MPLS", 28}, {"AF_CAN", 29}, {"AF_TIPC", 30}, {"AF_BLUETOOTH", 31}, {"AF_IUCV", 32},
		{"AF_RXRPC", 33}, {"AF_ISDN", 34}, {"AF_PHONET", 35}, {"AF_IEEE802154", 36}, {"AF_CAIF", 37},
		{"AF_ALG", 38}, {"AF_NFC", 39}, {"AF_VSOCK", 40}, {"AF_KCM", 41}, {"AF_QIPCRTR", 42},
		{"AF_SMC", 43}, {"AF_XDP", 44}, {"AF_MCTP", 45},
	}},
	{Name: "PF_*", Doc: "Protocol families; the same numbers as AF_*.", Consts: []Const{
		{"PF_UNSPEC", 0}, {"PF_UNIX", 1}, {"PF_LOCAL", 1}, {"PF_INET", 2}, {"PF_INET6", 10},
		{"PF_NETLINK", 16}, {"PF_ROUTE", 16}, {"PF_PACKET", 17}, {"PF_CAN", 29}, {"PF_BLUETOOTH", 31},
		{"PF_ALG", 38}, {"PF_VSOCK", 40}, {"PF_XDP", 44},
	}},
	{Name: "SOCK_*", Doc: "Socket types and socket(2) type flags.", Consts: []Const{
		{"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_RAW", 3}, {"SOCK_RDM", 4},
		{"SOCK_SEQPACKET", 5}, {"SOCK_DCCP", 6}, {"SOCK_PACKET", 10},
		{"SOCK_NONBLOCK", 0o4000}, {"SOCK_CLOEXEC", 0o2000000},
	}},
	{Name: "IPPROTO_*", Doc: "IP protocol numbers.", Consts: []Const{
		{"IPPROTO_IP", 0}, {"IPPROTO_ICMP", 1}, {"IPPROTO_IGMP", 2}, {"IPPROTO_IPIP", 4},
		{"IPPROTO_TCP", 6}, {"IPPROTO_EGP", 8}, {"IPPROTO_PUP", 12}, {"IPPROTO_UDP", 17},
		{"IPPROTO_IDP", 22}, {"IPPROTO_TP", 29}, {"IPPROTO_DCCP", 33}, {"IPPROTO_IPV6", 41},
		{"IPPROTO_RSVP", 46}, {"IPPROTO_GRE", 47}, {"IPPROTO_ESP", 50}, {"IPPROTO_AH", 51},
		{"IPPROTO_ICMPV6", 58}, {"IPPROTO_MTP", 92}, {"IPPROTO_BEETPH", 94}, {"IPPROTO_ENCAP", 98},
		{"IPPROTO_PIM", 103}, {"IPPROTO_COMP", 108}, {"IPPROTO_L2TP", 115}, {"IPPROTO_SCTP", 132},
		{"IPPROTO_UDPLITE", 136}, {"IPPROTO_MPLS", 137}, {"IPPROTO_ETHERNET", 143},
		{"IPPROTO_RAW", 255}, {"IPPROTO_MPTCP", 262},
	}},
	{Name: "TCP_*", Doc: "TCP socket states (include/net/tcp_states.h), as in sk->__sk_common.skc_state.", Consts: []Const{
		{"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
		{"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7}, {"TCP_CLOSE_WAIT", 8},
		{"TCP_LAST_ACK", 9}, {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11}, {"TCP_NEW_SYN_RECV", 12},
	}},
	{Name: "SIG*", Doc: "Signal numbers on x86_64, as in kill(2) and signal().", Consts: []Const{
		{"SIGHUP", 1}, {"SIGINT", 2}, {"SIGQUIT", 3}, {"SIGILL", 4}, {"SIGTRAP", 5},
		{"SIGABRT", 6}, {"SIGIOT", 6}, {"SIGBUS", 7}, {"SIGFPE", 8}, {"SIGKILL", 9},
		{"SIGUSR1", 10}, {"SIGSEGV", 11}, {"SIGUSR2", 12}, {"SIGPIPE", 13}, {"SIGALRM", 14},
		{"SIGTERM", 15}, {"SIGSTKFLT", 16}, {"SIGCHLD", 17}, {"SIGCONT", 18}, {"SIGSTOP", 19},
		{"SIGTSTP", 20}, {"SIGTTIN", 21}, {"SIGTTOU", 22}, {"SIGURG", 23}, {"SIGXCPU", 24},
		{"SIGXFSZ", 25}, {"SIGVTALRM", 26}, {"SIGPROF", 27}, {"SIGWINCH", 28}, {"SIGIO", 29},
		{"SIGPOLL", 29}, {"SIGPWR", 30}, {"SIGSYS", 31},
	}},
	{Name: "E*", Doc: "errno values on Linux; syscalls return their negation.", Consts: []Const{
		{"EPERM", 1}, {"ENOENT", 2}, {"ESRCH", 3}, {"EINTR", 4}, {"EIO", 5}, {"ENXIO", 6},
		{"E2BIG", 7}, {"ENOEXEC", 8}, {"EBADF", 9}, {"ECHILD", 10}, {"EAGAIN", 11},
		{"EWOULDBLOCK", 11}, {"ENOMEM", 12}, {"EACCES", 13}, {"EFAULT", 14}, {"ENOTBLK", 15},
		{"EBUSY", 16}, {"EEXIST", 17}, {"EXDEV", 18}, {"ENODEV", 19}, {"ENOTDIR", 20},
		{"EISDIR", 21}, {"EINVAL", 22}, {"ENFILE", 23}, {"EMFILE", 24}, {"ENOTTY", 25},
		{"ETXTBSY", 26}, {"EFBIG", 27}, {"ENOSPC", 28}, {"ESPIPE", 29}, {"EROFS", 30},
		{"EMLINK", 31}, {"EPIPE", 32}, {"EDOM", 33}, {"ERANGE", 34}, {"EDEADLK", 35},
		{"ENAMETOOLONG", 36}, {"ENOLCK", 37}, {"ENOSYS", 38}, {"ENOTEMPTY", 39}, {"ELOOP", 40},
		{"ENOMSG", 42}, {"EIDRM", 43}, {"ENOSTR", 60}, {"ENODATA", 61}, {"ETIME", 62},
		{"ENOSR", 63}, {"ENOLINK", 67}, {"EPROTO", 71}, {"EBADMSG", 74}, {"EOVERFLOW", 75},
		{"EILSEQ", 84}, {"EUSERS", 87}, {"ENOTSOCK", 88}, {"EDESTADDRREQ", 89}, {"EMSGSIZE", 90},
		{"EPROTOTYPE", 91}, {"ENOPROTOOPT", 92}, {"EPROTONOSUPPORT", 93}, {"ESOCKTNOSUPPORT", 94},
		{"EOPNOTSUPP", 95}, {"ENOTSUP", 95}, {"EPFNOSUPPORT", 96}, {"EAFNOSUPPORT", 97},
		{"EADDRINUSE", 98}, {"EADDRNOTAVAIL", 99}, {"ENETDOWN", 100}, {"ENETUNREACH", 101},
		{"ENETRESET", 102}, {"ECONNABORTED", 103}, {"ECONNRESET", 104}, {"ENOBUFS", 105},
		{"EISCONN", 106}, {"ENOTCONN", 107}, {"ESHUTDOWN", 108}, {"ETOOMANYREFS", 109},
		{"ETIMEDOUT", 110}, {"ECONNREFUSED", 111}, {"EHOSTDOWN", 112}, {"EHOSTUNREACH", 113},
		{"EALREADY", 114}, {"EINPROGRESS", 115}, {"ESTALE", 116}, {"EDQUOT", 122},
		{"ECANCELED", 125}, {"ENOKEY", 126}, {"EKEYEXPIRED", 127}, {"EKEYREVOKED", 128},
		{"EKEYREJECTED", 129}, {"EOWNERDEAD", 130}, {"ENOTRECOVERABLE", 131}, {"ERFKILL", 132},
		{"EHWPOISON", 133},
	}},
	{Name: "O_*", Doc: "open(2) flags on x86_64, as in args->flags of sys_enter_openat.", Consts: []Const{
		{"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2}, {"O_ACCMODE", 3},
		{"O_CREAT", 0o100}, {"O_EXCL", 0o200}, {"O_NOCTTY", 0o400}, {"O_TRUNC", 0o1000},
		{"O_APPEND", 0o2000}, {"O_NONBLOCK", 0o4000}, {"O_NDELAY", 0o4000}, {"O_DSYNC", 0o10000},
		{"O_ASYNC", 0o20000}, {"FASYNC", 0o20000}, {"O_DIRECT", 0o40000}, {"O_LARGEFILE", 0o100000},
		{"O_DIRECTORY", 0o200000}, {"O_NOFOLLOW", 0o400000}, {"O_NOATIME", 0o1000000},
		{"O_CLOEXEC", 0o2000000}, {"O_SYNC", 0o4010000}, {"O_PATH", 0o10000000},
		{"O_TMPFILE", 0o20200000},
	}},
	{Name: "AT_*", Doc: "*at(2) directory and flag values.", Consts: []Const{
		{"AT_FDCWD", -100}, {"AT_SYMLINK_NOFOLLOW", 0x100}, {"AT_REMOVEDIR", 0x200},
		{"AT_SYMLINK_FOLLOW", 0x400}, {"AT_EMPTY_PATH", 0x1000},
	}},
	{Name: "TASK_*", Doc: "Task states (include/linux/sched.h), as in task->__state and sched_switch's prev_state.", Consts: []Const{
		{"TASK_RUNNING", 0}, {"TASK_INTERRUPTIBLE", 1}, {"TASK_UNINTERRUPTIBLE", 2},
		{"__TASK_STOPPED", 4}, {"__TASK_TRACED", 8}, {"EXIT_DEAD", 16}, {"EXIT_ZOMBIE", 32},
		{"TASK_PARKED", 64}, {"TASK_DEAD", 128}, {"TASK_WAKEKILL", 256}, {"TASK_WAKING", 512},
		{"TASK_NOLOAD", 1024}, {"TASK_NEW", 2048},
	}},
	{Name: "CLOCK_*", Doc: "clock_gettime(2) clock ids.", Consts: []Const{
		{"CLOCK_REALTIME", 0}, {"CLOCK_MONOTONIC", 1}, {"CLOCK_PROCESS_CPUTIME_ID", 2},
		{"CLOCK_THREAD_CPUTIME_ID", 3}, {"CLOCK_MONOTONIC_RAW", 4}, {"CLOCK_REALTIME_COARSE", 5},
		{"CLOCK_MONOTONIC_COARSE", 6}, {"CLOCK_BOOTTIME", 7}, {"CLOCK_TAI", 11},
	}},
	{Name: "PROT_*, MAP_*", Doc: "mmap(2) protections and flags.", Consts: []Const{
		{"PROT_NONE", 0}, {"PROT_READ", 1}, {"PROT_WRITE", 2}, {"PROT_EXEC", 4},
		{"MAP_SHARED", 1}, {"MAP_PRIVATE", 2}, {"MAP_FIXED", 0x10}, {"MAP_ANONYMOUS", 0x20},
		{"MAP_GROWSDOWN", 0x100}, {"MAP_LOCKED", 0x2000}, {"MAP_NORESERVE", 0x4000},
		{"MAP_POPULATE", 0x8000}, {"MAP_HUGETLB", 0x40000},
	}},
}

var constTable = func() map[string]int64 {
	m := make(map[string]int64)
	for _, g := range constGroups {
		for _, c := range g.Consts {
			m[c.Name] = c.Value
		}
	}
	return m
}()

// ConstGroups returns the table of well-known constants, grouped.
func ConstGroups() []ConstGroup { return constGroups }

// LookupConst returns the value of a well-known constant.
func LookupConst(name string) (int64, bool) {
	v, ok := constTable[name]
	return v, ok
}

// constNames returns every constant name, sorted, for suggestions.
func constNames() []string {
	names := make([]string, 0, len(constTable))
	for n := range constTable {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// signalNumber resolves a signal name as signal() accepts it: any case,
// with or without the SIG prefix ("SIGKILL", "kill"). It only knows the
// names bpftrace 0.17 accepts there. It returns -1 for an unknown name.
func signalNumber(name string) int64 {
	if name == "" {
		return -1
	}
	s := strings.ToUpper(name)
	if s[0] != 'S' {
		s = "SIG" + s
	}
	switch s {
	case "SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCONT", "SIGFPE", "SIGHUP",
		"SIGILL", "SIGINT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGQUIT", "SIGSEGV",
		"SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU",
		"SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ":
		return constTable[s]
	}
	return -1
}
