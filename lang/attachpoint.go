package lang

import (
	"fmt"
	"strings"
)

// name builds the canonical probe name the `probe` builtin prints and
// listings show. Providers that bpftrace prints with all their parts print
// them even when a part is empty.
func (ap *AttachPoint) name() string {
	join := func(parts ...string) string { return strings.Join(parts, ":") }
	fn := ap.Func
	if ap.Offset != 0 {
		fn = fmt.Sprintf("%s+%d", fn, ap.Offset)
	}
	switch ap.Provider {
	case "BEGIN", "END":
		return ap.Provider
	case "kprobe", "kretprobe", "rawtracepoint", "kfunc", "kretfunc":
		if ap.Target != "" {
			return join(ap.Provider, ap.Target, fn)
		}
		return join(ap.Provider, fn)
	case "uprobe", "uretprobe":
		if ap.Address != 0 && ap.Func == "" {
			return join(ap.Provider, ap.Target, fmt.Sprintf("0x%x", ap.Address))
		}
		return join(ap.Provider, ap.Target, fn)
	case "usdt":
		if ap.NS != "" {
			return join(ap.Provider, ap.Target, ap.NS, ap.Func)
		}
		return join(ap.Provider, ap.Target, ap.Func)
	case "tracepoint":
		return join(ap.Provider, ap.Target, ap.Func)
	case "profile", "interval":
		return join(ap.Provider, ap.Unit, fmt.Sprint(ap.Freq))
	case "software", "hardware":
		if ap.Freq != 0 {
			return join(ap.Provider, ap.Func, fmt.Sprint(ap.Freq))
		}
		return join(ap.Provider, ap.Func)
	case "watchpoint", "asyncwatchpoint":
		// bpftrace 0.17's names: the address in decimal
		// ("watchpoint:268435456:8:w"); once the function's binary is
		// known, "watchpoint:BIN:FUNC[:N]:LEN:MODE", N being the argument
		// number, left out when it is 0.
		if ap.Func == "" {
			return join(ap.Provider, fmt.Sprint(ap.Address), fmt.Sprint(ap.Len), ap.Mode)
		}
		if ap.Target == "" {
			return join(ap.Provider, fmt.Sprintf("%s+arg%d", ap.Func, ap.ArgN), fmt.Sprint(ap.Len), ap.Mode)
		}
		parts := []string{ap.Provider, ap.Target, ap.Func}
		if ap.ArgN != 0 {
			parts = append(parts, fmt.Sprint(ap.ArgN))
		}
		return join(append(parts, fmt.Sprint(ap.Len), ap.Mode)...)
	case "iter":
		if ap.Target != "" {
			return join(ap.Provider, ap.Func, ap.Target)
		}
		return join(ap.Provider, ap.Func)
	}
	return ap.Raw
}
