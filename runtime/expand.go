package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tracebook/tracebook/lang"
)

// Expand returns the concrete attach points ap stands for, sorted. Without
// a wildcard it checks that the target exists and returns ap alone (a
// copy). Errors match lang.ErrNotFound and read as bpftrace's.
func (s *SystemTypes) Expand(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	switch ap.Provider {
	case "BEGIN", "END", "profile", "interval":
		return []*lang.AttachPoint{concrete(ap)}, nil
	case "watchpoint", "asyncwatchpoint":
		return s.expandWatchpoint(ap)
	case "tracepoint":
		return s.expandTracepoint(ap)
	case "kprobe", "kretprobe":
		return s.expandKprobe(ap)
	case "kfunc", "kretfunc":
		return s.expandKfunc(ap)
	case "rawtracepoint":
		return s.expandRawTracepoint(ap)
	case "uprobe", "uretprobe":
		return s.expandUprobe(ap)
	case "usdt":
		return s.expandUSDT(ap)
	case "software", "hardware":
		return expandPerfEvent(ap)
	case "iter":
		return s.expandIter(ap)
	}
	return nil, notFound("unknown probe type %s", ap.Provider)
}

// concrete copies ap as a concrete attach point.
func concrete(ap *lang.AttachPoint) *lang.AttachPoint {
	c := *ap
	c.Wildcard = false
	c.Matches = nil
	return &c
}

func (s *SystemTypes) expandTracepoint(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	if !hasWildcard(ap.Target) && !hasWildcard(ap.Func) {
		dir, err := eventDir(ap.Target, ap.Func)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "format")); err != nil {
			if ap.Target == "syscall" {
				return nil, notFound("tracepoint not found: %s:%s (did you mean syscalls:%s?)", ap.Target, ap.Func, ap.Func)
			}
			return nil, notFound("tracepoint not found: %s:%s", ap.Target, ap.Func)
		}
		return []*lang.AttachPoint{concrete(ap)}, nil
	}
	names, err := TracepointNames()
	if err != nil {
		return nil, err
	}
	pattern := ap.Target + ":" + ap.Func
	var out []*lang.AttachPoint
	for _, n := range names {
		if globMatch(pattern, n.Category+":"+n.Name) {
			c := concrete(ap)
			c.Target, c.Func = n.Category, n.Name
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, notFound("tracepoints not found: %s", pattern)
	}
	return out, nil
}

// kernelFuncs caches KernelFunctions' list from available_filter_functions
// until ReloadKernelSymbols.
var kernelFuncs struct {
	sync.Mutex
	funcs []KernelFunc
}

// KernelFunctions lists the kernel functions kprobes can name:
// available_filter_functions when it is readable (it lists exactly the
// traceable ones), else the text symbols of /proc/kallsyms; sorted by
// module (vmlinux first) and name. The list is read once (until
// ReloadKernelSymbols) and shared: callers must not modify it.
func KernelFunctions() ([]KernelFunc, error) {
	kernelFuncs.Lock()
	defer kernelFuncs.Unlock()
	if kernelFuncs.funcs != nil {
		return kernelFuncs.funcs, nil
	}
	if dir, err := TracefsDir(); err == nil {
		if f, err := os.Open(filepath.Join(dir, "available_filter_functions")); err == nil {
			defer f.Close()
			var out []KernelFunc
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				name, mod, _ := strings.Cut(sc.Text(), " ")
				mod = strings.Trim(strings.TrimSpace(mod), "[]")
				if name == "" || strings.Contains(name, ".part.") || strings.HasPrefix(name, "__pfx_") {
					continue
				}
				out = append(out, KernelFunc{name, mod})
			}
			if sc.Err() == nil && len(out) > 0 {
				kernelFuncs.funcs = probeableFuncs(out)
				return kernelFuncs.funcs, nil
			}
		}
	}
	ks, err := LoadKernelSymbols()
	if err != nil {
		return nil, err
	}
	return ks.Functions(), nil
}

