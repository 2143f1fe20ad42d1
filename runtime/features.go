package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Feature probes, in cilium/ebpf's style: each is a small real test of the
// running kernel, run once and memoized. Its answer is
//
//   - nil: the feature is available;
//   - an error matching ErrNotSupported: it is not (a *FeatureError whose
//     message is the sentence a user sees);
//   - any other error: the probe was inconclusive. Callers treat that as
//     unavailable but keep the error, because it is not evidence that the
//     kernel lacks the feature (a missing capability, say).
//
// Each feature names the first kernel version that has it, so tests can
// tell a kernel that is too old from one that should have it (see
// runtime/runtimetest.Require).

// ErrNotSupported is cilium/ebpf's sentinel for a missing kernel feature.
var ErrNotSupported = ebpf.ErrNotSupported

// Feature names, as Require and the banner use them.
const (
	FeatureBTF          = "btf"
	FeatureTracepoint   = "tracepoint"
	FeatureRawTP        = "raw_tp"
	FeatureTPBTF        = "tp_btf"
	FeatureKprobe       = "kprobe"
	FeatureKprobeMulti  = "kprobe_multi"
	FeatureKfunc        = "kfunc"
	FeatureUprobe       = "uprobe"
	FeatureUprobeRefCtr = "uprobe_refctr"
	FeaturePerfEvent    = "perf_event"
	FeatureHardware     = "hardware"
	FeatureBreakpoint   = "breakpoint"
	FeatureIterTask     = "iter:task"
	FeatureRingbuf      = "ringbuf"
	FeatureBPFLoop      = "bpf_loop"
	FeatureGetFuncIP    = "get_func_ip"
	FeatureSendSignal   = "send_signal"
	FeatureTaskBTF      = "get_current_task_btf"
	FeatureOverride     = "override_return"
)

// FeatureError says why a feature is unavailable. Error() is the sentence a
// user sees; it matches ErrNotSupported when the kernel lacks the feature
// (Unsupported) and wraps the underlying error either way.
type FeatureError struct {
	Feature        string
	MinimumVersion string // first kernel version with the feature, "" if none applies
	Reason         string
	Unsupported    bool
	Err            error
}

func (e *FeatureError) Error() string { return e.Reason }
func (e *FeatureError) Unwrap() error { return e.Err }

// Is makes an unsupported feature match ErrNotSupported.
func (e *FeatureError) Is(target error) bool {
	return e.Unsupported && target == ErrNotSupported
}

type featureDef struct {
	name string
	// min is the first mainline kernel with the feature; "" when the
	// answer depends on hardware or configuration, not the version.
	min   string
	desc  string
	probe func() error
}

var featureDefs = []*featureDef{
	{FeatureBTF, "5.4", "kernel BTF (/sys/kernel/btf/vmlinux)", probeBTF},
	{FeatureTracepoint, "4.7", "tracepoint programs", probeTracepoint},
	{FeatureRawTP, "4.17", "raw tracepoint programs", probeRawTP},
	{FeatureTPBTF, "5.5", "BTF-typed raw tracepoints (tp_btf)", probeTPBTF},
	{FeatureKprobe, "4.1", "kprobes", probeKprobe},
	{FeatureKprobeMulti, "5.18", "kprobe_multi links", probeKprobeMulti},
	{FeatureKfunc, "5.5", "fentry/fexit (kfunc/kretfunc)", probeKfunc},
	{FeatureUprobe, "4.3", "uprobes", probeUprobe},
	{FeatureUprobeRefCtr, "4.20", "uprobe semaphores (ref_ctr_offset)", probeUprobeRefCtr},
	{FeaturePerfEvent, "4.9", "perf event programs (profile, interval, software)", probePerfEvent},
	{FeatureHardware, "", "hardware perf events", probeHardware},
	{FeatureBreakpoint, "4.9", "hardware breakpoints (watchpoints)", probeBreakpoint},
	{FeatureIterTask, "5.8", "task iterators (iter:task)", probeIterTask},
	{FeatureRingbuf, "5.8", "BPF ring buffers", probeRingbuf},
	{FeatureBPFLoop, "5.17", "the bpf_loop helper", probeBPFLoop},
	{FeatureGetFuncIP, "5.15", "the get_func_ip helper in kprobe/uprobe programs", probeGetFuncIP},
	{FeatureSendSignal, "5.3", "the send_signal helper", probeSendSignal},
	{FeatureTaskBTF, "5.11", "the get_current_task_btf helper", probeTaskBTF},
	// override() needs CONFIG_BPF_KPROBE_OVERRIDE, which distributions
	// (Debian included) leave unset: no version implies it.
	{FeatureOverride, "", "the bpf_override_return helper (override())", probeOverride},
}

