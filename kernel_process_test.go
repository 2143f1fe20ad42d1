package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/kernel"
	"github.com/tracebook/tracebook/kernel/kerneltest"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// Tests of the kernel as Jupyter runs it: `tracebook --kernel FILE` as a
// process of its own (this test binary, run as the command), serving the
// bpftrace executor, driven by kerneltest's in-process client. Kernel
// tier: the executor loads programs.

// startKernelProcess starts the real kernel on ci, its connection file
// written with mode.
func startKernelProcess(t *testing.T, ci kernel.ConnectionInfo, mode os.FileMode) *kerneltest.Process {
	t.Helper()
	runtimetest.RequireRoot(t)
	return kerneltest.StartProcess(t, tracebookArgv(t), []string{asCommandEnv + "=1"}, ci, mode)
}

// listening returns the local addresses of the TCP sockets process pid
// listens on, from /proc/net/tcp and tcp6 matched against the socket
// inodes among its descriptors.
func listening(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" || !inodes[fs[9]] { // 0A: LISTEN
				continue
			}
			out = append(out, procNetAddr(t, fs[1]))
		}
	}
	slices.Sort(out)
	return out
}

// procNetAddr decodes /proc/net/tcp's "0100007F:1F90" (the address in
// host order, 32 bits at a time) to "127.0.0.1:8080".
func procNetAddr(t *testing.T, s string) string {
	a, p, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(a)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		ip[i], ip[i+1], ip[i+2], ip[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, _ := strconv.ParseUint(p, 16, 16)
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}

// The kernel binds its five sockets on the connection file's address and
// nowhere else: nothing listens on 0.0.0.0 or :: when the file says
// 127.0.0.1 (or 127.0.0.2, so the address is seen to come from the file).
func TestKernelProcessBindsOnlyItsAddress(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		t.Run(ip, func(t *testing.T) {
			ci := kerneltest.NewConnection(t, ip)
			p := startKernelProcess(t, ci, 0o600)
			p.Client(t, "")
			var want []string
			for _, port := range []int{ci.ShellPort, ci.IOPubPort, ci.StdinPort, ci.ControlPort, ci.HBPort} {
				want = append(want, net.JoinHostPort(ip, strconv.Itoa(port)))
			}
			slices.Sort(want)
			got := listening(t, p.Pid())
			if !slices.Equal(got, want) {
				t.Errorf("the kernel listens on %v, want exactly %v", got, want)
			}
			for _, a := range got {
				if strings.HasPrefix(a, "0.0.0.0:") || strings.HasPrefix(a, "[::]:") {
					t.Errorf("the kernel listens on every interface: %s", a)
				}
			}
			// The same seen by ss, the tool an administrator would use.
			if ss, err := exec.LookPath("ss"); err == nil {
				out, _ := exec.Command(ss, "-Hltnp").Output()
				for _, line := range strings.Split(string(out), "\n") {
					if strings.Contains(line, fmt.Sprintf("pid=%d,", p.Pid())) && !strings.Contains(line, ip+":") {
						t.Errorf("ss: %s", line)
					}
				}
			}
		})
	}
}

// A connection file readable by group or others earns a warning: its key
// lets whoever reads it run code as root. A 0600 file does not.
func TestKernelProcessWarnsAboutReadableConnectionFile(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o600} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), mode)
			p.Client(t, "")
			warned := strings.Contains(p.Stderr(), "group or others can read its key")
			if want := mode&0o077 != 0; warned != want {
				t.Errorf("mode %04o: warned %v, want %v; stderr:\n%s", mode, warned, want, p.Stderr())
			}
			if warned && !strings.Contains(p.Stderr(), fmt.Sprintf("mode %04o", mode)) {
				t.Errorf("the warning does not give the mode:\n%s", p.Stderr())
			}
		})
	}
}

// forgeries are the ways a message can fail authentication: a wrong
// signature, none, one made with another key.
func forgeries(t *testing.T, c *kerneltest.Client, m *kernel.Message) map[string][][]byte {
	t.Helper()
	good := kernel.EncodeFrames(m, c.Signer())
	bad := slices.Clone(good)
	sig := []byte(string(good[1]))
	sig[0] ^= 1
	bad[1] = sig
	missing := slices.Clone(good)
	missing[1] = []byte{}
	other, err := kernel.NewSigner("hmac-sha256", "not-the-key")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][][]byte{"wrong signature": bad, "no signature": missing,
		"another key": kernel.EncodeFrames(m, other)}
}

