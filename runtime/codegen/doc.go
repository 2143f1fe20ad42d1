// Package codegen lowers a checked bpftrace program (lang.Program plus the
// checker's lang.Info) to cilium/ebpf specs: one ProgramSpec per probe (or
// per group of attach points that can share code), a MapSpec per bpftrace
// map, the internal maps, and the tables the runtime needs to decode what
// the programs produce. It never touches the kernel: Compile is a pure,
// deterministic function, and the runtime alone loads, attaches and reads.
//
// # Instructions
//
// Code is symbolic cilium asm. Jumps name labels (unique within a program,
// "else_3", "agg_new_7"; the last instruction of every function is labelled
// "exit"), maps are referenced by name (LoadMapPtr(r, 0).WithReference("@x")
// or an internal name), never by file descriptor, and the first instruction
// of each statement carries the statement's source as a comment, so that
// Listing shows the program the way the golden tests and the CLI's -d do.
//
// # Registers
//
//	r0-r5   scratch within one construct: helper arguments and results,
//	        operands of an operation. Clobbered by every helper call.
//	r6      the probe context (r1 at entry). In a for-each callback, r6
//	        instead points at main's stack slot holding the context.
//	r7, r8  integer temporaries that must survive helper calls, allocated
//	        from a pool; when both are taken, temporaries live in 8-byte
//	        stack slots.
//	r9      this CPU's scratch value (see below), looked up once at entry
//	        when the program needs it.
//	r10     the frame pointer.
//
// Integer values are held 64 bits wide in canonical form: a value of a
// type narrower than 8 bytes is sign- or zero-extended from its size
// after every operation that could disturb the upper bits.
//
// # Stack
//
//	r10-8           the context slot: the scratch lookup's key at entry,
//	                then, when the program has callbacks, the saved context
//	r10-16 ...      integer variables ($x), 8 bytes each, zeroed at entry:
//	                the verifier tracks stack slots exactly, which is what
//	                lets it bound a while loop on a variable
//	below them      temporaries, released at the end of each statement:
//	                spilled integers, u32 keys of array lookups
//
// A callback reaches main's variables through r6 (main's r10-8): variable
// at r10+off is at r6+(off+8). The stack stays small (the limit is 512
// bytes): everything larger than an integer lives in scratch.
//
// # Scratch
//
// MapScratch is a per-CPU array with one value of Object.ScratchSize
// bytes (perf-event programs use MapScratchNMI, so an NMI cannot clobber
// the scratch of the program it interrupts). Offsets in it are decided at
// compile time:
//
//	0 ...           variables ($x) that are not integers, each in a region
//	                of its type's size, zeroed at entry
//	...             per-statement regions, reused by the next statement:
//	                string literals, str() buffers, tuples, map keys and
//	                values, event records under construction
//
// All values that are not integers — strings, buffers, tuples, records,
// arrays, stacks, usym, inet, timestamps — are "memory values": an offset
// in scratch holding t.Size bytes in lang's layout (lang.TupleOf's
// alignment for tuples; lang/types.go for the resolved kinds). Strings are
// NUL-padded to their full size and tuple padding is zeroed, because both
// are compared and used as map keys bytewise.
//
// # Maps
//
// A bpftrace map is a BPF hash whose spec is a pure function of its lang
// types and Options.MaxMapEntries (Layout), so a later cell's spec for the
// same map is MapSpec.Compatible with the map the session holds and can be
// given to it with MapReplacements. A scalar map (@x = 1) has one entry,
// keyed by 8 zero bytes. A map with keys @m[a, b] is keyed by its parts
// laid out as a tuple; a single part alone.
//
// Aggregations live in per-CPU hashes; each CPU updates its own value and
// user space reduces them. A scalar aggregation (@x = count()) lives in a
// one-entry per-CPU array instead, whose lookup the verifier inlines: each
// CPU's value is followed by a u64 set when that CPU writes it, and the
// entry exists once any CPU has (MapLayout.InArray). delete(@x) and len(@x)
// visit every CPU's value with bpf_map_lookup_percpu_elem (Linux 5.19).
//
//	count  u64 n                    sum of n
//	sum    i64 v                    sum of v
//	min    i64 v, u64 set           min of v over CPUs with set != 0
//	max    i64 v, u64 set           max of v over CPUs with set != 0
//	avg    u64 count, i64 total     sums; prints total/count
//	stats  u64 count, i64 total     sums; prints count, total/count, total
//	hist   u64 bucket[66]           sum per bucket; bucket 0 negative, 1
//	                                zero, 2 one, i ≥ 3 [2^(i-2), 2^(i-1))
//	lhist  u64 bucket[n]            sum per bucket; n = (max-min)/step + 2:
//	                                below min, the steps, max and above
//
// A keyed count() or sum() also has a write-combining slot per CPU (the
// last key and what was added to it since), so that an event repeating
// the key of the one before on its CPU adds without a hash lookup; the
// runtime flushes the slots before it reads the map, and disables them
// before a program that needs the whole map in BPF runs (slot.go).
//
// A histogram is one value per key (not one entry per bucket, as bpftrace
// has it), so reading, clearing, zeroing (write zeros to every key) and
// deleting work per key like any other map. Keyed histograms are allocated
// as keys appear (BPF_F_NO_PREALLOC). The whole 64-bit range has buckets:
// a uint64 argument never counts as negative and reaches bucket 65.
//
// A failed update (the map is full) adds one to the map's counter in
// MapErrors, indexed by the map's position in Object.MapNames(): never
// silent.
//
// # Events
//
// printf, print, time, cat, join, system, exit, clear, zero and print of a
// whole map are asynchronous: the program writes a record with
// bpf_ringbuf_output(MapEvents, rec, size, BPF_RB_NO_WAKEUP) and user space
// acts on it. A record is a u64 event id followed by the event's arguments
// laid out as a tuple of their types (Event.Args gives offsets from the
// record's start). Ids are Options.EventBase + the event's index, so the
// cells of one session, compiled with disjoint bases, share one ring
// buffer. A record the ring cannot take adds one to MapDrops. clear and
// zero are done by user space, as in bpftrace.
//
// # Values resolved in user space
//
// ksym, usym, func, username, cgroup_path, strerror, ntop, strftime,
// probe, kstack and ustack travel as numbers in the layouts lang/types.go
// lists. Strings that a value stands for (a probe's name, a strftime
// format) travel as NameID(s), a hash the same in every Object; Object.Names
// maps them back.
//
// # Programs
//
// ProgramType says which program type each provider compiles to. BEGIN,
// END and a notebook cell's top-level statements are raw tracepoint
// programs the runtime runs with BPF_PROG_TEST_RUN. A probe's concrete
// attach points share one program unless the code differs between them:
// `probe` (a constant per attach point), a tracepoint's `args` (its layout
// is per tracepoint), fentry/fexit and iterators (their spec names the
// target), and usdt locations whose arguments are in different places.
//
// Loops: while is a plain back-edge loop that the verifier bounds; unroll
// repeats its body; for ($kv : @m) and len(@m) use bpf_for_each_map_elem
// with callback functions placed after main, which reach the probe's
// variables through scratch and its context through the saved slot.
// Programs with callbacks carry BTF for every function (the kernel wants
// func info for callbacks).
//
// Signed division and modulo (both operands signed) are computed on
// magnitudes with unsigned instructions, since BPF's signed division needs
// Linux 6.6; >> is arithmetic when its left operand is signed. bpftrace
// 0.17 always divides and shifts unsigned; this is a deliberate difference.
package codegen