var featureResults sync.Map // name → *featureResult

type featureResult struct {
	once sync.Once
	err  error
}

func lookupFeature(name string) *featureDef {
	for _, d := range featureDefs {
		if d.name == name {
			return d
		}
	}
	return nil
}

// CheckFeature runs (once) the probe of a named feature. See the package
// comment above for what the answer means.
func CheckFeature(name string) error {
	d := lookupFeature(name)
	if d == nil {
		return fmt.Errorf("unknown feature %q", name)
	}
	v, _ := featureResults.LoadOrStore(name, &featureResult{})
	r := v.(*featureResult)
	r.once.Do(func() {
		err := d.probe()
		var fe *FeatureError
		if err != nil && errors.As(err, &fe) {
			fe.Feature, fe.MinimumVersion = d.name, d.min
		} else if err != nil {
			unsupported := errors.Is(err, ErrNotSupported)
			err = &FeatureError{
				Feature: d.name, MinimumVersion: d.min, Unsupported: unsupported, Err: err,
				Reason: fmt.Sprintf("could not tell whether this kernel has %s: %v", d.desc, CleanError(err)),
			}
			if unsupported {
				err.(*FeatureError).Reason = fmt.Sprintf("this kernel has no %s (%v)", d.desc, CleanError(err.(*FeatureError).Err))
			}
		}
		r.err = err
	})
	return r.err
}

// FeatureMinimumVersion returns the first kernel version with the named
// feature, "" when the version does not decide it.
func FeatureMinimumVersion(name string) string {
	if d := lookupFeature(name); d != nil {
		return d.min
	}
	return ""
}

// FeatureNames lists every probed feature, in a fixed order.
func FeatureNames() []string {
	out := make([]string, len(featureDefs))
	for i, d := range featureDefs {
		out[i] = d.name
	}
	return out
}

func unsupported(reason string, err error) error {
	return &FeatureError{Reason: reason, Unsupported: true, Err: err}
}

func inconclusive(reason string, err error) error {
	return &FeatureError{Reason: reason, Err: err}
}

func probeBTF() error {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return unsupported("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing: CONFIG_DEBUG_INFO_BTF is not set)", err)
	}
	if _, err := KernelBTF(); err != nil {
		return inconclusive("kernel BTF could not be read: "+err.Error(), err)
	}
	return nil
}

func haveProgType(pt ebpf.ProgramType, what string) error {
	err := features.HaveProgramType(pt)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported):
		return unsupported("this kernel has no "+what, err)
	case errors.Is(err, unix.EPERM):
		return inconclusive(fmt.Sprintf("loading a %s was refused (EPERM: operation not permitted); run as root with CAP_BPF and CAP_PERFMON", what), err)
	}
	return inconclusive(fmt.Sprintf("could not tell whether this kernel has %s: %v", what, CleanError(err)), err)
}

func probeTracepoint() error {
	if err := haveProgType(ebpf.TracePoint, "tracepoint programs"); err != nil {
		return err
	}
	if _, err := TracefsDir(); err != nil {
		return inconclusive("tracepoints need tracefs: "+err.Error(), err)
	}
	return nil
}

func probeRawTP() error { return haveProgType(ebpf.RawTracepoint, "raw tracepoint programs") }

// loadTracing loads a two-instruction BTF-attached program: the most
// direct way to learn whether the kernel accepts that kind of program.
func loadTracing(at ebpf.AttachType, target string) error {
	spec := &ebpf.ProgramSpec{
		Type:       ebpf.Tracing,
		AttachType: at,
		AttachTo:   target,
		License:    "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	}
	prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{})
	if err != nil {
		return err
	}
	return prog.Close()
}

