package runtimetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// Objects are the kernel objects a process holds through its file
// descriptors: BPF programs, maps, links and BTF objects by their kernel
// ids (from /proc/PID/fdinfo, whose prog_id/map_id/link_id/btf_id lines
// the kernel writes for BPF descriptors), and perf events
// (anon_inode:[perf_event]).
//
// Ids are what the leak tests compare: the kernel gives every object a
// fresh id (never reused while the id space lasts), so "the ids a process
// held are gone once it ended" holds however many other tracers (other
// tests, other people's bpftrace) run on the machine at the same time,
// where counting objects by name would not.
type Objects struct {
	Progs, Maps, Links, BTF map[uint32]bool
	PerfEvents              int
}

func newObjects() Objects {
	return Objects{Progs: map[uint32]bool{}, Maps: map[uint32]bool{}, Links: map[uint32]bool{}, BTF: map[uint32]bool{}}
}

// ProcessObjects reads the kernel objects process pid holds.
func ProcessObjects(pid int) (Objects, error) {
	o := newObjects()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return o, err
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		switch {
		case target == "anon_inode:[perf_event]":
			o.PerfEvents++
		case strings.HasPrefix(target, "anon_inode:bpf"), target == "anon_inode:btf":
			readFDInfo(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()), &o)
		}
	}
	return o, nil
}

// readFDInfo adds the object a BPF descriptor's fdinfo names. A link's
// fdinfo also names its program (prog_id): that program is counted with
// the link, as it lives as long as the link does.
func readFDInfo(path string, o *Objects) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var link bool
	fields := map[string]uint32{}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		if k == "link_type" {
			link = true
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
			fields[k] = uint32(n)
		}
	}
	switch {
	case link:
		if id, ok := fields["link_id"]; ok {
			o.Links[id] = true
		}
		if id, ok := fields["prog_id"]; ok {
			o.Progs[id] = true
		}
	case fields["prog_id"] != 0:
		o.Progs[fields["prog_id"]] = true
	case fields["map_id"] != 0:
		o.Maps[fields["map_id"]] = true
	case fields["btf_id"] != 0 && !kernelBTF(fields["btf_id"]):
		o.BTF[fields["btf_id"]] = true
	}
}

// kernelBTF reports whether id is the kernel's own BTF (vmlinux, a
// module's), which outlives every process.
func kernelBTF(id uint32) bool {
	h, err := btf.NewHandleFromID(btf.ID(id))
	if err != nil {
		return false
	}
	defer h.Close()
	info, err := h.Info()
	return err == nil && info.IsKernel
}

// Count is a short description of o ("12 programs, 30 maps, 5 links, 5
// perf events").
func (o Objects) Count() string {
	return fmt.Sprintf("%d programs, %d maps, %d links, %d BTF objects, %d perf events",
		len(o.Progs), len(o.Maps), len(o.Links), len(o.BTF), o.PerfEvents)
}

// Alive returns the objects of o that still exist in the kernel (held by
// anyone), asking for each id through the BPF syscall (BPF_*_GET_FD_BY_ID).
func (o Objects) Alive() Objects {
	a := newObjects()
	for id := range o.Progs {
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
			p.Close()
			a.Progs[id] = true
		} else if !errors.Is(err, os.ErrNotExist) {
			a.Progs[id] = true // cannot tell: count it
		}
	}
	for id := range o.Maps {
		if m, err := ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
			m.Close()
			a.Maps[id] = true
		} else if !errors.Is(err, os.ErrNotExist) {
			a.Maps[id] = true
		}
	}
	for id := range o.Links {
		if l, err := link.NewFromID(link.ID(id)); err == nil {
			l.Close()
			a.Links[id] = true
		} else if !errors.Is(err, os.ErrNotExist) {
			a.Links[id] = true
		}
	}
	for id := range o.BTF {
		if h, err := btf.NewHandleFromID(btf.ID(id)); err == nil {
			h.Close()
			a.BTF[id] = true
		} else if !errors.Is(err, os.ErrNotExist) {
			a.BTF[id] = true
		}
	}
	return a
}

// Empty reports whether o holds nothing.
func (o Objects) Empty() bool {
	return len(o.Progs) == 0 && len(o.Maps) == 0 && len(o.Links) == 0 && len(o.BTF) == 0 && o.PerfEvents == 0
}

// Minus returns the objects of o that are not in p (perf events: the
// difference of the counts, at least 0).
func (o Objects) Minus(p Objects) Objects {
	d := newObjects()
	for _, s := range []struct{ a, b, out map[uint32]bool }{
		{o.Progs, p.Progs, d.Progs}, {o.Maps, p.Maps, d.Maps}, {o.Links, p.Links, d.Links}, {o.BTF, p.BTF, d.BTF},
	} {
		for id := range s.a {
			if !s.b[id] {
				s.out[id] = true
			}
		}
	}
	d.PerfEvents = max(0, o.PerfEvents-p.PerfEvents)
	return d
}

// Describe lists o's objects with the kernel's names for them, for
// failure messages ("prog 1234 tracepoint__sys, map 99 AT_x").
func (o Objects) Describe() string {
	var out []string
	for _, id := range sortedIDs(o.Progs) {
		name := ""
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
			if info, err := p.Info(); err == nil {
				name = info.Name
			}
			p.Close()
		}
		out = append(out, fmt.Sprintf("prog %d %s", id, name))
	}
	for _, id := range sortedIDs(o.Maps) {
		name := ""
		if m, err := ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
			if info, err := m.Info(); err == nil {
				name = info.Name
			}
			m.Close()
		}
		out = append(out, fmt.Sprintf("map %d %s", id, name))
	}
	for _, id := range sortedIDs(o.Links) {
		out = append(out, fmt.Sprintf("link %d", id))
	}
	for _, id := range sortedIDs(o.BTF) {
		out = append(out, fmt.Sprintf("btf %d", id))
	}
	if o.PerfEvents > 0 {
		out = append(out, fmt.Sprintf("%d perf events", o.PerfEvents))
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// MapNames returns the kernel names of o's maps that still exist, by id.
func (o Objects) MapNames() map[uint32]string {
	out := map[uint32]string{}
	for id := range o.Maps {
		if m, err := ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
			if info, err := m.Info(); err == nil {
				out[id] = info.Name
			}
			m.Close()
		}
	}
	return out
}

func sortedIDs(m map[uint32]bool) []uint32 {
	var ids []uint32
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// DynamicEvents returns the lines of tracefs's uprobe_events,
// kprobe_events and dynamic_events: probes created through tracefs stay
// there, owned by no process, until someone removes them, so a tracer
// that creates them and dies leaks them. tracebook creates its probes
// through perf_event_open (the kprobe and uprobe PMUs), which the kernel
// removes with the last descriptor; the leak tests check that nothing
// appears here all the same.
func DynamicEvents() []string {
	var out []string
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		found := false
		for _, f := range []string{"uprobe_events", "kprobe_events", "dynamic_events"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				continue
			}
			found = true
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if l != "" {
					out = append(out, f+": "+l)
				}
			}
		}
		if found {
			break
		}
	}
	sort.Strings(out)
	return out
}
