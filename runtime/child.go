package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Child is the command of bpftrace's -c: started at once, so that its pid
// is known (cpid, uprobes filtered on it), but held before it runs a
// single instruction of the command until the probes are attached, so that
// nothing it does is missed.
//
// The hold is ptrace's, as in bpftrace: the child asks to be traced and
// executes the command, which stops it right after execve; Release detaches
// and it runs. (A shell that waits and then execs would run code of its own
// under the command's pid: dash calls getppid, which a getppid tracepoint
// filtered on cpid would count.) Ptrace requests must come from the thread
// that started the child, so one goroutine, locked to its thread, starts,
// holds and releases it.
type Child struct {
	Path string   // the command's resolved path
	Args []string // its argv
	Pid  int

	cmd     *exec.Cmd
	release chan bool // true: run the command; false: kill it
	once    sync.Once
	done    chan struct{}
	state   *os.ProcessState
	mu      sync.Mutex
}

// maxChildArgs is bpftrace's limit on the command's words.
const maxChildArgs = 255

// StartChild starts command held: its words are split on spaces (as
// bpftrace does; no shell quoting) and its first word is looked up in PATH
// unless it holds a '/'. Errors read as bpftrace's, which prints them after
// "Failed to fork child: ".
func StartChild(command string, stdin, stdout, stderr *os.File) (*Child, error) {
	var words []string
	for _, w := range strings.Split(command, " ") {
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	path, err := resolveCommand(words[0])
	if err != nil {
		return nil, err
	}
	if len(words) >= maxChildArgs-1 {
		return nil, fmt.Errorf("Too many arguments for command (%d > %d)", len(words), maxChildArgs-2)
	}
	cmd := exec.Command(path, words[1:]...)
	cmd.Args[0] = words[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGTERM}
	c := &Child{Path: path, Args: append([]string{path}, words[1:]...), cmd: cmd,
		release: make(chan bool, 1), done: make(chan struct{})}
	started := make(chan error, 1)
	go c.hold(started)
	if err := <-started; err != nil {
		return nil, err
	}
	c.Pid = cmd.Process.Pid
	return c, nil
}

// hold starts the command stopped, waits for Release (or Kill), and then
// waits for the command's end.
func (c *Child) hold(started chan<- error) {
	goruntime.LockOSThread()
	if err := c.cmd.Start(); err != nil {
		goruntime.UnlockOSThread()
		started <- err
		return
	}
	pid := c.cmd.Process.Pid
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || !ws.Stopped() {
			goruntime.UnlockOSThread()
			_ = c.cmd.Wait()
			started <- fmt.Errorf("the command did not start: %v", ws)
			return
		}
		break
	}
	started <- nil
	run := <-c.release
	if !run {
		_ = c.cmd.Process.Kill()
	}
	_ = syscall.PtraceDetach(pid)
	goruntime.UnlockOSThread()
	_ = c.cmd.Wait()
	c.mu.Lock()
	c.state = c.cmd.ProcessState
	c.mu.Unlock()
	close(c.done)
}

// resolveCommand finds the command's binary as bpftrace does: a path with
// a '/' is taken as is, a bare name is looked up in PATH; either must be
// an executable file.
func resolveCommand(name string) (string, error) {
	bad := fmt.Errorf("path '%s' does not exist or is not executable", name)
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", bad
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", bad
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && unix.Access(p, unix.X_OK) == nil
}

// Release lets the command run.
func (c *Child) Release() error {
	c.once.Do(func() { c.release <- true })
	return nil
}

// Done is closed when the command has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Alive reports whether the command is still running.
func (c *Child) Alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// ExitCode is the command's exit status, -1 while it runs or when a
// signal ended it.
func (c *Child) ExitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		return -1
	}
	return c.state.ExitCode()
}

// Terminate sends SIGTERM to a running command (bpftrace does on exit()).
func (c *Child) Terminate() {
	if c.Alive() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// Kill ends the command if it still runs (a held command never runs) and
// waits for it.
func (c *Child) Kill() {
	c.once.Do(func() { c.release <- false })
	if c.Alive() {
		_ = c.cmd.Process.Kill()
	}
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
}
