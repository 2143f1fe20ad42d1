package kernel_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracebook/tracebook/kernel"
	"github.com/tracebook/tracebook/kernel/kerneltest"
)

// Tests of the guarded transport (transport.go): what a local process
// that can open the kernel's ports, but has no key, can do to it. zmq4
// alone lets such a process stop a socket from accepting, kill the
// kernel, or stall its output; each test below failed against zmq4's
// own tcp transport.

// ports lists the kernel's five ports.
func ports(ci kernel.ConnectionInfo) map[string]int {
	return map[string]int{"shell": ci.ShellPort, "control": ci.ControlPort, "stdin": ci.StdinPort,
		"iopub": ci.IOPubPort, "heartbeat": ci.HBPort}
}

func rawDial(t *testing.T, ci kernel.ConnectionInfo, port int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort(ci.IP, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// zmtpGreeting is a ZMTP 3.0 greeting for the NULL mechanism, as a client.
func zmtpGreeting() []byte {
	g := make([]byte, 64)
	g[0], g[9], g[10] = 0xff, 0x7f, 3
	copy(g[12:], "NULL")
	return g
}

// zmtpReady is the READY command of a socket of type typ.
func zmtpReady(typ string) []byte {
	body := []byte{5}
	body = append(body, "READY"...)
	body = append(body, byte(len("Socket-Type")))
	body = append(body, "Socket-Type"...)
	body = binary.BigEndian.AppendUint32(body, uint32(len(typ)))
	body = append(body, typ...)
	return append([]byte{0x04, byte(len(body))}, body...)
}

// awaitClose reads what the kernel sends on c (its greeting) until the
// kernel closes the connection, and fails if it has not within d.
func awaitClose(c net.Conn, d time.Duration) error {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil // closed with our data unread
	}
	return err
}

// readyClient checks that a new client can connect and be answered on
// every channel within d.
func readyClient(t *testing.T, tk *testKernel, d time.Duration) {
	t.Helper()
	done := make(chan *kerneltest.Client, 1)
	go func() {
		c := kerneltest.Dial(t, tk.ci, "")
		done <- c
	}()
	var c *kerneltest.Client
	select {
	case c = <-done:
	case <-time.After(d):
		t.Fatalf("a new client could not connect within %v", d)
	}
	t.Cleanup(c.Close)
	c.WaitReady()
	if echo, err := c.Heartbeat([]byte("ping")); err != nil || string(echo) != "ping" {
		t.Errorf("heartbeat: %q %v", echo, err)
	}
	if r, _ := c.Request("control", "kernel_info_request", map[string]any{}); content(t, r)["status"] != "ok" {
		t.Errorf("control kernel_info: %v", content(t, r))
	}
	if r, _ := c.Execute("print still here"); content(t, r)["status"] != "ok" {
		t.Errorf("execute: %v", content(t, r))
	}
}

// A process that connects and sends nothing, or stops half way through
// the handshake, must not keep others from connecting.
func TestSilentConnectionsDoNotBlockAccept(t *testing.T) {
	tk := startKernel(t)
	for _, port := range ports(tk.ci) {
		rawDial(t, tk.ci, port) // sends nothing
		half := rawDial(t, tk.ci, port)
		half.Write(zmtpGreeting()[:10]) // the signature, then silence
	}
	time.Sleep(100 * time.Millisecond) // let the kernel accept them
	readyClient(t, tk, 3*time.Second)
}

// The silent connections are closed once the handshake deadline passes.
func TestHandshakeDeadline(t *testing.T) {
	old := kernel.HandshakeTimeout
	kernel.HandshakeTimeout = 300 * time.Millisecond
	t.Cleanup(func() { kernel.HandshakeTimeout = old })
	tk := startKernel(t)
	silent := rawDial(t, tk.ci, tk.ci.ShellPort)
	half := rawDial(t, tk.ci, tk.ci.ShellPort)
	half.Write(zmtpGreeting()[:20])
	for name, c := range map[string]net.Conn{"silent": silent, "half a greeting": half} {
		t0 := time.Now()
		if err := awaitClose(c, 5*time.Second); err != nil {
			t.Errorf("%s: kernel did not close the connection: %v", name, err)
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Errorf("%s: closed after %v", name, d)
		}
	}
	readyClient(t, tk, 3*time.Second)
}

// A frame announcing more than the kernel accepts closes the connection
// before anything is allocated; zmq4 alone would allocate the announced
// size (1 TiB here: the kernel dies of it).
func TestOversizedFrameIsRefused(t *testing.T) {
	tk := startKernel(t)
	for name, port := range ports(tk.ci) {
		for _, when := range []string{"in the handshake", "after it"} {
			c := rawDial(t, tk.ci, port)
			msg := zmtpGreeting()
			if when == "after it" {
				typ := map[string]string{"shell": "DEALER", "control": "DEALER", "stdin": "DEALER",
					"iopub": "SUB", "heartbeat": "REQ"}[name]
				msg = append(msg, zmtpReady(typ)...)
			}
			long := []byte{0x02}
			long = binary.BigEndian.AppendUint64(long, 1<<40)
			c.Write(append(msg, long...))
			if err := awaitClose(c, 5*time.Second); err != nil {
				t.Errorf("%s, %s: connection not closed: %v", name, when, err)
			}
		}
	}
	// Many frames of one message count together.
	c := rawDial(t, tk.ci, tk.ci.ShellPort)
	c.Write(append(zmtpGreeting(), zmtpReady("DEALER")...))
	frame := append([]byte{0x03}, binary.BigEndian.AppendUint64(nil, 1<<20)...)
	frame = append(frame, make([]byte, 1<<20)...)
	go func() {
		for i := 0; i < 100; i++ {
			if _, err := c.Write(frame); err != nil {
				return
			}
		}
	}()
	if err := awaitClose(c, 10*time.Second); err != nil {
		t.Errorf("100 MiB message: connection not closed: %v", err)
	}
	readyClient(t, tk, 3*time.Second)
}

// An IOPub subscriber that never reads must not hold up the others, and
// is dropped once it has stalled for WriteStallTimeout.
func TestStalledSubscriberIsDropped(t *testing.T) {
	old := kernel.WriteStallTimeout
	kernel.WriteStallTimeout = 500 * time.Millisecond
	t.Cleanup(func() { kernel.WriteStallTimeout = old })
	tk := startKernel(t)
	stalled := rawDial(t, tk.ci, tk.ci.IOPubPort)
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	sub := append(zmtpGreeting(), zmtpReady("SUB")...)
	sub = append(sub, 0x00, 1, 1) // subscribe to everything
	stalled.Write(sub)
	c := tk.client(t, "")
	big := strings.Repeat("x", 512<<10)
	t0 := time.Now()
	for i := 0; i < 40; i++ { // 20 MiB on IOPub
		if r, msgs := c.Execute("result " + big); content(t, r)["status"] != "ok" || len(msgs) < 3 {
			t.Fatalf("cell %d: %v", i, content(t, r))
		}
	}
	t.Logf("40 cells of 512 KiB in %v with a stalled subscriber", time.Since(t0))
	// The stalled subscriber is cut off: reading now ends in EOF (or a
	// reset) well before the 20 MiB it was sent.
	time.Sleep(3 * kernel.WriteStallTimeout)
	stalled.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, stalled)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) || n >= 20<<20 {
		t.Errorf("the stalled subscriber was not dropped: it read %d bytes, then %v", n, err)
	}
}
