package kerneltest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
	"github.com/tracebook/tracebook/kernel"
)

// Client is an in-process Jupyter client on zmq4, for Go tests of a kernel:
// DEALER sockets on shell, control and stdin (with the client's identity, as
// jupyter_client uses its session id), a SUB on IOPub subscribed to
// everything, and a REQ on the heartbeat. Received messages are decoded,
// verified and queued per channel.
type Client struct {
	t       testing.TB
	ci      kernel.ConnectionInfo
	signer  *kernel.Signer
	Session string

	ctx     context.Context
	cancel  context.CancelFunc
	shell   zmq4.Socket
	control zmq4.Socket
	stdin   zmq4.Socket
	iopub   zmq4.Socket
	hb      zmq4.Socket

	shellIn, controlIn, iopubIn chan *kernel.Message
	// stash holds shell replies WaitReady received that were not its own,
	// so a reply to a request sent before WaitReady is not lost.
	stash []*kernel.Message
}

// Timeout bounds every wait of a Client: 10 s, and twenty times that
// inside the kernel matrix's guest (TRACEBOOK_KTEST=1), where qemu's TCG
// runs code 10 to 30 times slower. That is runtimetest.Timeout's rule;
// this package does not import runtimetest because the tracebook command
// links it (for Fake).
var Timeout = guestScaled(10 * time.Second)

func guestScaled(d time.Duration) time.Duration {
	if os.Getenv("TRACEBOOK_KTEST") == "1" {
		return 20 * d
	}
	return d
}

// Dial connects a client with the given identity (a fresh uuid if empty).
func Dial(t testing.TB, ci kernel.ConnectionInfo, identity string) *Client {
	t.Helper()
	if identity == "" {
		identity = uuid.NewString()
	}
	signer, err := kernel.NewSigner(ci.SignatureScheme, ci.Key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		t: t, ci: ci, signer: signer, Session: identity, ctx: ctx, cancel: cancel,
		shell:     zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity(identity))),
		control:   zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity(identity))),
		stdin:     zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity(identity))),
		iopub:     zmq4.NewSub(ctx),
		hb:        zmq4.NewReq(ctx),
		shellIn:   make(chan *kernel.Message, 1000),
		controlIn: make(chan *kernel.Message, 1000),
		iopubIn:   make(chan *kernel.Message, 100000),
	}
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.stdin, ci.StdinPort}, {c.iopub, ci.IOPubPort}, {c.hb, ci.HBPort}} {
		if err := d.s.Dial(endpoint(ci, d.port)); err != nil {
			c.Close()
			t.Fatalf("dial %d: %v", d.port, err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	go c.read(c.shell, c.shellIn)
	go c.read(c.control, c.controlIn)
	go c.read(c.iopub, c.iopubIn)
	return c
}

func endpoint(ci kernel.ConnectionInfo, port int) string {
	if ci.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", ci.IP, port)
	}
	return fmt.Sprintf("tcp://%s:%d", ci.IP, port)
}

func (c *Client) read(s zmq4.Socket, out chan<- *kernel.Message) {
	for {
		zm, err := s.Recv()
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			continue
		}
		m, err := kernel.DecodeFrames(zm.Frames, c.signer)
		if err != nil {
			c.t.Errorf("client received a bad message: %v", err)
			continue
		}
		out <- m
	}
}

// Close disconnects the client.
func (c *Client) Close() {
	c.cancel()
	for _, s := range []zmq4.Socket{c.shell, c.control, c.stdin, c.iopub, c.hb} {
		if s != nil {
			s.Close()
		}
	}
}

// NewMessage builds a signed-ready message from this client.
func (c *Client) NewMessage(msgType string, content any) *kernel.Message {
	c.t.Helper()
	h := kernel.Header{
		MsgID: uuid.NewString(), Session: c.Session, Username: "test",
		Date: time.Now().UTC().Format(time.RFC3339Nano), MsgType: msgType, Version: kernel.ProtocolVersion,
	}
	hb, _ := json.Marshal(h)
	cb, err := json.Marshal(content)
	if err != nil {
		c.t.Fatal(err)
	}
	return &kernel.Message{Header: h, RawHeader: hb, Content: cb}
}

// Send sends a request on "shell", "control" or "stdin" and returns its
// msg_id.
func (c *Client) Send(channel, msgType string, content any) string {
	c.t.Helper()
	m := c.NewMessage(msgType, content)
	c.SendFrames(channel, kernel.EncodeFrames(m, c.signer))
	return m.Header.MsgID
}

// SendFrames sends raw frames on "shell", "control" or "stdin", for
// tests of malformed or forged messages.
func (c *Client) SendFrames(channel string, frames [][]byte) {
	c.t.Helper()
	s := c.shell
	switch channel {
	case "control":
		s = c.control
	case "stdin":
		s = c.stdin
	}
	if err := s.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatalf("send on %s: %v", channel, err)
	}
}

// Signer is the client's signer, for tests that forge signatures.
func (c *Client) Signer() *kernel.Signer { return c.signer }