func probeTPBTF() error {
	if err := probeBTF(); err != nil {
		return err
	}
	err := loadTracing(ebpf.AttachTraceRawTp, "sched_switch")
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported), errors.Is(err, unix.EINVAL), errors.Is(err, errENOTSUPP):
		return unsupported("this kernel refuses BTF-typed raw tracepoints (tp_btf): "+CleanError(err).Error(), err)
	case errors.Is(err, unix.EPERM):
		return inconclusive("this kernel refuses tp_btf programs (loading one failed with EPERM: operation not permitted)", err)
	}
	return inconclusive("could not tell whether this kernel has tp_btf: "+CleanError(err).Error(), err)
}

func probeKprobe() error {
	if dirExists("/sys/bus/event_source/devices/kprobe") {
		return nil
	}
	if dir, err := TracefsDir(); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "kprobe_events")); err == nil {
			return nil
		}
	}
	return unsupported("this kernel has no kprobes (CONFIG_KPROBES is not set: no kprobe PMU and no kprobe_events)", os.ErrNotExist)
}

func probeKprobeMulti() error {
	if err := probeKprobe(); err != nil {
		return unsupported("this kernel has no kprobe_multi links: "+err.Error(), err)
	}
	err := features.HaveBPFLinkKprobeMulti()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported):
		if KernelAtLeast("5.18") {
			// The kernel is new enough: the link type is configured out.
			return unsupported("this kernel has no kprobe_multi links (CONFIG_FPROBE is not set)", err)
		}
		return unsupported("this kernel has no kprobe_multi links (added in 5.18)", err)
	}
	return inconclusive("could not tell whether this kernel has kprobe_multi links: "+CleanError(err).Error(), err)
}

func probeKfunc() error {
	if err := probeBTF(); err != nil {
		return unsupported("fentry/fexit need kernel BTF: "+err.Error(), err)
	}
	// bpf_fentry_test1 exists for exactly this purpose (net/bpf/test_run.c);
	// vfs_read is the fallback on kernels built without it.
	target := "bpf_fentry_test1"
	if spec, err := KernelBTF(); err == nil {
		if _, err := findFunc(spec, target); err != nil {
			target = "vfs_read"
		}
	}
	err := loadTracing(ebpf.AttachTraceFEntry, target)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EPERM):
		return unsupported("this kernel refuses fentry/fexit programs (loading one failed with EPERM: operation not permitted)", err)
	case errors.Is(err, ErrNotSupported), errors.Is(err, errENOTSUPP), errors.Is(err, unix.EOPNOTSUPP):
		return unsupported("this kernel has no fentry/fexit (BPF trampolines): "+CleanError(err).Error(), err)
	}
	return inconclusive("could not tell whether this kernel allows fentry/fexit: "+CleanError(err).Error(), err)
}

func probeUprobe() error {
	if dirExists("/sys/bus/event_source/devices/uprobe") {
		return nil
	}
	if dir, err := TracefsDir(); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "uprobe_events")); err == nil {
			return nil
		}
	}
	return unsupported("this kernel has no uprobes (CONFIG_UPROBE_EVENTS is not set: no uprobe PMU and no uprobe_events)", os.ErrNotExist)
}

func probeUprobeRefCtr() error {
	if err := probeUprobe(); err != nil {
		return err
	}
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset"); err != nil {
		return unsupported("this kernel's uprobe PMU has no ref_ctr_offset: USDT semaphores cannot be managed by the kernel", err)
	}
	return nil
}