// Messages with a bad or missing signature are dropped, and logged, on
// every channel: shell, control (where interrupt and shutdown would act
// at once) and stdin. A forged interrupt does not stop a running trace,
// a forged shutdown does not end the kernel, a forged execute runs
// nothing.
func TestKernelProcessDropsForgedMessages(t *testing.T) {
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	c := p.Client(t, "")
	sent := map[string]int{}
	forge := func(channel, msgType string, content any) {
		for name, frames := range forgeries(t, c, c.NewMessage(msgType, content)) {
			c.SendFrames(channel, frames)
			sent[channel]++
			if r, err := c.TryReply(channel, 200*time.Millisecond); err == nil && channel != "stdin" {
				t.Errorf("%s %s (%s) was answered: %s", channel, msgType, name, r.Header.MsgType)
			}
		}
	}
	forge("shell", "kernel_info_request", map[string]any{})
	forge("shell", "execute_request", kerneltest.ExecuteContent(`BEGIN { @forged = 1; }`))
	forge("control", "kernel_info_request", map[string]any{})
	forge("control", "shutdown_request", map[string]any{"restart": false})
	forge("stdin", "input_reply", map[string]any{"value": "x"})

	// A forged interrupt during a running cell leaves it running to its
	// duration.
	id := c.Send("shell", "execute_request", kerneltest.ExecuteContent("%%trace 1500ms\ntracepoint:sched:sched_switch { @s = count(); }"))
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	forge("control", "interrupt_request", map[string]any{})
	forge("shell", "interrupt_request", map[string]any{})
	var reply *kernel.Message
	for reply == nil {
		if m := c.Reply("shell"); kerneltest.ParentID(m) == id {
			reply = m
		}
	}
	if st := kerneltest.Content(t, reply)["status"]; st != "ok" {
		t.Errorf("the trace was stopped by a forged interrupt: %v", kerneltest.Content(t, reply))
	}
	if d := time.Since(t0); d < 700*time.Millisecond {
		t.Errorf("the trace ended %v after the forged interrupts, before its duration", d)
	}
	// Still alive, and the forged execute created nothing.
	r, msgs := c.Execute("%maps")
	if kerneltest.Content(t, r)["status"] != "ok" {
		t.Fatalf("%%maps: %v", kerneltest.Content(t, r))
	}
	for _, m := range msgs {
		if strings.Contains(string(m.Content), "@forged") {
			t.Errorf("a forged execute_request ran: %s", m.Content)
		}
	}
	if p.Exited() {
		t.Fatal("a forged shutdown_request ended the kernel")
	}
	logs := p.Stderr()
	for channel, n := range sent {
		got := strings.Count(logs, channel+": dropped a message: bad or missing signature")
		if got != n {
			t.Errorf("%s: %d forged messages logged as dropped, want %d", channel, got, n)
		}
	}
}

