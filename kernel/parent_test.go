package kernel

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

func TestProcParent(t *testing.T) {
	if got := procParent(os.Getpid()); got != os.Getppid() {
		t.Errorf("procParent(self) = %d, want %d", got, os.Getppid())
	}
	if procParent(-1) != 0 || procComm(-1) != "" {
		t.Error("a missing process must give zero values")
	}
}

func TestParentWatchSeesDeath(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	pid := cmd.Process.Pid
	w := parentWatch{ppid: os.Getppid(), pids: []int{pid}}
	if who := w.gone(); who != "" {
		t.Fatalf("%s reported gone while alive", who)
	}
	died := make(chan string, 1)
	done := make(chan struct{})
	defer close(done)
	go w.watch(10*time.Millisecond, done, func(who string) { died <- who })
	cmd.Process.Kill()
	cmd.Wait() // reap it, or it lingers as a zombie that kill(pid, 0) still finds
	select {
	case who := <-died:
		if who != "process "+strconv.Itoa(pid) {
			t.Errorf("reported %q", who)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("death not noticed")
	}
}

func TestParentWatchFromEnvironment(t *testing.T) {
	t.Setenv("JPY_PARENT_PID", strconv.Itoa(os.Getpid()))
	w := newParentWatch()
	if len(w.pids) == 0 || w.pids[0] != os.Getpid() {
		t.Errorf("JPY_PARENT_PID not watched: %+v", w)
	}
	if who := w.gone(); who != "" {
		t.Errorf("%s gone", who)
	}
}
