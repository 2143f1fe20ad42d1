package lang_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/lang/langtest"
)

// BenchmarkCheckTools parses and checks each of bpftrace's tools in
// /usr/sbin with the fixture types, and reports the median and the
// largest time per tool. (The root package's benchmark of the same name
// uses the running system's types.)
func BenchmarkCheckTools(b *testing.B) {
	tools, _ := filepath.Glob("/usr/sbin/*.bt")
	if len(tools) == 0 {
		b.Skip("bpftrace's tools are not in /usr/sbin")
	}
	srcs := make([][]byte, len(tools))
	for i, p := range tools {
		srcs[i], _ = os.ReadFile(p)
	}
	types := langtest.NewFixture()
	per := make([]time.Duration, len(tools))
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, p := range tools {
			start := time.Now()
			prog, errs := lang.Parse(p, srcs[i], &lang.ParseOptions{HaveBTF: true})
			if prog != nil && !errs.HasErrors() {
				lang.Check(prog, &lang.Config{Types: types})
			}
			per[i] += time.Since(start)
		}
	}
	sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
	b.ReportMetric(float64(per[len(per)/2].Nanoseconds())/float64(b.N), "ns/tool(median)")
	b.ReportMetric(float64(per[len(per)-1].Nanoseconds())/float64(b.N), "ns/tool(max)")
}

// BenchmarkCheckOnly checks an already parsed program (opensnoop-like),
// to separate the checker's cost from the parser's.
func BenchmarkCheckOnly(b *testing.B) {
	src := []byte(`
tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat { @filename[tid] = args->filename; }
tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat /@filename[tid]/ {
	$ret = args->ret; $fd = $ret >= 0 ? $ret : -1; $errno = $ret >= 0 ? 0 : - $ret;
	printf("%-6d %-16s %4d %3d %s\n", pid, comm, $fd, $errno, str(@filename[tid]));
	delete(@filename[tid]);
}
END { clear(@filename); }
`)
	types := langtest.NewFixture()
	prog, errs := lang.Parse("opensnoop", src, nil)
	if prog == nil || errs.HasErrors() {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		if _, errs := lang.Check(prog, &lang.Config{Types: types}); errs.HasErrors() {
			b.Fatal(errs)
		}
	}
}
