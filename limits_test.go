package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracebook/tracebook/kernel/kerneltest"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// The limits a run can hit each give a message that says what happened
// and points at the place in the program, on the command line and in a
// notebook: a full map, lost events, a string cut at its buffer, a
// program the verifier refuses (its log on request: -v, %verbose on).

// longPath is a path longer than a default str() buffer (64 bytes).
var longPath = "/nonexistent/" + strings.Repeat("x", 100)

// floodProgram sends far more printf events than can be read: 1.8 M a
// second of 72-byte records.
const floodProgram = `profile:hz:2999 { $i = 0; while ($i < 300) { printf("flood %d %s %s %s\n", $i, comm, comm, comm); $i++; } }`

func TestCLILimitMessages(t *testing.T) {
	runtimetest.RequireRoot(t)
	run := func(env []string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(tracebookArgv(t)[0], args...)
		cmd.Env = append(append(os.Environ(), asCommandEnv+"=1"), env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), exitCode(err)
	}
	contains := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: output lacks %q:\n%s", what, w, got)
			}
		}
	}

	_, stderr, _ := run([]string{"BPFTRACE_MAP_KEYS_MAX=2"}, "-e", "BEGIN { @[1] = 1; @[2] = 2; @[3] = 3; exit(); }")
	contains("full map", stderr,
		"stdin:1:9-17: WARNING: Map full; can't update element of @ (1 times). Try increasing BPFTRACE_MAP_KEYS_MAX (now 2)\n"+
			"BEGIN { @[1] = 1; @[2] = 2; @[3] = 3; exit(); }\n        ~~~~~~~~\nthe first of 3 statements that update @\n")

	_, stderr, _ = run(nil, "-c", "/bin/cat "+longPath,
		"-e", `tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("%s\n", str(args->filename)); }`)
	contains("string cut", stderr, "stdin:1:69-88: WARNING: str() filled its 64-byte buffer in 1 of",
		"longer strings were probably cut to 63 bytes", "BPFTRACE_STRLEN")
	_, stderr, _ = run([]string{"BPFTRACE_STRLEN=200"}, "-c", "/bin/cat "+longPath,
		"-e", `tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("%s\n", str(args->filename)); }`)
	if strings.Contains(stderr, "str() filled") {
		t.Errorf("with BPFTRACE_STRLEN=200 the path fits, yet:\n%s", stderr)
	}

	// Lost events: bpftrace's "Lost N events" as they happen, and one
	// warning at the end pointing at the printf.
	cmd := exec.Command(tracebookArgv(t)[0], "-q", "-e", floodProgram)
	cmd.Env = append(os.Environ(), asCommandEnv+"=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	contains("lost events", o.String(), "Lost ")
	contains("lost events", e.String(), "stdin:1:46-97: WARNING: ", " events lost: the ring buffer that carries them to user space was full\n",
		"this printf sent 100% of the ")

	// The verifier's refusal, at the statement; its log with -v.
	const loop = "BEGIN {\n  $i = 0;\n  while (1) { $i = 1; }\n  exit();\n}"
	_, stderr, code := run(nil, "-e", loop)
	if code != 255 {
		t.Errorf("verifier: exit %d", code)
	}
	contains("verifier", stderr, "stdin:3:", "ERROR: the kernel's BPF verifier rejected the program: ")
	if strings.Contains(stderr, "processed ") {
		t.Errorf("the verifier's log without -v:\n%s", stderr)
	}
	_, stderr, _ = run(nil, "-v", "-e", loop)
	contains("verifier -v", stderr, "stdin:3:3-12: ERROR: the kernel's BPF verifier rejected the program: infinite loop detected",
		"verifier log:", "processed ")
}

func TestKernelProcessLimitMessages(t *testing.T) {
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	c := p.Client(t, "")
	stderrOf := func(code string) string {
		t.Helper()
		r, msgs := c.Execute(code)
		if st := kerneltest.Content(t, r)["status"]; st != "ok" {
			t.Fatalf("%q: %v", code, kerneltest.Content(t, r))
		}
		var b strings.Builder
		for _, m := range msgs {
			if m.Header.MsgType == "stream" && kerneltest.Content(t, m)["name"] == "stderr" {
				b.WriteString(kerneltest.Content(t, m)["text"].(string))
			}
		}
		return b.String()
	}
	contains := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, w, got)
			}
		}
	}
	stderrOf("%set mapsize 2")
	contains("full map", stderrOf("BEGIN { @[1] = 1; @[2] = 2; @[3] = 3; exit(); }"),
		"cell[2]:1:9-17: WARNING: Map full; can't update element of @ (1 times). Try increasing %set mapsize (now 2)\n",
		"BEGIN { @[1] = 1; @[2] = 2; @[3] = 3; exit(); }\n        ~~~~~~~~\nthe first of 3 statements that update @\n")

	contains("string cut", stderrOf("%%trace 10s -c '/bin/cat "+longPath+"'\n"+
		`tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("%s\n", str(args->filename)); }`),
		"cell[3]:2:69-88: WARNING: str() filled its 64-byte buffer in 1 of", "%set strlen")

	// A flood: the stdout cap cuts the printf output, not the warning.
	id := c.Send("shell", "execute_request", kerneltest.ExecuteContent(floodProgram))
	time.Sleep(2 * time.Second)
	c.Send("control", "interrupt_request", map[string]any{})
	var stderr, stdout strings.Builder
	for {
		m := c.IOPub()
		if kerneltest.ParentID(m) != id {
			continue
		}
		if m.Header.MsgType == "stream" {
			if kerneltest.Content(t, m)["name"] == "stderr" {
				stderr.WriteString(kerneltest.Content(t, m)["text"].(string))
			} else {
				stdout.WriteString(kerneltest.Content(t, m)["text"].(string))
			}
		}
		if m.Header.MsgType == "status" && kerneltest.Content(t, m)["execution_state"] == "idle" {
			break
		}
	}
	contains("lost events", stderr.String(), "cell[4]:1:46-97: WARNING: ", " events lost: the ring buffer that carries them to user space was full\n",
		"this printf sent 100% of the ")
	contains("lost events", stdout.String(), " more lines cut]")
}
