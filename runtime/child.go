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
// missed.
//
// The hold is a shell that waits for the read end of a pipe to close and
// then replaces itself with the command (exec keeps the pid). bpftrace
// forks and waits on an eventfd instead; a Go program cannot run code
// between fork and exec, and the shell gives the same pid and timing
// without ptrace.
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
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// $0 is the command's path, "$@" its arguments; fd 3 is the gate,
	// closed for the command itself.
	script := `read _ <&3; exec 3<&- "$0" "$@"`
	argv := append([]string{"-c", script, path}, words[1:]...)
	cmd := exec.Command("/bin/sh", argv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	c := &Child{Path: path, Args: append([]string{path}, words[1:]...), Pid: cmd.Process.Pid, cmd: cmd, gate: w,
		done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		c.mu.Lock()
		c.state = cmd.ProcessState
		c.mu.Unlock()
		close(c.done)
	}()
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

// Kill ends the command if it still runs and waits for it (a held command
// never runs: its gate closes with it).
func (c *Child) Kill() {
	if c.Alive() {
		_ = c.cmd.Process.Kill()
	}
	if c.gate != nil {
		c.gate.Close()
		c.gate = nil
	}
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
}
