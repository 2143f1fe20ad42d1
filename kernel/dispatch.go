package kernel

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Config is what a Kernel needs to serve one connection file.
type Config struct {
	Connection ConnectionInfo
	Executor   Executor

	// Implementation and ImplementationVersion name this program in
	// kernel_info_reply ("tracebook", its version).
	Implementation        string
	ImplementationVersion string

	// Logger receives the kernel's diagnostics (dropped messages, send
	// errors); Jupyter shows a kernel's stderr in its server log.
	Logger *log.Logger

	// WatchParent shuts the kernel down when the process that started it
	// dies (see parent.go). The command line turns it on; tests do not.
	WatchParent bool
	// HandleSignals routes SIGINT to Interrupt and SIGTERM/SIGHUP to a
	// clean shutdown.
	HandleSignals bool

	// Limits bound each cell's IOPub output; zero fields take defaults.
	Limits OutputLimits
}

// Kernel serves the Jupyter messaging protocol over the five sockets of a
// connection file and hands the language work to an Executor.
//
// Goroutines: one reader per socket (shell, control, stdin), the heartbeat
// echo, and one shell worker. Shell requests run one at a time on the
// worker, in arrival order, so executes are serialised and a client's
// requests are answered in order. The control reader handles interrupt,
// shutdown and kernel_info itself, so they work while a cell runs; the shell
// reader does the same for interrupt_request and shutdown_request arriving on
// shell (VS Code sent interrupts there; shutdown on shell is deprecated but
// still sent).
type Kernel struct {
	cfg    Config
	exec   Executor
	log    *log.Logger
	id     identity
	signer *Signer
	replay *replayGuard
	ch     *channels
	conn   ConnectionInfo

	queue   *shellQueue
	history history

	mu    sync.Mutex
	cell  *runningCell
	count int

	done         chan struct{}
	stopOnce     sync.Once
	shutdownOnce sync.Once
	workerDone   chan struct{}
}

// runningCell is the execute_request being run, for interrupts.
type runningCell struct {
	cancel      context.CancelFunc
	interrupted bool
	done        chan struct{}
}

