package runtime

import (
	"context"

	"github.com/tracebook/tracebook/lang"
)

// What a notebook needs of a Session beyond what the command line does:
// settings that change between cells (a notebook's %set, %unsafe and a
// %%trace cell's -c command), and compiling a cell against maps that were
// created under other settings.

// CellOptions are the session options a notebook may change between
// cells. They apply to programs compiled afterwards; maps that exist keep
// the size they were created with.
type CellOptions struct {
	// StrLen is the default string size for new programs (0: 64).
	StrLen int
	// MaxMapEntries bounds the maps new programs create (0: 4096).
	MaxMapEntries int
	// Unsafe allows system(), signal() and override().
	Unsafe bool
	// HaveCmd allows cpid: the next run is given a -c command.
	HaveCmd bool
}

// SetCellOptions changes the options later Compile calls use. Call it
// from the goroutine that compiles, never while another compiles.
func (s *Session) SetCellOptions(o CellOptions) {
	if o.MaxMapEntries <= 0 {
		o.MaxMapEntries = 4096
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.StrLen = o.StrLen
	s.opts.MaxMapEntries = o.MaxMapEntries
	s.opts.Unsafe = o.Unsafe
	s.opts.HaveCmd = o.HaveCmd
}

// CompileCell is Compile for a notebook cell. After a change of
// MaxMapEntries, codegen gives an existing map a spec with the new size,
// which the kernel's map would not be Compatible with; the cell's program
// is made to use each existing map at the size it has.
func (s *Session) CompileCell(src Source) (*Program, lang.ErrorList) {
	p, errs := s.Compile(src)
	if p == nil {
		return p, errs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, l := range p.Object.Maps {
		if sm := s.maps[name]; sm != nil && l.Spec != nil {
			l.Spec.MaxEntries = sm.m.MaxEntries()
		}
	}
	return p, errs
}

// StartCell is Start for a notebook cell, which must leave the session as
// it was when it fails: Start closes what it loaded, but the maps the
// program created would stay, with the types this failed cell gave them.
// StartCell drops them. Cells start one at a time, so a map that was not
// there before this Start is this program's.
func (s *Session) StartCell(ctx context.Context, p *Program, opts *RunOptions) (*Run, error) {
	s.mu.Lock()
	before := make(map[string]bool, len(s.maps))
	for name := range s.maps {
		before[name] = true
	}
	s.mu.Unlock()
	r, err := s.Start(ctx, p, opts)
	if err == nil {
		return r, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, sm := range s.maps {
		if !before[name] {
			sm.close()
			delete(s.maps, name)
		}
	}
	return nil, err
}
