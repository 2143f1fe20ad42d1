package codegen

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Listing returns a readable text of an Object: its maps, its events and
// each program's instructions with the source of each statement above its
// first instruction (cilium's Instructions format). It is what the
// command's -d flag prints and what the golden tests compare.
func Listing(obj *Object) string {
	var b strings.Builder
	Disassemble(&b, obj)
	return b.String()
}

// Disassemble writes Listing(obj) to w.
func Disassemble(w io.Writer, obj *Object) {
	for _, name := range obj.MapNames() {
		l := obj.Maps[name]
		fmt.Fprintf(w, "map %s %s", name, l.Spec)
		if l.Keyed {
			parts := make([]string, len(l.Keys))
			for i, k := range l.Keys {
				parts[i] = fmt.Sprintf("%d:%s", k.Offset, k.Type)
			}
			fmt.Fprintf(w, " key [%s]", strings.Join(parts, " "))
		}
		fmt.Fprintf(w, " value %s\n", l.Value)
		if l.Slot != nil {
			fmt.Fprintf(w, "map %s %s\n", SlotName(name), l.Slot)
		}
	}
	internal := make([]string, 0, len(obj.Internal))
	for name := range obj.Internal {
		internal = append(internal, name)
	}
	sort.Strings(internal)
	for _, name := range internal {
		fmt.Fprintf(w, "map %s %s\n", name, obj.Internal[name])
	}
	for _, id := range obj.EventIDs() {
		ev := obj.Events[id]
		fmt.Fprintf(w, "event %d %s size %d", id, ev.Kind, ev.Size)
		if ev.Map != "" {
			fmt.Fprintf(w, " map %s", ev.Map)
		}
		if ev.Text != "" {
			fmt.Fprintf(w, " text %s", strconv.Quote(ev.Text))
		}
		for _, a := range ev.Args {
			fmt.Fprintf(w, " %d:%s", a.Offset, a.Type)
		}
		fmt.Fprintln(w)
	}
	for _, p := range obj.Programs {
		fmt.Fprintf(w, "\nprogram %s %s %s", p.Name, p.Kind, p.Spec.Type)
		if p.Spec.AttachTo != "" {
			fmt.Fprintf(w, " attach_to %s", p.Spec.AttachTo)
		}
		fmt.Fprintln(w)
		for _, ap := range p.Attach {
			fmt.Fprintf(w, "; attach %s\n", ap.Name())
		}
		fmt.Fprintf(w, "%v", p.Spec.Instructions)
	}
}
