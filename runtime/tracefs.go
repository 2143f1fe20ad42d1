package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Tracefs is where the kernel publishes its tracepoints: one directory per
// event with a `format` file (the layout of the record a tracepoint program
// receives as its context) and an `id` file (the perf event config).

// tracefsCandidates are the places tracefs is found, in the order bpftrace
// and cilium look: the dedicated mount point, then the automount inside
// debugfs.
var tracefsCandidates = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

var tracefsState struct {
	sync.Mutex
	dir string
}

// TracefsDir returns the directory tracefs is mounted on.
//
// When tracefs is mounted nowhere and we are root, it mounts it on
// /sys/kernel/tracing, as perf and bpftool do: every tracepoint needs it,
// and on a machine that boots without it (some VMs and containers) the
// alternative is a "tracepoint not found" for every name. The mount is the
// standard one and stays after we exit. Success is cached; a failure is
// retried on the next call.
func TracefsDir() (string, error) {
	tracefsState.Lock()
	defer tracefsState.Unlock()
	if tracefsState.dir != "" {
		return tracefsState.dir, nil
	}
	for _, dir := range tracefsCandidates {
		if isTracefs(dir) {
			tracefsState.dir = dir
			return dir, nil
		}
	}
	if os.Geteuid() == 0 {
		dir := tracefsCandidates[0]
		if err := unix.Mount("tracefs", dir, "tracefs", 0, ""); err == nil && isTracefs(dir) {
			tracefsState.dir = dir
			return dir, nil
		}
	}
	return "", errors.New("tracefs is not mounted (looked in /sys/kernel/tracing and /sys/kernel/debug/tracing)")
}

func isTracefs(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.TRACEFS_MAGIC
}

// TracepointName names one tracepoint: tracepoint:Category:Name.
type TracepointName struct {
	Category, Name string
}

func (t TracepointName) String() string { return t.Category + ":" + t.Name }

// TracepointNames lists every tracepoint the kernel has, sorted by
// category then name. It reads available_events and falls back to walking
// the events directory when that file cannot be read.
func TracepointNames() ([]TracepointName, error) {
	dir, err := TracefsDir()
	if err != nil {
		return nil, err
	}
	var names []TracepointName
	if data, err := os.ReadFile(filepath.Join(dir, "available_events")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			cat, name, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && cat != "" && name != "" {
				names = append(names, TracepointName{cat, name})
			}
		}
	} else {
		cats, err := os.ReadDir(filepath.Join(dir, "events"))
		if err != nil {
			return nil, fmt.Errorf("listing tracepoints: %w", err)
		}
		for _, c := range cats {
			if !c.IsDir() {
				continue
			}
			evs, err := os.ReadDir(filepath.Join(dir, "events", c.Name()))
			if err != nil {
				continue
			}
			for _, e := range evs {
				if e.IsDir() {
					names = append(names, TracepointName{c.Name(), e.Name()})
				}
			}
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if names[i].Category != names[j].Category {
			return names[i].Category < names[j].Category
		}
		return names[i].Name < names[j].Name
	})
	return dedupeTracepoints(names), nil
}

func dedupeTracepoints(names []TracepointName) []TracepointName {
	out := names[:0]
	for i, n := range names {
		if i > 0 && n == names[i-1] {
			continue
		}
		out = append(out, n)
	}
	return out
}

// eventDir returns the tracefs directory of one event, refusing names that
// would leave the events tree.
func eventDir(category, name string) (string, error) {
	if category == "" || name == "" || strings.ContainsAny(category+name, "/\x00") ||
		category == ".." || name == ".." || category == "." || name == "." {
		return "", notFound("tracepoint not found: %s:%s", category, name)
	}
	dir, err := TracefsDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "events", category, name), nil
}

// TracepointID returns the perf event id of a tracepoint (the `id` file),
// the config for perf_event_open with PERF_TYPE_TRACEPOINT.
func TracepointID(category, name string) (uint64, error) {
	dir, err := eventDir(category, name)
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "id"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, notFound("tracepoint not found: %s:%s", category, name)
		}
		return 0, fmt.Errorf("reading the id of tracepoint %s:%s: %w", category, name, err)
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}