func (s *SystemTypes) expandKprobe(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	funcs, err := KernelFunctions()
	if err != nil {
		if !ap.Wildcard && !hasWildcard(ap.Func) {
			// Nothing to check against: let the attach decide.
			return []*lang.AttachPoint{concrete(ap)}, nil
		}
		return nil, err
	}
	wild := hasWildcard(ap.Func) || hasWildcard(ap.Target)
	var out []*lang.AttachPoint
	seen := map[string]bool{}
	for _, f := range funcs {
		if ap.Target != "" && !globMatch(ap.Target, f.Module) && !(ap.Target == "vmlinux" && f.Module == "") {
			continue
		}
		if wild {
			if !globMatch(ap.Func, f.Name) {
				continue
			}
		} else if f.Name != ap.Func {
			continue
		}
		key := f.Module + ":" + f.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		c := concrete(ap)
		c.Func = f.Name
		if ap.Target != "" {
			c.Target = f.Module
			if c.Target == "" {
				c.Target = "vmlinux"
			}
		}
		out = append(out, c)
		if !wild {
			break
		}
	}
	if len(out) == 0 {
		if wild {
			return nil, notFound("no kernel functions match %s", ap.Func)
		}
		return nil, notFound("kernel function not found: %s", ap.Func)
	}
	return out, nil
}