// New binds the sockets of cfg.Connection. The kernel starts answering when
// Run is called.
func New(cfg Config) (*Kernel, error) {
	if cfg.Executor == nil {
		return nil, errors.New("kernel: no executor")
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(os.Stderr, "tracebook kernel: ", log.LstdFlags)
	}
	if cfg.Implementation == "" {
		cfg.Implementation = "tracebook"
	}
	if cfg.ImplementationVersion == "" {
		cfg.ImplementationVersion = buildVersion()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	ci := cfg.Connection
	if err := ci.check(); err != nil {
		return nil, err
	}
	signer, err := NewSigner(ci.SignatureScheme, ci.Key)
	if err != nil {
		return nil, err
	}
	ch, bound, err := bind(context.Background(), ci, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Kernel{
		cfg:        cfg,
		exec:       cfg.Executor,
		log:        cfg.Logger,
		id:         newIdentity(),
		signer:     signer,
		replay:     newReplayGuard(1 << 14),
		ch:         ch,
		conn:       bound,
		queue:      newShellQueue(),
		done:       make(chan struct{}),
		workerDone: make(chan struct{}),
	}, nil
}

// Connection returns the connection info with the ports actually bound.
func (k *Kernel) Connection() ConnectionInfo { return k.conn }

// Run serves until a shutdown_request, the end of ctx, the parent's death
// or (with HandleSignals) SIGTERM; then it shuts the executor down and
// closes the sockets. It returns nil after a requested shutdown.
func (k *Kernel) Run(ctx context.Context) error {
	// Signals first, so a SIGINT never finds the default handler (which
	// would kill the kernel) once clients can reach us.
	if k.cfg.HandleSignals {
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(sigs)
		go k.onSignals(sigs)
	}
	go k.ch.shell.readLoop(k.signer, k.replay, k.log, k.done, k.onShell)
	go k.ch.control.readLoop(k.signer, k.replay, k.log, k.done, k.onControl)
	go k.ch.stdin.readLoop(k.signer, k.replay, k.log, k.done, func(m *Message) {
		k.log.Printf("stdin: ignoring %s (this kernel never asks for input)", m.Header.MsgType)
	})
	go k.ch.hb.heartbeat(k.log, k.done)
	go k.worker()
	k.publish(nil, "status", statusContent{ExecutionState: "starting"})

	if k.cfg.WatchParent {
		go newParentWatch().watch(time.Second, k.done, func(who string) {
			k.log.Printf("%s is gone; shutting down", who)
			k.shutdown(false)
			k.stop()
		})
	}
	var err error
	select {
	case <-k.done:
	case <-ctx.Done():
		err = ctx.Err()
		k.shutdown(false)
		k.stop()
	}
	k.queue.close()
	select {
	case <-k.workerDone:
	case <-time.After(2 * time.Second):
		k.log.Printf("a cell did not stop within 2s of shutdown")
	}
	// Like ZMQ_LINGER: give queued IOPub messages (the last idle) a moment
	// to leave before the sockets close.
	time.Sleep(50 * time.Millisecond)
	k.ch.close()
	return err
}

// onSignals routes SIGINT to Interrupt, as a terminal's Ctrl-C or
// jupyter_client's "signal" interrupt mode sends it to the process group,
// and SIGTERM/SIGHUP to a clean shutdown that detaches probes.
func (k *Kernel) onSignals(sigs <-chan os.Signal) {
	for {
		select {
		case <-k.done:
			return
		case s := <-sigs:
			if s == syscall.SIGINT {
				k.Interrupt()
				continue
			}
			k.log.Printf("%v: shutting down", s)
			k.shutdown(false)
			k.stop()
			return
		}
	}
}

func (k *Kernel) stop() { k.stopOnce.Do(func() { close(k.done) }) }

// Interrupt cancels the running cell, if any. interrupt_request (on control
// or shell) and SIGINT all end here.
func (k *Kernel) Interrupt() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cell != nil {
		k.cell.interrupted = true
		k.cell.cancel()
	}
}

// shutdown stops the running cell (waiting for it a little) and shuts the
// executor down, once.
func (k *Kernel) shutdown(restart bool) {
	k.shutdownOnce.Do(func() {
		k.mu.Lock()
		cell := k.cell
		if cell != nil {
			cell.interrupted = true
			cell.cancel()
		}
		k.mu.Unlock()
		if cell != nil {
			select {
			case <-cell.done:
			case <-time.After(2 * time.Second):
				k.log.Printf("shutdown: the running cell did not stop within 2s")
			}
		}
		if err := k.guard("shutdown", func() error { return k.exec.Shutdown(restart) }); err != nil {
			k.log.Printf("shutdown: %v", err)
		}
	})
}

// onShell runs on the shell reader: interrupt and shutdown cannot wait
// behind a running cell, everything else joins the queue.
func (k *Kernel) onShell(m *Message) {
	switch m.Header.MsgType {
	case "interrupt_request":
		k.handleInterrupt(k.ch.shell, m)
	case "shutdown_request":
		k.handleShutdown(k.ch.shell, m)
	default:
		k.queue.push(m)
	}
}

// onControl runs on the control reader, concurrently with the shell worker.
func (k *Kernel) onControl(m *Message) {
	defer k.recoverHandler(m)
	switch m.Header.MsgType {
	case "interrupt_request":
		k.handleInterrupt(k.ch.control, m)
	case "shutdown_request":
		k.handleShutdown(k.ch.control, m)
	case "kernel_info_request":
		k.busyIdle(m, func() { k.handleKernelInfo(k.ch.control, m) })
	default:
		k.log.Printf("control: ignoring %s", m.Header.MsgType)
	}
}

func (k *Kernel) worker() {
	defer close(k.workerDone)
	for {
		m, ok := k.queue.pop()
		if !ok {
			return
		}
		k.handleShell(m)
	}
}

func (k *Kernel) handleShell(m *Message) {
	defer k.recoverHandler(m)
	s := k.ch.shell
	var h func()
	switch m.Header.MsgType {
	case "execute_request":
		h = func() { k.handleExecute(s, m) }
	case "kernel_info_request":
		h = func() { k.handleKernelInfo(s, m) }
	case "complete_request":
		h = func() { k.handleComplete(s, m) }
	case "inspect_request":
		h = func() { k.handleInspect(s, m) }
	case "is_complete_request":
		h = func() { k.handleIsComplete(s, m) }
	case "history_request":
		h = func() { k.handleHistory(s, m) }
	case "comm_info_request":
		h = func() { k.reply(s, m, "comm_info_reply", CommInfoReply{Status: "ok", Comms: map[string]any{}}) }
	case "comm_open":
		h = func() { k.handleCommOpen(m) }
	case "comm_msg", "comm_close":
		h = func() {} // no comms are ever open
	case "connect_request":
		h = func() {
			c := k.conn
			k.reply(s, m, "connect_reply", ConnectReply{Status: "ok", ShellPort: c.ShellPort,
				IOPubPort: c.IOPubPort, StdinPort: c.StdinPort, HBPort: c.HBPort, ControlPort: c.ControlPort})
		}
	default:
		k.log.Printf("shell: ignoring unknown message type %q", m.Header.MsgType)
		return
	}
	k.busyIdle(m, h)
}

// busyIdle wraps a request in status busy … idle with the request as
// parent: clients (jupyter_client's wait_for_ready, JupyterLab's futures,
// jupyter_kernel_test) rely on seeing both for every request.
func (k *Kernel) busyIdle(m *Message, h func()) {
	k.publish(m, "status", statusContent{ExecutionState: "busy"})
	defer k.publish(m, "status", statusContent{ExecutionState: "idle"})
	h()
}

// recoverHandler keeps a bug in one handler from killing the kernel.
func (k *Kernel) recoverHandler(m *Message) {
	if v := recover(); v != nil {
		k.log.Printf("panic handling %s: %v\n%s", m.Header.MsgType, v, debug.Stack())
	}
}

// guard calls an executor method, turning a panic into an error.
func (k *Kernel) guard(what string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			k.log.Printf("panic in executor %s: %v\n%s", what, v, debug.Stack())
			err = panicError(what, v)
		}
	}()
	return f()
}

