package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/kernel/kerneltest"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// Leak tests: whatever ends a run, a cell, a session or the process, none
// of the BPF programs, links, maps, BTF objects or perf events it made
// stays in the kernel, and no tracefs probe event is left behind. Objects
// are followed by their kernel ids (runtimetest.Objects): the ids a
// process held are looked up through the BPF syscall after it ended, so
// other tracers running meanwhile do not disturb the count.

// leakProgram attaches 30 syscall tracepoints (a wildcard), the
// scheduler's switch tracepoint, a uprobe and a software event, and exits
// when this test calls kill(-424242, 0).
const leakProgram = `tracepoint:syscalls:sys_enter_get* { @calls[probe] = count(); }
tracepoint:sched:sched_switch { @switches = count(); }
uprobe:/bin/bash:main { @bash = count(); }
software:cpu-clock:1000000 { @ticks = count(); }
tracepoint:syscalls:sys_enter_kill /args->pid == -424242 && args->sig == 0/ { printf("exit requested\n"); exit(); }
`

// becomeSubreaper makes this process adopt its orphaned descendants, so
// the perf-event release helper a command run leaves behind
// (runtime/release.go) becomes our child when the run's process ends,
// and the test can find it, kill it and wait for it.
func becomeSubreaper(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
}

// adoptedHelpers lists our children that are release helpers.
func adoptedHelpers() []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b)[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if strings.Contains(string(env), "TRACEBOOK_RELEASE_FDS=") {
			out = append(out, pid)
		}
	}
	return out
}

// reap waits up to d for adopted process pid to end.
func reap(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if got == pid || err == unix.ECHILD {
			return
		}
	}
	t.Errorf("release helper %d still running after %v", pid, d)
}

// gone waits (freeing is asynchronous in the kernel: RCU, workqueues)
// until none of objs exists, or fails listing what is left.
func gone(t *testing.T, what string, objs runtimetest.Objects) {
	t.Helper()
	var left runtimetest.Objects
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		left = objs.Alive()
		if left.Empty() {
			return
		}
	}
	t.Errorf("%s: still in the kernel: %s", what, left.Describe())
}

// TestCLILeavesNothing runs the command with probes of every kind this
// kernel has and ends it each way it can end: exit(), SIGINT, SIGTERM,
// SIGKILL, and a normal end whose release helper is SIGKILLed while it
// still holds the perf events.
func TestCLILeavesNothing(t *testing.T) {
	runtimetest.RequireRoot(t)
	runtimetest.HostOnly(t, "five runs of 33 probes each, whose perf events the kernel releases one after another: minutes under emulation")
	becomeSubreaper(t)
	events0 := runtimetest.DynamicEvents()
	for _, end := range []string{"exit", "SIGINT", "SIGTERM", "SIGKILL", "helper SIGKILL"} {
		t.Run(end, func(t *testing.T) {
			cmd := exec.Command(tracebookArgv(t)[0], "-e", leakProgram)
			cmd.Env = append(os.Environ(), asCommandEnv+"=1", "__BPFTRACE_NOTIFY_PROBES_ATTACHED=1")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout = nil
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			attached := make(chan bool, 1)
			var errText strings.Builder
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					if sc.Text() == "__BPFTRACE_NOTIFY_PROBES_ATTACHED" {
						attached <- true
					}
					errText.WriteString(sc.Text() + "\n")
				}
				close(attached)
			}()
			if !<-attached {
				cmd.Wait()
				t.Fatalf("the run did not attach:\n%s", errText.String())
			}
			held, err := runtimetest.ProcessObjects(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("attached: %s", held.Count())
			if len(held.Links) < 33 || held.PerfEvents < 33 || len(held.Progs) < 5 || len(held.Maps) < 5 {
				t.Errorf("fewer objects than probes: %s", held.Count())
			}
			switch end {
			case "exit", "helper SIGKILL":
				syscall.Kill(-424242, 0)
			case "SIGINT":
				cmd.Process.Signal(syscall.SIGINT)
			case "SIGTERM":
				cmd.Process.Signal(syscall.SIGTERM)
			case "SIGKILL":
				cmd.Process.Kill()
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if end != "SIGKILL" && err != nil {
					t.Errorf("exit: %v\n%s", err, errText.String())
				}
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the run did not end")
			}
			helpers := adoptedHelpers()
			if end != "SIGKILL" && len(helpers) == 0 {
				t.Logf("no release helper was still running")
			}
			for _, h := range helpers {
				if end == "helper SIGKILL" {
					o, _ := runtimetest.ProcessObjects(h)
					t.Logf("release helper %d holds %d perf events; killing it", h, o.PerfEvents)
					syscall.Kill(h, syscall.SIGKILL)
				}
				reap(t, h, 10*time.Second)
			}
			gone(t, "after the run", held)
		})
	}
	if ev := runtimetest.DynamicEvents(); !slices.Equal(ev, events0) {
		t.Errorf("tracefs probe events changed:\nbefore %q\nafter  %q", events0, ev)
	}
}

