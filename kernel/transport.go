package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// The kernel's sockets listen through a guarded transport. zmq4 (v0.17)
// accepts connections in one loop per socket and runs each ZMTP handshake
// inside that loop with no deadline, reads frame lengths from the wire
// and allocates them whole, and writes to each peer from the goroutine
// that sends. Anyone who can open a port could therefore stop the socket
// from accepting (connect and send nothing), kill the kernel (announce a
// 2^40-byte frame) or stall its output (subscribe to IOPub and never
// read). None of that needs the key, so it must be stopped before any
// signature is checked. zmq4 lets a program register transports, so the
// kernel binds "tracebook+tcp://" and "tracebook+ipc://" endpoints whose
// listener wraps the system's:
//
//   - connections are admitted in parallel, each by its own goroutine,
//     which sends the kernel's greeting (the bytes zmq4 would send) and
//     reads the peer's greeting and READY command; only then is the
//     connection handed to zmq4, with what was read, and zmq4's own
//     greeting is swallowed. zmq4's handshake thus never waits on the
//     network. A peer that has not finished its handshake within
//     HandshakeTimeout of connecting is closed; its handshake frames may
//     not exceed 64 KiB;
//   - every frame header is checked as it is read: a frame or a
//     multipart message over MaxMessageBytes closes the connection before
//     zmq4 allocates it;
//   - writes are queued per connection and sent by the connection's own
//     goroutine, so a peer that does not read never blocks the kernel's
//     senders; a peer that takes no data for WriteStallTimeout, or lets
//     more than MaxQueuedBytes pile up, is disconnected (as libzmq drops
//     a subscriber past its high-water mark).
//
// The wire format is unchanged: clients dial plain tcp:// or ipc://.

// Transport limits. Variables so tests can shorten them.
var (
	HandshakeTimeout  = 5 * time.Second
	WriteStallTimeout = 10 * time.Second
	MaxMessageBytes   = uint64(64 << 20)
	MaxQueuedBytes    = 64 << 20
	// lingerTimeout bounds how long closing a connection waits for its
	// queued output to leave.
	lingerTimeout = time.Second
	// maxAdmitting bounds the connections waiting for their first bytes;
	// more are refused at once.
	maxAdmitting = 256
)

// The guarded transports' names, registered with zmq4 once.
const (
	guardedTCP = "tracebook+tcp"
	guardedIPC = "tracebook+ipc"
)

func init() {
	for name, network := range map[string]string{guardedTCP: "tcp", guardedIPC: "unix"} {
		if err := zmq4.RegisterTransport(name, guardedTransport{inner: transport.New(network)}); err != nil {
			panic(err)
		}
	}
}

// guardedTransport is a zmq4 transport whose listeners are guarded.
type guardedTransport struct{ inner transport.Transport }

func (t guardedTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	return t.inner.Dial(ctx, d, addr)
}

func (t guardedTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := t.inner.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return newGuardedListener(l), nil
}

func (t guardedTransport) Addr(ep string) (string, error) { return t.inner.Addr(ep) }

// guardedListener accepts on the wrapped listener in its own goroutine
// and hands zmq4 only connections that have started their handshake.
type guardedListener struct {
	net.Listener
	ready     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	admitting int
}

func newGuardedListener(l net.Listener) *guardedListener {
	g := &guardedListener{Listener: l, ready: make(chan net.Conn), done: make(chan struct{})}
	go g.loop()
	return g
}

func (l *guardedListener) loop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				l.Close()
				return
			}
			// Out of descriptors, say: wait rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		full := l.admitting >= maxAdmitting
		if !full {
			l.admitting++
		}
		l.mu.Unlock()
		if full {
			c.Close()
			continue
		}
		go l.admit(c)
	}
}

// admit runs c's handshake up to the point where zmq4 can finish it
// without waiting, then offers c to zmq4's loop.
func (l *guardedListener) admit(c net.Conn) {
	defer func() {
		l.mu.Lock()
		l.admitting--
		l.mu.Unlock()
	}()
	g := newGuardedConn(c, time.Now().Add(HandshakeTimeout))
	if err := g.preHandshake(); err != nil {
		c.Close()
		return
	}
	select {
	case l.ready <- g:
	case <-l.done:
		g.Close()
	}
}

