package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
)

// SystemTypes implements lang.TypeSource over the running system: tracefs
// format files, kernel (and module) BTF, /proc/kallsyms, ELF symbol tables
// and USDT notes. One value serves a whole session; it caches what it reads
// and is safe for concurrent use.
type SystemTypes struct {
	// PID is the -p process, 0 when none. It scopes uprobe:func and usdt
	// attach points that name no binary, as bpftrace's -p does.
	PID int
	// Command is the -c command's path as resolved (Child.Path), "" when
	// there is none. watchpoint:func+argN names a function of it (or,
	// with PID, of /proc/PID/exe).
	Command string

	conv *btfConverter

	mu       sync.Mutex
	tpArgs   map[TracepointName]*lang.Type
	indexes  map[string]*btfIndex // per BTF object ("vmlinux", modules)
	elfs     *elfCache
	haveBTF  bool
	btfError error
}

var (
	_ lang.TypeSource       = (*SystemTypes)(nil)
	_ lang.UserSymbolSource = (*SystemTypes)(nil)
)

// NewSystemTypes returns the type source of the running system. Kernel BTF
// (about 10 ms to load) is loaded on first use, not here: HaveBTF only
// looks for /sys/kernel/btf/vmlinux, so a program of tracepoints and
// BEGIN never pays for it. A kernel without BTF is not an error: BTF-typed
// features then report that it is missing.
func NewSystemTypes() (*SystemTypes, error) {
	s := &SystemTypes{
		conv:    newBTFConverter(),
		tpArgs:  make(map[TracepointName]*lang.Type),
		indexes: make(map[string]*btfIndex),
		elfs:    newELFCache(),
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		s.btfError = err
	} else {
		s.haveBTF = true
	}
	return s, nil
}

// UserSymbolSize returns the size of symbol name in the ELF file binary,
// which types uaddr("name") (lang.UserSymbolSource). The lookup is the
// one uaddr's address comes from (UserSymbols.Addr).
func (s *SystemTypes) UserSymbolSize(binary, name string) (uint64, error) {
	ef, err := s.elfs.Get(binary)
	if err != nil {
		return 0, err
	}
	sym, ok := ef.Symbol(name)
	if !ok {
		return 0, notFound("Could not resolve symbol: %s:%s", binary, name)
	}
	return sym.Size, nil
}

// HaveBTF reports whether kernel BTF is available.
func (s *SystemTypes) HaveBTF() bool { return s.haveBTF }

func (s *SystemTypes) needBTF() error {
	if s.haveBTF {
		return nil
	}
	return fmt.Errorf("kernel BTF is not available: %w", s.btfError)
}

// btfIndex returns the index of one BTF object, building it on first use.
func (s *SystemTypes) btfIndex(module string) (*btfIndex, error) {
	if module == "" {
		module = "vmlinux"
	}
	s.mu.Lock()
	ix := s.indexes[module]
	s.mu.Unlock()
	if ix != nil {
		return ix, nil
	}
	spec, err := ModuleBTF(module)
	if err != nil {
		return nil, err
	}
	ix, err = buildBTFIndex(spec)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.indexes[module] = ix
	s.mu.Unlock()
	return ix, nil
}

// TracepointArgs returns the record of tracepoint:category:name's `args`,
// laid out exactly as its format file says. It is named as bpftrace names
// it ("struct _tracepoint_sched_sched_switch") and marked IsCtx.
func (s *SystemTypes) TracepointArgs(category, name string) (*lang.Type, error) {
	key := TracepointName{category, name}
	s.mu.Lock()
	t := s.tpArgs[key]
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	tf, err := ReadTracepointFormat(category, name)
	if err != nil {
		return nil, err
	}
	t = s.tracepointRecord(tf)
	s.mu.Lock()
	s.tpArgs[key] = t
	s.mu.Unlock()
	return t, nil
}

