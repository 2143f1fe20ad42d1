package runtime_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// eventsProg is the program codegen's event output looks like: on
// sys_enter_getppid of process tgid it emits a 32-byte record (pid_tgid,
// ktime, cpu, sequence 0) with BPF_RB_NO_WAKEUP and counts a failed output
// in the drops map.
func eventsProg(tb testing.TB, events, drops *ebpf.Map, tgid int) *ebpf.Program {
	tb.Helper()
	insns := asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, int32(tgid), "out"),
		asm.StoreMem(asm.R10, -32, asm.R6, asm.DWord),
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.R10, -24, asm.R0, asm.DWord),
		asm.FnGetSmpProcessorId.Call(),
		asm.StoreMem(asm.R10, -16, asm.R0, asm.DWord),
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0).WithReference(runtime.EventsMapName),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -32),
		asm.Mov.Imm(asm.R3, 32),
		asm.Mov.Imm(asm.R4, runtime.RingbufNoWakeup),
		asm.FnRingbufOutput.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreImm(asm.R10, -36, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -36),
		asm.LoadMapPtr(asm.R1, 0).WithReference(runtime.DropsMapName),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	if err := insns.AssociateMap(runtime.EventsMapName, events); err != nil {
		tb.Fatal(err)
	}
	if err := insns.AssociateMap(runtime.DropsMapName, drops); err != nil {
		tb.Fatal(err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.TracePoint, License: "GPL", Instructions: insns})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { prog.Close() })
	return prog
}

func newMap(tb testing.TB, spec *ebpf.MapSpec) *ebpf.Map {
	tb.Helper()
	m, err := ebpf.NewMap(spec)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

var getppidAP = &lang.AttachPoint{Provider: "tracepoint", Target: "syscalls", Func: "sys_enter_getppid"}

func TestEventReader(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureRingbuf)
	events := newMap(t, runtime.EventsMapSpec(0))
	drops := newMap(t, runtime.DropsMapSpec())
	prog := eventsProg(t, events, drops, os.Getpid())
	l, err := runtime.Attach(prog, getppidAP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	rd, err := runtime.NewEventReader(events, &runtime.EventReaderOptions{MaxBatch: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got, bad int
	maxBatch := 0
	errc := make(chan error, 1)
	go func() {
		errc <- rd.Run(func(batch [][]byte) error {
			maxBatch = max(maxBatch, len(batch))
			for _, rec := range batch {
				if len(rec) != 32 || int(binary.LittleEndian.Uint64(rec)>>32) != os.Getpid() {
					bad++
				}
				got++
			}
			return nil
		})
	}()
	const n = 10000
	for range n {
		syscall.Getppid()
	}
	// With NO_WAKEUP nothing wakes the reader: the poll interval must.
	deadline := time.Now().Add(2 * time.Second)
	for rd.Records() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	rd.Stop()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got != n || bad != 0 {
		t.Errorf("delivered %d records (%d malformed), want %d", got, bad, n)
	}
	if maxBatch > 100 {
		t.Errorf("a batch held %d records, more than MaxBatch", maxBatch)
	}
	if d, err := runtime.ReadDrops(drops); err != nil || d != 0 {
		t.Errorf("drops %d (%v), want 0 with a 16 MiB ring", d, err)
	}
}

// TestEventReaderStopDrains checks that Stop delivers what was written
// before it, even when the reader was never woken.
func TestEventReaderStopDrains(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureRingbuf)
	events := newMap(t, runtime.EventsMapSpec(0))
	drops := newMap(t, runtime.DropsMapSpec())
	prog := eventsProg(t, events, drops, os.Getpid())
	l, err := runtime.Attach(prog, getppidAP, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		syscall.Getppid()
	}
	l.Close()
	rd, err := runtime.NewEventReader(events, &runtime.EventReaderOptions{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := 0
	errc := make(chan error, 1)
	go func() { errc <- rd.Run(func(b [][]byte) error { got += len(b); return nil }) }()
	time.Sleep(20 * time.Millisecond)
	rd.Stop()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	if got != 500 {
		t.Errorf("drained %d records, want 500", got)
	}
}

// TestEventReaderDrops fills a small ring with no reader: the outputs that
// do not fit are counted in the drops map, and delivered + dropped is
// exactly what was emitted.
func TestEventReaderDrops(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureRingbuf)
	events := newMap(t, runtime.EventsMapSpec(uint32(os.Getpagesize())))
	drops := newMap(t, runtime.DropsMapSpec())
	prog := eventsProg(t, events, drops, os.Getpid())
	l, err := runtime.Attach(prog, getppidAP, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for range n {
		syscall.Getppid()
	}
	l.Close()
	rd, err := runtime.NewEventReader(events, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := 0
	errc := make(chan error, 1)
	go func() { errc <- rd.Run(func(b [][]byte) error { got += len(b); return nil }) }()
	time.Sleep(20 * time.Millisecond)
	rd.Stop()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	d, err := runtime.ReadDrops(drops)
	if err != nil {
		t.Fatal(err)
	}
	if d == 0 || uint64(got)+d != n {
		t.Errorf("delivered %d + dropped %d, want a total of %d with some drops", got, d, n)
	}
}

// BenchmarkEventReaderThroughput measures the channel as the product uses
// it: a separate process makes 3e6 getppid calls, a tracepoint program
// emits a 32-byte record for each with NO_WAKEUP into a 16 MiB ring, and
// the reader (polling every 5 ms) delivers them. It reports delivered
// events per second of the workload and the drops.
func BenchmarkEventReaderThroughput(b *testing.B) {
	runtimetest.Require(b, runtime.FeatureRingbuf)
	bin := runtimetest.BuildC(b, "getppid", `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
	long n = atol(argv[1]);
	char l[4];
	if (!fgets(l, sizeof l, stdin)) return 1;
	for (long i = 0; i < n; i++) syscall(SYS_getppid);
	puts("done");
	return 0;
}`, "-O2")
	const n = 3000000
	var totalEvents, totalDrops uint64
	var totalTime time.Duration
	for b.Loop() {
		cmd, stdin, out := startTarget(b, bin, strconv.Itoa(n))
		events := newMap(b, runtime.EventsMapSpec(0))
		drops := newMap(b, runtime.DropsMapSpec())
		prog := eventsProg(b, events, drops, cmd.Process.Pid)
		l, err := runtime.Attach(prog, getppidAP, nil)
		if err != nil {
			b.Fatal(err)
		}
		rd, err := runtime.NewEventReader(events, nil)
		if err != nil {
			b.Fatal(err)
		}
		var got uint64
		errc := make(chan error, 1)
		go func() {
			errc <- rd.Run(func(batch [][]byte) error { got += uint64(len(batch)); return nil })
		}()
		start := time.Now()
		fmt.Fprintln(stdin, "go")
		readLine(b, out)
		cmd.Wait()
		produced := time.Since(start)
		b.Logf("workload done after %v, %d delivered by then", produced, rd.Records())
		for rd.Records()+mustDrops(b, drops) < n && time.Since(start) < 30*time.Second {
			time.Sleep(100 * time.Microsecond)
		}
		elapsed := time.Since(start)
		rd.Stop()
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		d := mustDrops(b, drops)
		rd.Close()
		l.Close()
		totalEvents += got
		totalDrops += d
		totalTime += elapsed
	}
	b.ReportMetric(float64(totalEvents)/totalTime.Seconds(), "events/s")
	b.ReportMetric(float64(totalDrops)/float64(b.N), "drops/op")
}

func mustDrops(tb testing.TB, m *ebpf.Map) uint64 {
	d, err := runtime.ReadDrops(m)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
