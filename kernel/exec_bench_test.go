package kernel_test

import (
	"sort"
	"testing"
	"time"

	"github.com/tracebook/tracebook/kernel"
	"github.com/tracebook/tracebook/kernel/kerneltest"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// fiveProbes is the cell of the attach benchmark: five tracepoints, each
// with a map, as an investigation's first cell might have.
const fiveProbes = `%%trace 50ms
tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }
tracepoint:syscalls:sys_enter_write { @writes[comm] = count(); }
tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }
tracepoint:sched:sched_switch { @switches[cpu] = count(); }
tracepoint:sched:sched_wakeup { @wakeups = count(); }`

// BenchmarkNotebookAttachFiveProbes measures, through the protocol, the
// time from sending a 5-probe cell's execute_request to receiving its live
// display, which the kernel shows once every probe is attached: the
// time until a trace starts to record, as the user waits for it. The
// kernel's own figure (execute to attach, from the display's metadata) is
// reported as kernel-ms/op.
//
// Between cells the benchmark waits a second, as a user does: the
// kernel releases a finished cell's tracepoint perf events in the
// background, one after another under a kernel-wide mutex (tens of ms
// each), and opening a tracepoint waits for that mutex, so a cell started
// the instant the previous one ended waits for its release too.
// BenchmarkNotebookAttachFiveProbesBackToBack measures that case.
func BenchmarkNotebookAttachFiveProbes(b *testing.B) { benchAttach(b, time.Second) }

func BenchmarkNotebookAttachFiveProbesBackToBack(b *testing.B) { benchAttach(b, 0) }

func benchAttach(b *testing.B, pause time.Duration) {
	runtimetest.RequireRoot(b)
	nb, err := kernel.NewNotebook(nil)
	if err != nil {
		b.Fatal(err)
	}
	tk := startKernel(b, func(c *kernel.Config) { c.Executor = nb })
	c := tk.client(b, "")
	c.Execute(fiveProbes) // the first compile reads tracefs formats
	var kernelMS, clientMS []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if pause > 0 {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
		}
		t0 := time.Now()
		id := c.Send("shell", "execute_request", kerneltest.ExecuteContent(fiveProbes))
		var attached time.Duration
		for {
			m := c.IOPub()
			if kerneltest.ParentID(m) != id {
				continue
			}
			if m.Header.MsgType == "display_data" && attached == 0 {
				attached = time.Since(t0)
				meta := kerneltest.Content(b, m)["metadata"].(map[string]any)["tracebook"].(map[string]any)
				kernelMS = append(kernelMS, meta["attach_ms"].(float64))
				if int(meta["probes"].(float64)) != 5 {
					b.Fatalf("%v probes attached", meta["probes"])
				}
			}
			if m.Header.MsgType == "status" && kerneltest.Content(b, m)["execution_state"] == "idle" {
				break
			}
		}
		for {
			if r := c.Reply("shell"); kerneltest.ParentID(r) == id {
				break
			}
		}
		clientMS = append(clientMS, float64(attached.Microseconds())/1000)
	}
	// Medians: a cell that happens to wait for some other process's
	// tracepoint release (the mutex is the whole machine's) is an outlier.
	b.ReportMetric(median(clientMS), "attached-ms")
	b.ReportMetric(median(kernelMS), "kernel-ms")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