// tracepointRecord types a format file's fields as bpftrace 0.17 does:
//
//   - plain char arrays are strings of the field's size, other arrays are
//     arrays of their element type;
//   - "__data_loc T[] f" is a 64-bit integer marked Field.DataLoc;
//   - pointers point to user space in the syscalls category (the
//     arguments of a system call are user addresses) and to kernel space
//     elsewhere; records behind them are opaque;
//   - integers take their size from the format file (a syscall's "int dfd"
//     occupies 8 bytes and bpftrace reads it as s64) and their signedness
//     from the C type, falling back to the file's signed flag.
func (s *SystemTypes) tracepointRecord(tf *TracepointFormat) *lang.Type {
	rec := &lang.Type{
		Kind:  lang.KindRecord,
		Name:  "struct _tracepoint_" + tf.Category + "_" + tf.Name,
		IsCtx: true,
	}
	as := lang.AddrKernel
	if tf.Category == "syscalls" {
		as = lang.AddrUser
	}
	end := 0
	for _, f := range tf.Fields {
		fld := &lang.Field{Name: f.Name, Offset: f.Offset, Type: s.formatFieldType(f, as)}
		if f.DataLoc {
			fld.DataLoc = true
		}
		rec.Fields = append(rec.Fields, fld)
		if e := f.Offset + f.Size; e > end {
			end = e
		}
	}
	rec.Size = (end + 7) / 8 * 8
	return rec
}

func (s *SystemTypes) formatFieldType(f TracepointField, as lang.AddrSpace) *lang.Type {
	ct := parseCType(f.CType)
	switch {
	case f.DataLoc:
		return &lang.Type{Kind: lang.KindInt, Size: 8, Signed: true, AddrSpace: lang.AddrKernel}
	case f.IsArray && ct.Ptr == 0 && isCharType(ct.Base):
		return lang.StringType(f.Size)
	case f.IsArray:
		var elem *lang.Type
		if ct.Ptr > 0 {
			elem = s.pointerType(ct, as)
		} else {
			elem = s.scalarType(ct.Base, 0, f.Signed)
		}
		n := 0
		if v, err := strconv.Atoi(f.ArrayLen); err == nil {
			n = v
		} else if elem.Size > 0 {
			n = f.Size / elem.Size
		}
		if elem.Size*n != f.Size && elem.Size > 0 {
			n = f.Size / elem.Size
		}
		return &lang.Type{Kind: lang.KindArray, Elem: elem, Len: n, Size: f.Size}
	case ct.Ptr > 0:
		return s.pointerType(ct, as)
	}
	t := s.scalarType(ct.Base, f.Size, f.Signed)
	if t.Kind == lang.KindRecord && t.Size != f.Size {
		// A record by value whose BTF layout does not match the format
		// file: keep the bytes.
		return &lang.Type{Kind: lang.KindArray, Elem: lang.TypeUint8, Len: f.Size, Size: f.Size}
	}
	return t
}

// pointerType builds the pointer type of a parsed C type with Ptr ≥ 1.
func (s *SystemTypes) pointerType(ct cType, as lang.AddrSpace) *lang.Type {
	elem := s.pointeeType(ct.Base)
	for i := 1; i < ct.Ptr; i++ {
		elem = lang.PointerTo(elem, as)
	}
	return lang.PointerTo(elem, as)
}

// pointeeType is what a pointer to base points to: nil for void, an opaque
// record for a struct or union, the resolved type otherwise.
func (s *SystemTypes) pointeeType(base string) *lang.Type {
	switch {
	case base == "void" || base == "":
		return nil
	case strings.HasPrefix(base, "struct ") || strings.HasPrefix(base, "union "):
		return &lang.Type{Kind: lang.KindRecord, Name: base}
	}
	if ci, ok := cIntNames[base]; ok {
		return lang.IntType(ci.Size, ci.Signed)
	}
	if t := s.resolveTypeName(base); t != nil {
		if t.Kind == lang.KindRecord && !strings.HasPrefix(t.Name, "struct ") && !strings.HasPrefix(t.Name, "union ") {
			// A typedef of an anonymous record: opaque under the typedef name.
			return &lang.Type{Kind: lang.KindRecord, Name: base}
		}
		if t.Kind == lang.KindRecord {
			return &lang.Type{Kind: lang.KindRecord, Name: t.Name}
		}
		return t
	}
	return lang.TypeUint8
}

// scalarType types a non-pointer, non-array field. size 0 means "the
// type's own size".
func (s *SystemTypes) scalarType(base string, size int, signedFlag bool) *lang.Type {
	if ci, ok := cIntNames[base]; ok {
		if size == 0 {
			size = ci.Size
		}
		return lang.IntType(size, ci.Signed)
	}
	if t := s.resolveTypeName(base); t != nil {
		switch t.Kind {
		case lang.KindInt:
			if size == 0 {
				size = t.Size
			}
			return &lang.Type{Kind: lang.KindInt, Size: size, Signed: t.Signed, Name: base}
		case lang.KindPointer:
			return t
		case lang.KindRecord:
			return t
		}
	}
	if size == 0 {
		size = 8
	}
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return &lang.Type{Kind: lang.KindArray, Elem: lang.TypeUint8, Len: size, Size: size}
	}
	return lang.IntType(size, signedFlag)
}

