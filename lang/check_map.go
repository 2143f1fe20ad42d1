package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Map typing.
//
// A map's value type is fixed by the first assignment to it, in source
// order over the whole program (probes in order, then a cell's top-level
// statements); its key types by its first use with keys, read or write.
// Later uses must agree: same kind of value, the same number and kinds of
// keys. Strings are the exception: a map (or a tuple inside it) that is
// given a longer string grows to hold it, as in bpftrace, so the map's
// final string size is the largest assigned.
//
// Integers are stored as 64-bit values, keeping the signedness of the
// first assignment. Integer keys are widened to 64 bits too; their
// signedness does not matter for matching (bpftrace compares them as
// unsigned, and so names them in messages).
//
// In a notebook, Config.Session holds the maps earlier cells created. They
// start out with fixed types, their strings cannot grow (the kernel map
// already exists with its sizes), and a conflicting use is an error that
// says where the map got its type.

type mapState struct {
	info     *MapInfo
	session  bool // from Config.Session
	keyFixed bool // KeyParts decided (by the session or in this pass)
	used     bool // used by this program, in the reporting pass
}

func sessionMap(mi *MapInfo) *mapState {
	cp := *mi
	cp.Read, cp.Written = false, false
	cp.KeyParts = append([]*Type(nil), mi.KeyParts...)
	return &mapState{info: &cp, session: true, keyFixed: true}
}

func (m *mapState) resetPass() {
	m.used = false
	m.info.Read, m.info.Written = false, false
	if !m.session {
		m.keyFixed = false
		m.info.KeyParts = nil
		m.info.Key = nil
	}
}

// mapFor returns the state of the map called name, creating it.
func (c *checker) mapFor(name string) *mapState {
	m := c.maps[name]
	if m == nil {
		m = &mapState{info: &MapInfo{Name: name}}
		c.maps[name] = m
	}
	if c.final {
		m.used = true
	}
	return m
}

// originNote is appended to messages about session maps.
func (m *mapState) originNote() string {
	if !m.session {
		return ""
	}
	where := m.info.Origin
	if where == "" {
		where = "an earlier cell"
	}
	if m.info.OriginPos.IsValid() {
		return fmt.Sprintf(" (the map got its type in %s at %s)", where, m.info.OriginPos)
	}
	return fmt.Sprintf(" (the map got its type in %s)", where)
}

// mapKeys checks the key expressions of m and, when validate is set,
// matches them against the map's key types, fixing those at first use.
func (c *checker) mapKeys(me *MapExpr, validate bool) {
	st := c.mapFor(me.Name)
	var parts []*Type
	bad := false
	for _, k := range me.Keys {
		t := c.exprIn(k, useMapKey)
		switch {
		case t.Kind == KindInvalid:
			bad = true
			continue
		case t.IsCtx:
			c.errorf(me, "context cannot be used as a map key")
			bad = true
			continue
		case t.Kind == KindTuple:
			c.errorf(me, "tuple cannot be used as a map key. Try a multi-key associative array instead (eg `@map[$1, $2] = ...)`.")
			bad = true
			continue
		case t.Kind == KindNone || t.Kind == KindStackMode || t.Kind.IsAggregation():
			c.errorf(k, "%s cannot be used as a map key", typeStr(t))
			bad = true
			continue
		}
		if t.IsInt() {
			t = IntType(8, t.Signed)
		}
		parts = append(parts, t)
	}
	if !validate || bad {
		return
	}
	info := st.info
	if !st.keyFixed {
		st.keyFixed = true
		info.KeyParts = parts
		return
	}
	ok := len(parts) == len(info.KeyParts)
	var grown []*Type
	if ok {
		grown = make([]*Type, len(parts))
		for i, p := range parts {
			old := info.KeyParts[i]
			switch {
			case old.Kind == KindString && p.Kind == KindString:
				grown[i] = old
				if p.Size > old.Size {
					if st.session {
						// The kernel map exists with its key size.
						c.warnf(me, "String size mismatch in the key of %s: %d < %d. The key may be truncated.", me.Name, old.Size, p.Size)
					} else {
						grown[i] = p
					}
				}
			case keyPartEqual(old, p):
				grown[i] = old
			default:
				ok = false
			}
		}
	}
	if !ok {
		c.errorf(me, "Argument mismatch for %s: trying to access with arguments: %s when map expects arguments: %s%s",
			me.Name, keyList(parts), keyList(info.KeyParts), st.originNote())
		return
	}
	info.KeyParts = grown
}

// keyPartEqual compares key types as bpftrace does: integers of any
// signedness match.
func keyPartEqual(a, b *Type) bool {
	if a.IsInt() && b.IsInt() {
		return a.Size == b.Size
	}
	return strictEqual(a, b)
}

// keyList prints key types as bpftrace's messages list them.
func keyList(parts []*Type) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		if p.IsInt() {
			p = IntType(p.Size, false)
		}
		s[i] = typeStr(p)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// mapKeyType builds MapInfo.Key: the single key's type, or the tuple of
// several.
func mapKeyType(parts []*Type) *Type {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return TupleOf(parts...)
}

