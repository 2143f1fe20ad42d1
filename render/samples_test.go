package render

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// go test ./render -run TestSamples -samples=/tmp/svg writes one file per
// kind of plot, to look at (for instance with headless Chromium).
var samplesDir = flag.String("samples", "", "write sample SVG/HTML renderings to this directory")

// latencyHist is a plausible read() latency histogram in nanoseconds.
func latencyHist(name string, scale int64, n int) *mapB {
	m := newMap(name, value.MapHist)
	for i := range n {
		v := scale + int64(i*i%9973)*scale/40
		m.add(nil, v)
		if i%7 == 0 {
			m.add(nil, v*30)
		}
	}
	return m
}

func sampleMaps() map[string]*value.Map {
	comms := []string{"bash", "sshd", "systemd-journal", "containerd", "kworker/u4:2", "node", "python3", "cron", "dbus-daemon", "rsyslogd",
		"chromium", "Xorg", "pulseaudio", "gnome-shell", "tracebook", "snapd", "irqbalance", "polkitd", "udisksd", "NetworkManager",
		"avahi-daemon", "cupsd", "thermald", "acpid", "atd"}
	counts := newMap("@syscalls", value.MapCount)
	for i, c := range comms {
		for range (i*37)%97 + 3 + i*i {
			counts.add(key(str(c)), 0)
		}
	}
	keyed := newMap("@lat", value.MapHist)
	for i, c := range []string{"read", "write", "openat", "close", "futex"} {
		for j := range 200 + i*150 {
			keyed.add(key(str(c)), int64(1000*(i+1)+j*j*(i+3)))
		}
	}
	lh := newMap("@pct", value.MapLhist).lhist(0, 100, 10)
	for i := range 500 {
		lh.add(nil, int64(i*i%130)-5)
	}
	sums := newMap("@bytes", value.MapSum)
	for i, c := range comms[:8] {
		sums.add(key(str(c), i64(int64(1000+i))), int64((i*7919)%50000-9000))
	}
	return map[string]*value.Map{
		"hist":  latencyHist("@ns", 2000, 3000).done(),
		"keyed": keyed.done(),
		"lhist": lh.done(),
		"bars":  counts.done(),
		"sums":  sums.done(),
	}
}

func TestSamples(t *testing.T) {
	if *samplesDir == "" {
		t.Skip("no -samples directory")
	}
	if err := os.MkdirAll(*samplesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if content == "" {
			t.Errorf("%s: empty rendering", name)
			return
		}
		if err := os.WriteFile(filepath.Join(*samplesDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms := sampleMaps()
	write("hist.svg", HistSVG("@ns", ms["hist"].Entries[0].Value, Options{}))
	write("lhist.svg", HistSVG("@pct", ms["lhist"].Entries[0].Value, Options{}))
	write("keyed.svg", KeyedHistSVG(ms["keyed"], Options{Panels: 4}))
	write("bars.svg", BarsSVG(ms["bars"], Options{}))
	write("sums.svg", BarsSVG(ms["sums"], Options{}))
	write("flame.svg", FlameSVG(syntheticStacks(300), Options{Width: 960}))
	ls, hs := sampleSeries()
	write("lines.svg", SeriesSVG(ls, Options{}))
	write("heatmap.svg", SeriesSVG(hs, Options{}))
	var tl Timeline
	for i, sn := range ls.Snaps {
		tl.Add(sn.At, sn.Map, hs.Snaps[i].Map)
	}
	st := newMap("@st", value.MapStats).add(key(str("read"), i64(3)), 10, 200, 30).add(key(str("write"), i64(4)), 5000, 7).done()
	live := LiveBundle([]*value.Map{ls.Snaps[29].Map, hs.Snaps[29].Map, st, newMap("@n", value.MapCount).add(nil, 1, 2).done()},
		value.Status{Elapsed: 12300 * time.Millisecond, Duration: 30 * time.Second, Events: 123456, Drops: 2, Probes: 4}, &tl, Options{})
	write("live.html", "<html><body style=\"background:#fff\">"+live[MIMEHTML].(string)+"</body></html>")
	fmt.Println("samples in", *samplesDir)
}

// syntheticStacks makes n distinct kernel stacks shaped like a syscall
// profile: a few entry paths fanning out into many leaf functions.
func syntheticStacks(n int) *value.Map {
	rng := rand.New(rand.NewPCG(1, 2))
	entry := []string{"entry_SYSCALL_64_after_hwframe", "do_syscall_64"}
	sys := []string{"__x64_sys_read", "__x64_sys_write", "__x64_sys_openat", "__x64_sys_futex", "__x64_sys_epoll_wait", "__x64_sys_mmap"}
	mid := []string{"ksys_read", "vfs_read", "new_sync_read", "ext4_file_read_iter", "filemap_read", "copy_page_to_iter", "do_futex", "futex_wait",
		"schedule", "__schedule", "ep_poll", "do_epoll_wait", "vm_mmap_pgoff", "do_mmap", "mmap_region", "path_openat", "do_filp_open", "link_path_walk"}
	m := newMap("@", value.MapCount)
	seen := map[string]bool{}
	for len(m.m.Entries) < n {
		frames := []value.Frame{}
		depth := 3 + rng.IntN(12)
		for range depth {
			f := mid[rng.IntN(len(mid))]
			if rng.IntN(8) == 0 {
				f = fmt.Sprintf("fn_%d", rng.IntN(n))
			}
			frames = append(frames, value.Frame{Sym: f, Offset: uint64(rng.IntN(400)), Addr: 0xffffffff81000000 + uint64(rng.IntN(1<<20))})
		}
		frames = append(frames, value.Frame{Sym: sys[rng.IntN(len(sys))], Offset: 20})
		for i := len(entry) - 1; i >= 0; i-- {
			frames = append(frames, value.Frame{Sym: entry[i], Offset: 100})
		}
		s := value.Stack{Frames: frames}
		id := KeyPartText(s)
		if seen[id] {
			continue
		}
		seen[id] = true
		m.add(key(s), make([]int64, 1+rng.IntN(50))...)
	}
	return m.done()
}

// sampleSeries is ten seconds of a per-second interval print.
func sampleSeries() (lines, heat *Series) {
	lines, heat = NewSeries("@rate"), NewSeries("@lat")
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Second)
		m := newMap("@rate", value.MapCount)
		for j, c := range []string{"bash", "sshd", "node", "python3", "containerd"} {
			for range 50 + (i*(j+3)*17)%90 + j*40 {
				m.add(key(str(c)), 0)
			}
		}
		lines.Add(at, m.done())
		h := newMap("@lat", value.MapHist)
		for k := range 400 {
			base := int64(2000 + 1000*(i%10))
			if i > 15 && k%5 == 0 {
				base *= 40
			}
			h.add(nil, base+int64(k*k%7919))
		}
		heat.Add(at, h.done())
	}
	return lines, heat
}