// Accept returns the next connection whose peer has started its
// handshake.
func (l *guardedListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *guardedListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.Listener.Close()
	})
	return err
}

// ZMTP frame flags (rfc.zeromq.org/spec:23).
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpGreeted = 64 // a ZMTP 3 greeting's length
	// maxHandshakeFrame bounds the peer's READY command (its metadata:
	// socket type and identity).
	maxHandshakeFrame = 64 << 10
)

var (
	errFrameTooLarge = errors.New("zmtp frame or message larger than the kernel accepts")
	errWriteStalled  = errors.New("peer stopped reading")
)

// guardedConn is one accepted connection: it checks the frames it reads
// and queues what it writes.
type guardedConn struct {
	net.Conn
	handshakeBy time.Time

	// Read side, used by one goroutine at a time (zmq4's handshake, then
	// its reader).
	prefix    []byte // bytes read while admitting, not yet returned
	swallow   int    // bytes of zmq4's greeting still to drop (preHandshake sent ours)
	greet     int    // greeting bytes still to come
	hdr       [9]byte
	hdrN      int
	body      uint64 // bytes left in the current frame's body
	msgBytes  uint64 // bytes of the current multipart message so far
	more      bool   // the current frame has MORE set
	handshake bool   // the peer's greeting and first command were read

	// Write side.
	wmu      sync.Mutex
	wcond    *sync.Cond
	queue    [][]byte
	queued   int
	werr     error
	wstarted bool
	writing  bool // the writer holds a batch it has not finished sending
}

func newGuardedConn(c net.Conn, by time.Time) *guardedConn {
	g := &guardedConn{Conn: c, handshakeBy: by, greet: zmtpGreeted}
	g.wcond = sync.NewCond(&g.wmu)
	c.SetReadDeadline(by)
	return g
}

// kernelGreeting is the ZMTP 3.0 greeting zmq4 sends for the NULL
// mechanism: signature, version 3.0, "NULL", not as-server.
var kernelGreeting = func() []byte {
	g := make([]byte, zmtpGreeted)
	g[0], g[9], g[10] = 0xff, 0x7f, 3
	copy(g[12:], "NULL")
	return g
}()

// preHandshake sends the kernel's greeting and reads the peer's greeting
// and first command, before the deadline, keeping them for zmq4.
func (c *guardedConn) preHandshake() error {
	c.Conn.SetWriteDeadline(c.handshakeBy)
	if _, err := c.Conn.Write(kernelGreeting); err != nil {
		return err
	}
	c.Conn.SetWriteDeadline(time.Time{})
	c.swallow = zmtpGreeted
	buf := make([]byte, 512)
	for !c.handshake {
		n, err := c.Conn.Read(buf)
		if ferr := c.scan(buf[:n]); ferr != nil {
			return ferr
		}
		c.prefix = append(c.prefix, buf[:n]...)
		if err != nil && !c.handshake {
			return err
		}
	}
	return nil
}

func (c *guardedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		// Scanned already, in preHandshake.
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if ferr := c.scan(p[:n]); ferr != nil {
		c.Conn.Close()
		return 0, &net.OpError{Op: "read", Net: "zmtp", Addr: c.RemoteAddr(), Err: ferr}
	}
	return n, err
}

// scan follows the ZMTP stream through b: the greeting, then frame
// headers and bodies. It ends the handshake deadline once the peer's
// first command (READY) is complete, and refuses oversized frames.
func (c *guardedConn) scan(b []byte) error {
	for len(b) > 0 {
		switch {
		case c.greet > 0:
			k := min(c.greet, len(b))
			c.greet -= k
			b = b[k:]
		case c.body > 0:
			k := uint64(len(b))
			if k > c.body {
				k = c.body
			}
			c.body -= k
			b = b[k:]
			if c.body == 0 {
				c.frameDone()
			}
		default:
			c.hdr[c.hdrN] = b[0]
			c.hdrN++
			b = b[1:]
			want := 2
			if c.hdr[0]&zmtpLong != 0 {
				want = 9
			}
			if c.hdrN < want {
				continue
			}
			var size uint64
			if want == 2 {
				size = uint64(c.hdr[1])
			} else {
				for _, x := range c.hdr[1:9] {
					size = size<<8 | uint64(x)
				}
			}
			c.more = c.hdr[0]&zmtpMore != 0
			c.hdrN = 0
			limit := MaxMessageBytes
			if !c.handshake {
				limit = maxHandshakeFrame
			}
			if size > limit || c.msgBytes+size > limit {
				return fmt.Errorf("%w (%d bytes)", errFrameTooLarge, c.msgBytes+size)
			}
			c.msgBytes += size
			c.body = size
			if size == 0 {
				c.frameDone()
			}
		}
	}
	return nil
}

