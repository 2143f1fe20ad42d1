package runtime

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// resolver is the session's codegen.Resolver: it turns the numbers that
// ksym, usym, kstack, ustack, username, cgroup_path, strerror and strftime
// values carry into what bpftrace prints for them. Everything it reads
// (kallsyms, ELF symbol tables, /etc/passwd, the cgroup trees) is read on
// first use and cached, so a program that never prints a symbol never pays
// for the symbol table.
type resolver struct {
	// stackMap returns the session's stack map of a frame limit.
	stackMap func(name string) *ebpf.Map

	ksymsOnce sync.Once
	ksyms     *KernelSymbols
	usyms     *UserSymbols

	mu      sync.Mutex
	users   map[uint32]string
	cgroups map[string]string // "id\x00filter" → CgroupPath's text

	// wallOffset is CLOCK_REALTIME - CLOCK_MONOTONIC in ns, taken once:
	// nsecs is bpf_ktime_get_ns (monotonic).
	wallOffset int64
}

func newResolver(stackMap func(string) *ebpf.Map) *resolver {
	r := &resolver{stackMap: stackMap, usyms: NewUserSymbols(), cgroups: make(map[string]string)}
	var mono unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	r.wallOffset = time.Now().UnixNano() - mono.Nano()
	return r
}

func (r *resolver) kernelSymbols() *KernelSymbols {
	r.ksymsOnce.Do(func() {
		ks, err := LoadKernelSymbols()
		if err == nil {
			r.ksyms = ks
		}
	})
	return r.ksyms
}

// KSym is ksym(addr): the symbol's name, or the address in hex when no
// symbol covers it, as bpftrace prints it.
func (r *resolver) KSym(addr uint64) string {
	if ks := r.kernelSymbols(); ks != nil {
		if name, _, _, ok := ks.Lookup(addr); ok {
			return name
		}
	}
	return fmt.Sprintf("%#x", addr)
}

// USym is usym(addr) in process pid: the symbol's name, or the address in
// hex.
func (r *resolver) USym(addr uint64, pid uint32) string {
	fr := r.usyms.Frame(int(pid), addr)
	if fr.Sym != "" {
		return fr.Sym
	}
	return fmt.Sprintf("%#x", addr)
}

// Stack reads stack id from the stack map of t's frame limit and
// symbolises its frames, innermost first.
func (r *resolver) Stack(t *lang.Type, id int64, pid uint32) []value.Frame {
	if t == nil || r.stackMap == nil {
		return nil
	}
	m := r.stackMap(codegen.StackMapName(t.Stack.Limit))
	if m == nil {
		return nil
	}
	raw := make([]byte, m.ValueSize())
	if err := m.Lookup(uint32(id), raw); err != nil {
		return nil
	}
	limit := t.Stack.Limit
	if limit <= 0 || limit > len(raw)/8 {
		limit = len(raw) / 8
	}
	addrs := make([]uint64, 0, limit)
	for i := 0; i < limit; i++ {
		a := binary.LittleEndian.Uint64(raw[8*i:])
		if a == 0 {
			break
		}
		addrs = append(addrs, a)
	}
	if t.Stack.User {
		return r.usyms.Frames(int(pid), addrs)
	}
	if ks := r.kernelSymbols(); ks != nil {
		return ks.Frames(addrs)
	}
	frames := make([]value.Frame, len(addrs))
	for i, a := range addrs {
		frames[i] = value.Frame{Addr: a}
	}
	return frames
}

// Username is the name /etc/passwd gives uid, "" when it has none (as in
// bpftrace).
func (r *resolver) Username(uid uint32) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.users == nil {
		r.users = readPasswd("/etc/passwd")
	}
	return r.users[uid]
}

// readPasswd maps every uid of a passwd file to its first user name.
func readPasswd(path string) map[uint32]string {
	users := make(map[uint32]string)
	f, err := os.Open(path)
	if err != nil {
		return users
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		uid, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if _, ok := users[uint32(uid)]; !ok {
			users[uint32(uid)] = fields[0]
		}
	}
	return users
}

// CgroupPath is cgroup_path(id[, filter]): for every mounted cgroup
// hierarchy whose name matches filter (all when it is empty), the path of
// the cgroup with that id in it, as "name:/path" pairs joined by commas.
// The unified (v2) hierarchy is called "unified", a v1 hierarchy by its
// mount point's name, as bpftrace names them (cgroupHierarchies).
func (r *resolver) CgroupPath(id uint64, filter string) string {
	key := fmt.Sprintf("%d\x00%s", id, filter)
	r.mu.Lock()
	s, ok := r.cgroups[key]
	r.mu.Unlock()
	if ok {
		return s
	}
	var parts []string
	for _, h := range cgroupHierarchies() {
		if filter != "" && !globMatch(filter, h.name) {
			continue
		}
		if p := findCgroup(h.root, id); p != "" {
			parts = append(parts, h.name+":"+p)
		}
	}
	s = strings.Join(parts, ",")
	r.mu.Lock()
	r.cgroups[key] = s
	r.mu.Unlock()
	return s
}

// cgroupHierarchy is one mounted cgroup tree.
type cgroupHierarchy struct {
	name, root string
}

// cgroupHierarchies lists the cgroup mounts of /proc/self/mountinfo, one
// per hierarchy, named as bpftrace 0.17 names them: "unified" for the v2
// hierarchy, a v1 hierarchy by its mount point's last component
// ("/sys/fs/cgroup/systemd" is "systemd"); unified first, then by name.
func cgroupHierarchies() []cgroupHierarchy {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []cgroupHierarchy
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 1 {
			continue
		}
		var name string
		switch qf[0] {
		case "cgroup2":
			name = "unified"
		case "cgroup":
			name = filepath.Base(pf[4])
		default:
			continue
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, cgroupHierarchy{name: name, root: pf[4]})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].name == "unified") != (out[j].name == "unified") {
			return out[i].name == "unified"
		}
		return out[i].name < out[j].name
	})
	return out
}

// findCgroup returns the path below root ("/" for root itself) of the
// directory whose inode number is id, or "".
func findCgroup(root string, id uint64) string {
	found := ""
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Ino == id {
			rel, _ := filepath.Rel(root, p)
			found = "/" + strings.TrimPrefix(rel, ".")
			if rel == "." {
				found = "/"
			}
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// Strerror is strerror(errno) as glibc words it.
func (r *resolver) Strerror(errno int) string {
	return Strerror(errno)
}

// WallClock turns a bpf_ktime_get_ns timestamp into ns since the epoch.
func (r *resolver) WallClock(ns uint64) uint64 {
	return uint64(int64(ns) + r.wallOffset)
}