// mapRead types a read of a map element (or a scalar map).
func (c *checker) mapRead(me *MapExpr) *Type {
	c.mapKeys(me, true)
	st := c.mapFor(me.Name)
	st.info.Read = true
	if v := st.info.Value; v != nil && v.Kind != KindInvalid {
		return v
	}
	c.undefinedMap(me)
	return typeInvalid
}

func (c *checker) undefinedMap(me *MapExpr) {
	e := c.errorf(me, "Undefined map: %s", me.Name)
	if s := suggest(me.Name, c.knownMaps()); s != "" {
		e.note(didYouMean(s))
	}
}

// knownMaps names the maps that have a value type.
func (c *checker) knownMaps() []string {
	var names []string
	for n, m := range c.maps {
		if m.info.Value != nil && m.info.Value.Kind != KindInvalid {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// mapOperand checks a map passed whole to fn (print, clear, zero, len,
// delete(@m, k), for): it must not have keys, and must exist.
func (c *checker) mapOperand(me *MapExpr, fn string) *Type {
	if len(me.Keys) > 0 {
		c.mapKeys(me, false)
		c.errorf(me, "The map passed to %s() should not be indexed by a key", fn)
	}
	st := c.mapFor(me.Name)
	st.info.Read = true
	v := st.info.Value
	if v == nil || v.Kind == KindInvalid {
		c.undefinedMap(me)
		v = typeInvalid
	}
	me.SetType(v)
	return v
}

// mapAssign records that m is assigned a value of type t at node at,
// fixing or checking its value type.
// at is where errors about the assignment point (its operator), value the
// assigned expression.
func (c *checker) mapAssign(me *MapExpr, t *Type, at, value Node) {
	st := c.mapFor(me.Name)
	st.info.Written = true
	if t.Kind == KindInvalid {
		return
	}
	if t.IsInt() {
		t = IntType(8, t.Signed)
	}
	info := st.info
	old := info.Value
	if old == nil || old.Kind == KindInvalid {
		if t.IsCtx {
			c.errorf(at, "context cannot be assigned to a map")
			return
		}
		info.Value = t
		info.Origin = c.cfg.Cell
		if info.Origin == "" {
			info.Origin = c.file
		}
		info.OriginPos, _ = me.Span()
		c.changed = true
		return
	}
	mismatch := func(have, want string) {
		c.errorf(me, "Type mismatch for %s: trying to assign value of type '%s' when map already contains a value of type '%s'%s",
			me.Name, have, want, st.originNote())
	}
	if old.Kind != t.Kind {
		mismatch(typeStr(t), typeStr(old))
		return
	}
	switch t.Kind {
	case KindString:
		if t.Size > old.Size {
			if st.session {
				c.warnf(at, "String size mismatch: %d < %d. The value may be truncated.", old.Size, t.Size)
			} else {
				info.Value = t
				c.changed = true
			}
		}
	case KindTuple:
		if !st.session {
			if g := growStrings(old, t); !strictEqual(g, old) {
				info.Value = g
				old = g
				c.changed = true
			}
		}
		if !fitsInto(t, old) {
			c.errorf(at, "Tuple type mismatch: %s != %s.", typeStr(old), typeStr(t))
		}
	case KindRecord:
		if old.Name != t.Name {
			mismatch(t.Name, old.Name)
		}
	case KindBuffer:
		if old.Size < t.Size {
			c.warnf(at, "Buffer size mismatch: %d != %d. The value may be truncated.", old.Size, t.Size)
		} else if old.Size > t.Size {
			c.errorf(at, "Buffer size mismatch: %d != %d.", old.Size, t.Size)
		}
	case KindArray:
		if !strictEqual(old, t) {
			c.errorf(at, "Array type mismatch: %s != %s.", typeStr(old), typeStr(t))
		}
	case KindLhist:
		if !old.Equal(t) {
			c.errorf(value, "Different lhist bounds in a single map unsupported")
		}
	case KindStack:
		if old.Stack.User != t.Stack.User {
			mismatch(typeStr(t), typeStr(old))
		} else if old.Stack != t.Stack {
			mismatch(stackStr(t), stackStr(old))
		}
	}
}

// stackStr names a stack with its mode and limit, for messages about
// stacks that differ in those only.
func stackStr(t *Type) string {
	return fmt.Sprintf("%s(%s, %d)", typeStr(t), t.Stack.Mode, t.Stack.Limit)
}

// assignMap checks "@m[k] = v" and "@m[k] op= v".
func (c *checker) assignMap(s *AssignStmt, me *MapExpr) {
	c.mapKeys(me, true)
	st := c.mapFor(me.Name)
	var t *Type
	if s.Op != Assign {
		cur := st.info.Value
		if cur == nil || cur.Kind == KindInvalid {
			// @x += 1 on a new map starts from zero.
			c.mapAssign(me, TypeInt64, me, me)
			cur = st.info.Value
		}
		st.info.Read = true
		me.SetType(cur)
		t = c.compoundValue(s, cur)
	} else {
		t = c.exprIn(s.Value, useMapValue)
	}
	c.mapAssign(me, t, c.assignOp(s), s.Value)
	if v := st.info.Value; v != nil {
		me.SetType(v)
	} else {
		me.SetType(typeInvalid)
	}
}