// reply sends a reply to req on s, to the identities req came from. A send
// error (the client went away) is logged; it never stops the kernel.
func (k *Kernel) reply(s *socket, req *Message, msgType string, content any) {
	m, err := k.id.newMessage(req, msgType, content)
	if err != nil {
		k.log.Printf("%s: %v", msgType, err)
		return
	}
	m.Identities = req.Identities
	if err := s.send(m, k.signer); err != nil {
		k.log.Printf("%s: sending %s: %v", s.name, msgType, err)
	}
}

// replyError sends a reply with status "error", e.g. for a request whose
// content lacks a required field.
func (k *Kernel) replyError(s *socket, req *Message, e *CellError) {
	k.reply(s, req, replyType(req.Header.MsgType), errorReply(e))
}

func replyType(requestType string) string {
	return strings.TrimSuffix(requestType, "_request") + "_reply"
}

func badRequest(err error) *CellError {
	return &CellError{Name: "BadRequest", Value: err.Error(), Traceback: []string{"BadRequest: " + err.Error()}}
}

// publish sends on IOPub with topic kernel.<session>.<msg_type>, the
// convention ipykernel follows (clients subscribe to everything).
func (k *Kernel) publish(parent *Message, msgType string, content any) {
	m, err := k.id.newMessage(parent, msgType, content)
	if err != nil {
		k.log.Printf("%s: %v", msgType, err)
		return
	}
	m.Identities = [][]byte{[]byte("kernel." + k.id.session + "." + msgType)}
	if err := k.ch.iopub.send(m, k.signer); err != nil {
		k.log.Printf("iopub: sending %s: %v", msgType, err)
	}
}

func (k *Kernel) handleInterrupt(s *socket, m *Message) {
	k.busyIdle(m, func() {
		k.Interrupt()
		k.reply(s, m, "interrupt_reply", StatusReply{Status: "ok"})
	})
}

func (k *Kernel) handleShutdown(s *socket, m *Message) {
	var req ShutdownRequest
	if err := decodeRequest(m.Content, &req); err != nil {
		k.log.Printf("shutdown_request: %v; shutting down anyway", err)
	}
	k.busyIdle(m, func() {
		k.shutdown(req.Restart)
		k.reply(s, m, "shutdown_reply", ShutdownReply{Status: "ok", Restart: req.Restart})
	})
	k.stop()
}

func (k *Kernel) handleKernelInfo(s *socket, m *Message) {
	var info KernelInfo
	if err := k.guard("kernel_info", func() error { info = k.exec.KernelInfo(); return nil }); err != nil {
		k.log.Printf("kernel_info: %v", err)
	}
	links := info.HelpLinks
	if links == nil {
		links = []HelpLink{}
	}
	k.reply(s, m, "kernel_info_reply", KernelInfoReply{
		Status:                "ok",
		ProtocolVersion:       ProtocolVersion,
		Implementation:        k.cfg.Implementation,
		ImplementationVersion: k.cfg.ImplementationVersion,
		LanguageInfo: LanguageInfo{
			Name:              "bpftrace",
			Version:           info.LanguageVersion,
			Mimetype:          "text/x-bpftrace",
			FileExtension:     ".bt",
			PygmentsLexer:     "c",
			CodemirrorMode:    "text/x-csrc",
			NbconvertExporter: "script",
		},
		Banner:    k.banner(info),
		HelpLinks: links,
	})
}