// resolveTypeName resolves a type name through BTF ("pid_t", "enum
// zone_type", "struct file"); nil when BTF does not know it.
func (s *SystemTypes) resolveTypeName(name string) *lang.Type {
	if !s.haveBTF {
		return nil
	}
	t, err := s.lookupBTF(name)
	if err != nil {
		return nil
	}
	return s.conv.Convert(t)
}

// lookupBTF finds a named type in vmlinux BTF, then in module BTF.
// "struct X", "union X" and "enum X" select the kind; a bare name is a
// typedef, or a base type such as "long unsigned int".
func (s *SystemTypes) lookupBTF(name string) (btf.Type, error) {
	for _, mod := range BTFModules() {
		spec, err := ModuleBTF(mod)
		if err != nil {
			continue
		}
		if t := lookupInSpec(spec, name); t != nil {
			return t, nil
		}
	}
	return nil, lang.ErrNotFound
}

func lookupInSpec(spec *btf.Spec, name string) btf.Type {
	kind, bare := "", name
	for _, kw := range []string{"struct ", "union ", "enum "} {
		if rest, ok := strings.CutPrefix(name, kw); ok {
			kind, bare = strings.TrimSpace(kw), strings.TrimSpace(rest)
		}
	}
	types, err := spec.AnyTypesByName(bare)
	if err != nil {
		return nil
	}
	var best btf.Type
	for _, t := range types {
		ok := false
		switch t.(type) {
		case *btf.Struct:
			ok = kind == "struct"
		case *btf.Union:
			ok = kind == "union"
		case *btf.Enum:
			ok = kind == "enum"
		case *btf.Typedef, *btf.Int, *btf.Float:
			ok = kind == ""
		}
		if !ok {
			continue
		}
		// Prefer the definition with members when duplicates exist.
		if best == nil || btfMembers(t) > btfMembers(best) {
			best = t
		}
	}
	return best
}

func btfMembers(t btf.Type) int {
	switch t := t.(type) {
	case *btf.Struct:
		return len(t.Members)
	case *btf.Union:
		return len(t.Members)
	}
	return 0
}

// LookupType resolves a C type name from kernel BTF: "struct task_struct",
// "union bpf_attr", "enum pid_type", a typedef ("pid_t", "u64") or a base
// type name ("unsigned int").
func (s *SystemTypes) LookupType(name string) (*lang.Type, error) {
	name = strings.Join(strings.Fields(name), " ")
	if !s.haveBTF {
		if ci, ok := cIntNames[name]; ok {
			return lang.IntType(ci.Size, ci.Signed), nil
		}
		return nil, notFound("%s: kernel BTF is not available", name)
	}
	t, err := s.lookupBTF(name)
	if err != nil {
		if ci, ok := cIntNames[name]; ok {
			return lang.IntType(ci.Size, ci.Signed), nil
		}
		return nil, notFound("unknown type %s (not in kernel BTF)", name)
	}
	lt := s.conv.Convert(t)
	if lt.Kind == lang.KindRecord && lt.IsOpaque() {
		return nil, notFound("%s is only declared, not defined, in kernel BTF", name)
	}
	return lt, nil
}

// Enum returns the value of an enumerator known to kernel BTF.
func (s *SystemTypes) Enum(name string) (int64, bool) {
	if !s.haveBTF {
		return 0, false
	}
	for _, mod := range BTFModules() {
		ix, err := s.btfIndex(mod)
		if err != nil {
			continue
		}
		if v, ok := ix.enums[name]; ok {
			return v, true
		}
	}
	return 0, false
}

