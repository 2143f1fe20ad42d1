package runtime_test

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/runtimetest"
	"github.com/tracebook/tracebook/runtime/value"
)

// A million-entry per-CPU map reads with batch lookups in well under a
// second, and a limit keeps the entries that sort last (the largest).
//
// In the kernel matrix's guest the map has 65536 entries: still sixteen
// batches of each kernel's batch lookup, per-CPU layout and batch delete,
// without the 20 to 50 s that filling and decoding a million entries
// takes under emulation (the time bound is the host's business).
func TestReadMapMillionEntries(t *testing.T) {
	n := 1 << 20
	if runtimetest.InGuest() {
		n = 1 << 16
	}
	s := newSession(t, &runtime.SessionOptions{MaxMapEntries: n})
	p := compile(t, s, "big", `BEGIN { @m[1] = count(); }`)
	l := p.Object.Maps["@m"]
	m, err := ebpf.NewMap(l.Spec)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 1 << 16
	keys := make([]int64, chunk)
	vals := make([]uint64, chunk*ncpu)
	for base := 0; base < n; base += chunk {
		for i := range keys {
			keys[i] = int64(base + i)
			for c := 0; c < ncpu; c++ {
				vals[i*ncpu+c] = uint64(base + i) // sums to key*ncpu
			}
		}
		if _, err := m.BatchUpdate(keys, vals, nil); err != nil {
			t.Fatalf("filling the map: %v", err)
		}
	}
	d := &codegen.Decoder{}

	start := time.Now()
	snap, err := runtime.ReadMap(l, m, d, 1000)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Truncated || snap.Total != n || len(snap.Entries) != 1000 {
		t.Fatalf("truncated %v, total %d, %d entries", snap.Truncated, snap.Total, len(snap.Entries))
	}
	for _, e := range snap.Entries {
		k := e.Key[0].(value.Int).Int64()
		if k < int64(n-1000) || e.Value.(value.Count).N != uint64(k)*uint64(ncpu) {
			t.Fatalf("kept %d = %+v, want the 1000 largest counts, reduced over CPUs", k, e.Value)
		}
	}
	t.Logf("%d entries, limit 1000: %v", n, took)

	start = time.Now()
	all, err := runtime.ReadMap(l, m, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Entries) != n || all.Truncated {
		t.Fatalf("read %d entries of %d", len(all.Entries), n)
	}
	t.Logf("%d entries, all decoded: %v", n, time.Since(start))
	if took > runtimetest.Timeout(5*time.Second) {
		t.Errorf("reading %d entries took %v", n, took)
	}

	if err := runtime.ClearMap(l, m); err != nil {
		t.Fatal(err)
	}
	if c, _ := runtime.CountEntries(l, m); c != 0 {
		t.Errorf("%d entries after ClearMap", c)
	}
}