// banner is what consoles print on connect: the program, the host kernel
// and what it can trace here.
func (k *Kernel) banner(info KernelInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: bpftrace in Jupyter", k.cfg.Implementation, k.cfg.ImplementationVersion)
	if info.LanguageVersion != "" {
		fmt.Fprintf(&b, " (bpftrace %s language)", info.LanguageVersion)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "host kernel: %s\n", uname())
	if info.BTF {
		b.WriteString("BTF: present\n")
	} else {
		b.WriteString("BTF: absent (no /sys/kernel/btf/vmlinux)\n")
	}
	if len(info.ProbeTypes) > 0 {
		fmt.Fprintf(&b, "probe types: %s\n", strings.Join(info.ProbeTypes, ", "))
	} else {
		b.WriteString("probe types: none available\n")
	}
	for _, n := range info.Notes {
		b.WriteString(n + "\n")
	}
	return b.String()
}

func uname() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " +
		unix.ByteSliceToString(u.Machine[:])
}

// buildVersion is the module version the binary was built from, or "devel".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func (k *Kernel) handleExecute(s *socket, m *Message) {
	var req ExecuteRequest
	if err := decodeRequest(m.Content, &req); err != nil {
		k.replyError(s, m, badRequest(err))
		return
	}
	code := *req.Code
	store := req.storeHistory()
	blank := strings.TrimSpace(code) == ""

	k.mu.Lock()
	if store && !blank {
		k.count++
	}
	count := k.count
	k.mu.Unlock()

	if !req.Silent {
		k.publish(m, "execute_input", executeInputContent{Code: code, ExecutionCount: count})
	}
	if blank {
		k.reply(s, m, "execute_reply", ExecuteReply{Status: "ok", ExecutionCount: count,
			Payload: []map[string]any{}, UserExpressions: map[string]any{}})
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	cell := &runningCell{cancel: cancel, done: make(chan struct{})}
	k.mu.Lock()
	k.cell = cell
	k.mu.Unlock()

	pub := newCellPublisher(func(t string, c any) { k.publish(m, t, c) }, count, req.Silent, k.cfg.Limits, true)
	var res Result
	err := k.guard("execute", func() error {
		var err error
		res, err = k.exec.Execute(ctx, code, ExecuteOptions{ExecutionCount: count, Silent: req.Silent, StoreHistory: store}, pub)
		return err
	})

	k.mu.Lock()
	k.cell = nil
	interrupted := cell.interrupted
	k.mu.Unlock()
	cancel()

	var cellErr *CellError
	switch {
	case interrupted:
		cellErr = ErrInterrupted
	case err != nil:
		cellErr = asCellError(err)
	}
	pub.finish(cellErr)
	close(cell.done)

	if store {
		k.history.add(count, code, pub.resultText())
	}
	if cellErr != nil {
		r := errorReply(cellErr)
		r.ExecutionCount = &count
		k.reply(s, m, "execute_reply", r)
		if req.stopOnError() && !req.Silent {
			k.abortQueued()
		}
		return
	}
	payload := res.Payloads
	if payload == nil {
		payload = []map[string]any{}
	}
	k.reply(s, m, "execute_reply", ExecuteReply{Status: "ok", ExecutionCount: count,
		Payload: payload, UserExpressions: map[string]any{}})
}

// abortQueued answers every execute_request already waiting in the shell
// queue with status "error" without running it, so that "run all" stops at
// the failed cell. Other requests stay queued and run normally. The status
// is "error", not ipykernel's "aborted", because that is what xeus sends and
// what jupyter_kernel_test's schema accepts.
func (k *Kernel) abortQueued() {
	for _, m := range k.queue.takeExecutes() {
		k.busyIdle(m, func() {
			k.mu.Lock()
			count := k.count
			k.mu.Unlock()
			r := errorReply(&CellError{Name: "Aborted", Value: "not run: an earlier cell failed", Traceback: []string{}})
			r.ExecutionCount = &count
			k.reply(k.ch.shell, m, "execute_reply", r)
		})
	}
}

