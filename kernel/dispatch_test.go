package kernel_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tracebook/tracebook/kernel"
	"github.com/tracebook/tracebook/kernel/kerneltest"
)

// testKernel is a kernel serving the fake executor on ephemeral ports.
type testKernel struct {
	k      *kernel.Kernel
	fake   *kerneltest.Fake
	ci     kernel.ConnectionInfo
	done   chan error
	cancel context.CancelFunc
	logs   *kerneltest.LockedBuffer
}

func startKernel(t testing.TB, configure ...func(*kernel.Config)) *testKernel {
	t.Helper()
	fake := &kerneltest.Fake{}
	logs := &kerneltest.LockedBuffer{}
	cfg := kernel.Config{
		Connection: kernel.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1",
			SignatureScheme: "hmac-sha256", Key: uuid.NewString()},
		Executor: fake,
		Logger:   log.New(logs, "", 0),
	}
	for _, c := range configure {
		c(&cfg)
	}
	k, err := kernel.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tk := &testKernel{k: k, fake: fake, ci: k.Connection(), done: make(chan error, 1), cancel: cancel, logs: logs}
	go func() { tk.done <- k.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-tk.done:
		case <-time.After(kerneltest.Timeout):
			t.Error("kernel did not stop")
		}
		if t.Failed() {
			t.Logf("kernel log:\n%s", logs.String())
		}
	})
	return tk
}

func (tk *testKernel) client(t testing.TB, identity string) *kerneltest.Client {
	t.Helper()
	c := kerneltest.Dial(t, tk.ci, identity)
	t.Cleanup(c.Close)
	c.WaitReady()
	return c
}

func content(t *testing.T, m *kernel.Message) map[string]any { return kerneltest.Content(t, m) }

func TestExecuteOrdering(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	code := "print hello, world\nresult 42"
	id := c.Send("shell", "execute_request", kerneltest.ExecuteContent(code))
	reply := c.Reply("shell")
	if kerneltest.ParentID(reply) != id || reply.Header.MsgType != "execute_reply" {
		t.Fatalf("reply %s to %s", reply.Header.MsgType, kerneltest.ParentID(reply))
	}
	rc := content(t, reply)
	if rc["status"] != "ok" || rc["execution_count"] != 1.0 {
		t.Errorf("reply %v", rc)
	}
	if _, ok := rc["user_expressions"].(map[string]any); !ok {
		t.Errorf("user_expressions must be {}: %v", rc)
	}
	msgs := c.Collect(id)
	want := []string{"status:busy", "execute_input", "stream", "execute_result", "status:idle"}
	if got := kerneltest.Types(msgs); !slices.Equal(got, want) {
		t.Fatalf("iopub %v, want %v", got, want)
	}
	if in := content(t, msgs[1]); in["code"] != code || in["execution_count"] != 1.0 {
		t.Errorf("execute_input %v", in)
	}
	if s := content(t, msgs[2]); s["name"] != "stdout" || s["text"] != "hello, world\n" {
		t.Errorf("stream %v", s)
	}
	if r := content(t, msgs[3]); r["execution_count"] != 1.0 || r["data"].(map[string]any)["text/plain"] != "42" {
		t.Errorf("execute_result %v", r)
	}
	for _, m := range msgs {
		if m.Header.Version != "5.3" || m.Header.Session == "" || m.Header.Date == "" || m.Header.Username == "" {
			t.Errorf("header %+v", m.Header)
		}
	}
	if !bytes.Contains(msgs[0].Identities[0], []byte(".status")) {
		t.Errorf("iopub topic %q", msgs[0].Identities[0])
	}
}