func (c *guardedConn) frameDone() {
	if !c.more {
		c.msgBytes = 0
	}
	if !c.handshake {
		c.handshake = true
		c.Conn.SetReadDeadline(time.Time{})
	}
}

// Write queues p for the connection's writer and returns at once.
func (c *guardedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	all := len(p)
	if c.swallow > 0 {
		// zmq4's greeting: preHandshake sent the same bytes already.
		k := min(c.swallow, len(p))
		off := zmtpGreeted - c.swallow
		if !bytes.Equal(p[:k], kernelGreeting[off:off+k]) {
			c.failLocked(errors.New("zmq4 sent another greeting than the kernel's"))
			return 0, c.werr
		}
		c.swallow -= k
		p = p[k:]
		if len(p) == 0 {
			return all, nil
		}
	}
	if c.queued+len(p) > MaxQueuedBytes {
		c.failLocked(fmt.Errorf("%w: %d bytes waiting", errWriteStalled, c.queued))
		return 0, c.werr
	}
	c.queue = append(c.queue, append([]byte(nil), p...))
	c.queued += len(p)
	if !c.wstarted {
		c.wstarted = true
		go c.writer()
	}
	c.wcond.Broadcast()
	return all, nil
}

// failLocked records a write failure and closes the connection, so zmq4
// drops it: the error is a net.Error that is not a timeout, which is
// what zmq4 takes for a closed connection. A TCP connection is reset
// rather than closed, so the system does not keep sending what is still
// in its buffer to a peer that does not read.
func (c *guardedConn) failLocked(err error) {
	if c.werr == nil {
		c.werr = &net.OpError{Op: "write", Net: "zmtp", Addr: c.RemoteAddr(), Err: err}
		if tc, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
			tc.SetLinger(0)
		}
		c.Conn.Close()
		c.wcond.Broadcast()
	}
}

// writer sends the queue in order. A peer that takes nothing of a chunk
// for WriteStallTimeout is dropped.
func (c *guardedConn) writer() {
	const chunk = 1 << 20
	for {
		c.wmu.Lock()
		for len(c.queue) == 0 && c.werr == nil {
			c.writing = false
			c.wcond.Broadcast()
			c.wcond.Wait()
		}
		if c.werr != nil {
			c.queue, c.queued, c.writing = nil, 0, false
			c.wcond.Broadcast()
			c.wmu.Unlock()
			return
		}
		bufs := c.queue
		c.queue, c.queued, c.writing = nil, 0, true
		c.wmu.Unlock()

		var err error
		for _, b := range bufs {
			for len(b) > 0 && err == nil {
				k := min(len(b), chunk)
				c.Conn.SetWriteDeadline(time.Now().Add(WriteStallTimeout))
				var n int
				n, err = c.Conn.Write(b[:k])
				b = b[n:]
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("%w for %v", errWriteStalled, WriteStallTimeout)
			}
			c.wmu.Lock()
			c.failLocked(err)
			c.wmu.Unlock()
		}
	}
}

// Close sends what is queued (for at most lingerTimeout, as ZMQ_LINGER
// would: the last status and a shutdown_reply must leave), then closes.
func (c *guardedConn) Close() error {
	c.wmu.Lock()
	deadline := time.Now().Add(lingerTimeout)
	for c.werr == nil && (len(c.queue) > 0 || c.writing) && time.Now().Before(deadline) {
		c.wmu.Unlock()
		time.Sleep(time.Millisecond)
		c.wmu.Lock()
	}
	if c.werr == nil {
		c.werr = &net.OpError{Op: "write", Net: "zmtp", Addr: c.RemoteAddr(), Err: net.ErrClosed}
		c.wcond.Broadcast()
	}
	c.wmu.Unlock()
	return c.Conn.Close()
}