// Reply waits for the next message on "shell" or "control".
func (c *Client) Reply(channel string) *kernel.Message {
	c.t.Helper()
	m, err := c.TryReply(channel, Timeout)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// TryReply waits up to d for the next message on a channel.
func (c *Client) TryReply(channel string, d time.Duration) (*kernel.Message, error) {
	if channel != "control" && len(c.stash) > 0 {
		m := c.stash[0]
		c.stash = c.stash[1:]
		return m, nil
	}
	in := c.shellIn
	if channel == "control" {
		in = c.controlIn
	}
	select {
	case m := <-in:
		return m, nil
	case <-time.After(d):
		return nil, fmt.Errorf("no %s reply within %v", channel, d)
	}
}

// IOPub waits for the next IOPub message.
func (c *Client) IOPub() *kernel.Message {
	c.t.Helper()
	m, err := c.TryIOPub(Timeout)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// TryIOPub waits up to d for the next IOPub message.
func (c *Client) TryIOPub(d time.Duration) (*kernel.Message, error) {
	select {
	case m := <-c.iopubIn:
		return m, nil
	case <-time.After(d):
		return nil, fmt.Errorf("no iopub message within %v", d)
	}
}

// Collect returns the IOPub messages whose parent is msgID, from its busy
// to its idle inclusive; messages of other parents are skipped.
func (c *Client) Collect(msgID string) []*kernel.Message {
	c.t.Helper()
	var out []*kernel.Message
	for {
		m := c.IOPub()
		if ParentID(m) != msgID {
			continue
		}
		out = append(out, m)
		if m.Header.MsgType == "status" && Content(c.t, m)["execution_state"] == "idle" {
			return out
		}
	}
}

// Request sends a request, then returns its reply and its IOPub messages
// (busy … idle). Replies to other requests on the channel are skipped.
func (c *Client) Request(channel, msgType string, content any) (*kernel.Message, []*kernel.Message) {
	c.t.Helper()
	id := c.Send(channel, msgType, content)
	var reply *kernel.Message
	for reply == nil {
		m := c.Reply(channel)
		if ParentID(m) == id {
			reply = m
		}
	}
	return reply, c.Collect(id)
}

// Execute runs code with default options.
func (c *Client) Execute(code string) (*kernel.Message, []*kernel.Message) {
	c.t.Helper()
	return c.Request("shell", "execute_request", ExecuteContent(code))
}

// ExecuteContent is an execute_request content as jupyter_client sends it.
func ExecuteContent(code string) map[string]any {
	return map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true}
}

// WaitReady sends kernel_info_request until its reply and an IOPub message
// both arrive, as jupyter_client's wait_for_ready does: a SUB socket misses
// whatever is published before its subscription reaches the kernel.
func (c *Client) WaitReady() {
	c.t.Helper()
	deadline := time.Now().Add(Timeout)
	for time.Now().Before(deadline) {
		id := c.Send("shell", "kernel_info_request", map[string]any{})
		if !c.awaitReply(id, 2*time.Second) {
			continue
		}
		got := false
		for {
			m, err := c.TryIOPub(200 * time.Millisecond)
			if err != nil {
				break
			}
			got = got || ParentID(m) == id
		}
		if got {
			return
		}
	}
	c.t.Fatal("kernel not ready")
}

// awaitReply waits for the shell reply to id, stashing other replies.
func (c *Client) awaitReply(id string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case m := <-c.shellIn:
			if ParentID(m) == id {
				return true
			}
			c.stash = append(c.stash, m)
		case <-deadline:
			return false
		}
	}
}

// Heartbeat sends a ping on the heartbeat channel and returns the echo.
func (c *Client) Heartbeat(ping []byte) ([]byte, error) {
	if err := c.hb.Send(zmq4.NewMsg(ping)); err != nil {
		return nil, err
	}
	type result struct {
		m   zmq4.Msg
		err error
	}
	ch := make(chan result, 1)
	go func() { m, err := c.hb.Recv(); ch <- result{m, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return r.m.Bytes(), nil
	case <-time.After(Timeout):
		return nil, fmt.Errorf("no heartbeat echo")
	}
}

// ParentID is the msg_id of m's parent header.
func ParentID(m *kernel.Message) string {
	var h struct {
		MsgID string `json:"msg_id"`
	}
	json.Unmarshal(m.ParentHeader, &h)
	return h.MsgID
}

// Content decodes m's content.
func Content(t testing.TB, m *kernel.Message) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(m.Content, &c); err != nil {
		t.Fatalf("%s content: %v", m.Header.MsgType, err)
	}
	return c
}

// Types lists the msg_types of msgs, for order assertions.
func Types(msgs []*kernel.Message) []string {
	var out []string
	for _, m := range msgs {
		t := m.Header.MsgType
		if t == "status" {
			var c struct {
				S string `json:"execution_state"`
			}
			json.Unmarshal(m.Content, &c)
			t += ":" + c.S
		}
		out = append(out, t)
	}
	return out
}
