package render

import (
	"strconv"

	"github.com/tracebook/tracebook/runtime/value"
)

// Stream says where bpftrace writes an event's output.
type Stream uint8

const (
	Stdout Stream = iota
	Stderr
)

// EventText renders an event as bpftrace 0.17's text output, and says on
// which stream it goes. Exit renders as nothing (the caller prints the
// exit dump with ExitText when the program has ended).
func EventText(e value.Event) (string, Stream) {
	switch e := e.(type) {
	case value.Printf:
		return Printf(e.Format, e.Args), Stdout
	case *value.Printf:
		return Printf(e.Format, e.Args), Stdout
	case value.Print:
		return ValueText(e.Value) + "\n", Stdout
	case value.PrintMap:
		if e.Map == nil {
			return "", Stdout
		}
		return MapText(e.Map, e.Top, e.Div), Stdout
	case value.Time:
		return timeText(e)
	case value.Cat:
		return e.Text, Stdout
	case value.Join:
		return e.Text + "\n", Stdout
	case value.System:
		return e.Text, Stdout
	case value.LostEvents:
		return "Lost " + strconv.FormatUint(e.N, 10) + " events\n", Stdout
	case value.Warning:
		return warningText(e), Stderr
	case value.Message:
		return e.Text + "\n", Stdout
	case value.HelperError:
		// bpftrace logs it with the source excerpt, on the output stream.
		return DiagText(e.Pos), Stdout
	}
	return "", Stdout
}

// EventJSON renders an event as a -f json line (with its newline). Runtime
// warnings stay plain text on stderr, as in bpftrace.
func EventJSON(e value.Event) (string, Stream) {
	switch e := e.(type) {
	case value.Printf:
		return messageJSON("printf", Printf(e.Format, e.Args)), Stdout
	case *value.Printf:
		return messageJSON("printf", Printf(e.Format, e.Args)), Stdout
	case value.Print:
		return `{"type": "value", "data": ` + ValueJSON(e.Value) + "}\n", Stdout
	case value.PrintMap:
		if e.Map == nil {
			return "", Stdout
		}
		return MapJSON(e.Map, e.Top, e.Div), Stdout
	case value.Time:
		s, stream := timeText(e)
		if stream == Stderr {
			return s, stream
		}
		return messageJSON("time", s), Stdout
	case value.Cat:
		return messageJSON("cat", e.Text), Stdout
	case value.Join:
		return messageJSON("join", e.Text), Stdout
	case value.System:
		return messageJSON("syscall", e.Text), Stdout
	case value.LostEvents:
		return `{"type": "lost_events", "data": {"events": ` + strconv.FormatUint(e.N, 10) + "}}\n", Stdout
	case value.Warning:
		return warningText(e), Stderr
	case value.Message:
		return messageJSON(e.Type, e.Text), Stdout
	case value.HelperError:
		return `{"type": "helper_error", "helper": ` + JSONString(e.Helper) + `, "retcode": ` + itoa(e.Ret) +
			`, "line": ` + itoa(int64(e.Pos.Line)) + `, "col": ` + itoa(int64(e.Pos.Col)) + "}\n", Stdout
	}
	return "", Stdout
}

// timeText is time()'s text, or bpftrace 0.17's error when it does not fit
// its buffer (StrftimeMax) or is empty.
func timeText(e value.Time) (string, Stream) {
	s, ok := StrftimeFits(CStrftime(e.Format, e.At.Local()))
	if !ok {
		return "ERROR: strftime returned 0\n", Stderr
	}
	return s, Stdout
}

// warningText is a runtime warning or error as bpftrace logs it.
func warningText(w value.Warning) string {
	if w.Source != nil {
		d := *w.Source
		d.Msg, d.Warning = w.Msg, !w.Error
		return DiagText(d)
	}
	if w.Error {
		return "ERROR: " + w.Msg + "\n"
	}
	return "WARNING: " + w.Msg + "\n"
}
