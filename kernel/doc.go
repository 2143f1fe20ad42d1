// Package kernel serves the Jupyter messaging protocol (version 5.3) for
// tracebook's notebooks.
//
// The protocol side is independent of bpftrace: the files wire.go (frames
// and HMAC signing), msg.go (typed contents), conn.go (the five zmq
// sockets), dispatch.go (routing, busy/idle, interrupts, shutdown, aborting
// queued cells), display.go (rate-limited output), history.go and
// iscomplete.go import nothing else of this project. The language work goes
// through the Executor interface (executor.go), after xeus's xinterpreter;
// the executor that runs cells on the bpftrace engine lives in its own
// files, and kerneltest has a fake one for protocol tests.
//
// Facts this package relies on, with sources, are in
// ../shared/reference/jupyter.md.
package kernel
