package main

import (
	"fmt"
	"io"
	goruntime "runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/runtime"
)

// runInfo is --info: what this kernel offers, laid out as bpftrace 0.17
// prints it (bpftrace's own runtime-test runner reads these lines for its
// REQUIRES_FEATURE directives), every answer from tracebook's own feature
// probes.
func runInfo(stdout io.Writer) int {
	yes := func(feature string) string {
		if runtime.CheckFeature(feature) == nil {
			return "yes"
		}
		return "no"
	}
	var un unix.Utsname
	_ = unix.Uname(&un)
	cstr := func(b []byte) string {
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			return string(b[:i])
		}
		return string(b)
	}
	arch := goruntime.GOARCH
	if arch == "amd64" {
		arch = "x86_64"
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("System\n  OS: %s %s %s\n  Arch: %s\n\n", cstr(un.Sysname[:]), cstr(un.Release[:]), cstr(un.Version[:]), arch)
	p("Build\n  version: tracebook (bpftrace v0.17.0 compatible)\n  LLVM: none (eBPF is generated with cilium/ebpf's assembler)\n")
	p("  unsafe uprobe: no\n  bfd: no\n  libdw (DWARF support): no\n\n")
	p("Kernel helpers\n")
	for _, h := range []string{"probe_read", "probe_read_str", "probe_read_user", "probe_read_user_str",
		"probe_read_kernel", "probe_read_kernel_str", "get_current_cgroup_id"} {
		p("  %s: yes\n", h)
	}
	p("  send_signal: %s\n  override_return: %s\n  get_boot_ns: yes\n  dpath: no\n  skboutput: no\n\n",
		yes(runtime.FeatureSendSignal), yes(runtime.FeatureOverride))
	p("Kernel features\n  Instruction limit: 1000000\n  Loop support: yes\n  btf: %s\n  map batch: yes\n", yes(runtime.FeatureBTF))
	p("  uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount): %s\n\n", yes(runtime.FeatureUprobeRefCtr))
	p("Map types\n  hash: yes\n  percpu hash: yes\n  array: yes\n  percpu array: yes\n  stack_trace: yes\n  perf_event_array: yes\n  ringbuf: %s\n\n", yes(runtime.FeatureRingbuf))
	p("Probe types\n")
	p("  kprobe: %s\n  tracepoint: %s\n  perf_event: %s\n  kfunc: %s\n", yes(runtime.FeatureKprobe),
		yes(runtime.FeatureTracepoint), yes(runtime.FeaturePerfEvent), yes(runtime.FeatureKfunc))
	it := yes(runtime.FeatureIterTask)
	p("  iter:task: %s\n  iter:task_file: %s\n  kprobe_multi: %s\n  raw_tp_special: %s\n", it, it,
		yes(runtime.FeatureKprobeMulti), yes(runtime.FeatureRawTP))
	p("  uprobe: %s\n  rawtracepoint: %s\n  hardware: %s\n  watchpoint: %s\n", yes(runtime.FeatureUprobe),
		yes(runtime.FeatureRawTP), yes(runtime.FeatureHardware), yes(runtime.FeatureBreakpoint))
	io.WriteString(stdout, b.String())
	return 0
}