func (k *Kernel) handleComplete(s *socket, m *Message) {
	var req CompleteRequest
	if err := decodeRequest(m.Content, &req); err != nil {
		k.replyError(s, m, badRequest(err))
		return
	}
	code := *req.Code
	cursor := cursorByte(code, req.CursorPos)
	var c Completion
	if err := k.guard("complete", func() error { c = k.exec.Complete(code, cursor); return nil }); err != nil {
		k.replyError(s, m, asCellError(err))
		return
	}
	start, end := byteToRune(code, c.Start), byteToRune(code, c.End)
	if len(c.Matches) == 0 || end < start {
		cp := byteToRune(code, cursor)
		start, end = cp, cp
	}
	matches := make([]string, 0, len(c.Matches))
	var types []map[string]any
	typed := false
	for _, mt := range c.Matches {
		matches = append(matches, mt.Text)
		types = append(types, map[string]any{"start": start, "end": end, "text": mt.Text, "type": mt.Type, "signature": mt.Signature})
		typed = typed || mt.Type != ""
	}
	meta := map[string]any{}
	if typed {
		meta["_jupyter_types_experimental"] = types
	}
	k.reply(s, m, "complete_reply", CompleteReply{Status: "ok", Matches: matches, CursorStart: start, CursorEnd: end, Metadata: meta})
}

func (k *Kernel) handleInspect(s *socket, m *Message) {
	var req InspectRequest
	if err := decodeRequest(m.Content, &req); err != nil {
		k.replyError(s, m, badRequest(err))
		return
	}
	code := *req.Code
	cursor := cursorByte(code, req.CursorPos)
	var in Inspection
	if err := k.guard("inspect", func() error { in = k.exec.Inspect(code, cursor, req.DetailLevel.V); return nil }); err != nil {
		k.replyError(s, m, asCellError(err))
		return
	}
	data := map[string]any{}
	meta := map[string]any{}
	if in.Found {
		data, meta = dict(in.Data.Data), dict(in.Data.Metadata)
	}
	k.reply(s, m, "inspect_reply", InspectReply{Status: "ok", Found: in.Found, Data: data, Metadata: meta})
}

func (k *Kernel) handleIsComplete(s *socket, m *Message) {
	var req IsCompleteRequest
	if err := decodeRequest(m.Content, &req); err != nil {
		k.replyError(s, m, badRequest(err))
		return
	}
	var r IsCompleteResult
	if err := k.guard("is_complete", func() error { r = k.exec.IsComplete(*req.Code); return nil }); err != nil {
		r = IsCompleteResult{Status: "unknown"}
	}
	switch r.Status {
	case "complete", "incomplete", "invalid", "unknown":
	default:
		r.Status = "unknown"
	}
	reply := IsCompleteReply{Status: r.Status}
	if r.Status == "incomplete" {
		reply.Indent = &r.Indent
	}
	k.reply(s, m, "is_complete_reply", reply)
}

func (k *Kernel) handleHistory(s *socket, m *Message) {
	var req HistoryRequest
	if err := decodeRequest(m.Content, &req); err != nil {
		k.replyError(s, m, badRequest(err))
		return
	}
	k.reply(s, m, "history_reply", HistoryReply{Status: "ok", History: k.history.query(&req)})
}

// handleCommOpen closes every comm a client opens: this kernel registers no
// comm targets, and the protocol says an unknown target gets a comm_close.
func (k *Kernel) handleCommOpen(m *Message) {
	var req CommOpen
	if err := decodeRequest(m.Content, &req); err != nil {
		k.log.Printf("comm_open: %v", err)
		return
	}
	k.log.Printf("comm_open: no comm target %q; closing comm %s", req.TargetName, req.CommID)
	k.publish(m, "comm_close", commCloseContent{CommID: req.CommID, Data: map[string]any{}})
}

// shellQueue is the unbounded FIFO between the shell reader and the worker.
// Unbounded so the reader never blocks: it must stay free to take
// interrupt_request while a cell runs.
type shellQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []*Message
	closed bool
}

func newShellQueue() *shellQueue {
	q := &shellQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *shellQueue) push(m *Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.items = append(q.items, m)
	q.cond.Signal()
}

// pop waits for the next message; ok is false once the queue is closed.
func (q *shellQueue) pop() (m *Message, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, false
	}
	m = q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return m, true
}

// takeExecutes removes and returns the queued execute_requests.
func (q *shellQueue) takeExecutes() []*Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	var taken []*Message
	kept := q.items[:0]
	for _, m := range q.items {
		if m.Header.MsgType == "execute_request" {
			taken = append(taken, m)
		} else {
			kept = append(kept, m)
		}
	}
	for i := len(kept); i < len(q.items); i++ {
		q.items[i] = nil
	}
	q.items = kept
	return taken
}

func (q *shellQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}
