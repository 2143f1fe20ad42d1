package lang

import (
	"fmt"
	"strings"
)

// How types print in messages, and how the checker compares them.

// typeStr prints t as bpftrace 0.17's messages do: "int64",
// "unsigned int32", "string[16]", "(ctx) struct x *", "(int64,string[2])".
// (Type.String is the compact form the rest of the project uses, with
// "uint32" for unsigned integers.)
func typeStr(t *Type) string {
	if t == nil {
		return "none"
	}
	switch t.Kind {
	case KindInvalid, KindNone:
		return "none"
	case KindInt:
		if t.Signed {
			return fmt.Sprintf("int%d", t.Size*8)
		}
		return fmt.Sprintf("unsigned int%d", t.Size*8)
	case KindString:
		return fmt.Sprintf("string[%d]", t.Size)
	case KindBuffer:
		return fmt.Sprintf("buffer[%d]", t.Size)
	case KindPointer:
		prefix := ""
		if t.IsCtx {
			prefix = "(ctx) "
		}
		if t.Elem == nil {
			return prefix + "void *"
		}
		return prefix + typeStr(t.Elem) + " *"
	case KindRecord:
		return t.Name
	case KindArray:
		return fmt.Sprintf("%s[%d]", typeStr(t.Elem), t.Len)
	case KindTuple:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = typeStr(f.Type)
		}
		return "(" + strings.Join(parts, ",") + ")"
	}
	return kindClass(t)
}

// kindClass is the class of a type as bpftrace's messages name it when
// they do not give sizes: "integer", "string", "pointer", "count", ...
func kindClass(t *Type) string {
	if t == nil {
		return "none"
	}
	switch t.Kind {
	case KindInvalid, KindNone:
		return "none"
	case KindInt:
		return "integer"
	case KindStack:
		if t.Stack.User {
			return "ustack"
		}
		return "kstack"
	case KindStackMode:
		return "stack mode"
	}
	return t.Kind.String()
}

// strictEqual is bpftrace's type equality: same kind, size and sign, the
// same pointee, record name, element or tuple elements.
func strictEqual(a, b *Type) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindRecord:
		return a.Name == b.Name && a.Size == b.Size
	case KindPointer:
		if a.Elem == nil || b.Elem == nil {
			return a.Elem == b.Elem
		}
		return strictEqual(a.Elem, b.Elem)
	case KindArray:
		return a.Len == b.Len && strictEqual(a.Elem, b.Elem)
	case KindTuple:
		return fieldwise(a, b, strictEqual)
	case KindStack:
		return a.Stack == b.Stack
	case KindLhist:
		return a.Equal(b)
	}
	return a.Size == b.Size && a.Signed == b.Signed
}

// fieldwise reports whether tuples a and b have as many elements and each
// element of a stands in rel to the matching one of b. A tuple is equal to,
// or fits into, another only element by element, so strictEqual and
// fitsInto both recurse through this one rule.
func fieldwise(a, b *Type, rel func(x, y *Type) bool) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if !rel(a.Fields[i].Type, b.Fields[i].Type) {
			return false
		}
	}
	return true
}

// fitsInto reports whether a value of type a can be stored where b is:
// strings no longer, tuples element by element, anything else equal.
func fitsInto(a, b *Type) bool {
	if a.Kind == KindString && b.Kind == KindString {
		return a.Size <= b.Size
	}
	if a.Kind == KindTuple && b.Kind == KindTuple {
		return fieldwise(a, b, fitsInto)
	}
	return strictEqual(a, b)
}

// growStrings returns old with every string (also inside tuples) as large
// as the matching string of t, or old itself when nothing grows.
func growStrings(old, t *Type) *Type {
	if old.Kind == KindString && t.Kind == KindString {
		if t.Size > old.Size {
			return t
		}
		return old
	}
	if old.Kind == KindTuple && t.Kind == KindTuple && len(old.Fields) == len(t.Fields) {
		elems := make([]*Type, len(old.Fields))
		grew := false
		for i := range old.Fields {
			elems[i] = growStrings(old.Fields[i].Type, t.Fields[i].Type)
			if elems[i] != old.Fields[i].Type {
				grew = true
			}
		}
		if grew {
			return TupleOf(elems...)
		}
	}
	return old
}

// sameVarType is bpftrace's rule for reassigning a scratch variable: the
// same kind, the same record, pointers to the same thing. Integers of any
// size may be assigned to an integer variable.
func sameVarType(a, b *Type) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindRecord:
		return a.Name == b.Name
	case KindPointer:
		if a.Elem == nil || b.Elem == nil {
			return a.Elem == nil && b.Elem == nil
		}
		return sameVarType(a.Elem, b.Elem)
	case KindStack:
		return a.Stack.User == b.Stack.User
	}
	return true
}

// withAS returns t marked as living in (or, for a pointer, pointing into)
// address space as, copying it when that changes anything. Records and
// arrays carry the space they were read from too, as bpftrace's types do,
// so that a member reached through them (p->rec.ptr, p->arr[1]) keeps it.
func withAS(t *Type, as AddrSpace) *Type {
	if t == nil || t.AddrSpace == as {
		return t
	}
	switch t.Kind {
	case KindPointer, KindInt, KindRecord, KindArray:
	default:
		return t
	}
	cp := *t
	cp.AddrSpace = as
	return &cp
}

// withCtx returns t marked as read from the probe context.
func withCtx(t *Type) *Type {
	if t.IsCtx {
		return t
	}
	cp := *t
	cp.IsCtx = true
	return &cp
}

// withoutCtx returns t without the context mark.
func withoutCtx(t *Type) *Type {
	if !t.IsCtx {
		return t
	}
	cp := *t
	cp.IsCtx = false
	return &cp
}

// isPrintable says whether print(value) can print t (bpftrace 0.17's
// IsPrintableTy).
func isPrintable(t *Type) bool {
	switch t.Kind {
	case KindNone, KindInvalid, KindPointer, KindStackMode:
		return false
	}
	return !t.IsCtx
}
