package runtime

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
)

// Listing: `tracebook -l [PATTERN]` and `-lv`, printed as bpftrace 0.17
// prints them, with three deliberate differences where 0.17 is broken:
// software/hardware patterns list each event ("software:cpu-clock:", and
// the aliases, as bpftrace ≥ 0.18 does) instead of echoing the pattern;
// iter lists every iterator the kernel's BTF has rather than a fixed
// task/task_file; and a pattern without a provider ("*sched_switch*",
// "sched:sched_sw*") is matched against every probe's full name instead of
// crashing. Providers this kernel cannot attach (kprobes, kfuncs without
// their features) are left out of the full listing, and asking for them
// explicitly is an error saying why.

// listingProviders maps the provider names and aliases -l accepts to the
// canonical provider.
var listingProviders = map[string]string{
	"tracepoint": "tracepoint", "t": "tracepoint",
	"kprobe": "kprobe", "k": "kprobe", "kretprobe": "kretprobe", "kr": "kretprobe",
	"kfunc": "kfunc", "f": "kfunc", "fentry": "kfunc",
	"kretfunc": "kretfunc", "fr": "kretfunc", "fexit": "kretfunc",
	"rawtracepoint": "rawtracepoint", "rt": "rawtracepoint",
	"uprobe": "uprobe", "u": "uprobe", "uretprobe": "uretprobe", "ur": "uretprobe",
	"usdt": "usdt", "U": "usdt",
	"software": "software", "s": "software",
	"hardware": "hardware", "h": "hardware",
	"iter": "iter", "it": "iter",
}

// listedProbe is one line of a listing with its -lv parameter lines.
type listedProbe struct {
	name   string
	params []string
}

