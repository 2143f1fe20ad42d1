package runtime

import "strings"

// cType is a C type as tracefs format files and listings spell it, reduced
// to what typing needs: the base type name and the pointer depth.
// "const struct iovec *" is {Base: "struct iovec", Ptr: 1}.
type cType struct {
	Base string
	Ptr  int
}

// cQualifiers are words that do not change a type's layout.
var cQualifiers = map[string]bool{
	"const": true, "volatile": true, "restrict": true, "__restrict": true,
	"__user": true, "__kernel": true, "__iomem": true, "__percpu": true,
	"__rcu": true, "__force": true, "__data_loc": true, "__rel_loc": true,
}

// parseCType parses a type text such as "const char *", "unsigned long",
// "struct file **" or "__data_loc char[]" (the trailing "[]" is dropped).
func parseCType(s string) cType {
	s = strings.ReplaceAll(s, "[]", "")
	var t cType
	t.Ptr = strings.Count(s, "*")
	s = strings.ReplaceAll(s, "*", " ")
	var words []string
	for _, w := range strings.Fields(s) {
		if cQualifiers[w] {
			continue
		}
		words = append(words, w)
	}
	t.Base = strings.Join(words, " ")
	return t
}

// cInt describes a C integer type name.
type cInt struct {
	Size   int
	Signed bool
}

// cIntNames are the integer type names that need no BTF: C's own spellings,
// GCC's (which BTF uses: "long unsigned int"), and the kernel's fixed-width
// typedefs.
var cIntNames = map[string]cInt{
	"char": {1, true}, "signed char": {1, true}, "unsigned char": {1, false},
	"short": {2, true}, "short int": {2, true}, "signed short": {2, true},
	"unsigned short": {2, false}, "short unsigned int": {2, false}, "unsigned short int": {2, false},
	"int": {4, true}, "signed": {4, true}, "signed int": {4, true},
	"unsigned": {4, false}, "unsigned int": {4, false}, "uint": {4, false},
	"long": {8, true}, "long int": {8, true}, "signed long": {8, true},
	"unsigned long": {8, false}, "long unsigned int": {8, false}, "unsigned long int": {8, false},
	"long long": {8, true}, "long long int": {8, true},
	"unsigned long long": {8, false}, "long long unsigned int": {8, false}, "unsigned long long int": {8, false},
	"_Bool": {1, false}, "bool": {1, false},
	"s8": {1, true}, "u8": {1, false}, "__s8": {1, true}, "__u8": {1, false},
	"s16": {2, true}, "u16": {2, false}, "__s16": {2, true}, "__u16": {2, false},
	"s32": {4, true}, "u32": {4, false}, "__s32": {4, true}, "__u32": {4, false},
	"s64": {8, true}, "u64": {8, false}, "__s64": {8, true}, "__u64": {8, false},
	"int8_t": {1, true}, "uint8_t": {1, false}, "int16_t": {2, true}, "uint16_t": {2, false},
	"int32_t": {4, true}, "uint32_t": {4, false}, "int64_t": {8, true}, "uint64_t": {8, false},
	"size_t": {8, false}, "ssize_t": {8, true}, "loff_t": {8, true},
	"pid_t": {4, true}, "uid_t": {4, false}, "gid_t": {4, false},
	// Typedefs of syscall tracepoint fields, so that typing the common
	// tracepoints never loads kernel BTF (about 10 ms).
	"umode_t": {2, false}, "mode_t": {4, false}, "key_t": {4, true}, "clockid_t": {4, true},
	"mqd_t": {4, true}, "qid_t": {4, false}, "off_t": {8, true}, "time_t": {8, true},
	"rwf_t": {4, false}, "aio_context_t": {8, false}, "key_serial_t": {4, true},
}

// isCharType reports whether base is plain char, whose arrays bpftrace
// types as strings (signed and unsigned char arrays stay arrays).
func isCharType(base string) bool { return base == "char" }