func TestBusyIdleAroundEveryRequest(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	reqs := []struct {
		channel, typ string
		content      map[string]any
		reply        string
	}{
		{"shell", "kernel_info_request", map[string]any{}, "kernel_info_reply"},
		{"control", "kernel_info_request", map[string]any{}, "kernel_info_reply"},
		{"shell", "execute_request", kerneltest.ExecuteContent("print x"), "execute_reply"},
		{"shell", "complete_request", map[string]any{"code": "pr", "cursor_pos": 2}, "complete_reply"},
		{"shell", "inspect_request", map[string]any{"code": "print", "cursor_pos": 1, "detail_level": 0}, "inspect_reply"},
		{"shell", "is_complete_request", map[string]any{"code": "BEGIN {"}, "is_complete_reply"},
		{"shell", "history_request", map[string]any{"hist_access_type": "tail", "n": 1, "output": false, "raw": true}, "history_reply"},
		{"shell", "comm_info_request", map[string]any{}, "comm_info_reply"},
		{"shell", "connect_request", map[string]any{}, "connect_reply"},
		{"control", "interrupt_request", map[string]any{}, "interrupt_reply"},
		{"shell", "interrupt_request", map[string]any{}, "interrupt_reply"},
	}
	for _, r := range reqs {
		reply, msgs := c.Request(r.channel, r.typ, r.content)
		if reply.Header.MsgType != r.reply {
			t.Errorf("%s on %s: reply %s", r.typ, r.channel, reply.Header.MsgType)
		}
		if got := kerneltest.Types(msgs); got[0] != "status:busy" {
			t.Errorf("%s: iopub %v does not start with busy", r.typ, got)
		}
		if rc := content(t, reply); rc["status"] != "ok" && r.typ != "is_complete_request" {
			t.Errorf("%s: %v", r.typ, rc)
		}
	}
}

func TestKernelInfo(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	reply, _ := c.Request("shell", "kernel_info_request", map[string]any{})
	rc := content(t, reply)
	if rc["protocol_version"] != "5.3" || rc["implementation"] != "tracebook" {
		t.Errorf("reply %v", rc)
	}
	li := rc["language_info"].(map[string]any)
	want := map[string]any{"name": "bpftrace", "file_extension": ".bt", "mimetype": "text/x-bpftrace",
		"pygments_lexer": "c", "codemirror_mode": "text/x-csrc", "version": "0.17"}
	for k, v := range want {
		if li[k] != v {
			t.Errorf("language_info.%s = %v, want %v", k, li[k], v)
		}
	}
	var u syscall.Utsname
	syscall.Uname(&u)
	release := int8sToString(u.Release[:])
	banner := rc["banner"].(string)
	for _, s := range []string{"host kernel: Linux " + release, "BTF: absent", "probe types: fake"} {
		if !strings.Contains(banner, s) {
			t.Errorf("banner lacks %q:\n%s", s, banner)
		}
	}
	if links, ok := rc["help_links"].([]any); !ok || len(links) != 1 {
		t.Errorf("help_links %v", rc["help_links"])
	}
}

