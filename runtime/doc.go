// Package runtime runs checked bpftrace programs on the live kernel: the
// session that owns maps across programs, loading, attaching every probe
// type, reading events and maps, symbolising, and what it needs to know of
// the system (tracefs, BTF, ELF and USDT notes, kallsyms, feature probes).
//
// # The session
//
// A Session lives as long as the process: one CLI run, or a Jupyter kernel
// and every cell it runs. It owns
//
//   - the bpftrace maps by name ("@lat") with the types their first use
//     gave them. A later program is checked against them
//     (lang.Config.Session, so a conflicting use is an error naming the
//     program that fixed the type) and loaded against them with cilium's
//     MapReplacements: codegen's MapSpec is a pure function of the types,
//     so the spec of a later program is Compatible with the map;
//   - the internal maps every program shares (codegen.SharedInternalMaps:
//     the events ring buffer, the drop counter, the zero value; the stack
//     maps); each program keeps its private ones (globals, scratch, the
//     full-map counters);
//   - one reader of the ring buffer (events.go) that hands each record to
//     the run that owns its event id: every Compile gets a disjoint range of
//     ids (codegen.Options.EventBase);
//   - the runs whose probes are attached.
//
// # Running a notebook cell
//
//	s, _ := runtime.NewSession(&runtime.SessionOptions{Printf: render.Printf})
//	defer s.Close()
//
//	// Check and compile a cell against the session's maps. errs holds
//	// errors and warnings; Diagnostics(errs, src) makes them renderable.
//	prog, errs := s.Compile(runtime.Source{Name: "cell[3]", Text: src, Cell: true})
//
//	// Load it, run BEGIN and the top-level statements, attach the probes.
//	// Events stream to the sink in order, in batches, from the reader
//	// goroutine (render.EventText / EventBundle turn them into output).
//	run, err := s.Start(ctx, prog, &runtime.RunOptions{Sink: sink, Duration: 30 * time.Second})
//	// err: *LoadError (ErrorDiagnostics places a verifier rejection at its
//	// statement, with the verifier log as Detail) or *AttachError.
//
//	// While it runs: run.Status() for the status line, s.ReadMap(name,
//	// limit) for live snapshots (limit keeps the largest entries and marks
//	// the snapshot Truncated).
//
//	// The run ends on exit(), when ctx is cancelled (the interrupt
//	// button), when Duration elapses, when its -c command (Child) or -p
//	// process exits, or on run.Stop(). Then its probes are detached, END
//	// runs, every event is delivered, and Wait returns the maps.
//	res, err := run.Wait()
//	// res.Maps: the program's maps after END, as bpftrace prints them at
//	// exit (render.ExitText). res.Result: a cell's trailing bare @m.
//
// A cell made only of statements outside probes ends once they ran.
//
// # Maps from user space
//
// Session.MapNames, ReadMap and ReadMaps read; ClearMap, ZeroMap and
// DeleteKey act as clear(), zero() and delete() do; Maps summarises each
// map for %maps (types, entries, memory, the program that fixed its types).
//
// # Background runs
//
// A %%bg cell starts with RunOptions.Background and a context that
// outlives the call, and does not Wait: its probes stay attached and later
// cells read the maps it fills. Session.Runs lists the attached runs (id,
// probes, start time, events, hits); Session.Detach(id) stops one and
// returns its result; Session.Reset stops everything and drops every map;
// Session.Close frees everything the session holds (no file descriptor
// survives it: runtimetest's fd-leak TestMain checks every test).
//
// # Detaching
//
// A run's end detaches its probes at once (closing BPF links), and leaves
// releasing their perf events, which the kernel serialises at 40-80 ms a
// tracepoint, to the background (release.go); the command line hands them
// to a helper process so that it exits without waiting.
package runtime
