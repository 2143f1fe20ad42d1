package runtime

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/value"
)

// SessionOptions configure a Session. The zero value is usable.
type SessionOptions struct {
	// StrLen is the default string size (BPFTRACE_STRLEN); 0 means 64.
	StrLen int
	// MaxMapEntries bounds every keyed map (BPFTRACE_MAP_KEYS_MAX); 0
	// means 4096.
	MaxMapEntries int
	// RingBufSize is the size of the events ring buffer in bytes (a power
	// of two, a multiple of the page size); 0 means 4 MiB.
	RingBufSize int
	// Params are the positional parameters $1..$N of every program.
	Params []string
	// Unsafe allows system(), signal() and override().
	Unsafe bool
	// PID is the -p process: uprobes and usdt fire only in it, and a run
	// ends when it exits. 0 when none.
	PID int
	// HaveCmd says a -c command will be given to runs (cpid is allowed).
	HaveCmd bool
	// Command is the -c command's resolved path (Child.Path): the binary
	// whose functions watchpoint:func+argN watches. "" when none.
	Command string
	// Types is the system type source; nil means NewSystemTypes().
	Types *SystemTypes
	// Printf formats the printf-style arguments of cat() and system()
	// (render.Printf; the runtime cannot import render). Nil formats
	// only the literal text.
	Printf func(f *value.Format, args []value.Value) string
	// CatBytesMax bounds what cat() prints (BPFTRACE_CAT_BYTES_MAX); 0
	// means 10240.
	CatBytesMax int
	// PollInterval is how often the events reader looks at the ring
	// buffer (an event's worst-case latency); 0 means 5 ms.
	PollInterval time.Duration
	// ReaderNice, when positive, lowers the scheduling priority of the
	// thread that reads and decodes events (and calls the sinks) to this
	// nice value. A Jupyter kernel sets it: under an event flood that
	// thread could use a whole CPU, and the kernel's heartbeat, interrupts
	// and replies must win over it; the events it falls behind on are
	// dropped by the ring buffer and counted.
	ReaderNice int
	// HandOffRelease is for a process that exits when the session closes
	// (the command line): the perf events of detached probes, whose
	// release takes tens of ms each in the kernel, are handed to a helper
	// process by Close instead of being closed there (release.go). The
	// program must call ReleaseMain when ReleaseEnv is set.
	HandOffRelease bool
	// VerifierStats loads programs with the verifier's statistics
	// (LogLevelStats), which Run.VerifierStats returns (the CLI's -v).
	VerifierStats bool
	// IncludeDirs are the -I directories, searched for #include files:
	// a user's header found there is read, a kernel or system header
	// only has to exist unless BTF stands in for it (include.go).
	IncludeDirs []string
	// IncludeFiles are --include's files, read before every program
	// (and held to the same rule).
	IncludeFiles []string
	// HelperChecks is -k (1) or -kk (2): a failed helper call is a
	// value.HelperError event at its place in the source (see
	// codegen.Options.HelperChecks for which helpers each level checks).
	HelperChecks int
}

// A Session owns everything that outlives one program: the bpftrace maps
// by name with their fixed types, the internal maps every program shares
// (the events ring buffer, the drop counter, the stack maps), the events
// reader, the symbolisers, and the runs whose probes are attached. A CLI
// run has one Session with one program; a notebook kernel has one Session
// for its whole life, and every cell is a program in it. See doc.go.
type Session struct {
	opts  SessionOptions
	types *SystemTypes
	res   *resolver
	cache *btf.Cache

	mu       sync.Mutex // guards everything below
	maps     map[string]*sessionMap
	shared   map[string]*ebpf.Map // codegen.IsSharedInternal maps by name
	nextBase uint64               // first event id of the next program
	cells    int
	runs     map[int]*Run
	nextRun  int
	closed   bool

	names atomic.Pointer[map[uint64]string] // NameID → string, copy on write

	dispOnce sync.Once
	disp     *dispatcher
	dispErr  error

	syncOnce sync.Once
	syncProg *ebpf.Program
	syncErr  error

	relMu     sync.Mutex
	releasing sync.WaitGroup
	toRelease []io.Closer
}

// sessionRingSize is the default size of the events ring buffer: about
// 100 000 small events, 40 ms of the fastest flood the reader keeps up
// with, read every 5 ms. (Creating and mapping 16 MiB took 4 ms of a
// program's start.)
const sessionRingSize = 4 << 20

// sessionMap is one bpftrace map the session holds.
type sessionMap struct {
	layout  *codegen.MapLayout
	m       *ebpf.Map
	slot    *slotState // keyed count() and sum() maps (slots.go)
	created time.Time
}

