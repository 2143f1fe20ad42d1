package runtime

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// Detaching a probe and releasing it are two steps here. Detaching stops
// its program (closing the BPF link: quick, and done at once when a run
// ends, before END). Releasing a perf event (closing its file) makes the
// kernel unregister the tracepoint and wait for RCU grace periods under a
// kernel-wide mutex: 40-80 ms per tracepoint, one after another however
// many threads close them. A run leaves the release to the session,
// which does it in the background, or, for a process about to exit (the
// command line), hands the files to a short-lived helper process so that
// the exit does not wait for it (a process's exit closes its files before
// its parent sees it end).

// detacher is an attachment whose detach is cheaper than its release (our
// perf links; cilium's links have a Detach method of another meaning).
type detacher interface{ detach() error }

// detachAll detaches every attachment concurrently and returns the ones
// that still need releasing.
func detachAll(cs []io.Closer) ([]io.Closer, error) {
	errs := make([]error, len(cs))
	rest := make([]io.Closer, 0, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		if c == nil {
			continue
		}
		d, ok := c.(detacher)
		if ok {
			rest = append(rest, c)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok {
				errs[i] = d.detach()
			} else {
				errs[i] = c.Close()
			}
		}()
	}
	wg.Wait()
	return rest, errors.Join(errs...)
}

// release closes detached attachments: in the background, or, with
// SessionOptions.HandOffRelease, keeps them for Close to hand off.
func (s *Session) release(cs []io.Closer) {
	if len(cs) == 0 {
		return
	}
	s.relMu.Lock()
	defer s.relMu.Unlock()
	if s.opts.HandOffRelease {
		s.toRelease = append(s.toRelease, cs...)
		return
	}
	s.releasing.Add(1)
	go func() {
		defer s.releasing.Done()
		_ = CloseAll(cs)
	}()
}

// finishRelease waits for background releases and hands off (or closes)
// the kept ones.
func (s *Session) finishRelease() error {
	s.releasing.Wait()
	s.relMu.Lock()
	cs := s.toRelease
	s.toRelease = nil
	s.relMu.Unlock()
	if len(cs) == 0 {
		return nil
	}
	var fds []int
	var others []io.Closer
	for _, c := range cs {
		fds, others = perfFDs(c, fds, others)
	}
	if len(fds) > 0 && handOff(fds) == nil {
		fds = nil
	}
	for _, fd := range fds {
		syscall.Close(fd)
	}
	return CloseAll(others)
}

// perfFDs collects the perf event files of detached perf links (taking
// them from the links), and the attachments that are something else.
func perfFDs(c io.Closer, fds []int, others []io.Closer) ([]int, []io.Closer) {
	switch c := c.(type) {
	case *perfLink:
		if c.link == nil && c.fd >= 0 {
			fds = append(fds, c.fd)
			c.fd = -1
			return fds, others
		}
	case multiCloser:
		for _, x := range c {
			if x != nil {
				fds, others = perfFDs(x, fds, others)
			}
		}
		return fds, others
	}
	return fds, append(others, c)
}

// ReleaseEnv is set in the environment of the helper process that releases
// perf events for an exiting tracebook; the command's main calls
// ReleaseMain when it is set.
const ReleaseEnv = "TRACEBOOK_RELEASE_FDS"

// handOff gives fds to a helper process (this executable, in ReleaseMain)
// that closes them after we have gone, and closes our copies. The helper
// has no standard streams and its own session, so nothing waits for it.
func handOff(fds []int) error {
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), "perf_event")
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), ReleaseEnv+"="+strconv.Itoa(len(fds)))
	cmd.ExtraFiles = files
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	for _, f := range files {
		f.Close()
	}
	return cmd.Process.Release()
}

// ReleaseMain is the helper of handOff: it closes the descriptors it was
// given (3, 4, ...) and exits.
func ReleaseMain() int {
	n, err := strconv.Atoi(os.Getenv(ReleaseEnv))
	if err != nil {
		return 2
	}
	var wg sync.WaitGroup
	for fd := 3; fd < 3+n; fd++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			syscall.Close(fd)
		}()
	}
	wg.Wait()
	return 0
}