// system(), signal() and override() are refused unless the session is
// unsafe: in a notebook until `%unsafe on`, with an error that points at
// the call and says how to allow it; once allowed, they work (override
// then fails for this kernel's lack of kprobes, not for safety).
func TestKernelProcessUnsafeFunctions(t *testing.T) {
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	c := p.Client(t, "")
	cells := []struct {
		code, fn, span string
	}{
		{`BEGIN { system("echo unsafe-ran"); exit(); }`, "system", "1:9-34"},
		{"tracepoint:syscalls:sys_enter_getppid { signal(9); }", "signal", "1:41-50"},
		{"kprobe:vfs_read { override(-1); }", "override", "1:19-31"},
	}
	for _, cell := range cells {
		r, _ := c.Execute(cell.code)
		rc := kerneltest.Content(t, r)
		want := cell.fn + "() is an unsafe function being used in safe mode"
		tb := fmt.Sprint(rc["traceback"])
		if rc["ename"] != "CompileError" || rc["evalue"] != want || !strings.Contains(tb, cell.span) ||
			!strings.Contains(tb, "%unsafe on") {
			t.Errorf("%s without %%unsafe: %v %v\n%s", cell.fn, rc["ename"], rc["evalue"], tb)
		}
	}
	if r, _ := c.Execute("%unsafe on"); kerneltest.Content(t, r)["status"] != "ok" {
		t.Fatal("%unsafe on failed")
	}
	// system() runs its command.
	r, msgs := c.Execute(cells[0].code)
	if kerneltest.Content(t, r)["status"] != "ok" || !strings.Contains(streamText(t, msgs), "unsafe-ran") {
		t.Errorf("system() with %%unsafe on: %v\n%s", kerneltest.Content(t, r), streamText(t, msgs))
	}
	// signal() kills the -c command, which ends the trace long before
	// its duration.
	t0 := time.Now()
	r, _ = c.Execute("%%trace 20s -c 'sleep 30'\ntracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { signal(9); }")
	if kerneltest.Content(t, r)["status"] != "ok" || time.Since(t0) > 10*time.Second {
		t.Errorf("signal() with %%unsafe on: %v after %v", kerneltest.Content(t, r), time.Since(t0))
	}
	// override() is allowed; this kernel then refuses its kprobe.
	r, _ = c.Execute(cells[2].code)
	if rc := kerneltest.Content(t, r); strings.Contains(fmt.Sprint(rc["evalue"], rc["traceback"]), "unsafe") {
		t.Errorf("override() with %%unsafe on is still refused as unsafe: %v", rc)
	}
	if r, _ := c.Execute("%unsafe off"); kerneltest.Content(t, r)["status"] != "ok" {
		t.Fatal("%unsafe off failed")
	}
	if r, _ := c.Execute(cells[0].code); kerneltest.Content(t, r)["ename"] != "CompileError" {
		t.Errorf("system() after %%unsafe off: %v", kerneltest.Content(t, r))
	}
}

// The command line refuses them without --unsafe, pointing at the call,
// and allows them with it.
func TestCLIUnsafeFunctions(t *testing.T) {
	runtimetest.RequireRoot(t)
	cmd := func(args ...string) *exec.Cmd {
		c := exec.Command(tracebookArgv(t)[0], args...)
		c.Env = append(os.Environ(), asCommandEnv+"=1")
		return c
	}
	for _, tt := range []struct {
		prog, msg string
	}{
		{`BEGIN { system("echo unsafe-ran"); exit(); }`,
			"stdin:1:9-34: ERROR: system() is an unsafe function being used in safe mode\n" +
				`BEGIN { system("echo unsafe-ran"); exit(); }` + "\n        ~~~~~~~~~~~~~~~~~~~~~~~~~\n"},
		{`tracepoint:syscalls:sys_enter_getppid { signal(9); }`,
			"stdin:1:41-50: ERROR: signal() is an unsafe function being used in safe mode\n"},
		{`kprobe:vfs_read { override(-1); }`,
			"stdin:1:19-31: ERROR: override() is an unsafe function being used in safe mode\n"},
	} {
		out, err := cmd("-e", tt.prog).CombinedOutput()
		if code := exitCode(err); code != 1 || !strings.Contains(string(out), tt.msg) {
			t.Errorf("%s: exit %d, output:\n%s\nwant it to contain:\n%s", tt.prog, code, out, tt.msg)
		}
	}
	out, err := cmd("--unsafe", "-e", `BEGIN { system("echo unsafe-ran"); exit(); }`).CombinedOutput()
	if exitCode(err) != 0 || !strings.Contains(string(out), "unsafe-ran") {
		t.Errorf("system() with --unsafe: %v\n%s", err, out)
	}
	t0 := time.Now()
	out, err = cmd("--unsafe", "-c", "sleep 30",
		"-e", "tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { signal(9); }").CombinedOutput()
	if exitCode(err) != 0 || time.Since(t0) > 10*time.Second {
		t.Errorf("signal() with --unsafe: %v after %v\n%s", err, time.Since(t0), out)
	}
	out, _ = cmd("--unsafe", "-e", `kprobe:vfs_read { override(-1); }`).CombinedOutput()
	if strings.Contains(string(out), "unsafe") {
		t.Errorf("override() with --unsafe is still refused as unsafe:\n%s", out)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// streamText joins a cell's stream output.
func streamText(t *testing.T, msgs []*kernel.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		if m.Header.MsgType == "stream" {
			b.WriteString(kerneltest.Content(t, m)["text"].(string))
		}
	}
	return b.String()
}
