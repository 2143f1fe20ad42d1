package lang

import (
	"errors"
	"strings"
)

// C types: the struct, union and enum definitions a program writes, casts,
// sizeof and offsetof, and records from kernel BTF.
//
// A record is looked up first among the program's own definitions, then
// in kernel BTF through TypeSource.LookupType. bpftrace 0.17 parses
// #include'd kernel headers with clang; tracebook has no clang, so an
// included header simply means "take the kernel's types from BTF", which
// holds the same structs. Programs' own definitions are laid out with C's
// rules for x86_64: each member at the next multiple of its alignment,
// bitfields packed into units of their declared type, the size rounded up
// to the largest alignment; union members all at offset 0.

type recordState struct {
	decl *StructDecl
	t    *Type
	busy bool // being laid out: a member of its own type by value
}

// cInts are the integer type names a program may write in C definitions
// and casts, with sizes and signedness for x86_64.
var cInts = map[string]struct {
	size   int
	signed bool
}{
	"int8": {1, true}, "uint8": {1, false}, "int16": {2, true}, "uint16": {2, false},
	"int32": {4, true}, "uint32": {4, false}, "int64": {8, true}, "uint64": {8, false},
	"char": {1, true}, "signed char": {1, true}, "unsigned char": {1, false},
	"short": {2, true}, "short int": {2, true}, "signed short": {2, true}, "unsigned short": {2, false},
	"unsigned short int": {2, false}, "short unsigned int": {2, false},
	"int": {4, true}, "signed": {4, true}, "signed int": {4, true}, "unsigned": {4, false}, "unsigned int": {4, false},
	"long": {8, true}, "long int": {8, true}, "signed long": {8, true}, "unsigned long": {8, false},
	"unsigned long int": {8, false}, "long unsigned int": {8, false},
	"long long": {8, true}, "long long int": {8, true}, "unsigned long long": {8, false},
	"unsigned long long int": {8, false}, "long long unsigned int": {8, false},
	"_Bool": {1, false}, "bool": {1, false},
	"u8": {1, false}, "s8": {1, true}, "u16": {2, false}, "s16": {2, true},
	"u32": {4, false}, "s32": {4, true}, "u64": {8, false}, "s64": {8, true},
	"__u8": {1, false}, "__s8": {1, true}, "__u16": {2, false}, "__s16": {2, true},
	"__u32": {4, false}, "__s32": {4, true}, "__u64": {8, false}, "__s64": {8, true},
	"__be16": {2, false}, "__be32": {4, false}, "__be64": {8, false},
	"__le16": {2, false}, "__le32": {4, false}, "__le64": {8, false},
	"uint8_t": {1, false}, "int8_t": {1, true}, "uint16_t": {2, false}, "int16_t": {2, true},
	"uint32_t": {4, false}, "int32_t": {4, true}, "uint64_t": {8, false}, "int64_t": {8, true},
	"size_t": {8, false}, "ssize_t": {8, true}, "uintptr_t": {8, false}, "intptr_t": {8, true},
	"pid_t": {4, true}, "uid_t": {4, false}, "gid_t": {4, false}, "loff_t": {8, true}, "off_t": {8, true},
}

// intCastNames are bpftrace's own integer cast names.
var intCastNames = map[string]bool{
	"int8": true, "uint8": true, "int16": true, "uint16": true,
	"int32": true, "uint32": true, "int64": true, "uint64": true,
}

// declareCDefs registers the program's struct, union and enum definitions
// and lays them out, reporting errors in them.
func (c *checker) declareCDefs() {
	c.records = make(map[string]*recordState)
	c.enumConsts = make(map[string]int64)
	c.typedefs = make(map[string]*typedefState)
	for _, td := range c.prog.Typedefs {
		c.typedefs[td.Name] = &typedefState{decl: td}
	}
	defer c.inHeader(nil)()
	for _, d := range c.prog.Structs {
		if d == nil {
			continue
		}
		c.hdr = d.In
		switch d.Kind {
		case "enum":
			for _, en := range d.Enumerators {
				c.enumConsts[en.Name] = en.Value
			}
			if d.Name != "" {
				c.records["enum "+d.Name] = &recordState{decl: d, t: IntType(4, false)}
			}
		case "struct", "union":
			if d.Name == "" {
				continue
			}
			name := d.Kind + " " + d.Name
			if old, ok := c.records[name]; ok && old.decl != nil && len(old.decl.Fields) > 0 && len(d.Fields) > 0 {
				c.errorf(d, "redefinition of '%s'", name)
				continue
			}
			c.records[name] = &recordState{decl: d}
		}
	}
	for _, d := range c.prog.Structs {
		if d != nil && d.Kind != "enum" && d.Name != "" {
			c.lookupRecord(d.Kind + " " + d.Name)
		}
	}
	for _, td := range c.prog.Typedefs {
		c.hdr = td.In
		c.lookupTypedef(td.Name)
	}
}

