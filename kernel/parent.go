package kernel

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A kernel whose client died must not live on holding probes attached:
// `jupyter run` never shuts its kernel down, and a killed server cannot. Like
// ipykernel's parent poller, the kernel checks every second that whoever
// started it is still there, and shuts down when not.
//
// Watched: the parent process (its death reparents us, so getppid changes),
// $JPY_PARENT_PID when jupyter_client set it, and, when the parent is sudo
// (kernel.json's "sudo -n tracebook …", which scrubs JPY_PARENT_PID), sudo's
// own parent, since sudo outlives a client killed with SIGKILL.

// parentWatch is the set of processes whose death ends the kernel.
type parentWatch struct {
	ppid int
	pids []int
}

func newParentWatch() parentWatch {
	w := parentWatch{ppid: os.Getppid()}
	if v, err := strconv.Atoi(os.Getenv("JPY_PARENT_PID")); err == nil && v > 1 {
		w.pids = append(w.pids, v)
	}
	if w.ppid > 1 && procComm(w.ppid) == "sudo" {
		if gp := procParent(w.ppid); gp > 1 {
			w.pids = append(w.pids, gp)
		}
	}
	return w
}

// gone reports which watched process has died, or "" if all are alive.
func (w parentWatch) gone() string {
	if w.ppid > 1 && os.Getppid() != w.ppid {
		return "parent process " + strconv.Itoa(w.ppid)
	}
	for _, pid := range w.pids {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return "process " + strconv.Itoa(pid)
		}
	}
	return ""
}

// watch polls every interval until done is closed or a watched process dies,
// then calls onDeath with a description of who died.
func (w parentWatch) watch(interval time.Duration, done <-chan struct{}, onDeath func(who string)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if who := w.gone(); who != "" {
				onDeath(who)
				return
			}
		}
	}
}

func procComm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// procParent reads a process's parent pid from /proc/PID/stat, whose second
// field (the command name, in parentheses) may itself contain spaces.
func procParent(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}
