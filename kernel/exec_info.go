package kernel

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/tracebook/tracebook/runtime"
)

// kernel_info: what this host can trace. The dispatcher's banner prints
// the host kernel (uname), BTF and the probe types; the notes say which
// providers this kernel refuses and why, in the feature probes' words, so
// that a user learns it before writing a kprobe.

// helpLinks appear in the client's Help menu.
var helpLinks = []HelpLink{
	{Text: "bpftrace reference guide (0.17)", URL: "https://github.com/bpftrace/bpftrace/blob/v0.17.0/docs/reference_guide.md"},
	{Text: "bpftrace one-liner tutorial", URL: "https://github.com/bpftrace/bpftrace/blob/v0.17.0/docs/tutorial_one_liners.md"},
	{Text: "tracebook README", URL: "https://github.com/tracebook/tracebook#readme"},
}

// KernelInfo describes the host. The feature probes run once (NewNotebook
// starts them), and every later call returns the same answer.
func (nb *Notebook) KernelInfo() KernelInfo {
	nb.infoOnce.Do(func() {
		nb.info = hostInfo(nb.sess.Types().HaveBTF(), runtime.ProbeTypes(), os.Geteuid() == 0)
		close(nb.infoDone)
	})
	<-nb.infoDone
	return nb.info
}

// hostInfo builds KernelInfo from the feature probes' answers.
func hostInfo(btf bool, types []runtime.ProbeType, root bool) KernelInfo {
	info := KernelInfo{LanguageVersion: "0.17", BTF: btf, HelpLinks: helpLinks}
	// Providers refused for the same reason share one note.
	why := map[string][]string{}
	var reasons []string
	for _, pt := range types {
		if pt.Err == nil {
			info.ProbeTypes = append(info.ProbeTypes, pt.Provider)
			continue
		}
		r := pt.Err.Error()
		if why[r] == nil {
			reasons = append(reasons, r)
		}
		why[r] = append(why[r], pt.Provider)
	}
	sort.SliceStable(reasons, func(i, j int) bool { return why[reasons[i]][0] < why[reasons[j]][0] })
	for _, r := range reasons {
		info.Notes = append(info.Notes, fmt.Sprintf("not here: %s (%s)", strings.Join(why[r], ", "), r))
	}
	if !root {
		info.Notes = append(info.Notes, "not running as root: probes will not load (run Jupyter as root, or give tracebook CAP_BPF and CAP_PERFMON)")
	}
	info.Notes = append(info.Notes, "%help lists the magics; Shift-Tab documents what is under the cursor")
	return info
}
