package runtime

import (
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// btfIndex is what one pass over a BTF object yields for probe expansion:
// function names (kfunc targets), raw tracepoint names (the btf_trace_*
// typedefs tp_btf programs attach by), iterator names (bpf_iter__* context
// structs) and enumerators. Building it walks every type once (about
// 0.1-0.2 s for vmlinux), so it is built only when a wildcard or an enum
// needs it.
type btfIndex struct {
	funcs   []string // sorted, unique
	rawTPs  []string // names without the btf_trace_ prefix, sorted
	iters   []string // names without the bpf_iter__ prefix, sorted
	enums   map[string]int64
	funcSet map[string]bool
}

func buildBTFIndex(spec *btf.Spec) (*btfIndex, error) {
	ix := &btfIndex{enums: make(map[string]int64), funcSet: make(map[string]bool)}
	for t, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case *btf.Func:
			if !ix.funcSet[t.Name] {
				ix.funcSet[t.Name] = true
				ix.funcs = append(ix.funcs, t.Name)
			}
		case *btf.Typedef:
			if name, ok := strings.CutPrefix(t.Name, "btf_trace_"); ok {
				ix.rawTPs = append(ix.rawTPs, name)
			}
		case *btf.Struct:
			if name, ok := strings.CutPrefix(t.Name, "bpf_iter__"); ok && !strings.HasSuffix(name, "__safe_trusted") {
				ix.iters = append(ix.iters, name)
			}
		case *btf.Enum:
			for _, v := range t.Values {
				if _, dup := ix.enums[v.Name]; dup {
					continue
				}
				if t.Signed {
					ix.enums[v.Name] = int64(v.Value)
				} else if t.Size <= 4 {
					ix.enums[v.Name] = int64(uint32(v.Value))
				} else {
					ix.enums[v.Name] = int64(v.Value)
				}
			}
		}
	}
	sort.Strings(ix.funcs)
	ix.rawTPs = sortedUnique(ix.rawTPs)
	ix.iters = sortedUnique(ix.iters)
	return ix, nil
}

func sortedUnique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i > 0 && v == s[i-1] {
			continue
		}
		out = append(out, v)
	}
	return out
}
