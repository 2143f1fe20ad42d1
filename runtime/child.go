package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Child is the command of bpftrace's -c: started at once, so that its pid
// is known (cpid, uprobes filtered on it), but held before it executes the
// command until the probes are attached, so that nothing it does is
// missed, its execve included.
//
// bpftrace forks and has the child wait on an eventfd before execve. A Go
// program cannot run code between fork and exec, so the hold is a shell:
// it says it is ready on one pipe, waits for another to close, and
// replaces itself with the command (exec keeps the pid). StartChild
// returns only once the shell is waiting, so everything the shell does at
// startup (dash calls getppid) happens before any probe is attached;
// after the release it only returns from read, closes the pipes and calls
// execve, as bpftrace's child returns from read, closes the eventfd and
// calls execve.
type Child struct {
	Path string   // the command's resolved path
	Args []string // its argv
	Pid  int

	cmd   *exec.Cmd
	gate  *os.File // write end: closing it lets the command run
	done  chan struct{}
	state *os.ProcessState
	mu    sync.Mutex
}

// maxChildArgs is bpftrace's limit on the command's words.
const maxChildArgs = 255

// holdScript is the shell's part: $0 is the command's path, "$@" its
// arguments; fd 3 is the gate, fd 4 the ready pipe.
const holdScript = `echo >&4; read _ <&3; exec 3<&- 4>&- "$0" "$@"`

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
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		gateR.Close()
		gateW.Close()
		return nil, err
	}
	argv := append([]string{"-c", holdScript, path}, words[1:]...)
	cmd := exec.Command("/bin/sh", argv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{gateR, readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	err = cmd.Start()
	gateR.Close()
	readyW.Close()
	if err != nil {
		readyR.Close()
		gateW.Close()
		return nil, err
	}
	c := &Child{Path: path, Args: append([]string{path}, words[1:]...), Pid: cmd.Process.Pid, cmd: cmd, gate: gateW,
		done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		c.mu.Lock()
		c.state = cmd.ProcessState
		c.mu.Unlock()
		close(c.done)
	}()
	// Wait until the shell is blocked on the gate (or has died).
	var b [1]byte
	_, err = readyR.Read(b[:])
	readyR.Close()
	if err != nil {
		c.Kill()
		return nil, errors.New("the command's shell did not start")
	}
	return c, nil
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gate == nil {
		return nil
	}
	err := c.gate.Close()
	c.gate = nil
	return err
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

// Kill ends the command if it still runs (a held command never runs: it
// dies at the gate) and waits for it.
func (c *Child) Kill() {
	if c.Alive() {
		_ = c.cmd.Process.Kill()
	}
	_ = c.Release()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
}
