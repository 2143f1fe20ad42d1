package kerneltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tracebook/tracebook/kernel"
)

// Process is a kernel running as a process of its own (`tracebook
// --kernel FILE`, as Jupyter starts it), for what only a process shows:
// the sockets it binds, its warnings on stderr, signals, and what it
// leaves behind when it ends or is killed.
type Process struct {
	Cmd  *exec.Cmd
	Conn kernel.ConnectionInfo
	File string // the connection file

	stderr LockedBuffer
	done   chan struct{}
	err    error
}

// LockedBuffer is a bytes.Buffer that a process's output (or a kernel's
// log) may write to from one goroutine while a test reads it in another.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// FreePorts returns n TCP ports that were free on ip a moment ago, as
// jupyter_client picks a connection file's ports.
func FreePorts(t testing.TB, ip string, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// NewConnection returns a tcp connection for ip with free ports and a
// fresh key.
func NewConnection(t testing.TB, ip string) kernel.ConnectionInfo {
	p := FreePorts(t, ip, 5)
	return kernel.ConnectionInfo{Transport: "tcp", IP: ip, ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2],
		ControlPort: p[3], HBPort: p[4], SignatureScheme: "hmac-sha256", Key: uuid.NewString(), KernelName: "tracebook"}
}

// StartProcess writes ci to a connection file of the given mode, starts
// argv (a tracebook command line without the --kernel argument) with
// extra environment env, and waits until the kernel answers. The process
// is killed at the end of the test if it is still running.
func StartProcess(t testing.TB, argv []string, env []string, ci kernel.ConnectionInfo, mode os.FileMode) *Process {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "kernel-test.json")
	b, err := json.Marshal(ci)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	p := &Process{Conn: ci, File: file, done: make(chan struct{})}
	p.Cmd = exec.Command(argv[0], append(append([]string(nil), argv[1:]...), "--kernel", file)...)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stderr = &p.stderr
	p.Cmd.Stdout = &p.stderr
	// Its own process group, so a test's signals reach only it.
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			p.Cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("kernel process stderr:\n%s", p.Stderr())
		}
	})
	return p
}

// Pid is the kernel's process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Stderr is what the kernel wrote so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to d for the process to end; err is its exit error (nil
// for status 0).
func (p *Process) Wait(d time.Duration) (exited bool, err error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(d):
		return false, nil
	}
}

// Client connects a ready client with the given identity (fresh if
// empty), closed at the end of the test.
func (p *Process) Client(t testing.TB, identity string) *Client {
	t.Helper()
	c := Dial(t, p.Conn, identity)
	t.Cleanup(c.Close)
	c.WaitReady()
	return c
}

// String names the process for messages.
func (p *Process) String() string { return fmt.Sprintf("kernel pid %d", p.Pid()) }
