package runtime

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/runtime/codegen"
)

// A keyed count() or sum() map has a write-combining slot per CPU
// (runtime/codegen/slot.go): the last key an event added to on that CPU,
// and what it added since, not yet in the hash. User space flushes every
// CPU's slot into the hash before it reads, clears, zeroes or deletes
// from the map, and before a program that needs the whole map in BPF
// (Object.GlobalMaps) runs it flushes and disables the slots for good.

// slotState is a session map's slots and the program that flushes them.
type slotState struct {
	mu       sync.Mutex // one flush at a time
	m        *ebpf.Map
	flush    *ebpf.Program // loaded at the first flush
	disabled bool          // flushed and disabled: nothing is pending
	// failed counts the events flushes could not add because the map was
	// full; the runs that update the map report them with their own.
	failed atomic.Uint64
}

// flushTries bounds how often a CPU's flush is tried while its slot is
// busy: a slot is busy only for the few instructions of an update that
// the flush interrupted (the flush runs on that CPU), so a second try
// almost always succeeds.
const flushTries = 1000

// newSlot creates the slot map of a new session map laid out as l, or
// returns nil when l has none.
func newSlot(l *codegen.MapLayout) (*slotState, error) {
	if l.Slot == nil {
		return nil, nil
	}
	m, err := ebpf.NewMap(l.Slot)
	if err != nil {
		return nil, &LoadError{Err: fmt.Errorf("creating map %s: %w", codegen.SlotName(l.Name), CleanError(err))}
	}
	return &slotState{m: m}, nil
}

func (st *slotState) close() error {
	if st == nil {
		return nil
	}
	var err error
	if st.flush != nil {
		err = st.flush.Close()
	}
	return errors.Join(err, st.m.Close())
}

// flushSlots moves what every CPU's slot of sm holds into the hash; with
// disable, the slots are disabled for good afterwards, so that every
// program updates the hash directly.
func (s *Session) flushSlots(sm *sessionMap, disable bool) error {
	st := sm.slot
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.disabled {
		return nil
	}
	if st.flush == nil {
		p, err := loadFlush(sm)
		if err != nil {
			return err
		}
		st.flush = p
	}
	cpus, err := OnlineCPUs()
	if err != nil {
		return fmt.Errorf("flushing %s: %w", sm.layout.Name, err)
	}
	ctx := make([]byte, 8)
	if disable {
		ctx[0] = 1
	}
	for _, cpu := range cpus {
		for try := 0; ; try++ {
			ret, err := st.flush.Run(&ebpf.RunOptions{Context: ctx, CPU: uint32(cpu), Flags: unix.BPF_F_TEST_RUN_ON_CPU})
			if err != nil {
				return fmt.Errorf("flushing %s on CPU %d: %w", sm.layout.Name, cpu, CleanError(err))
			}
			if ret != 1 {
				st.failed.Add(uint64(ret / 2))
				break
			}
			if try == flushTries {
				return fmt.Errorf("flushing %s: CPU %d's slot stayed busy", sm.layout.Name, cpu)
			}
			time.Sleep(10 * time.Microsecond)
		}
	}
	st.disabled = disable
	return nil
}

// loadFlush loads the flush program of sm's slots.
func loadFlush(sm *sessionMap) (*ebpf.Program, error) {
	l := sm.layout
	ps, err := codegen.FlushProgram(l)
	if err != nil {
		return nil, err
	}
	slot := codegen.SlotName(l.Name)
	ms := l.Spec.Copy()
	// As created (creationSpec), with the session's size.
	ms.MaxEntries, ms.Flags = sm.m.MaxEntries(), sm.m.Flags()
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{l.Name: ms, slot: l.Slot.Copy()},
		Programs: map[string]*ebpf.ProgramSpec{"flush": ps},
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		MapReplacements: map[string]*ebpf.Map{l.Name: sm.m, slot: sm.slot.m}})
	if err != nil {
		return nil, fmt.Errorf("loading the flush program of %s: %w", l.Name, CleanError(err))
	}
	defer coll.Close()
	return coll.DetachProgram("flush"), nil
}

// slotFailed is how many events flushes of map name's slots could not add.
func (s *Session) slotFailed(name string) uint64 {
	if sm := s.bpfMap(name); sm != nil && sm.slot != nil {
		return sm.slot.failed.Load()
	}
	return 0
}