// ListProbes writes the probes matching pattern ("" for all) to w, one per
// line, sorted, and with verbose (-lv) each probe's arguments below it,
// indented by four spaces.
//
// As in bpftrace 0.17, a provider given as a wildcard ("*:...") stands for
// the kernel's providers, or for the user-space ones (uprobe, usdt) when
// the rest names a file ("*:./prog:*") or with -p (SystemTypes.PID): then
// "-l" alone lists the process's uprobes and USDT probes, its files named
// /proc/PID/root/... .
func ListProbes(w io.Writer, s *SystemTypes, pattern string, verbose bool) error {
	var probes []listedProbe
	var err error
	if pattern == "" {
		pattern = "*:*"
	}
	prov, rest, hasProv := strings.Cut(pattern, ":")
	canon, known := listingProviders[prov]
	switch {
	case hasProv && hasWildcard(prov) && (s.PID > 0 || strings.Contains(rest, "/")):
		for _, p := range []string{"uprobe", "usdt"} {
			if !globMatch(prov, p) {
				continue
			}
			ps, err := s.listProvider(p, rest, verbose)
			if err != nil && !errors.Is(err, lang.ErrNotFound) {
				return err
			}
			probes = append(probes, ps...)
		}
	case pattern == "*:*":
		probes, err = s.listAll(verbose, nil)
	case hasProv && known:
		probes, err = s.listProvider(canon, rest, verbose)
	default:
		probes, err = s.listAll(verbose, func(name string) bool {
			return globMatch(pattern, name) || globMatch("*:"+pattern, name)
		})
	}
	if err != nil {
		return err
	}
	sort.SliceStable(probes, func(i, j int) bool { return probes[i].name < probes[j].name })
	var b strings.Builder
	for i, p := range probes {
		if i > 0 && p.name == probes[i-1].name {
			continue
		}
		b.WriteString(p.name)
		b.WriteByte('\n')
		if verbose {
			for _, param := range p.params {
				b.WriteString("    ")
				b.WriteString(param)
				b.WriteByte('\n')
			}
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// listAll lists every kernel-side probe the kernel can attach, keeping
// those keep accepts (all when keep is nil): bpftrace 0.17's providers
// (raw tracepoints, which 0.17 does not have, only when asked for by name).
func (s *SystemTypes) listAll(verbose bool, keep func(string) bool) ([]listedProbe, error) {
	var out []listedProbe
	for _, prov := range []string{"tracepoint", "kprobe", "kfunc", "software", "hardware", "iter"} {
		if ProviderError(prov) != nil && prov != "software" && prov != "hardware" {
			continue
		}
		ps, err := s.listProvider(prov, "*", verbose)
		if err != nil {
			if errors.Is(err, lang.ErrNotFound) {
				continue
			}
			return nil, err
		}
		for _, p := range ps {
			if keep == nil || keep(p.name) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// listProvider lists one provider's probes matching rest, the pattern after
// "provider:".
func (s *SystemTypes) listProvider(prov, rest string, verbose bool) ([]listedProbe, error) {
	if rest == "" {
		rest = "*"
	}
	switch prov {
	case "tracepoint":
		return s.listTracepoints(rest, verbose)
	case "software", "hardware":
		ev, _, _ := strings.Cut(rest, ":")
		var out []listedProbe
		for _, n := range perfEventNames(prov, true) {
			if globMatch(ev, n) {
				out = append(out, listedProbe{name: prov + ":" + n + ":"})
			}
		}
		return out, nil
	case "kprobe", "kretprobe":
		if err := ProviderError(prov); err != nil {
			return nil, err
		}
		funcs, err := KernelFunctions()
		if err != nil {
			return nil, err
		}
		mod, fn, hasMod := strings.Cut(rest, ":")
		if !hasMod {
			mod, fn = "*", rest
		}
		var out []listedProbe
		for _, f := range funcs {
			m := f.Module
			if m == "" {
				m = "vmlinux"
			}
			if globMatch(mod, m) && globMatch(fn, f.Name) {
				out = append(out, listedProbe{name: prov + ":" + f.Name})
			}
		}
		return out, nil
	case "kfunc", "kretfunc":
		if err := ProviderError(prov); err != nil {
			return nil, err
		}
		return s.listKfuncs(prov, rest, verbose)
	case "rawtracepoint":
		return s.listRawTracepoints(rest, verbose)
	case "iter":
		return s.listIters(rest, verbose)
	case "uprobe", "uretprobe":
		return s.listUprobes(prov, rest)
	case "usdt":
		return s.listUSDT(rest)
	}
	return nil, fmt.Errorf("listing %s probes is not supported", prov)
}

func (s *SystemTypes) listTracepoints(rest string, verbose bool) ([]listedProbe, error) {
	names, err := TracepointNames()
	if err != nil {
		return nil, err
	}
	cat, ev, ok := strings.Cut(rest, ":")
	if !ok {
		cat, ev = rest, "*"
	}
	var out []listedProbe
	for _, n := range names {
		if !globMatch(cat, n.Category) || !globMatch(ev, n.Name) {
			continue
		}
		p := listedProbe{name: "tracepoint:" + n.Category + ":" + n.Name}
		if verbose {
			if tf, err := ReadTracepointFormat(n.Category, n.Name); err == nil {
				for _, f := range tf.Fields {
					if !f.Common {
						p.params = append(p.params, f.Decl)
					}
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// funcParams spells a BTF prototype's parameters as -lv shows them.
func funcParams(fp *btf.FuncProto, skipFirst bool, withRet bool) []string {
	var out []string
	params := fp.Params
	if skipFirst && len(params) > 0 {
		params = params[1:]
	}
	for i, p := range params {
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i)
		}
		out = append(out, btfTypeDecl(p.Type, name))
	}
	if withRet {
		if _, void := fp.Return.(*btf.Void); !void && fp.Return != nil {
			out = append(out, btfTypeDecl(fp.Return, "retval"))
		}
	}
	return out
}

func (s *SystemTypes) listKfuncs(prov, rest string, verbose bool) ([]listedProbe, error) {
	if err := s.needBTF(); err != nil {
		return nil, err
	}
	mod, fn, hasMod := strings.Cut(rest, ":")
	if !hasMod {
		mod, fn = "*", rest
	}
	var out []listedProbe
	for _, m := range BTFModules() {
		if !globMatch(mod, m) {
			continue
		}
		ix, err := s.btfIndex(m)
		if err != nil {
			continue
		}
		spec, _ := ModuleBTF(m)
		for _, name := range ix.funcs {
			if !globMatch(fn, name) {
				continue
			}
			p := listedProbe{name: prov + ":" + m + ":" + name}
			if verbose && spec != nil {
				if f, err := findFunc(spec, name); err == nil {
					if fp, err := funcProto(f); err == nil {
						p.params = funcParams(fp, false, true)
					}
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *SystemTypes) listRawTracepoints(rest string, verbose bool) ([]listedProbe, error) {
	mod, fn, hasMod := strings.Cut(rest, ":")
	if !hasMod {
		mod, fn = "", rest
	}
	all, err := s.rawTracepointNames(mod)
	if err != nil {
		return nil, err
	}
	var out []listedProbe
	for m, names := range all {
		for _, name := range names {
			if !globMatch(fn, name) {
				continue
			}
			p := listedProbe{name: "rawtracepoint:" + name}
			if m != "vmlinux" {
				p.name = "rawtracepoint:" + m + ":" + name
			}
			if verbose {
				if rec, err := s.RawTracepointArgs(m, name); err == nil {
					proto, _, _ := rawTracepointProto(m, name)
					if proto != nil {
						p.params = rawTPParams(rec, proto)
					}
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// rawTPParams spells raw tracepoint arguments with the names the record
// got (from __probestub_* or __traceiter_*) and the typedef's types.
func rawTPParams(rec *lang.Type, proto *btf.FuncProto) []string {
	var out []string
	params := proto.Params
	if len(params) > 0 {
		params = params[1:]
	}
	for i, p := range params {
		name := fmt.Sprintf("arg%d", i)
		if i < len(rec.Fields) {
			name = rec.Fields[i].Name
		}
		out = append(out, btfTypeDecl(p.Type, name))
	}
	return out
}

func (s *SystemTypes) listIters(rest string, verbose bool) ([]listedProbe, error) {
	names, err := s.IterNames()
	if err != nil {
		return nil, err
	}
	spec, _ := KernelBTF()
	var out []listedProbe
	for _, n := range names {
		if !globMatch(rest, n) || !attachableIters[n] {
			continue
		}
		p := listedProbe{name: "iter:" + n}
		if verbose && spec != nil {
			var st *btf.Struct
			if err := spec.TypeByName("bpf_iter__"+n, &st); err == nil {
				for _, m := range flattenMembers(st.Members) {
					if m.Name == "meta" {
						continue
					}
					p.params = append(p.params, btfTypeDecl(m.Type, m.Name))
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// attachableIters are the iterators a program may name (the checker's
// list, bpftrace 0.17's): the only ones worth listing.
var attachableIters = map[string]bool{"task": true, "task_file": true}

func (s *SystemTypes) listUprobes(prov, rest string) ([]listedProbe, error) {
	target, fn, ok := cutLast(rest)
	if !ok {
		target, fn = rest, "*"
		if s.PID > 0 {
			// "uprobe:FUNC" with -p: the process's executable.
			target, fn = "", rest
		}
	}
	paths, err := ResolveTarget(target, s.PID)
	if err != nil {
		return nil, err
	}
	var out []listedProbe
	for _, path := range paths {
		ef, err := s.elfs.Get(path)
		if err != nil {
			continue
		}
		name := path
		if target == "" {
			name = s.listedPath(path)
		}
		for _, f := range matchAll(fn, ef.FuncNames()) {
			out = append(out, listedProbe{name: prov + ":" + name + ":" + f})
		}
	}
	return out, nil
}

// listedPath is how a listing with -p names a file of the process, as
// bpftrace 0.17 does: under /proc/PID/root, in the process's mount
// namespace.
func (s *SystemTypes) listedPath(path string) string {
	if s.PID <= 0 || strings.HasPrefix(path, "/proc/") || !strings.HasPrefix(path, "/") {
		return path
	}
	return fmt.Sprintf("/proc/%d/root%s", s.PID, path)
}

// cutLast splits "path:func" at its last colon (paths have none, but the
// pattern may be just a path).
func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func (s *SystemTypes) listUSDT(rest string) ([]listedProbe, error) {
	parts := strings.Split(rest, ":")
	target, ns, name := parts[0], "*", "*"
	switch len(parts) {
	case 1:
		if s.PID > 0 {
			// "usdt:NAME" with -p: every file of the process.
			target, name = "", parts[0]
		}
	case 2:
		name = parts[1]
	case 3:
		ns, name = parts[1], parts[2]
	}
	if s.PID > 0 && target != "" && hasWildcard(target) {
		// With -p, a wildcard file matches among the process's files
		// ("usdt:*:provider:probe").
		all, err := s.usdtFiles("")
		if err != nil {
			return nil, err
		}
		var out []listedProbe
		for _, path := range all {
			if globMatch(target, path) || globMatch("*"+target, path) {
				out = append(out, s.usdtListing(path, ns, name, true)...)
			}
		}
		return out, nil
	}
	paths, err := s.usdtFiles(target)
	if err != nil {
		return nil, err
	}
	var out []listedProbe
	for _, path := range paths {
		out = append(out, s.usdtListing(path, ns, name, target == "")...)
	}
	return out, nil
}

// usdtListing lists the probes of one file matching ns:name; fromPID names
// the file as a file of the -p process.
func (s *SystemTypes) usdtListing(path, ns, name string, fromPID bool) []listedProbe {
	ef, err := s.elfs.Get(path)
	if err != nil {
		return nil
	}
	listed := path
	if fromPID {
		listed = s.listedPath(path)
	}
	var out []listedProbe
	for _, p := range ef.USDT {
		if globMatch(ns, p.Provider) && globMatch(name, p.Name) {
			out = append(out, listedProbe{name: "usdt:" + listed + ":" + p.Provider + ":" + p.Name})
		}
	}
	return out
}

// flattenMembers replaces anonymous struct and union members by their
// members: iterator contexts wrap each pointer in an anonymous union
// (__bpf_md_ptr).
func flattenMembers(ms []btf.Member) []btf.Member {
	var out []btf.Member
	for _, m := range ms {
		if m.Name == "" {
			switch u := btf.UnderlyingType(m.Type).(type) {
			case *btf.Union:
				out = append(out, flattenMembers(u.Members)...)
				continue
			case *btf.Struct:
				out = append(out, flattenMembers(u.Members)...)
				continue
			}
		}
		out = append(out, m)
	}
	return out
}