// close closes the map and its slots.
func (sm *sessionMap) close() error {
	return errors.Join(sm.m.Close(), sm.slot.close())
}

// NewSession creates an empty session. Nothing is loaded into the kernel
// until the first program runs.
func NewSession(opts *SessionOptions) (*Session, error) {
	s := &Session{
		maps:   make(map[string]*sessionMap),
		shared: make(map[string]*ebpf.Map),
		runs:   make(map[int]*Run),
		cache:  btf.NewCache(),
	}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.MaxMapEntries <= 0 {
		s.opts.MaxMapEntries = 4096
	}
	if s.opts.RingBufSize <= 0 {
		s.opts.RingBufSize = sessionRingSize
	}
	if s.opts.CatBytesMax <= 0 {
		s.opts.CatBytesMax = 10240
	}
	s.types = s.opts.Types
	if s.types == nil {
		st, err := NewSystemTypes()
		if err != nil {
			return nil, err
		}
		s.types = st
	}
	s.types.PID = s.opts.PID
	s.types.Command = s.opts.Command
	empty := map[uint64]string{}
	s.names.Store(&empty)
	s.res = newResolver(s.sharedMap)
	return s, nil
}

// Types returns the session's system type source.
func (s *Session) Types() *SystemTypes { return s.types }

// Options returns the options the session was created with (defaults
// filled in).
func (s *Session) Options() SessionOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// MapTypes returns the fixed types of the session's maps, by name: what
// lang.Config.Session takes, so that a later program's use of a map is
// checked against its first use. Compile passes it itself.
func (s *Session) MapTypes() map[string]*lang.MapInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*lang.MapInfo, len(s.maps))
	for name, sm := range s.maps {
		out[name] = sm.layout.Info
	}
	return out
}

// sharedMap returns a shared internal map by name (nil when not created).
func (s *Session) sharedMap(name string) *ebpf.Map {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shared[name]
}

// bpfMap returns the session's map called name.
func (s *Session) bpfMap(name string) *sessionMap {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maps[name]
}

// decoder returns a decoder with every name the session knows.
func (s *Session) decoder() *codegen.Decoder {
	return &codegen.Decoder{Names: *s.names.Load(), Resolver: s.res}
}

// addNames merges a program's name table into the session's.
func (s *Session) addNames(names map[uint64]string) {
	for {
		old := s.names.Load()
		missing := false
		for id := range names {
			if _, ok := (*old)[id]; !ok {
				missing = true
				break
			}
		}
		if !missing {
			return
		}
		merged := make(map[uint64]string, len(*old)+len(names))
		for id, n := range *old {
			merged[id] = n
		}
		for id, n := range names {
			merged[id] = n
		}
		if s.names.CompareAndSwap(old, &merged) {
			return
		}
	}
}

// ReadMap reads the session's map called name ("@x"). limit bounds the
// entries decoded (0: all); see the package function ReadMap.
func (s *Session) ReadMap(name string, limit int) (*value.Map, error) {
	sm, err := s.flushedMap(name)
	if err != nil {
		return nil, err
	}
	return ReadMap(sm.layout, sm.m, s.decoder(), limit)
}

// flushedMap returns the session's map called name with what its
// write-combining slots hold flushed into it (slots.go): every access to
// a map from user space starts here, so that it sees every event.
func (s *Session) flushedMap(name string) (*sessionMap, error) {
	sm := s.bpfMap(name)
	if sm == nil {
		return nil, fmt.Errorf("no map %s in this session", name)
	}
	return sm, s.flushSlots(sm, false)
}

// ReadMaps reads the named maps (every map of the session when names is
// nil), sorted by name as bpftrace prints them.
func (s *Session) ReadMaps(names []string, limit int) ([]*value.Map, error) {
	if names == nil {
		names = s.MapNames()
	}
	var out []*value.Map
	var errs []error
	for _, n := range names {
		m, err := s.ReadMap(n, limit)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// MapNames lists the session's maps, sorted.
func (s *Session) MapNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.maps))
	for n := range s.maps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ClearMap deletes every entry of a session map, as clear(@m) does.
func (s *Session) ClearMap(name string) error {
	sm, err := s.flushedMap(name)
	if err != nil {
		return err
	}
	return ClearMap(sm.layout, sm.m)
}

// ZeroMap zeroes every value of a session map, as zero(@m) does.
func (s *Session) ZeroMap(name string) error {
	sm, err := s.flushedMap(name)
	if err != nil {
		return err
	}
	return ZeroMap(sm.layout, sm.m)
}