// perfOpen opens a counting (not sampling) perf event on this thread.
func perfOpen(typ uint32, config uint64, bpType uint32, addr uint64, length uint64) error {
	attr := unix.PerfEventAttr{
		Type:   typ,
		Config: config,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Bits:   unix.PerfBitDisabled | unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv,
	}
	if typ == unix.PERF_TYPE_BREAKPOINT {
		attr.Bits = unix.PerfBitDisabled
		attr.Bp_type = bpType
		attr.Ext1 = addr
		attr.Ext2 = length
		attr.Sample = 1
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func probePerfEvent() error {
	if err := haveProgType(ebpf.PerfEvent, "perf event programs"); err != nil {
		return err
	}
	if err := perfOpen(unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 0, 0, 0); err != nil {
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			return inconclusive("opening a cpu-clock perf event was refused ("+errnoText(err)+"); run as root or lower kernel.perf_event_paranoid", err)
		}
		return unsupported("this kernel cannot open software perf events ("+errnoText(err)+")", err)
	}
	return nil
}

func probeHardware() error {
	err := perfOpen(unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES, 0, 0, 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENODEV):
		return unsupported("this machine has no hardware perf events (no CPU PMU: opening cpu-cycles failed with "+errnoText(err)+")", err)
	}
	return inconclusive("opening a cpu-cycles perf event failed ("+errnoText(err)+")", err)
}

var breakpointProbeTarget uint64

func probeBreakpoint() error {
	addr := uint64(uintptr(unsafe.Pointer(&breakpointProbeTarget)))
	err := perfOpen(unix.PERF_TYPE_BREAKPOINT, 0, hwBreakpointW, addr, 8)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENODEV):
		return unsupported("this kernel has no hardware breakpoints (opening a breakpoint perf event failed with "+errnoText(err)+")", err)
	}
	return inconclusive("opening a breakpoint perf event failed ("+errnoText(err)+")", err)
}

func probeIterTask() error {
	if err := probeBTF(); err != nil {
		return unsupported("iterators need kernel BTF: "+err.Error(), err)
	}
	err := loadTracing(ebpf.AttachTraceIter, "task")
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
		return unsupported("this kernel has no task iterator (iter:task): "+CleanError(err).Error(), err)
	case errors.Is(err, unix.EPERM):
		return inconclusive("this kernel refuses iterator programs (loading one failed with EPERM: operation not permitted)", err)
	}
	return inconclusive("could not tell whether this kernel has iter:task: "+CleanError(err).Error(), err)
}

func probeRingbuf() error {
	err := features.HaveMapType(ebpf.RingBuf)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported):
		return unsupported("this kernel has no BPF ring buffers (added in 5.8)", err)
	}
	return inconclusive("could not tell whether this kernel has BPF ring buffers: "+CleanError(err).Error(), err)
}

func haveHelper(pt ebpf.ProgramType, fn asm.BuiltinFunc, name, added string) error {
	err := features.HaveProgramHelper(pt, fn)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported):
		return unsupported(fmt.Sprintf("this kernel has no %s helper for %s programs (added in %s)", name, pt, added), err)
	}
	return inconclusive(fmt.Sprintf("could not tell whether this kernel has the %s helper: %v", name, CleanError(err)), err)
}

func probeBPFLoop() error {
	return haveHelper(ebpf.TracePoint, asm.FnLoop, "bpf_loop", "5.17")
}

func probeGetFuncIP() error {
	return haveHelper(ebpf.Kprobe, asm.FnGetFuncIp, "bpf_get_func_ip", "5.15")
}

func probeSendSignal() error {
	return haveHelper(ebpf.TracePoint, asm.FnSendSignal, "bpf_send_signal", "5.3")
}

// probeTaskBTF asks for bpf_get_current_task_btf in a tracepoint program.
// Every program type a probe compiles to (kprobe, tracepoint, raw_tp,
// perf_event, tracing) gets it from the same list of tracing helpers, so
// one type answers for all.
func probeTaskBTF() error {
	return haveHelper(ebpf.TracePoint, asm.FnGetCurrentTaskBtf, "bpf_get_current_task_btf", "5.11")
}

// probeOverride asks the verifier for bpf_override_return in a kprobe
// program. Kernels without it word the refusal differently ("unknown func
// bpf_override_return#58" on 6.1, "program of this type cannot use helper"
// on 6.12); cilium's probe knows both.
func probeOverride() error {
	err := features.HaveProgramHelper(ebpf.Kprobe, asm.FnOverrideReturn)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotSupported):
		return unsupported("this kernel has no bpf_override_return helper (CONFIG_BPF_KPROBE_OVERRIDE is not set), so override() cannot load", err)
	}
	return inconclusive("could not tell whether this kernel has the bpf_override_return helper: "+CleanError(err).Error(), err)
}

