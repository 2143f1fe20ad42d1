package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/go-zeromq/zmq4"
)

// ConnectionInfo is the connection file a Jupyter client writes for the
// kernel it starts ({connection_file} in kernel.json's argv).
type ConnectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	SignatureScheme string `json:"signature_scheme"`
	Key             string `json:"key"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and checks a connection file. The file's key lets
// whoever reads it run code in the kernel, which here means loading eBPF as
// root, so a file readable by group or others earns a warning on warn.
func ReadConnectionFile(path string, warn *log.Logger) (ConnectionInfo, error) {
	var ci ConnectionInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return ci, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 && warn != nil {
		warn.Printf("warning: connection file %s has mode %04o: group or others can read its key and run code in this kernel; it should be 0600",
			path, st.Mode().Perm())
	}
	if err := json.Unmarshal(b, &ci); err != nil {
		return ci, fmt.Errorf("%s: %w", path, err)
	}
	if err := ci.check(); err != nil {
		return ci, fmt.Errorf("%s: %w", path, err)
	}
	return ci, nil
}

func (ci *ConnectionInfo) check() error {
	switch ci.Transport {
	case "", "tcp":
		ci.Transport = "tcp"
		if ci.IP == "" {
			ci.IP = "127.0.0.1"
		}
	case "ipc":
		if ci.IP == "" {
			return errors.New(`transport "ipc" needs "ip" (the socket path prefix)`)
		}
	default:
		return fmt.Errorf("unsupported transport %q (tcp or ipc)", ci.Transport)
	}
	for _, p := range []int{ci.ShellPort, ci.IOPubPort, ci.StdinPort, ci.ControlPort, ci.HBPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("port %d out of range", p)
		}
	}
	return nil
}

// endpoint is the zmq address the kernel listens on for one channel:
// ip:port, or for ipc the path "ip-port", as jupyter_client names its ipc
// sockets, through the guarded transports of transport.go (clients dial
// the same address as tcp:// or ipc://).
func (ci ConnectionInfo) endpoint(port int) string {
	if ci.Transport == "ipc" {
		return guardedIPC + "://" + ci.IP + "-" + strconv.Itoa(port)
	}
	ip := ci.IP
	if ip == "*" {
		ip = "0.0.0.0"
	}
	return guardedTCP + "://" + net.JoinHostPort(ip, strconv.Itoa(port))
}

// socket is one bound zmq socket with the lock that keeps whole messages
// from interleaving when several goroutines send on it.
type socket struct {
	name string
	zmq  zmq4.Socket
	mu   sync.Mutex
}

// channels are the five sockets of a kernel.
type channels struct {
	shell, control, stdin, iopub, hb *socket
}

// bind creates the five sockets and binds each where the connection file
// says, and nowhere else. A port of 0 (tcp only) binds an ephemeral port;
// the returned ConnectionInfo holds the ports actually bound, which tests use.
func bind(ctx context.Context, ci ConnectionInfo, logger *log.Logger) (*channels, ConnectionInfo, error) {
	opts := []zmq4.Option{zmq4.WithLogger(logger)}
	ch := &channels{
		shell:   &socket{name: "shell", zmq: zmq4.NewRouter(ctx, opts...)},
		control: &socket{name: "control", zmq: zmq4.NewRouter(ctx, opts...)},
		stdin:   &socket{name: "stdin", zmq: zmq4.NewRouter(ctx, opts...)},
		iopub:   &socket{name: "iopub", zmq: zmq4.NewPub(ctx, opts...)},
		hb:      &socket{name: "heartbeat", zmq: zmq4.NewRep(ctx, opts...)},
	}
	for _, b := range []struct {
		s    *socket
		port *int
	}{
		{ch.shell, &ci.ShellPort}, {ch.control, &ci.ControlPort}, {ch.stdin, &ci.StdinPort},
		{ch.iopub, &ci.IOPubPort}, {ch.hb, &ci.HBPort},
	} {
		ep := ci.endpoint(*b.port)
		if err := b.s.zmq.Listen(ep); err != nil {
			ch.close()
			return nil, ci, fmt.Errorf("%s: %w", b.s.name, err)
		}
		if ci.Transport == "tcp" && *b.port == 0 {
			if a, ok := b.s.zmq.Addr().(*net.TCPAddr); ok {
				*b.port = a.Port
			}
		}
	}
	return ch, ci, nil
}

func (ch *channels) close() {
	for _, s := range []*socket{ch.shell, ch.control, ch.stdin, ch.iopub, ch.hb} {
		if s != nil {
			s.zmq.Close()
		}
	}
}

// send encodes, signs and sends m on s.
func (s *socket) send(m *Message, signer *Signer) error {
	frames := EncodeFrames(m, signer)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zmq.Send(zmq4.NewMsgFrom(frames...))
}

// readLoop receives, verifies and decodes messages from s and passes them to
// handle, until the socket is closed. Messages that fail to decode, carry a
// bad signature or replay an earlier one are logged and dropped: a kernel
// must not act on a message it cannot authenticate, and must not die of one
// it cannot parse.
func (s *socket) readLoop(signer *Signer, replay *replayGuard, logger *log.Logger, done <-chan struct{}, handle func(*Message)) {
	for {
		zm, err := s.zmq.Recv()
		if err != nil {
			if closing(err, done) {
				return
			}
			logger.Printf("%s: receive: %v", s.name, err)
			continue
		}
		m, err := DecodeFrames(zm.Frames, signer)
		if err != nil {
			logger.Printf("%s: dropped a message: %v", s.name, err)
			continue
		}
		if signer.enabled() && !replay.fresh(zm.Frames[len(m.Identities)+1]) {
			logger.Printf("%s: dropped a replayed message (%s %s)", s.name, m.Header.MsgType, m.Header.MsgID)
			continue
		}
		handle(m)
	}
}

// closing reports whether a receive error means the socket is shutting
// down (done is closed, or the receive was cancelled): the read and
// heartbeat loops then end, where any other error is read past.
func closing(err error, done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
	}
	return errors.Is(err, context.Canceled)
}

// heartbeat echoes every ping back, as the protocol's heartbeat wants.
func (s *socket) heartbeat(logger *log.Logger, done <-chan struct{}) {
	for {
		m, err := s.zmq.Recv()
		if err != nil {
			if closing(err, done) {
				return
			}
			continue
		}
		if err := s.zmq.Send(m); err != nil {
			logger.Printf("heartbeat: %v", err)
		}
	}
}
