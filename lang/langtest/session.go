package langtest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/lang"
)

// ParseSession parses the maps of an "option:session=" chunk option, as
// earlier notebook cells would have left them:
//
//	@lat[uint64]:hist;@x:count;@s[string[16],int64]:sum~cell[2]:1:30
//
// Maps are separated by ';'. Each is a name, optional key types in
// brackets, ':' and a value type, then optionally '~' and where the map
// got its type (default "cell[1]" at 1:1).
func ParseSession(spec string) (map[string]*lang.MapInfo, error) {
	maps := map[string]*lang.MapInfo{}
	for _, item := range strings.Split(spec, ";") {
		if item == "" {
			continue
		}
		origin := "cell[1]:1:1"
		if i := strings.LastIndexByte(item, '~'); i >= 0 {
			item, origin = item[:i], item[i+1:]
		}
		mi := &lang.MapInfo{}
		rest := item
		if i := strings.IndexAny(rest, "[:"); i >= 0 {
			mi.Name, rest = rest[:i], rest[i:]
		} else {
			return nil, fmt.Errorf("map %q: no value type", item)
		}
		if strings.HasPrefix(rest, "[") {
			end := matching(rest, 0)
			if end < 0 {
				return nil, fmt.Errorf("map %q: unbalanced [", item)
			}
			for _, k := range splitTop(rest[1:end]) {
				t, err := ParseType(k)
				if err != nil {
					return nil, err
				}
				mi.KeyParts = append(mi.KeyParts, t)
			}
			rest = rest[end+1:]
		}
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("map %q: want ':' before the value type", item)
		}
		v, err := ParseType(rest[1:])
		if err != nil {
			return nil, err
		}
		mi.Value = v
		switch len(mi.KeyParts) {
		case 0:
		case 1:
			mi.Key = mi.KeyParts[0]
		default:
			mi.Key = lang.TupleOf(mi.KeyParts...)
		}
		// "cell[2]" alone gives no position.
		parts := strings.Split(origin, ":")
		mi.Origin = parts[0]
		if len(parts) == 3 {
			l, _ := strconv.Atoi(parts[1])
			c, _ := strconv.Atoi(parts[2])
			mi.OriginPos = lang.Pos{Line: l, Col: c}
		}
		maps[mi.Name] = mi
	}
	return maps, nil
}

// ParseType parses a type as bpftrace's messages print it, in the compact
// form: int8..int64, uint8..uint64, string[N], buffer[N], count, sum, min,
// max, avg, stats, hist, lhist(min,max,step), kstack, ustack, ksym, usym,
// inet, username, probe, (t1,t2,...).
func ParseType(s string) (*lang.Type, error) {
	switch s {
	case "count", "sum", "min", "max", "avg", "stats", "hist":
		kinds := map[string]lang.Kind{"count": lang.KindCount, "sum": lang.KindSum, "min": lang.KindMin,
			"max": lang.KindMax, "avg": lang.KindAvg, "stats": lang.KindStats, "hist": lang.KindHist}
		return &lang.Type{Kind: kinds[s], Size: 8, Signed: s != "count" && s != "hist"}, nil
	case "kstack":
		return lang.StackType(lang.StackInfo{Limit: 127}), nil
	case "ustack":
		return lang.StackType(lang.StackInfo{User: true, Limit: 127}), nil
	case "ksym":
		return lang.TypeKSym, nil
	case "usym":
		return lang.TypeUSym, nil
	case "inet":
		return lang.TypeInet, nil
	case "username":
		return lang.TypeUsername, nil
	case "probe":
		return lang.TypeProbe, nil
	}
	for _, sz := range []int{8, 16, 32, 64} {
		if s == fmt.Sprintf("int%d", sz) {
			return lang.IntType(sz/8, true), nil
		}
		if s == fmt.Sprintf("uint%d", sz) {
			return lang.IntType(sz/8, false), nil
		}
	}
	var n int
	if _, err := fmt.Sscanf(s, "string[%d]", &n); err == nil && strings.HasSuffix(s, "]") {
		return lang.StringType(n), nil
	}
	if _, err := fmt.Sscanf(s, "buffer[%d]", &n); err == nil && strings.HasSuffix(s, "]") {
		return lang.BufferType(n - 1), nil
	}
	var a, b, c int64
	if _, err := fmt.Sscanf(s, "lhist(%d,%d,%d)", &a, &b, &c); err == nil {
		return &lang.Type{Kind: lang.KindLhist, Size: 8, LhistMin: a, LhistMax: b, LhistStep: c}, nil
	}
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		var elems []*lang.Type
		for _, e := range splitTop(s[1 : len(s)-1]) {
			t, err := ParseType(e)
			if err != nil {
				return nil, err
			}
			elems = append(elems, t)
		}
		return lang.TupleOf(elems...), nil
	}
	return nil, fmt.Errorf("unknown type %q", s)
}

// matching returns the index of the bracket closing the one at i.
func matching(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// splitTop splits s at commas outside brackets.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}