// typedefState is one typedef of an included header, resolved on first use.
type typedefState struct {
	decl *Typedef
	t    *Type
	msg  string
	done bool
	busy bool
}

// lookupTypedef returns the type a header's typedef names, or nil when
// there is no such typedef, or an error message.
func (c *checker) lookupTypedef(name string) (*Type, string) {
	ts := c.typedefs[name]
	if ts == nil {
		return nil, ""
	}
	if !ts.done {
		if ts.busy {
			return nil, "'" + name + "' refers to itself"
		}
		ts.busy = true
		restore := c.inHeader(ts.decl.In)
		ts.t, ts.msg = c.resolveTypeExpr(ts.decl.Type, false)
		if ts.msg != "" {
			c.errorf(ts.decl, "%s", ts.msg)
		}
		restore()
		ts.busy, ts.done = false, true
	}
	return ts.t, ts.msg
}

// inHeader makes h the file errors are reported in and returns the
// function that restores the previous one.
func (c *checker) inHeader(h *Header) func() {
	old := c.hdr
	c.hdr = h
	return func() { c.hdr = old }
}

// lookupRecord returns the complete record called name ("struct x"), or
// an error message.
func (c *checker) lookupRecord(name string) (*Type, string) {
	if rs, ok := c.records[name]; ok {
		if rs.t != nil {
			return rs.t, ""
		}
		if rs.busy {
			return nil, "'" + name + "' contains itself"
		}
		if len(rs.decl.Fields) > 0 || strings.HasPrefix(name, "struct ") || strings.HasPrefix(name, "union ") {
			// A forward declaration without members falls through to BTF.
			if len(rs.decl.Fields) > 0 {
				rs.busy = true
				rs.t = c.layout(rs.decl, name)
				rs.busy = false
				return rs.t, ""
			}
		}
	}
	t, err := c.btfType(name)
	if err != nil {
		return nil, err.Error()
	}
	if t.Kind != KindRecord || t.IsOpaque() {
		return nil, "'" + name + "' is not a complete struct or union"
	}
	return t, ""
}

var errNoTypes = errors.New("kernel type information is unavailable")

// btfType looks a type up in kernel BTF, caching the answer.
func (c *checker) btfType(name string) (*Type, error) {
	if c.types == nil {
		return nil, errNoTypes
	}
	if c.btfCache == nil {
		c.btfCache = make(map[string]btfResult)
	}
	if r, ok := c.btfCache[name]; ok {
		return r.t, r.err
	}
	t, err := c.types.LookupType(name)
	if err == nil && t == nil {
		err = ErrNotFound
	}
	c.btfCache[name] = btfResult{t, err}
	return t, err
}

// layout lays out a struct or union definition.
func (c *checker) layout(d *StructDecl, name string) *Type {
	defer c.inHeader(d.In)()
	rec := &Type{Kind: KindRecord, Name: name, Fields: []*Field{}}
	off, align := 0, 1
	pos := 0 // the bit after the last member
	for _, fd := range d.Fields {
		ft, msg := c.resolveTypeExpr(fd.Type, false)
		if msg != "" {
			c.errorf(fd, "%s", msg)
			ft = IntType(8, false)
		}
		a := ft.Align()
		if a > align {
			align = a
		}
		f := &Field{Name: fd.Name, Type: ft}
		switch {
		case d.Kind == "union":
			if fd.Bits > 0 {
				f.BitSize = fd.Bits
			}
			if ft.Size > off {
				off = ft.Size
			}
		case fd.Bits > 0:
			if fd.Bits > ft.Size*8 {
				c.errorf(fd, "width of bit-field '%s' (%d bits) exceeds the width of its type (%d bits)", fd.Name, fd.Bits, ft.Size*8)
			}
			// As C (the SysV ABI) lays them out: a bitfield goes right
			// after the previous member, bits and all, unless it would
			// straddle a boundary of its type's size; then it starts at
			// the next one. It is read as its type at the start of the
			// storage unit that holds it.
			unit := max(ft.Size*8, 8)
			if pos/unit != (pos+fd.Bits-1)/unit {
				pos = alignUp(pos, unit)
			}
			start := pos / unit * unit
			f.Offset = start / 8
			f.BitOffset = pos - start
			f.BitSize = fd.Bits
			pos += fd.Bits
			off = (pos + 7) / 8
		default:
			off = alignUp(off, a)
			f.Offset = off
			off += ft.Size
			pos = off * 8
		}
		rec.Fields = append(rec.Fields, f)
	}
	rec.Size = alignUp(off, align)
	return rec
}

func alignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// resolveTypeExpr turns a type as written into a Type. A record named
// behind a pointer may stay opaque unless complete is set; records by
// value are always complete. It returns an error message when the type is
// unknown.
func (c *checker) resolveTypeExpr(te *TypeExpr, complete bool) (*Type, string) {
	if te == nil {
		return nil, "missing type"
	}
	var base *Type
	name := strings.Join(strings.Fields(te.Name), " ")
	switch {
	case te.Anon != nil:
		base = c.layout(te.Anon, te.Anon.Kind+" (anonymous)")
	case name == "void":
		if te.Ptr == 0 {
			return nil, "void can only be used behind a pointer"
		}
	case strings.HasPrefix(name, "struct ") || strings.HasPrefix(name, "union "):
		if te.Ptr > 0 && !complete {
			// A pointer member may name a struct declared later, or
			// only in BTF, or nowhere (as C allows): it stays opaque
			// until a field is reached through it.
			base = &Type{Kind: KindRecord, Name: name}
			break
		}
		rec, msg := c.lookupRecord(name)
		if msg != "" {
			return nil, "Unknown struct/union: '" + name + "'"
		}
		base = rec
	case strings.HasPrefix(name, "enum "):
		if rs, ok := c.records[name]; ok {
			base = rs.t
			break
		}
		t, err := c.btfType(name)
		if err != nil {
			return nil, "Unknown enum: '" + name + "'"
		}
		base = t
	default:
		if ci, ok := cInts[name]; ok {
			base = IntType(ci.size, ci.signed)
			if name == "char" {
				base.Name = "char"
			}
			break
		}
		if _, ok := c.typedefs[name]; ok {
			t, msg := c.lookupTypedef(name)
			if msg != "" {
				return nil, msg
			}
			base = t
			break
		}
		t, err := c.btfType(name)
		if err != nil {
			return nil, "Unknown type: '" + name + "'"
		}
		base = t
	}
	// As in C, "int *z[4]" is an array of four pointers: the pointers
	// bind to the base type, the dimensions to the declarator.
	t := base
	for i := 0; i < te.Ptr; i++ {
		t = PointerTo(t, AddrNone)
	}
	for i := len(te.Dims) - 1; i >= 0; i-- {
		n := te.Dims[i]
		if t != nil && t.Kind == KindInt && t.Name == "char" && i == len(te.Dims)-1 {
			t = StringType(n)
			continue
		}
		if t == nil {
			return nil, "array of void"
		}
		t = &Type{Kind: KindArray, Elem: t, Len: n, Size: n * t.Size}
	}
	return t, ""
}

// probeAddrSpace is where pointers of unknown origin point in the current
// probe: kernel memory in kernel probes, user memory in user probes, and
// unknown when the probe's attach points disagree (bpftrace's
// find_addrspace).
func (c *checker) probeAddrSpace() AddrSpace {
	kind := ""
	for _, p := range c.pc.providers {
		if kind == "" {
			kind = p
		} else if kind != p {
			return AddrNone
		}
	}
	switch kind {
	case "kprobe", "kretprobe", "kfunc", "kretfunc", "tracepoint", "rawtracepoint", "iter":
		return AddrKernel
	case "uprobe", "uretprobe", "usdt":
		return AddrUser
	}
	return AddrNone
}