// DeleteKey deletes one entry of a session map, as delete(@m[k]) does;
// the key's parts are integers or strings (EncodeKey). Deleting a key that
// is not there is not an error.
func (s *Session) DeleteKey(name string, parts []value.Value) error {
	sm, err := s.flushedMap(name)
	if err != nil {
		return err
	}
	key, err := EncodeKey(sm.layout, parts)
	if err != nil {
		return err
	}
	if sm.layout.InArray {
		return ClearMap(sm.layout, sm.m)
	}
	if err := sm.m.Delete(key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("deleting from %s: %w", name, CleanError(err))
	}
	return nil
}

// MapSummary describes one session map, for a notebook's %maps.
type MapSummary struct {
	Name  string // "@lat"
	Key   string // the key's type ("" for a scalar map), as lang prints types
	Value string // the value's type ("hist", "count", "int64", "string[64]", ...)
	// Kind is the map's value kind.
	Kind value.MapKind
	// Entries is how many entries it holds now, MaxEntries how many it can.
	Entries, MaxEntries int
	// Memory is what the kernel charges for the map, in bytes (0 when the
	// kernel does not say).
	Memory uint64
	// Origin is the program (cell) whose use fixed the map's types.
	Origin string
	// Created is when the map was created.
	Created time.Time
}

// Maps summarises every session map, sorted by name.
func (s *Session) Maps() ([]MapSummary, error) {
	s.mu.Lock()
	type item struct {
		name string
		sm   *sessionMap
	}
	var items []item
	for n, sm := range s.maps {
		items = append(items, item{n, sm})
	}
	s.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	var out []MapSummary
	var errs []error
	for _, it := range items {
		l := it.sm.layout
		ms := MapSummary{Name: it.name, Kind: l.Kind, MaxEntries: int(it.sm.m.MaxEntries()), Created: it.sm.created}
		if l.Info != nil {
			ms.Origin = l.Info.Origin
			if l.Info.Key != nil && l.Keyed {
				ms.Key = l.Info.Key.String()
			}
			if l.Info.Value != nil {
				ms.Value = l.Info.Value.String()
			}
		}
		err := s.flushSlots(it.sm, false)
		if err != nil {
			errs = append(errs, err)
		}
		n, err := CountEntries(l, it.sm.m)
		if err != nil {
			errs = append(errs, err)
		}
		ms.Entries = n
		if info, err := it.sm.m.Info(); err == nil {
			if mem, ok := info.Memlock(); ok {
				ms.Memory = mem
			}
		}
		out = append(out, ms)
	}
	return out, errors.Join(errs...)
}

// RunInfo describes a run whose probes are attached, for %probes.
type RunInfo struct {
	ID      int
	Name    string    // the program's name ("cell[3]", "stdin")
	Probes  []string  // the concrete attach points, as bpftrace names them
	Started time.Time // when its probes were attached
	// Events is how many events its programs have sent.
	Events uint64
	// Hits is how many times its programs ran, when the kernel counts
	// (kernel.bpf_stats_enabled); -1 when it does not.
	Hits       int64
	Background bool
}

// Runs lists the runs whose probes are attached, by id.
func (s *Session) Runs() []RunInfo {
	s.mu.Lock()
	runs := make([]*Run, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	sort.Slice(runs, func(i, j int) bool { return runs[i].id < runs[j].id })
	out := make([]RunInfo, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.Info())
	}
	return out
}

// Run returns the active run with the given id, or nil.
func (s *Session) Run(id int) *Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

// Detach stops the run with the given id (a background cell's probes):
// its probes are detached, its END probe runs, and its result is
// returned.
func (s *Session) Detach(id int) (*RunResult, error) {
	r := s.Run(id)
	if r == nil {
		return nil, fmt.Errorf("no run %d is attached", id)
	}
	r.Stop()
	return r.Wait()
}

// Reset stops every run and drops every map: the session is as new (event
// ids keep counting, so a late record of an old program is never taken for
// a new one's).
func (s *Session) Reset() error {
	err := s.stopAll()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, sm := range s.maps {
		if cerr := sm.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		delete(s.maps, name)
	}
	return err
}

// stopAll stops every run and waits for each.
func (s *Session) stopAll() error {
	s.mu.Lock()
	runs := make([]*Run, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Stop()
			_, errs[i] = r.Wait()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every run and frees everything the session holds: links,
// programs, maps, perf events and the events reader. The session cannot
// be used afterwards.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	err := s.stopAll()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.disp != nil {
		err = errors.Join(err, s.disp.close())
	}
	if s.syncProg != nil {
		err = errors.Join(err, s.syncProg.Close())
	}
	err = errors.Join(err, s.finishRelease())
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, sm := range s.maps {
		err = errors.Join(err, sm.close())
		delete(s.maps, name)
	}
	for name, m := range s.shared {
		err = errors.Join(err, m.Close())
		delete(s.shared, name)
	}
	return err
}
