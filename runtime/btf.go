package runtime

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/tracebook/tracebook/lang"
)

// Kernel BTF is loaded once per process (about 10 ms for vmlinux) and
// shared: cilium's btf.Cache keeps vmlinux and each module's split BTF.
var kernelBTF = btf.NewCache()

// KernelBTF returns the running kernel's BTF (vmlinux).
func KernelBTF() (*btf.Spec, error) { return kernelBTF.Kernel() }

// ModuleBTF returns the split BTF of a loaded module, from
// /sys/kernel/btf/<module>. "vmlinux" returns the kernel's own.
func ModuleBTF(module string) (*btf.Spec, error) {
	if module == "" || module == "vmlinux" {
		return KernelBTF()
	}
	return kernelBTF.Module(module)
}

// BTFModules lists the BTF objects of the running kernel: "vmlinux" first,
// then every module with BTF, sorted.
func BTFModules() []string {
	out := []string{"vmlinux"}
	ents, err := os.ReadDir("/sys/kernel/btf")
	if err != nil {
		return out
	}
	var mods []string
	for _, e := range ents {
		if e.Name() != "vmlinux" {
			mods = append(mods, e.Name())
		}
	}
	sort.Strings(mods)
	return append(out, mods...)
}

// btfConverter turns BTF types into lang types. Records are converted in
// full (embedded records too, since they are part of the layout), but a
// record reached through a pointer becomes opaque: a KindRecord with only
// its name, which the checker looks up (LookupType) when a field of it is
// used. That keeps `struct task_struct` to one level instead of the whole
// kernel. Results are cached per BTF type; lang types are never mutated
// once returned.
type btfConverter struct {
	mu    sync.Mutex
	cache map[btf.Type]*lang.Type
}

func newBTFConverter() *btfConverter {
	return &btfConverter{cache: make(map[btf.Type]*lang.Type)}
}

// Convert converts t to a lang type.
func (c *btfConverter) Convert(t btf.Type) *lang.Type {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.convert(t)
}

func (c *btfConverter) convert(t btf.Type) *lang.Type {
	if lt, ok := c.cache[t]; ok {
		return lt
	}
	lt := c.convertUncached(t)
	c.cache[t] = lt
	return lt
}

// recordName names a struct or union as bpftrace does: "struct task_struct";
// an anonymous one gets "struct (anonymous)".
func recordName(keyword, name string) string {
	if name == "" {
		return keyword + " (anonymous)"
	}
	return keyword + " " + name
}

func (c *btfConverter) convertUncached(t btf.Type) *lang.Type {
	switch t := t.(type) {
	case *btf.Void, nil:
		return lang.TypeNone
	case *btf.Int:
		if t.Encoding&btf.Bool != 0 {
			return &lang.Type{Kind: lang.KindInt, Size: int(t.Size), Name: t.Name}
		}
		signed := t.Encoding&btf.Signed != 0 || (t.Encoding&btf.Char != 0 && t.Name == "char")
		return &lang.Type{Kind: lang.KindInt, Size: int(t.Size), Signed: signed, Name: t.Name}
	case *btf.Enum:
		return &lang.Type{Kind: lang.KindInt, Size: int(t.Size), Signed: t.Signed, Name: "enum " + t.Name}
	case *btf.Typedef:
		u := c.convert(t.Type)
		switch u.Kind {
		case lang.KindInt:
			cp := *u
			cp.Name = t.Name
			return &cp
		case lang.KindRecord:
			if strings.HasSuffix(u.Name, "(anonymous)") {
				cp := *u
				cp.Name = t.Name
				return &cp
			}
		}
		return u
	case *btf.Const:
		return c.convert(t.Type)
	case *btf.Volatile:
		return c.convert(t.Type)
	case *btf.Restrict:
		return c.convert(t.Type)
	case *btf.TypeTag:
		return c.convert(t.Type)
	case *btf.Pointer:
		return lang.PointerTo(c.pointee(t.Target), lang.AddrKernel)
	case *btf.Array:
		elem := c.convert(t.Type)
		if isBTFChar(t.Type) {
			return lang.StringType(int(t.Nelems))
		}
		return &lang.Type{Kind: lang.KindArray, Elem: elem, Len: int(t.Nelems), Size: int(t.Nelems) * elem.Size}
	case *btf.Struct:
		return c.record("struct", t.Name, t.Size, t.Members)
	case *btf.Union:
		return c.record("union", t.Name, t.Size, t.Members)
	case *btf.Fwd:
		kw := "struct"
		if t.Kind == btf.FwdUnion {
			kw = "union"
		}
		return &lang.Type{Kind: lang.KindRecord, Name: recordName(kw, t.Name)}
	case *btf.Float:
		// bpftrace has no floating point type; the field keeps its room.
		return &lang.Type{Kind: lang.KindNone, Size: int(t.Size), Name: t.Name}
	}
	return lang.TypeNone
}