func int8sToString(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func TestExecutionCountAndSilent(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	r1, _ := c.Execute("print a")
	nostore := kerneltest.ExecuteContent("print b")
	nostore["store_history"] = false
	r2, _ := c.Request("shell", "execute_request", nostore)
	silent := kerneltest.ExecuteContent("print c\nresult x")
	silent["silent"] = true
	r3, msgs := c.Request("shell", "execute_request", silent)
	r4, _ := c.Execute("   \n")
	r5, _ := c.Execute("print d")
	counts := []any{content(t, r1)["execution_count"], content(t, r2)["execution_count"],
		content(t, r3)["execution_count"], content(t, r4)["execution_count"], content(t, r5)["execution_count"]}
	if fmt.Sprint(counts) != "[1 1 1 1 2]" {
		t.Errorf("execution counts %v, want [1 1 1 1 2]", counts)
	}
	if got := kerneltest.Types(msgs); !slices.Equal(got, []string{"status:busy", "status:idle"}) {
		t.Errorf("a silent cell published %v", got)
	}
}

func TestErrors(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	for _, tt := range []struct{ code, ename string }{
		{"error boom", "FakeError"},
		{"fail plain", "Error"},
		{"panic", "InternalError"},
		{"nosuchcommand", "UnknownCommand"},
	} {
		reply, msgs := c.Execute(tt.code)
		rc := content(t, reply)
		if rc["status"] != "error" || rc["ename"] != tt.ename || rc["execution_count"] == nil {
			t.Errorf("%s: reply %v", tt.code, rc)
		}
		if _, ok := rc["traceback"].([]any); !ok {
			t.Errorf("%s: traceback %v", tt.code, rc["traceback"])
		}
		want := []string{"status:busy", "execute_input", "error", "status:idle"}
		if got := kerneltest.Types(msgs); !slices.Equal(got, want) {
			t.Errorf("%s: iopub %v, want %v (exactly one error output)", tt.code, got, want)
		}
	}
	// The kernel survived the panic.
	if reply, _ := c.Execute("print ok"); content(t, reply)["status"] != "ok" {
		t.Error("kernel broken after a panicking cell")
	}
}

func TestBadContentGetsErrorReply(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	for _, tt := range []struct {
		typ     string
		content map[string]any
	}{
		{"execute_request", map[string]any{"silent": false}},
		{"execute_request", map[string]any{"code": 42}},
		{"complete_request", map[string]any{"cursor_pos": 1}},
		{"inspect_request", map[string]any{"code": "x", "cursor_pos": "one"}},
		{"is_complete_request", map[string]any{}},
		{"history_request", map[string]any{"output": false}},
	} {
		reply, msgs := c.Request("shell", tt.typ, tt.content)
		rc := content(t, reply)
		if rc["status"] != "error" || rc["ename"] != "BadRequest" {
			t.Errorf("%s %v: reply %v", tt.typ, tt.content, rc)
		}
		if got := kerneltest.Types(msgs); got[0] != "status:busy" || got[len(got)-1] != "status:idle" {
			t.Errorf("%s: iopub %v", tt.typ, got)
		}
	}
}

func TestStopOnErrorAbortsQueuedCells(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	failing := c.Send("shell", "execute_request", kerneltest.ExecuteContent("sleep 300ms\nerror first"))
	queued1 := c.Send("shell", "execute_request", kerneltest.ExecuteContent("print never1"))
	complete := c.Send("shell", "complete_request", map[string]any{"code": "pri", "cursor_pos": 3})
	queued2 := c.Send("shell", "execute_request", kerneltest.ExecuteContent("print never2"))
	replies := map[string]map[string]any{}
	var order []string
	for len(replies) < 4 {
		m := c.Reply("shell")
		replies[kerneltest.ParentID(m)] = content(t, m)
		order = append(order, kerneltest.ParentID(m))
	}
	if replies[failing]["ename"] != "FakeError" {
		t.Errorf("failing cell: %v", replies[failing])
	}
	for _, id := range []string{queued1, queued2} {
		if r := replies[id]; r["status"] != "error" || r["ename"] != "Aborted" {
			t.Errorf("queued cell not aborted: %v", r)
		}
	}
	if replies[complete]["status"] != "ok" {
		t.Errorf("complete_request should still run: %v", replies[complete])
	}
	if order[0] != failing {
		t.Errorf("reply order %v", order)
	}
	// Nothing from the aborted cells ran.
	for {
		m, err := c.TryIOPub(300 * time.Millisecond)
		if err != nil {
			break
		}
		if m.Header.MsgType == "stream" {
			t.Errorf("an aborted cell produced output: %v", content(t, m))
		}
	}
	// stop_on_error false: the next cell runs.
	noStop := kerneltest.ExecuteContent("sleep 200ms\nerror again")
	noStop["stop_on_error"] = false
	c.Send("shell", "execute_request", noStop)
	next := c.Send("shell", "execute_request", kerneltest.ExecuteContent("print runs"))
	for {
		m := c.Reply("shell")
		if kerneltest.ParentID(m) == next {
			if content(t, m)["status"] != "ok" {
				t.Errorf("with stop_on_error false the next cell must run: %v", content(t, m))
			}
			break
		}
	}
}

// runUntilInterrupted starts a cell that runs until interrupted, waits
// until it is running, calls interrupt, and returns the cell's reply and
// IOPub messages.
func runUntilInterrupted(t *testing.T, c *kerneltest.Client, code string, interrupt func()) (map[string]any, []*kernel.Message, time.Duration) {
	t.Helper()
	id := c.Send("shell", "execute_request", kerneltest.ExecuteContent(code))
	var msgs []*kernel.Message
	for {
		m := c.IOPub()
		if kerneltest.ParentID(m) != id {
			continue
		}
		msgs = append(msgs, m)
		if m.Header.MsgType == "execute_input" {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // let the executor start
	start := time.Now()
	interrupt()
	var reply *kernel.Message
	for reply == nil {
		m := c.Reply("shell")
		if kerneltest.ParentID(m) == id {
			reply = m
		}
	}
	took := time.Since(start)
	for {
		m := c.IOPub()
		if kerneltest.ParentID(m) != id {
			continue
		}
		msgs = append(msgs, m)
		if m.Header.MsgType == "status" && content(t, m)["execution_state"] == "idle" {
			break
		}
	}
	return content(t, reply), msgs, took
}

func TestInterrupt(t *testing.T) {
	tk := startKernel(t, func(cfg *kernel.Config) { cfg.HandleSignals = true })
	c := tk.client(t, "")
	paths := map[string]func(){
		"control": func() {
			// Not c.Request: its IOPub collection would swallow the cell's.
			c.Send("control", "interrupt_request", map[string]any{})
			if reply := c.Reply("control"); content(t, reply)["status"] != "ok" {
				t.Error("interrupt_reply not ok")
			}
		},
		"shell": func() {
			// Sent on shell while a cell runs: answered at once, not
			// queued behind the cell (VS Code did this until 2025).
			id := c.Send("shell", "interrupt_request", map[string]any{})
			_ = id
		},
		"SIGINT": func() {
			if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		},
		"method": func() { tk.k.Interrupt() },
	}
	for _, name := range []string{"control", "shell", "SIGINT", "method"} {
		t.Run(name, func(t *testing.T) {
			rc, msgs, took := runUntilInterrupted(t, c, "sleep forever", paths[name])
			if rc["status"] != "error" || rc["ename"] != "Interrupted" {
				t.Errorf("interrupted cell replied %v", rc)
			}
			if took > 2*time.Second {
				t.Errorf("interrupt took %v", took)
			}
			if got := kerneltest.Types(msgs); !slices.Contains(got, "error") {
				t.Errorf("no error output for the interrupted cell: %v", got)
			}
			// The interrupt_reply sent on shell may arrive around the
			// execute_reply; drain it.
			for {
				if _, err := c.TryReply("shell", 100*time.Millisecond); err != nil {
					break
				}
			}
		})
	}
	// An interrupt with nothing running is harmless and not sticky.
	c.Request("control", "interrupt_request", map[string]any{})
	if reply, _ := c.Execute("sleep 50ms\nprint after"); content(t, reply)["status"] != "ok" {
		t.Errorf("a cell after an idle interrupt failed: %v", content(t, reply))
	}
}

func TestInterruptedTraceKeepsItsOutput(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	rc, msgs, _ := runUntilInterrupted(t, c, "trace forever", func() {
		time.Sleep(500 * time.Millisecond)
		c.Send("control", "interrupt_request", map[string]any{})
	})
	if rc["ename"] != "Interrupted" {
		t.Errorf("reply %v", rc)
	}
	types := kerneltest.Types(msgs)
	var updates int
	var final string
	for _, m := range msgs {
		switch m.Header.MsgType {
		case "update_display_data":
			updates++
		case "stream":
			final = content(t, m)["text"].(string)
		}
	}
	// ~50 redraws were asked for in 500ms; the throttle lets about 3 through.
	if updates < 1 || updates > 5 {
		t.Errorf("%d update_display_data in 0.5s: %v", updates, types)
	}
	if !strings.HasPrefix(final, "@events: ") {
		t.Errorf("the trace's final output is missing: %v", types)
	}
	if i, j := slices.Index(types, "stream"), slices.Index(types, "error"); i < 0 || j < i {
		t.Errorf("the final output must come before the error: %v", types)
	}
}

func TestShutdown(t *testing.T) {
	for _, channel := range []string{"control", "shell"} {
		t.Run(channel, func(t *testing.T) {
			tk := startKernel(t)
			c := tk.client(t, "")
			reply, msgs := c.Request(channel, "shutdown_request", map[string]any{"restart": true})
			if rc := content(t, reply); rc["status"] != "ok" || rc["restart"] != true {
				t.Errorf("shutdown_reply %v", rc)
			}
			if got := kerneltest.Types(msgs); got[0] != "status:busy" {
				t.Errorf("iopub %v", got)
			}
			select {
			case err := <-tk.done:
				tk.done <- err // for the cleanup
				if err != nil {
					t.Errorf("Run returned %v after a shutdown_request", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("kernel still running after shutdown_request")
			}
			if n := tk.fake.Shutdowns.Load(); n != 1 || !tk.fake.LastRestart.Load() {
				t.Errorf("executor Shutdown called %d times, restart %v", n, tk.fake.LastRestart.Load())
			}
		})
	}
}

func TestShutdownStopsRunningCell(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	id := c.Send("shell", "execute_request", kerneltest.ExecuteContent("sleep forever"))
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	c.Send("control", "shutdown_request", map[string]any{"restart": false})
	if r := c.Reply("control"); r.Header.MsgType != "shutdown_reply" {
		t.Fatalf("got %s", r.Header.MsgType)
	}
	if r := c.Reply("shell"); kerneltest.ParentID(r) != id || content(t, r)["status"] != "error" {
		t.Errorf("the running cell's reply: %v", content(t, r))
	}
	select {
	case err := <-tk.done:
		tk.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("kernel still running")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if n := tk.fake.Shutdowns.Load(); n != 1 {
		t.Errorf("Shutdown called %d times", n)
	}
}

func TestContextCancelShutsExecutorDown(t *testing.T) {
	tk := startKernel(t)
	tk.client(t, "")
	tk.cancel()
	select {
	case err := <-tk.done:
		tk.done <- err
		if err == nil {
			t.Error("Run should report the context's end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("kernel still running")
	}
	if tk.fake.Shutdowns.Load() != 1 {
		t.Error("executor not shut down")
	}
}

func TestHistoryOverProtocol(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	c.Execute("result one")
	c.Execute("print two")
	reply, _ := c.Request("shell", "history_request", map[string]any{
		"hist_access_type": "tail", "n": 2, "output": true, "raw": true})
	h := content(t, reply)["history"].([]any)
	got := fmt.Sprint(h)
	if got != "[[1 1 [result one one]] [1 2 [print two <nil>]]]" {
		t.Errorf("history %s", got)
	}
	reply, _ = c.Request("shell", "history_request", map[string]any{
		"hist_access_type": "search", "pattern": "print*", "output": false, "raw": true})
	if got := fmt.Sprint(content(t, reply)["history"]); got != "[[1 2 print two]]" {
		t.Errorf("search %s", got)
	}
}

func TestIsCompleteOverProtocol(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	for code, want := range map[string]string{
		"BEGIN { printf(\"x\"); }": "complete",
		"BEGIN {":                  "incomplete",
		"}":                        "invalid",
	} {
		reply, _ := c.Request("shell", "is_complete_request", map[string]any{"code": code})
		rc := content(t, reply)
		if rc["status"] != want {
			t.Errorf("%q: %v", code, rc)
		}
		if _, has := rc["indent"]; has != (want == "incomplete") {
			t.Errorf("%q: indent only with incomplete: %v", code, rc)
		}
	}
}

func TestCompleteCursorInCodePoints(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	code := "# é😀\npr"
	n := len([]rune(code))
	reply, _ := c.Request("shell", "complete_request", map[string]any{"code": code, "cursor_pos": n})
	rc := content(t, reply)
	if rc["cursor_start"] != float64(n-2) || rc["cursor_end"] != float64(n) {
		t.Errorf("cursor %v..%v, want %d..%d", rc["cursor_start"], rc["cursor_end"], n-2, n)
	}
	if fmt.Sprint(rc["matches"]) != "[print]" {
		t.Errorf("matches %v", rc["matches"])
	}
	types, _ := rc["metadata"].(map[string]any)["_jupyter_types_experimental"].([]any)
	if len(types) != 1 || types[0].(map[string]any)["type"] != "keyword" {
		t.Errorf("metadata %v", rc["metadata"])
	}
	// Out of range and missing cursors are clamped, not errors.
	for _, cp := range []any{-3, 1000, nil} {
		req := map[string]any{"code": "pr"}
		if cp != nil {
			req["cursor_pos"] = cp
		}
		reply, _ := c.Request("shell", "complete_request", req)
		if content(t, reply)["status"] != "ok" {
			t.Errorf("cursor %v: %v", cp, content(t, reply))
		}
	}
}

func TestInspect(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	reply, _ := c.Request("shell", "inspect_request", map[string]any{"code": "é sleep 1s", "cursor_pos": 4, "detail_level": 0})
	rc := content(t, reply)
	if rc["found"] != true || !strings.HasPrefix(rc["data"].(map[string]any)["text/plain"].(string), "sleep DURATION") {
		t.Errorf("inspect %v", rc)
	}
	reply, _ = c.Request("shell", "inspect_request", map[string]any{"code": "zzz", "cursor_pos": 1, "detail_level": 1})
	if rc := content(t, reply); rc["found"] != false || len(rc["data"].(map[string]any)) != 0 {
		t.Errorf("inspect of nothing %v", rc)
	}
}

func TestComms(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	reply, _ := c.Request("shell", "comm_info_request", map[string]any{"target_name": "jupyter.widget"})
	if rc := content(t, reply); fmt.Sprint(rc["comms"]) != "map[]" {
		t.Errorf("comm_info %v", rc)
	}
	id := c.Send("shell", "comm_open", map[string]any{"comm_id": "c1", "target_name": "jupyter.widget", "data": map[string]any{}})
	msgs := c.Collect(id)
	want := []string{"status:busy", "comm_close", "status:idle"}
	if got := kerneltest.Types(msgs); !slices.Equal(got, want) {
		t.Fatalf("iopub %v, want %v", got, want)
	}
	if cc := content(t, msgs[1]); cc["comm_id"] != "c1" {
		t.Errorf("comm_close %v", cc)
	}
	if _, err := c.TryReply("shell", 200*time.Millisecond); err == nil {
		t.Error("comm_open has no reply")
	}
}

func TestDisplayAndUpdates(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	_, msgs := c.Execute("display svg plot1\nupdate plot1 100\nclear\ndisplay html")
	var disp, upd, clear int
	var last map[string]any
	for _, m := range msgs {
		switch m.Header.MsgType {
		case "display_data":
			disp++
			if disp == 1 {
				cc := content(t, m)
				if cc["transient"].(map[string]any)["display_id"] != "plot1" {
					t.Errorf("transient %v", cc["transient"])
				}
				if _, ok := cc["data"].(map[string]any)["text/plain"]; !ok {
					t.Error("every bundle needs text/plain")
				}
			}
		case "update_display_data":
			upd++
			last = content(t, m)
		case "clear_output":
			clear++
		}
	}
	if disp != 2 || clear != 1 || upd < 1 || upd > 2 {
		t.Errorf("display_data %d, update_display_data %d, clear_output %d: %v", disp, upd, clear, kerneltest.Types(msgs))
	}
	if last["data"].(map[string]any)["text/plain"] != "<plot 100>" {
		t.Errorf("the last update must carry the final state: %v", last)
	}
}

func TestStreamCapOverProtocol(t *testing.T) {
	tk := startKernel(t, func(cfg *kernel.Config) { cfg.Limits.MaxStreamLines = 100 })
	c := tk.client(t, "")
	_, msgs := c.Execute("flood 1000")
	var text strings.Builder
	n := 0
	for _, m := range msgs {
		if m.Header.MsgType == "stream" {
			n++
			text.WriteString(content(t, m)["text"].(string))
		}
	}
	lines := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
	if len(lines) != 101 || lines[99] != "line 100" || lines[100] != "[... 900 more lines cut]" {
		t.Errorf("%d lines, ending %q", len(lines), lines[len(lines)-2:])
	}
	if n > 3 {
		t.Errorf("%d stream messages for one burst", n)
	}
}

func TestPagePayload(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	reply, _ := c.Execute("page some help")
	p := content(t, reply)["payload"].([]any)
	if len(p) != 1 || p[0].(map[string]any)["source"] != "page" ||
		p[0].(map[string]any)["data"].(map[string]any)["text/plain"] != "some help" {
		t.Errorf("payload %v", p)
	}
}

func TestForgedMessagesDropped(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	m := c.NewMessage("kernel_info_request", map[string]any{})
	good := kernel.EncodeFrames(m, c.Signer())

	forge := func(sig string) [][]byte {
		f := slices.Clone(good)
		f[1] = []byte(sig)
		return f
	}
	bad := []byte(string(good[1]))
	bad[0] ^= 1
	for name, frames := range map[string][][]byte{
		"wrong signature":   forge(string(bad)),
		"missing signature": forge(""),
		"other key":         kernel.EncodeFrames(m, mustSigner(t, "not-the-key")),
	} {
		c.SendFrames("shell", frames)
		if r, err := c.TryReply("shell", 300*time.Millisecond); err == nil {
			t.Errorf("%s: kernel answered a forged message: %s", name, r.Header.MsgType)
		}
	}
	// The genuine message is answered, once: a replay is dropped.
	c.SendFrames("shell", good)
	if _, err := c.TryReply("shell", 5*time.Second); err != nil {
		t.Fatalf("genuine message: %v", err)
	}
	c.SendFrames("shell", good)
	if _, err := c.TryReply("shell", 300*time.Millisecond); err == nil {
		t.Error("a replayed message was answered")
	}
	if !strings.Contains(tk.logs.String(), "bad or missing signature") {
		t.Errorf("forged messages should be logged:\n%s", tk.logs.String())
	}
}

func mustSigner(t *testing.T, key string) *kernel.Signer {
	s, err := kernel.NewSigner("hmac-sha256", key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMalformedFramesDoNotKillTheKernel(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	s := c.Signer()
	signed := func(header, content string) [][]byte {
		return [][]byte{[]byte("<IDS|MSG>"), s.Sign([]byte(header), []byte("{}"), []byte("{}"), []byte(content)),
			[]byte(header), []byte("{}"), []byte("{}"), []byte(content)}
	}
	for _, channel := range []string{"shell", "control"} {
		// msg_ids differ per channel, or the second copy is a replay.
		h := func(typ string) string { return fmt.Sprintf(`{"msg_id":"%s-%s","msg_type":"%s"}`, channel, typ, typ) }
		for _, frames := range [][][]byte{
			{[]byte("just one frame")},
			{[]byte("<IDS|MSG>")},
			{[]byte("<IDS|MSG>"), []byte("sig")},
			{{}, {}, {}},
			signed("not json", "{}"),
			signed(`{"msg_id":"x"}`, "{}"),
			signed(h("execute_request"), "[1,2]"),
			signed(h("execute_request"), `{"code":`),
			signed(h("no_such_request"), "{}"),
			signed(h("kernel_info_reply"), "{}"),
		} {
			c.SendFrames(channel, frames)
		}
	}
	if _, err := c.TryReply("shell", 300*time.Millisecond); err == nil {
		t.Error("a malformed or unknown message got a reply")
	}
	reply, _ := c.Request("shell", "kernel_info_request", map[string]any{})
	if content(t, reply)["status"] != "ok" {
		t.Error("kernel broken after malformed frames")
	}
	time.Sleep(100 * time.Millisecond)
	if !strings.Contains(tk.logs.String(), `shell: ignoring unknown message type "no_such_request"`) ||
		!strings.Contains(tk.logs.String(), "control: ignoring no_such_request") {
		t.Errorf("unknown types should be logged:\n%s", tk.logs.String())
	}
}

func TestTwoClients(t *testing.T) {
	tk := startKernel(t)
	a := tk.client(t, "client-a")
	b := tk.client(t, "client-b")
	ida := a.Send("shell", "execute_request", kerneltest.ExecuteContent("sleep 200ms\nprint from a"))
	idb := b.Send("shell", "execute_request", kerneltest.ExecuteContent("print from b"))
	ra, rb := a.Reply("shell"), b.Reply("shell")
	if kerneltest.ParentID(ra) != ida || kerneltest.ParentID(rb) != idb {
		t.Errorf("replies crossed: a got %s, b got %s", kerneltest.ParentID(ra), kerneltest.ParentID(rb))
	}
	if _, err := a.TryReply("shell", 300*time.Millisecond); err == nil {
		t.Error("client a got a second reply")
	}
	// Both see all IOPub traffic, each cell's with its own parent.
	for _, c := range []*kerneltest.Client{a, b} {
		streams := map[string]int{}
		for idle := 0; idle < 2; {
			m := c.IOPub()
			switch p := kerneltest.ParentID(m); {
			case m.Header.MsgType == "stream":
				streams[p]++
			case m.Header.MsgType == "status" && content(t, m)["execution_state"] == "idle" && (p == ida || p == idb):
				idle++
			}
		}
		if streams[ida] != 1 || streams[idb] != 1 {
			t.Errorf("streams per cell %v", streams)
		}
	}
}

func TestReconnectDuringRunningCell(t *testing.T) {
	tk := startKernel(t)
	const identity = "same-session-id"
	old := kerneltest.Dial(t, tk.ci, identity)
	old.WaitReady()
	id := old.Send("shell", "execute_request", kerneltest.ExecuteContent("sleep 1s\nprint done"))
	time.Sleep(200 * time.Millisecond)
	old.Close()
	c := tk.client(t, identity)
	for {
		m := c.Reply("shell")
		if kerneltest.ParentID(m) == id {
			if content(t, m)["status"] != "ok" {
				t.Errorf("reply %v", content(t, m))
			}
			return
		}
	}
}

func TestHeartbeat(t *testing.T) {
	tk := startKernel(t)
	c := tk.client(t, "")
	for _, ping := range []string{"ping", "another ping with more bytes"} {
		echo, err := c.Heartbeat([]byte(ping))
		if err != nil || string(echo) != ping {
			t.Errorf("heartbeat echoed %q, %v", echo, err)
		}
	}
}

func TestIPCTransport(t *testing.T) {
	dir := t.TempDir()
	tk := startKernel(t, func(cfg *kernel.Config) {
		cfg.Connection = kernel.ConnectionInfo{Transport: "ipc", IP: filepath.Join(dir, "kernel"),
			ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
			SignatureScheme: "hmac-sha256", Key: "k"}
	})
	if _, err := os.Stat(filepath.Join(dir, "kernel-1")); err != nil {
		t.Fatalf("shell socket: %v", err)
	}
	c := tk.client(t, "")
	if reply, _ := c.Execute("print over ipc"); content(t, reply)["status"] != "ok" {
		t.Error("execute over ipc failed")
	}
}

func TestUnsignedKernel(t *testing.T) {
	tk := startKernel(t, func(cfg *kernel.Config) { cfg.Connection.Key = "" })
	c := tk.client(t, "")
	if reply, _ := c.Execute("print no key"); content(t, reply)["status"] != "ok" {
		t.Error("execute without a key failed")
	}
}

func TestReadConnectionFile(t *testing.T) {
	dir := t.TempDir()
	body := `{"transport":"tcp","ip":"127.0.0.1","shell_port":1,"iopub_port":2,"stdin_port":3,
		"control_port":4,"hb_port":5,"signature_scheme":"hmac-sha256","key":"abc","kernel_name":"x","extra":1}`
	for _, tt := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o644, true}, {0o640, true}} {
		p := filepath.Join(dir, fmt.Sprintf("c%o.json", tt.mode))
		os.WriteFile(p, []byte(body), tt.mode)
		os.Chmod(p, tt.mode)
		var logs bytes.Buffer
		ci, err := kernel.ReadConnectionFile(p, log.New(&logs, "", 0))
		if err != nil {
			t.Fatal(err)
		}
		if ci.ShellPort != 1 || ci.Key != "abc" {
			t.Errorf("parsed %+v", ci)
		}
		if got := strings.Contains(logs.String(), "group or others can read"); got != tt.warn {
			t.Errorf("mode %o: warning %v: %q", tt.mode, got, logs.String())
		}
	}
	for _, bad := range []string{`{`, `{"transport":"udp"}`, `{"transport":"ipc"}`, `{"shell_port":70000}`} {
		p := filepath.Join(dir, "bad.json")
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := kernel.ReadConnectionFile(p, nil); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestSIGTERMShutsDown(t *testing.T) {
	tk := startKernel(t, func(cfg *kernel.Config) { cfg.HandleSignals = true })
	tk.client(t, "")
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-tk.done:
		tk.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("kernel ignored SIGTERM")
	}
	if tk.fake.Shutdowns.Load() != 1 {
		t.Error("executor not shut down on SIGTERM")
	}
}

// BenchmarkExecuteRoundTrip measures one trivial cell from execute_request
// to both its reply and its idle status, over loopback TCP.
func BenchmarkExecuteRoundTrip(b *testing.B) {
	tk := startKernel(b)
	c := tk.client(b, "")
	for b.Loop() {
		c.Execute("print hi")
	}
}
