package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/kernel"
	"github.com/tracebook/tracebook/kernel/kerneltest"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// Several clients on one real kernel, as when a console is attached to a
// notebook's kernel (`jupyter console --existing`): each gets its own
// replies, and a client that reconnects while its cell runs still gets
// that cell's reply.

// consoleScript is a console as jupyter console is one: jupyter_client's
// blocking client on the connection file. It runs a cell while the other
// client's trace is running, and reports its reply and every shell
// message it received.
const consoleScript = `
import json, sys, time
from jupyter_client import BlockingKernelClient
kc = BlockingKernelClient(connection_file=sys.argv[1])
kc.load_connection_file()
kc.start_channels()
kc.wait_for_ready(timeout=30)
msg_id = kc.execute('BEGIN { printf("from the console\\n"); exit(); }')
others = []
while True:
    reply = kc.get_shell_msg(timeout=30)
    if reply["parent_header"].get("msg_id") == msg_id:
        break
    others.append(reply["parent_header"].get("msg_id"))
while True:
    try:
        others.append(kc.get_shell_msg(timeout=1)["parent_header"].get("msg_id"))
    except Exception:
        break
out = ""
while True:
    try:
        m = kc.get_iopub_msg(timeout=1)
    except Exception:
        break
    if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
        out += m["content"]["text"]
json.dump({"msg_id": msg_id, "parent": reply["parent_header"]["msg_id"], "status": reply["content"]["status"],
           "others": others, "stdout": out}, sys.stdout)
kc.stop_channels()
`

func TestKernelProcessConsoleAndNotebook(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import jupyter_client").Run(); err != nil {
		if runtimetest.InCI() {
			t.Fatalf("jupyter_client is missing (scripts/deps.sh test): %v", err)
		}
		t.Skipf("jupyter_client is missing (scripts/deps.sh test): %v", err)
	}
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	nb := p.Client(t, "notebook")
	// The notebook's trace runs for 3 s; the console's cell arrives
	// meanwhile, waits its turn, and is answered to the console only.
	id := nb.Send("shell", "execute_request", kerneltest.ExecuteContent(
		"%%trace 3s\ntracepoint:sched:sched_switch { @switches = count(); }"))
	console := exec.Command(py, "-c", consoleScript, p.File)
	console.Stderr = os.Stderr
	out, err := console.Output()
	if err != nil {
		t.Fatalf("console: %v\n%s", err, out)
	}
	var got struct {
		MsgID  string   `json:"msg_id"`
		Parent string   `json:"parent"`
		Status string   `json:"status"`
		Stdout string   `json:"stdout"`
		Others []string `json:"others"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("console output %q: %v", out, err)
	}
	if got.Parent != got.MsgID || got.Status != "ok" || got.Stdout != "from the console\n" {
		t.Errorf("console: %+v", got)
	}
	// Besides its cell's reply the console sees only replies to its
	// own requests (wait_for_ready's kernel_info).
	for _, o := range got.Others {
		if o == id || !strings.HasPrefix(o, strings.Split(got.MsgID, "_")[0]) {
			t.Errorf("the console received a reply to %s, not its own (%s)", o, got.MsgID)
		}
	}
	var reply *kernel.Message
	for reply == nil {
		m := nb.Reply("shell")
		if kerneltest.ParentID(m) != id {
			t.Errorf("the notebook received a reply to %s (its cell is %s)", kerneltest.ParentID(m), id)
			continue
		}
		reply = m
	}
	if st := kerneltest.Content(t, reply)["status"]; st != "ok" {
		t.Errorf("notebook cell: %v", kerneltest.Content(t, reply))
	}
	if m, err := nb.TryReply("shell", 500*time.Millisecond); err == nil {
		t.Errorf("the notebook received another reply: %s to %s", m.Header.MsgType, kerneltest.ParentID(m))
	}
}

// Two in-process clients with their own identities run real cells at the
// same time; each reply goes to its sender alone.
func TestKernelProcessTwoClientsOwnReplies(t *testing.T) {
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	a, b := p.Client(t, "client-a"), p.Client(t, "client-b")
	ida := a.Send("shell", "execute_request", kerneltest.ExecuteContent(
		"%%trace 1s\ntracepoint:sched:sched_switch { @a = count(); }"))
	idb := b.Send("shell", "execute_request", kerneltest.ExecuteContent(`BEGIN { @b = 1; exit(); }`))
	idc := b.Send("shell", "complete_request", map[string]any{"code": "tracepoint:sch", "cursor_pos": 14})
	for c, want := range map[*kerneltest.Client][]string{a: {ida}, b: {idb, idc}} {
		for _, id := range want {
			m := c.Reply("shell")
			if kerneltest.ParentID(m) != id {
				t.Errorf("%s got the reply to %s, want %s", c.Session, kerneltest.ParentID(m), id)
			}
		}
		if m, err := c.TryReply("shell", 500*time.Millisecond); err == nil {
			t.Errorf("%s got an extra reply to %s", c.Session, kerneltest.ParentID(m))
		}
	}
}

// A client that disconnects while its trace runs and reconnects with the
// same identity (a notebook page reloaded) gets the cell's reply.
func TestKernelProcessReconnectDuringTrace(t *testing.T) {
	p := startKernelProcess(t, kerneltest.NewConnection(t, "127.0.0.1"), 0o600)
	const identity = "reloaded-notebook"
	old := kerneltest.Dial(t, p.Conn, identity)
	old.WaitReady()
	id := old.Send("shell", "execute_request", kerneltest.ExecuteContent(
		"%%trace 2s\ntracepoint:sched:sched_switch { @s = count(); }"))
	time.Sleep(500 * time.Millisecond)
	old.Close()
	c := kerneltest.Dial(t, p.Conn, identity)
	t.Cleanup(c.Close)
	for {
		m := c.Reply("shell")
		if kerneltest.ParentID(m) == id {
			if rc := kerneltest.Content(t, m); rc["status"] != "ok" {
				t.Errorf("reply %v", rc)
			}
			break
		}
	}
	// The reconnected client goes on working, and the map is there.
	r, msgs := c.Execute("@s")
	if kerneltest.Content(t, r)["status"] != "ok" || !strings.Contains(string(msgsOf(msgs, "execute_result")), "@s: ") {
		t.Errorf("after reconnecting: %v", kerneltest.Content(t, r))
	}
}

// msgsOf joins the contents of the messages of one type.
func msgsOf(msgs []*kernel.Message, msgType string) []byte {
	var b []byte
	for _, m := range msgs {
		if m.Header.MsgType == msgType {
			b = append(b, m.Content...)
		}
	}
	return b
}
