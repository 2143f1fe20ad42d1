package runtime

import (
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/tracebook/tracebook/lang"
)

// UprobeFileOffset returns the file offset a uprobe attach point names:
// symbol+offset, or for uprobe:path:0xADDR the address taken as a virtual
// address of the binary (as `objdump -d` shows it) and converted through
// its segments. As in bpftrace 0.17, the address must lie in a symbol of
// the binary.
func UprobeFileOffset(ap *lang.AttachPoint) (uint64, error) {
	ef, err := defaultELFCache.Get(ap.Target)
	if err != nil {
		return 0, fmt.Errorf("uprobe target file '%s': %w", ap.Target, err)
	}
	if ap.Func == "" {
		if _, _, ok := ef.SymbolAt(ap.Address); !ok && len(ef.Syms) > 0 {
			return 0, fmt.Errorf("Could not resolve address: %s:0x%x", ap.Target, ap.Address)
		}
		return ef.FileOffset(ap.Address)
	}
	return ef.UprobeOffset(ap.Func, ap.Offset)
}

// attachUprobe attaches a uprobe or uretprobe at the file offset of ap.
// Offsets are computed here from the ELF file (PIE executables and shared
// libraries included), so cilium's own symbol lookup is not involved.
func attachUprobe(prog *ebpf.Program, ap *lang.AttachPoint, opts *AttachOptions) (io.Closer, error) {
	off, err := UprobeFileOffset(ap)
	if err != nil {
		return nil, err
	}
	ex, err := link.OpenExecutable(ap.Target)
	if err != nil {
		return nil, err
	}
	uo := &link.UprobeOptions{Address: off, PID: opts.PID}
	if ap.Provider == "uretprobe" {
		return ex.Uretprobe(ap.Func, prog, uo)
	}
	return ex.Uprobe(ap.Func, prog, uo)
}

// USDTProbeFor returns the USDT probe a concrete usdt attach point names,
// with its sites and their parsed arguments, for codegen (argN) and attach.
func USDTProbeFor(ap *lang.AttachPoint) (*USDTProbe, error) {
	ef, err := defaultELFCache.Get(ap.Target)
	if err != nil {
		return nil, fmt.Errorf("usdt target file '%s': %w", ap.Target, err)
	}
	p, ok := ef.USDTProbe(ap.NS, ap.Func)
	if !ok {
		return nil, notFound("usdt probe not found: %s", ap.Name())
	}
	return p, nil
}

// attachUSDT attaches one uprobe per site of a usdt probe. A site with a
// semaphore gets RefCtrOffset, so the kernel raises the semaphore in every
// process that maps the file while the probe is attached (and lowers it on
// detach); the program then evaluates the probe's arguments.
func attachUSDT(prog *ebpf.Program, ap *lang.AttachPoint, opts *AttachOptions) (io.Closer, error) {
	p, err := USDTProbeFor(ap)
	if err != nil {
		return nil, err
	}
	idx := opts.USDTLocations
	if idx == nil {
		for i := range p.Locations {
			idx = append(idx, i)
		}
	}
	ex, err := link.OpenExecutable(ap.Target)
	if err != nil {
		return nil, err
	}
	var links multiCloser
	for _, i := range idx {
		if i < 0 || i >= len(p.Locations) {
			links.Close()
			return nil, fmt.Errorf("usdt %s has no site %d", ap.Name(), i)
		}
		loc := p.Locations[i]
		if loc.SemaphoreOffset != 0 {
			if err := CheckFeature(FeatureUprobeRefCtr); err != nil {
				links.Close()
				return nil, err
			}
		}
		l, err := ex.Uprobe("", prog, &link.UprobeOptions{
			Address:      loc.FileOffset,
			RefCtrOffset: loc.SemaphoreOffset,
			PID:          opts.PID,
		})
		if err != nil {
			links.Close()
			return nil, err
		}
		links = append(links, l)
	}
	if len(links) == 1 {
		return links[0], nil
	}
	return links, nil
}