func (c *checker) cast(e *CastExpr) *Type {
	xt := c.expr(e.X)
	if xt.Kind == KindInvalid {
		return typeInvalid
	}
	if xt.Kind == KindRecord {
		c.errorf(e, "Cannot cast from struct type \"%s\"", xt.Name)
		return typeInvalid
	}
	te := e.To
	if te == nil {
		return typeInvalid
	}
	name := strings.Join(strings.Fields(te.Name), " ")
	// Integer casts.
	if ci, ok := cInts[name]; ok {
		it := IntType(ci.size, ci.signed)
		if te.Ptr > 0 {
			if xt.IsCtx {
				c.errorf(e, "Integer pointer casts are not supported for type: ctx")
				return typeInvalid
			}
			t := it
			for i := 0; i < te.Ptr; i++ {
				t = PointerTo(t, AddrNone)
			}
			return c.castAS(t, xt)
		}
		if !xt.IsInt() && xt.Kind != KindPointer && !xt.IsCtx {
			c.errorf(e, "Casts are not supported for type: \"%s\"", typeStr(xt))
			return typeInvalid
		}
		if v, ok := c.constInt(e.X); ok {
			c.consts[e] = truncInt(v, ci.size, ci.signed)
		}
		return withAS(it, xt.AddrSpace)
	}
	t, msg := c.resolveTypeExpr(te, true)
	if msg != "" {
		err := c.errorf(e, "%s", msg)
		if c.types == nil && strings.HasPrefix(msg, "Unknown struct") {
			err.note("HINT: kernel type information is unavailable, so only structs defined in the program are known")
		} else if strings.HasPrefix(msg, "Unknown struct") {
			var names []string
			for n := range c.records {
				names = append(names, n)
			}
			if s := suggest(name, names); s != "" {
				err.note(didYouMean(s))
			}
		}
		return typeInvalid
	}
	if te.Ptr == 0 {
		if t.IsInt() {
			// A typedef of an integer (pid_t, u64 from BTF).
			if !xt.IsInt() && xt.Kind != KindPointer && !xt.IsCtx {
				c.errorf(e, "Casts are not supported for type: \"%s\"", typeStr(xt))
				return typeInvalid
			}
			if v, ok := c.constInt(e.X); ok {
				c.consts[e] = truncInt(v, t.Size, t.Signed)
			}
			return withAS(IntType(t.Size, t.Signed), xt.AddrSpace)
		}
		c.errorf(e, "Cannot cast to struct type \"%s\"", name)
		return typeInvalid
	}
	if !xt.IsInt() && xt.Kind != KindPointer {
		c.errorf(e, "Casts are not supported for type: \"%s\"", typeStr(xt))
		return typeInvalid
	}
	if xt.IsCtx {
		t = withCtx(t)
	}
	return c.castAS(t, xt)
}

// castAS gives a pointer made by a cast the address space of the value
// cast, or the probe's when that has none.
func (c *checker) castAS(t, from *Type) *Type {
	as := from.AddrSpace
	if as == AddrNone {
		as = c.probeAddrSpace()
	}
	return withAS(t, as)
}

// truncInt truncates v to an integer of size bytes.
func truncInt(v int64, size int, signed bool) int64 {
	if size >= 8 {
		return v
	}
	bits := uint(size * 8)
	u := uint64(v) & (1<<bits - 1)
	if signed && u&(1<<(bits-1)) != 0 {
		return int64(u) - (1 << bits)
	}
	return int64(u)
}

func (c *checker) sizeof(e *SizeofExpr) *Type {
	var size int
	if e.TypeArg != nil {
		t, msg := c.resolveTypeExpr(e.TypeArg, true)
		if msg != "" {
			if strings.HasPrefix(msg, "Unknown") {
				c.errorf(e, "Unknown identifier: '%s'", strings.Join(strings.Fields(e.TypeArg.Name), " "))
			} else {
				c.errorf(e, "%s", msg)
			}
			return typeInvalid
		}
		size = t.Size
	} else {
		t := c.expr(e.X)
		if t.Kind == KindInvalid {
			return typeInvalid
		}
		t = c.complete(t)
		if t.Kind == KindInvalid {
			return typeInvalid
		}
		size = t.Size
	}
	e.Size = size
	c.consts[e] = int64(size)
	return TypeUint64
}

func (c *checker) offsetof(e *OffsetofExpr) *Type {
	t, msg := c.resolveTypeExpr(e.TypeArg, true)
	if msg != "" {
		c.errorf(e, "%s", msg)
		return typeInvalid
	}
	off := 0
	for _, name := range e.Fields {
		t = c.complete(t)
		if t.Kind != KindRecord {
			c.errorf(e, "'%s' is not a struct or union", typeStr(t))
			return typeInvalid
		}
		f := t.Field(name)
		if f == nil {
			err := c.errorf(e, "Struct/union of type '%s' does not contain a field named '%s'", t.Name, name)
			if s := suggest(name, fieldNames(t)); s != "" {
				err.note(didYouMean(s))
			}
			return typeInvalid
		}
		off += f.Offset
		t = f.Type
	}
	e.Offset = off
	c.consts[e] = int64(off)
	return TypeUint64
}
