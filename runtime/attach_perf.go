package runtime

import (
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
)

// PerfEventConfig is how a profile, interval, software or hardware probe
// opens its perf events.
type PerfEventConfig struct {
	Type   uint32
	Config uint64
	// Freq, when set, makes Sample a frequency in Hz (profile:hz:N);
	// otherwise Sample is a period: nanoseconds for the clock events,
	// occurrences for the others.
	Freq   bool
	Sample uint64
	// PerCPU opens one event per online CPU (profile, software, hardware);
	// otherwise one event on the first online CPU (interval).
	PerCPU bool
}

// unitNanos is the length of one unit of profile/interval probes.
var unitNanos = map[string]uint64{"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1}

// PerfEventFor returns the perf event configuration of a profile, interval,
// software or hardware attach point.
func PerfEventFor(ap *lang.AttachPoint) (PerfEventConfig, error) {
	switch ap.Provider {
	case "profile", "interval":
		c := PerfEventConfig{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_CPU_CLOCK, PerCPU: ap.Provider == "profile"}
		if ap.Freq == 0 {
			return c, fmt.Errorf("%s: the rate must be positive", ap.Name())
		}
		switch {
		case ap.Unit == "hz" && ap.Provider == "profile":
			c.Freq, c.Sample = true, ap.Freq
		case ap.Unit == "hz":
			c.Sample = 1e9 / ap.Freq
		case unitNanos[ap.Unit] != 0:
			c.Sample = ap.Freq * unitNanos[ap.Unit]
		default:
			return c, fmt.Errorf("%s: unknown unit %q", ap.Name(), ap.Unit)
		}
		if c.Sample == 0 {
			return c, fmt.Errorf("%s: the rate is too high", ap.Name())
		}
		return c, nil
	case "software", "hardware":
		ev, ok := LookupPerfEvent(ap.Provider, ap.Func)
		if !ok {
			return PerfEventConfig{}, notFound("%s is not a %s probe", ap.Func, ap.Provider)
		}
		c := PerfEventConfig{Type: ev.Type, Config: ev.Config, Sample: ev.DefaultPeriod, PerCPU: true}
		if ap.Freq != 0 {
			c.Sample = ap.Freq
		}
		return c, nil
	}
	return PerfEventConfig{}, fmt.Errorf("%s is not a perf event probe", ap.Provider)
}

// attachPerfProbe opens the perf events of a profile, interval, software
// or hardware probe and attaches prog to each. With a PID the events count
// only that process (one event, any CPU), except interval, which is a
// timer and ignores it.
func attachPerfProbe(prog *ebpf.Program, ap *lang.AttachPoint, opts *AttachOptions) (io.Closer, error) {
	cfg, err := PerfEventFor(ap)
	if err != nil {
		return nil, err
	}
	attr := unix.PerfEventAttr{Type: cfg.Type, Config: cfg.Config, Sample: cfg.Sample}
	if cfg.Freq {
		attr.Bits |= unix.PerfBitFreq
	}
	var targets []perfTarget
	switch {
	case opts.PID > 0 && ap.Provider != "interval":
		targets = []perfTarget{{opts.PID, -1}}
	default:
		cpus := opts.CPUs
		if cpus == nil {
			if cpus, err = OnlineCPUs(); err != nil {
				return nil, err
			}
		}
		if len(cpus) == 0 {
			return nil, fmt.Errorf("no online CPU")
		}
		if !cfg.PerCPU {
			cpus = cpus[:1]
		}
		for _, c := range cpus {
			targets = append(targets, perfTarget{-1, c})
		}
	}
	return attachPerfEvents(prog, attr, targets, ap.Name())
}