// TracepointField is one `field:` line of a format file.
type TracepointField struct {
	// Decl is the declaration as written, without the trailing ';':
	// "const char * filename", "char prev_comm[16]",
	// "__data_loc char[] cmd". Listings print it.
	Decl string
	// CType is the declaration's type ("const char *", "char",
	// "__data_loc char[]") and Name the member name without any array
	// suffix; ArrayLen is the text between '[' and ']' of "name[N]"
	// ("16", "TASK_COMM_LEN") or "" when the field is not an array.
	CType, Name, ArrayLen string
	IsArray               bool
	Offset, Size          int
	Signed                bool
	// Common is set for the common_* fields every event starts with.
	Common bool
	// DataLoc is set for "__data_loc T[] name" fields: the 32-bit value at
	// Offset holds the data's length in its high 16 bits and its offset
	// from the start of the record in its low 16 bits.
	DataLoc bool
}

// TracepointFormat is a parsed `format` file.
type TracepointFormat struct {
	Category, Name string
	ID             uint64
	Fields         []TracepointField // common fields first, as in the file
}

// ReadTracepointFormat reads and parses the format file of a tracepoint.
// A tracepoint that does not exist gives an error wrapping lang.ErrNotFound
// that reads as bpftrace's: "tracepoint not found: syscalls:nonexistent".
func ReadTracepointFormat(category, name string) (*TracepointFormat, error) {
	dir, err := eventDir(category, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "format"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, notFound("tracepoint not found: %s:%s", category, name)
		}
		return nil, fmt.Errorf("reading the format of tracepoint %s:%s: %w", category, name, err)
	}
	defer f.Close()
	tf, err := ParseTracepointFormat(f)
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	tf.Category = category
	if tf.Name == "" {
		tf.Name = name
	}
	return tf, nil
}

// ParseTracepointFormat parses the text of a tracefs format file.
func ParseTracepointFormat(r io.Reader) (*TracepointFormat, error) {
	tf := &TracepointFormat{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "name:"):
			tf.Name = strings.TrimSpace(strings.TrimPrefix(line, "name:"))
		case strings.HasPrefix(line, "ID:"):
			id, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "ID:")), 10, 64)
			if err == nil {
				tf.ID = id
			}
		case strings.HasPrefix(line, "field:"):
			fld, err := parseFormatField(line)
			if err != nil {
				return nil, err
			}
			tf.Fields = append(tf.Fields, fld)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(tf.Fields) == 0 {
		return nil, errors.New("format file has no fields")
	}
	return tf, nil
}

// parseFormatField parses
// "field:const char * filename;	offset:24;	size:8;	signed:0;".
func parseFormatField(line string) (TracepointField, error) {
	var f TracepointField
	parts := strings.Split(line, ";")
	for _, p := range parts {
		p = strings.TrimSpace(p)
		key, val, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		switch key {
		case "field":
			f.Decl = strings.TrimSpace(val)
		case "offset":
			n, err := strconv.Atoi(val)
			if err != nil {
				return f, fmt.Errorf("bad offset in %q", line)
			}
			f.Offset = n
		case "size":
			n, err := strconv.Atoi(val)
			if err != nil {
				return f, fmt.Errorf("bad size in %q", line)
			}
			f.Size = n
		case "signed":
			f.Signed = val == "1"
		}
	}
	if f.Decl == "" {
		return f, fmt.Errorf("bad field line %q", line)
	}
	i := strings.LastIndexAny(f.Decl, " \t*")
	if i < 0 {
		return f, fmt.Errorf("bad field declaration %q", f.Decl)
	}
	f.CType = strings.TrimSpace(f.Decl[:i+1])
	f.Name = strings.TrimSpace(f.Decl[i+1:])
	if lb := strings.IndexByte(f.Name, '['); lb >= 0 {
		rb := strings.IndexByte(f.Name, ']')
		if rb > lb {
			f.ArrayLen = f.Name[lb+1 : rb]
		}
		f.IsArray = true
		f.Name = f.Name[:lb]
	}
	f.Common = strings.HasPrefix(f.Name, "common_")
	// "__rel_loc" fields (offset from the end of the field rather than
	// from the record) are not marked: no kernel we target has one.
	f.DataLoc = strings.Contains(f.CType, "__data_loc")
	return f, nil
}
