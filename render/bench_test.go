package render

import (
	"fmt"
	"testing"

	"github.com/tracebook/tracebook/runtime/value"
)

// Targets: a 64-bucket hist to SVG under 5 ms, the top-20 bars of a
// 10k-key map under 20 ms, a flame graph of 5k distinct stacks under
// 100 ms. Run with: go test ./render -run '^$' -bench . -benchmem

func BenchmarkHistSVG64Buckets(b *testing.B) {
	h := value.Hist{Buckets: make([]uint64, HistBuckets)}
	for i := 1; i <= 64; i++ {
		h.Buckets[i] = uint64(1000 + (i*7919)%5000)
	}
	b.ResetTimer()
	for b.Loop() {
		if HistSVG("@h", h, Options{}) == "" {
			b.Fatal("empty")
		}
	}
}

// The cold variant empties the text-width cache every time: the cost of
// the first plot with new labels.
func BenchmarkHistSVG64BucketsCold(b *testing.B) {
	h := value.Hist{Buckets: make([]uint64, HistBuckets)}
	for i := 1; i <= 64; i++ {
		h.Buckets[i] = uint64(1000 + (i*7919)%5000)
	}
	for b.Loop() {
		textHandler.reset()
		if HistSVG("@h", h, Options{}) == "" {
			b.Fatal("empty")
		}
	}
}

func bigCountMap(n int) *value.Map {
	m := &value.Map{Name: "@c", Kind: value.MapCount, Keyed: true}
	for i := range n {
		m.Entries = append(m.Entries, value.Entry{
			Key:   []value.Value{value.Str{S: fmt.Sprintf("process-%05d", i)}},
			Value: value.Count{N: uint64((i * 7919) % 100003)},
		})
	}
	return m
}

func BenchmarkBarsTop20Of10kKeys(b *testing.B) {
	m := bigCountMap(10000)
	b.ResetTimer()
	for b.Loop() {
		textHandler.reset() // every frame of a live display has new keys
		if BarsSVG(m, Options{TopN: 20}) == "" {
			b.Fatal("empty")
		}
	}
}

func BenchmarkFlame5kStacks(b *testing.B) {
	m := syntheticStacks(5000)
	b.ResetTimer()
	for b.Loop() {
		if FlameSVG(m, Options{}) == "" {
			b.Fatal("empty")
		}
	}
}

func BenchmarkMapText10kKeys(b *testing.B) {
	m := bigCountMap(10000)
	b.ResetTimer()
	for b.Loop() {
		_ = MapText(m, 0, 0)
	}
}

func BenchmarkKeyedHistSVG8Panels(b *testing.B) {
	m := &value.Map{Name: "@lat", Kind: value.MapHist, Keyed: true}
	for k := range 20 {
		h := value.Hist{Buckets: make([]uint64, HistBuckets)}
		for i := 10; i < 30; i++ {
			h.Buckets[i] = uint64(k*100 + i)
		}
		m.Entries = append(m.Entries, value.Entry{Key: []value.Value{value.Str{S: fmt.Sprint("k", k)}}, Value: h})
	}
	b.ResetTimer()
	for b.Loop() {
		_ = KeyedHistSVG(m, Options{})
	}
}

// A full series (600 snapshots, the most a Series keeps) of a 50-key
// count map, as the live display samples it: drawn at most 150 points a
// line. The cache is bypassed: each loop is a new drawing.
func BenchmarkLinesSVG600Snapshots(b *testing.B) {
	s := &Series{Name: "@c", Deltas: true}
	for i := range DefaultMaxSnapshots {
		m := &value.Map{Name: "@c", Kind: value.MapCount, Keyed: true}
		for k := range 50 {
			m.Entries = append(m.Entries, value.Entry{Key: []value.Value{value.Str{S: fmt.Sprint("proc-", k)}},
				Value: value.Count{N: uint64(i * (k + 1) * (100 + i%7))}})
		}
		s.Add(sec(float64(i)), m)
	}
	for b.Loop() {
		s.cacheKey = ""
		if SeriesSVG(s, Options{}) == "" {
			b.Fatal("empty")
		}
	}
}

// A 600-snapshot histogram series over 20 buckets, as a heatmap.
func BenchmarkHeatmapSVG600Snapshots(b *testing.B) {
	s := &Series{Name: "@lat"}
	for i := range DefaultMaxSnapshots {
		h := value.Hist{Buckets: make([]uint64, HistBuckets)}
		for j := 10; j < 30; j++ {
			h.Buckets[j] = uint64((i*j)%97 + 1)
		}
		s.Add(sec(float64(i)), &value.Map{Name: "@lat", Kind: value.MapHist, Entries: []value.Entry{{Value: h}}})
	}
	for b.Loop() {
		s.cacheKey = ""
		if SeriesSVG(s, Options{}) == "" {
			b.Fatal("empty")
		}
	}
}