// pointee converts the target of a pointer: named records stay opaque,
// void and functions give a nil Elem ("void *").
func (c *btfConverter) pointee(t btf.Type) *lang.Type {
	t = btf.UnderlyingType(skipQualifiersKeepTypedef(t))
	switch u := t.(type) {
	case *btf.Void, *btf.FuncProto, *btf.Func, nil:
		return nil
	case *btf.Struct:
		if u.Name != "" {
			return &lang.Type{Kind: lang.KindRecord, Name: recordName("struct", u.Name)}
		}
	case *btf.Union:
		if u.Name != "" {
			return &lang.Type{Kind: lang.KindRecord, Name: recordName("union", u.Name)}
		}
	}
	// Anonymous records, ints, pointers: convert (anonymous records can
	// not be looked up by name later, and cannot point to themselves).
	return c.convert(t)
}

func skipQualifiersKeepTypedef(t btf.Type) btf.Type {
	for {
		switch q := t.(type) {
		case *btf.Const:
			t = q.Type
		case *btf.Volatile:
			t = q.Type
		case *btf.Restrict:
			t = q.Type
		case *btf.TypeTag:
			t = q.Type
		default:
			return t
		}
	}
}

func isBTFChar(t btf.Type) bool {
	i, ok := btf.UnderlyingType(t).(*btf.Int)
	return ok && i.Size == 1 && i.Name == "char"
}

func (c *btfConverter) record(keyword, name string, size uint32, members []btf.Member) *lang.Type {
	rt := &lang.Type{Kind: lang.KindRecord, Name: recordName(keyword, name), Size: int(size)}
	rt.Fields = make([]*lang.Field, 0, len(members))
	for _, m := range members {
		f := &lang.Field{Name: m.Name, Type: c.convert(m.Type)}
		bits := int(m.Offset)
		f.Offset = bits / 8
		if m.BitfieldSize > 0 {
			f.BitOffset = bits % 8
			f.BitSize = int(m.BitfieldSize)
		}
		rt.Fields = append(rt.Fields, f)
	}
	if size == 0 && len(members) == 0 {
		// An empty struct is not opaque: give it Fields so IsOpaque is false.
		rt.Fields = []*lang.Field{}
	}
	return rt
}

// findFunc finds a FUNC by name in spec. vmlinux may hold several static
// functions of one name; their prototypes are then usually the same and the
// first is taken.
func findFunc(spec *btf.Spec, name string) (*btf.Func, error) {
	types, err := spec.AnyTypesByName(name)
	if err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			return nil, lang.ErrNotFound
		}
		return nil, err
	}
	for _, t := range types {
		if fn, ok := t.(*btf.Func); ok {
			return fn, nil
		}
	}
	return nil, lang.ErrNotFound
}

// funcProto returns the prototype of a BTF function.
func funcProto(fn *btf.Func) (*btf.FuncProto, error) {
	fp, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return nil, fmt.Errorf("%s has no function prototype in BTF", fn.Name)
	}
	return fp, nil
}

// btfTypeDecl prints a BTF type as a C declaration of name, the way
// bpftrace's -lv listing prints kfunc parameters ("struct file * file",
// "char * buf", "size_t count"). Function pointers print as
// "void (*)(...)"-less "void *", which is what BPF programs can use of them.
func btfTypeDecl(t btf.Type, name string) string {
	s := btfTypeName(t)
	if name == "" {
		return s
	}
	return s + " " + name
}

// btfTypeName spells a BTF type as C: "const char *", "struct file *",
// "unsigned int", "u64".
func btfTypeName(t btf.Type) string {
	switch t := t.(type) {
	case nil, *btf.Void:
		return "void"
	case *btf.Int:
		return t.Name
	case *btf.Float:
		return t.Name
	case *btf.Typedef:
		return t.Name
	case *btf.Enum:
		return "enum " + t.Name
	case *btf.Struct:
		return recordName("struct", t.Name)
	case *btf.Union:
		return recordName("union", t.Name)
	case *btf.Fwd:
		if t.Kind == btf.FwdUnion {
			return "union " + t.Name
		}
		return "struct " + t.Name
	case *btf.Const:
		return "const " + btfTypeName(t.Type)
	case *btf.Volatile:
		return "volatile " + btfTypeName(t.Type)
	case *btf.Restrict:
		return btfTypeName(t.Type)
	case *btf.TypeTag:
		return btfTypeName(t.Type)
	case *btf.Pointer:
		if _, ok := btf.UnderlyingType(t.Target).(*btf.FuncProto); ok {
			return "void *"
		}
		inner := btfTypeName(t.Target)
		if strings.HasSuffix(inner, "*") {
			return inner + "*"
		}
		return inner + " *"
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", btfTypeName(t.Type), t.Nelems)
	case *btf.FuncProto:
		return "void"
	}
	return "void"
}