// FuncArgs returns the arguments and return type of a kernel function for
// kfunc/kretfunc: a record with one 8-byte slot per argument at 8*i, named
// as in BTF, as the trampoline lays out its context; ret is nil for void.
//
// A name of the form "btf_trace_<tp>" asks for the arguments of raw
// tracepoint <tp> instead (see RawTracepointArgs), so that a checker that
// only has the lang.TypeSource interface can type rawtracepoint args.
func (s *SystemTypes) FuncArgs(module, fn string) (*lang.Type, *lang.Type, error) {
	if tp, ok := strings.CutPrefix(fn, "btf_trace_"); ok {
		args, err := s.RawTracepointArgs(module, tp)
		return args, nil, err
	}
	if err := s.needBTF(); err != nil {
		return nil, nil, err
	}
	bfn, mod, err := s.findKernelFunc(module, fn)
	if err != nil {
		return nil, nil, err
	}
	proto, err := funcProto(bfn)
	if err != nil {
		return nil, nil, err
	}
	rec := &lang.Type{Kind: lang.KindRecord, Name: "struct _kfunc_" + mod + "_" + fn + "_args", IsCtx: true}
	rec.Fields = []*lang.Field{}
	for i, p := range proto.Params {
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i)
		}
		rec.Fields = append(rec.Fields, &lang.Field{Name: name, Offset: 8 * i, Type: s.conv.Convert(p.Type)})
	}
	rec.Size = 8 * len(proto.Params)
	var ret *lang.Type
	if _, void := proto.Return.(*btf.Void); !void && proto.Return != nil {
		ret = s.conv.Convert(proto.Return)
	}
	return rec, ret, nil
}

// findKernelFunc finds a BTF FUNC in the named module, or in vmlinux and
// then every module when module is "".
func (s *SystemTypes) findKernelFunc(module, fn string) (*btf.Func, string, error) {
	mods := []string{module}
	if module == "" {
		mods = BTFModules()
	}
	for _, mod := range mods {
		spec, err := ModuleBTF(mod)
		if err != nil {
			if module != "" {
				return nil, "", notFound("no BTF for module %s", module)
			}
			continue
		}
		f, err := findFunc(spec, fn)
		if err == nil {
			return f, mod, nil
		}
		if !errors.Is(err, lang.ErrNotFound) {
			return nil, "", err
		}
	}
	where := "kernel BTF"
	if module != "" {
		where = "BTF of module " + module
	}
	return nil, "", notFound("function %s not found in %s", fn, where)
}

// RawTracepointArgs returns the arguments of raw tracepoint name from the
// btf_trace_<name> typedef BTF has for every tracepoint: a record of 8-byte
// slots (the u64 args[] array a raw_tp/tp_btf program receives), named as
// the tracepoint's prototype names them (arg0, arg1, ... when BTF has no
// names), with the leading "void *__data" dropped.
func (s *SystemTypes) RawTracepointArgs(module, name string) (*lang.Type, error) {
	if err := s.needBTF(); err != nil {
		return nil, err
	}
	proto, mod, err := rawTracepointProto(module, name)
	if err != nil {
		return nil, err
	}
	// The typedef's prototype has no parameter names. Two functions every
	// tracepoint has take the same parameters, void *__data first, with
	// the names of TP_PROTO: __probestub_<name> (kernels ≥ 6.4) and
	// __traceiter_<name> (≥ 5.10; it returns int). bpftrace looks in the
	// same two places, in this order.
	if spec, err := ModuleBTF(mod); err == nil {
		for _, prefix := range []string{"__probestub_", "__traceiter_"} {
			stub, err := findFunc(spec, prefix+name)
			if err != nil {
				continue
			}
			if sp, err := funcProto(stub); err == nil && len(sp.Params) == len(proto.Params) {
				proto = sp
				break
			}
		}
	}
	rec := &lang.Type{Kind: lang.KindRecord, Name: "struct _rawtracepoint_" + name + "_args", IsCtx: true}
	rec.Fields = []*lang.Field{}
	params := proto.Params
	if len(params) > 0 {
		params = params[1:]
	}
	for i, p := range params {
		pn := p.Name
		if pn == "" {
			pn = fmt.Sprintf("arg%d", i)
		}
		rec.Fields = append(rec.Fields, &lang.Field{Name: pn, Offset: 8 * i, Type: s.conv.Convert(p.Type)})
	}
	rec.Size = 8 * len(params)
	return rec, nil
}

// rawTracepointProto returns the prototype behind typedef btf_trace_<name>
// and the BTF object it was found in.
func rawTracepointProto(module, name string) (*btf.FuncProto, string, error) {
	mods := []string{module}
	if module == "" {
		mods = BTFModules()
	}
	for _, mod := range mods {
		spec, err := ModuleBTF(mod)
		if err != nil {
			continue
		}
		var td *btf.Typedef
		if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
			continue
		}
		ptr, ok := td.Type.(*btf.Pointer)
		if !ok {
			continue
		}
		if fp, ok := ptr.Target.(*btf.FuncProto); ok {
			return fp, mod, nil
		}
	}
	return nil, "", notFound("rawtracepoint not found: %s", name)
}