// errENOTSUPP is the kernel-internal ENOTSUPP (524) that BPF syscalls can
// return; x/sys/unix does not name it.
const errENOTSUPP = unix.Errno(524)

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// errnoText spells an errno as "ENOENT: no such file or directory".
func errnoText(err error) string {
	var en unix.Errno
	if errors.As(err, &en) {
		return unix.ErrnoName(en) + ": " + en.Error()
	}
	return err.Error()
}

// KernelVersion returns the running kernel's version as three numbers
// (6.18.44 for "6.18.44-fc-v669").
func KernelVersion() ([3]int, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return [3]int{}, err
	}
	return ParseKernelVersion(unix.ByteSliceToString(u.Release[:]))
}

// ParseKernelVersion parses "6.18.44-fc-v669", "6.1.0-56-cloud-amd64" or
// "5.15" into [major, minor, patch].
func ParseKernelVersion(s string) ([3]int, error) {
	var v [3]int
	end := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end >= 0 {
		s = s[:end]
	}
	parts := strings.Split(strings.Trim(s, "."), ".")
	if len(parts) < 2 {
		return v, fmt.Errorf("cannot parse kernel version %q", s)
	}
	for i := 0; i < 3 && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return v, fmt.Errorf("cannot parse kernel version %q", s)
		}
		v[i] = n
	}
	return v, nil
}

// KernelAtLeast reports whether the running kernel's version is at least
// min ("5.8"). An empty min or an unreadable version gives false.
func KernelAtLeast(min string) bool {
	if min == "" {
		return false
	}
	want, err := ParseKernelVersion(min)
	if err != nil {
		return false
	}
	have, err := KernelVersion()
	if err != nil {
		return false
	}
	for i := range 3 {
		if have[i] != want[i] {
			return have[i] > want[i]
		}
	}
	return true
}

// ProbeType is one bpftrace provider and whether this kernel can attach it.
type ProbeType struct {
	Provider string // "kprobe"
	// Err is nil when the provider works here; otherwise why not, in
	// words for the user (the feature probe's FeatureError).
	Err error
}

// providerFeatures says which features each provider needs.
var providerFeatures = []struct {
	provider string
	needs    []string
}{
	{"BEGIN", []string{FeatureRawTP}},
	{"END", []string{FeatureRawTP}},
	{"tracepoint", []string{FeatureTracepoint}},
	{"rawtracepoint", []string{FeatureRawTP}},
	{"kprobe", []string{FeatureKprobe}},
	{"kretprobe", []string{FeatureKprobe}},
	{"kfunc", []string{FeatureKfunc}},
	{"kretfunc", []string{FeatureKfunc}},
	{"uprobe", []string{FeatureUprobe}},
	{"uretprobe", []string{FeatureUprobe}},
	{"usdt", []string{FeatureUprobe}},
	{"profile", []string{FeaturePerfEvent}},
	{"interval", []string{FeaturePerfEvent}},
	{"software", []string{FeaturePerfEvent}},
	{"hardware", []string{FeaturePerfEvent, FeatureHardware}},
	{"watchpoint", []string{FeatureBreakpoint}},
	{"asyncwatchpoint", []string{FeatureBreakpoint}},
	{"iter", []string{FeatureIterTask}},
}

// ProbeTypes lists every provider with whether this kernel can attach it,
// for the notebook banner and --info.
func ProbeTypes() []ProbeType {
	out := make([]ProbeType, 0, len(providerFeatures))
	for _, pf := range providerFeatures {
		pt := ProbeType{Provider: pf.provider}
		for _, f := range pf.needs {
			if err := CheckFeature(f); err != nil {
				pt.Err = err
				break
			}
		}
		out = append(out, pt)
	}
	return out
}

// ProviderError returns why provider cannot be attached on this kernel, or
// nil when it can (or the provider is unknown).
func ProviderError(provider string) error {
	for _, pf := range providerFeatures {
		if pf.provider != provider {
			continue
		}
		for _, f := range pf.needs {
			if err := CheckFeature(f); err != nil {
				return err
			}
		}
	}
	return nil
}