func (s *SystemTypes) expandKfunc(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	if err := s.needBTF(); err != nil {
		return nil, err
	}
	if !hasWildcard(ap.Func) && !hasWildcard(ap.Target) {
		_, mod, err := s.findKernelFunc(ap.Target, ap.Func)
		if err != nil {
			return nil, err
		}
		c := concrete(ap)
		if ap.Target != "" {
			c.Target = mod
		}
		return []*lang.AttachPoint{c}, nil
	}
	var out []*lang.AttachPoint
	for _, mod := range BTFModules() {
		if ap.Target != "" && !globMatch(ap.Target, mod) {
			continue
		}
		ix, err := s.btfIndex(mod)
		if err != nil {
			continue
		}
		for _, fn := range matchAll(ap.Func, ix.funcs) {
			c := concrete(ap)
			c.Func = fn
			c.Target = mod
			if mod == "vmlinux" && ap.Target == "" {
				c.Target = ""
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, notFound("no kernel functions in BTF match %s", ap.Name())
	}
	return out, nil
}

// rawTracepointNames lists raw tracepoint names: the btf_trace_* typedefs
// of every BTF object, or the tracefs event names without BTF.
func (s *SystemTypes) rawTracepointNames(module string) (map[string][]string, error) {
	out := map[string][]string{}
	if s.haveBTF {
		for _, mod := range BTFModules() {
			if module != "" && !globMatch(module, mod) {
				continue
			}
			ix, err := s.btfIndex(mod)
			if err != nil {
				continue
			}
			out[mod] = ix.rawTPs
		}
		return out, nil
	}
	names, err := TracepointNames()
	if err != nil {
		return nil, err
	}
	var list []string
	for _, n := range names {
		list = append(list, n.Name)
	}
	out["vmlinux"] = sortedUnique(list)
	return out, nil
}

func (s *SystemTypes) expandRawTracepoint(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	all, err := s.rawTracepointNames(ap.Target)
	if err != nil {
		return nil, err
	}
	wild := hasWildcard(ap.Func) || hasWildcard(ap.Target)
	var out []*lang.AttachPoint
	for _, mod := range BTFModules() {
		for _, name := range all[mod] {
			if (wild && globMatch(ap.Func, name)) || (!wild && name == ap.Func) {
				c := concrete(ap)
				c.Func = name
				if ap.Target != "" {
					c.Target = mod
				}
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		if wild {
			return nil, notFound("rawtracepoints not found: %s", ap.Func)
		}
		return nil, notFound("rawtracepoint not found: %s", ap.Func)
	}
	if !wild {
		out = out[:1]
	}
	return out, nil
}

func (s *SystemTypes) expandUprobe(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	paths, err := ResolveTarget(ap.Target, s.PID)
	if err != nil {
		return nil, err
	}
	var out []*lang.AttachPoint
	for _, path := range paths {
		if ap.Func == "" {
			// uprobe:path:0xADDR
			c := concrete(ap)
			c.Target = path
			out = append(out, c)
			continue
		}
		ef, err := s.elfs.Get(path)
		if err != nil {
			if len(paths) == 1 {
				return nil, err
			}
			continue
		}
		if !hasWildcard(ap.Func) {
			sym, ok := ef.Symbol(ap.Func)
			if !ok || !sym.Func {
				if len(paths) == 1 {
					return nil, notFound("Could not resolve symbol: %s:%s", path, ap.Func)
				}
				continue
			}
			c := concrete(ap)
			c.Target = path
			out = append(out, c)
			continue
		}
		for _, name := range matchAll(ap.Func, ef.FuncNames()) {
			c := concrete(ap)
			c.Target, c.Func = path, name
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, notFound("no probes match %s:%s:%s", ap.Provider, ap.Target, ap.Func)
	}
	return out, nil
}

// expandWatchpoint resolves watchpoint:func+argN against the binary it
// watches: the -c command's, or /proc/PID/exe with -p (bpftrace 0.17's
// choice; without either the checker reports that one is needed). Each
// match names the binary in Target.
func (s *SystemTypes) expandWatchpoint(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	if ap.Func == "" {
		return []*lang.AttachPoint{concrete(ap)}, nil
	}
	path := s.Command
	if path == "" && s.PID > 0 {
		path = fmt.Sprintf("/proc/%d/exe", s.PID)
	}
	if path == "" {
		return []*lang.AttachPoint{concrete(ap)}, nil
	}
	ef, err := s.elfs.Get(path)
	if err != nil {
		return nil, err
	}
	var names []string
	if hasWildcard(ap.Func) {
		names = matchAll(ap.Func, ef.FuncNames())
	} else if sym, ok := ef.Symbol(ap.Func); ok && sym.Func {
		names = []string{ap.Func}
	}
	if len(names) == 0 {
		return nil, notFound("Could not resolve symbol: %s:%s", path, ap.Func)
	}
	out := make([]*lang.AttachPoint, 0, len(names))
	for _, name := range names {
		c := concrete(ap)
		c.Target, c.Func = path, name
		out = append(out, c)
	}
	return out, nil
}

// usdtFiles returns the files whose USDT probes an attach point can name.
func (s *SystemTypes) usdtFiles(target string) ([]string, error) {
	if target == "" && s.PID > 0 {
		maps, err := ReadProcMaps(s.PID)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, m := range maps {
			if m.Path != "" && !strings.HasPrefix(m.Path, "[") && strings.Contains(m.Perms, "x") {
				out = append(out, pidPath(s.PID, m.Path))
			}
		}
		return sortedUnique(out), nil
	}
	return ResolveTarget(target, s.PID)
}

func (s *SystemTypes) expandUSDT(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	paths, err := s.usdtFiles(ap.Target)
	if err != nil {
		return nil, err
	}
	ns := ap.NS
	if ns == "" {
		ns = "*"
	}
	var out []*lang.AttachPoint
	for _, path := range paths {
		ef, err := s.elfs.Get(path)
		if err != nil {
			continue
		}
		for _, p := range ef.USDT {
			if globMatch(ns, p.Provider) && globMatch(ap.Func, p.Name) {
				c := concrete(ap)
				c.Target, c.NS, c.Func = path, p.Provider, p.Name
				out = append(out, c)
			}
		}
	}
	sortAttachPoints(out)
	if len(out) == 0 {
		return nil, notFound("usdt probe not found: %s", strings.TrimPrefix(ap.Name(), "usdt:"))
	}
	return out, nil
}

func sortAttachPoints(aps []*lang.AttachPoint) {
	// Insertion sort keeps this dependency-free and stable; lists are small.
	for i := 1; i < len(aps); i++ {
		for j := i; j > 0 && aps[j].Name() < aps[j-1].Name(); j-- {
			aps[j], aps[j-1] = aps[j-1], aps[j]
		}
	}
}

func expandPerfEvent(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	if !hasWildcard(ap.Func) {
		if _, ok := LookupPerfEvent(ap.Provider, ap.Func); !ok {
			return nil, notFound("%s is not a %s probe", ap.Func, ap.Provider)
		}
		return []*lang.AttachPoint{concrete(ap)}, nil
	}
	var out []*lang.AttachPoint
	for _, name := range matchAll(ap.Func, perfEventNames(ap.Provider, false)) {
		c := concrete(ap)
		c.Func = name
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, notFound("no %s probes match %s", ap.Provider, ap.Func)
	}
	return out, nil
}

// IterNames lists the BPF iterators the kernel has (task, task_file, ...),
// from the bpf_iter__<name> context structs in BTF.
func (s *SystemTypes) IterNames() ([]string, error) {
	if err := s.needBTF(); err != nil {
		return nil, err
	}
	var out []string
	for _, mod := range BTFModules() {
		ix, err := s.btfIndex(mod)
		if err != nil {
			continue
		}
		out = append(out, ix.iters...)
	}
	return sortedUnique(out), nil
}

func (s *SystemTypes) expandIter(ap *lang.AttachPoint) ([]*lang.AttachPoint, error) {
	names, err := s.IterNames()
	if err != nil && !errors.Is(err, lang.ErrNotFound) {
		return nil, notFound("iter %s not available for your kernel version.", ap.Func)
	}
	var out []*lang.AttachPoint
	for _, n := range names {
		if (hasWildcard(ap.Func) && globMatch(ap.Func, n)) || n == ap.Func {
			c := concrete(ap)
			c.Func = n
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, notFound("iter %s not available for your kernel version.", ap.Func)
	}
	return out, nil
}
