package runtime

import (
	"fmt"

	"github.com/tracebook/tracebook/lang"
)

// notFoundError is an error that reads as the detail bpftrace would print
// ("tracepoint not found: syscalls:nonexistent") and matches
// lang.ErrNotFound with errors.Is.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return lang.ErrNotFound }

func notFound(format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...)}
}