// sessionObject reports whether a map or program may outlive the cell
// that created it: the session's bpftrace maps (AT_*) and their
// write-combining slots (SL_*) with the program that flushes them, its
// shared internal maps, and the barrier program.
func sessionObject(name string) bool {
	return strings.HasPrefix(name, "AT_") || strings.HasPrefix(name, "SL_") || codegen.IsSharedInternal(name) ||
		name == "tb_sync" || name == "tb_flush"
}

// TestKernelProcessLeavesNothing runs cells on the real kernel and checks
// what stays in the kernel after each way a cell, a background run, the
// session and the process can end.
func TestKernelProcessLeavesNothing(t *testing.T) {
	runtimetest.HostOnly(t, "six cells of 32 probes each, whose perf events the kernel releases one after another: minutes under emulation")
	events0 := runtimetest.DynamicEvents()
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	c := p.Client(t, "")
	pid := p.Pid()
	objects := func() runtimetest.Objects {
		o, err := runtimetest.ProcessObjects(pid)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	idle := objects()
	t.Logf("idle kernel: %s", idle.Count())
	var seen []runtimetest.Objects

	// whileAttached sends code, waits for its live display (the probes
	// are attached), returns what the kernel holds then, and leaves the
	// cell running.
	whileAttached := func(code string) (string, runtimetest.Objects) {
		t.Helper()
		id := c.Send("shell", "execute_request", kerneltest.ExecuteContent(code))
		for {
			m := c.IOPub()
			if kerneltest.ParentID(m) == id && m.Header.MsgType == "display_data" {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		o := objects()
		seen = append(seen, o)
		if len(o.Links) <= len(idle.Links) || o.PerfEvents <= idle.PerfEvents {
			t.Errorf("%q: no probes attached? %s", code, o.Count())
		}
		return id, o
	}
	waitReply := func(id string) map[string]any {
		t.Helper()
		for {
			if m := c.Reply("shell"); kerneltest.ParentID(m) == id {
				return kerneltest.Content(t, m)
			}
		}
	}
	// settled checks that the kernel holds only session objects beyond
	// what it held idle, and that what the cell made is gone from the
	// kernel.
	settled := func(what string, during runtimetest.Objects) {
		t.Helper()
		var extra runtimetest.Objects
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			extra = objects().Minus(idle)
			ok := len(extra.Links) == 0 && extra.PerfEvents == 0
			for _, name := range extra.MapNames() {
				if !sessionObject(name) {
					ok = false
				}
			}
			if ok || time.Now().After(deadline) {
				break
			}
		}
		if len(extra.Links) > 0 || extra.PerfEvents > 0 {
			t.Errorf("%s: the kernel still holds %s", what, extra.Describe())
		}
		for id, name := range extra.MapNames() {
			if !sessionObject(name) {
				t.Errorf("%s: the kernel still holds map %d %s", what, id, name)
			}
		}
		// The cell's programs and links are gone from the kernel, not
		// just from the process; its private maps too.
		made := during.Minus(idle)
		gone(t, what, made.Minus(extra))
		t.Logf("%s: beyond idle, the kernel holds %s", what, extra.Count())
	}

	probes := "tracepoint:syscalls:sys_enter_get* { @calls[probe] = count(); }\n" +
		"uprobe:/bin/bash:main { @bash = count(); }\nsoftware:cpu-clock:1000000 { @ticks = count(); }\n"

	id, during := whileAttached("%%trace 500ms\n" + probes)
	if r := waitReply(id); r["status"] != "ok" {
		t.Fatalf("cell: %v", r)
	}
	settled("a cell that ran to its end", during)

	id, during = whileAttached(probes)
	c.Request("control", "interrupt_request", map[string]any{})
	if r := waitReply(id); r["ename"] != "Interrupted" {
		t.Fatalf("interrupted cell: %v", r)
	}
	settled("an interrupted cell", during)

	id, during = whileAttached("%%bg\n" + probes)
	if r := waitReply(id); r["status"] != "ok" {
		t.Fatalf("%%%%bg cell: %v", r)
	}
	if o := objects(); len(o.Links) < len(during.Links) {
		t.Errorf("the background run's probes went with its cell: %s", o.Count())
	}
	if r, _ := c.Execute("%stop"); kerneltest.Content(t, r)["status"] != "ok" {
		t.Fatalf("%%stop: %v", kerneltest.Content(t, r))
	}
	settled("a background run after %stop", during)

	id, during = whileAttached("%%bg\n" + probes)
	waitReply(id)
	if r, _ := c.Execute("%reset"); kerneltest.Content(t, r)["status"] != "ok" {
		t.Fatalf("%%reset: %v", kerneltest.Content(t, r))
	}
	settled("a background run after %reset", during)
	for id, name := range objects().Minus(idle).MapNames() {
		if strings.HasPrefix(name, "AT_") || strings.HasPrefix(name, "SL_") {
			t.Errorf("after %%reset the kernel still holds map %d %s", id, name)
		}
	}

	// Shutdown with a background run and a running cell: the process
	// exits by itself, and everything it ever held is gone.
	id, during = whileAttached("%%bg\n" + probes)
	waitReply(id)
	whileAttached(probes)
	all := objects()
	for _, o := range seen {
		all = union(all, o)
	}
	reply, _ := c.Request("control", "shutdown_request", map[string]any{"restart": false})
	if kerneltest.Content(t, reply)["status"] != "ok" {
		t.Fatalf("shutdown: %v", kerneltest.Content(t, reply))
	}
	if exited, err := p.Wait(10 * time.Second); !exited || err != nil {
		t.Fatalf("after shutdown_request the kernel exited %v (%v)", exited, err)
	}
	gone(t, "after shutdown", all)
	if ev := runtimetest.DynamicEvents(); !slices.Equal(ev, events0) {
		t.Errorf("tracefs probe events changed:\nbefore %q\nafter  %q", events0, ev)
	}
}

// A kernel killed with SIGKILL, with a background run and a running cell,
// leaves nothing either: the kernel frees what a dead process held.
func TestKernelProcessKilledLeavesNothing(t *testing.T) {
	runtimetest.HostOnly(t, "32 probes whose perf events the kernel releases one after another: a minute under emulation")
	events0 := runtimetest.DynamicEvents()
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	c := p.Client(t, "")
	bg := c.Send("shell", "execute_request", kerneltest.ExecuteContent("%%bg\ntracepoint:syscalls:sys_enter_get* { @bg = count(); }"))
	for {
		if m := c.Reply("shell"); kerneltest.ParentID(m) == bg {
			break
		}
	}
	id := c.Send("shell", "execute_request", kerneltest.ExecuteContent(
		"uprobe:/bin/bash:main { @bash = count(); }\ntracepoint:sched:sched_switch { @s = count(); }"))
	for {
		if m := c.IOPub(); kerneltest.ParentID(m) == id && m.Header.MsgType == "display_data" {
			break
		}
	}
	held, err := runtimetest.ProcessObjects(p.Pid())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before SIGKILL the kernel holds %s", held.Count())
	if len(held.Links) < 32 {
		t.Errorf("probes not attached? %s", held.Count())
	}
	p.Cmd.Process.Kill()
	if exited, _ := p.Wait(10 * time.Second); !exited {
		t.Fatal("the kernel survived SIGKILL")
	}
	gone(t, "after SIGKILL", held)
	if ev := runtimetest.DynamicEvents(); !slices.Equal(ev, events0) {
		t.Errorf("tracefs probe events changed:\nbefore %q\nafter  %q", events0, ev)
	}
}

func union(a, b runtimetest.Objects) runtimetest.Objects {
	for _, s := range []struct{ to, from map[uint32]bool }{{a.Progs, b.Progs}, {a.Maps, b.Maps}, {a.Links, b.Links}, {a.BTF, b.BTF}} {
		for id := range s.from {
			s.to[id] = true
		}
	}
	a.PerfEvents = max(a.PerfEvents, b.PerfEvents)
	return a
}
