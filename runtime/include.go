package runtime

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/tracebook/tracebook/lang"
)

// #include lines are not read: kernel types come from BTF (lang/cpp.go).
// But a file that exists nowhere is an error, as in bpftrace 0.17, whose
// clang reports "'lol/no.h' file not found". Kernel headers are the
// exception: where they are not installed, BTF stands in for them (0.17
// fails there too, "'net/sock.h' file not found", unless the kernel's
// headers are installed).

// systemIncludeDirs are where clang looks for <...> after the -I dirs.
var systemIncludeDirs = []string{"/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include"}

// compilerHeaders are the headers clang provides itself (its resource
// directory, and bpftrace's embedded ones).
var compilerHeaders = map[string]bool{
	"stddef.h": true, "stdarg.h": true, "stdbool.h": true, "stdint.h": true, "limits.h": true,
	"float.h": true, "stdatomic.h": true, "__stddef_max_align_t.h": true,
}

// kernelHeaderDirs are the first path components of the kernel's own
// headers (its include/ and arch include/ directories), which BTF replaces.
var kernelHeaderDirs = map[string]bool{
	"linux": true, "net": true, "asm": true, "asm-generic": true, "uapi": true, "trace": true,
	"kernel": true, "sound": true, "scsi": true, "crypto": true, "drm": true, "keys": true,
	"media": true, "rdma": true, "video": true, "xen": true, "misc": true, "soc": true,
	"vdso": true, "acpi": true, "clocksource": true, "dt-bindings": true, "ras": true,
	"target": true, "pcmcia": true, "math-emu": true, "bpf": true, "generated": true,
}

// missingIncludes returns an error for each #include of prog that names a
// file found nowhere: for "..." the program's directory (the working
// directory for -e), then the -I dirs, then the system's; kernel headers
// and the compiler's own never fail.
func missingIncludes(prog *lang.Program, srcName string, includeDirs []string) lang.ErrorList {
	var errs lang.ErrorList
	for _, inc := range prog.Includes {
		if includeExists(inc.Path, inc.System, srcName, includeDirs) {
			continue
		}
		e := &lang.Error{File: srcName, Msg: "'" + inc.Path + "' file not found"}
		e.Pos, e.End = inc.Span()
		errs = append(errs, e)
	}
	return errs
}

// includeExists reports whether #include path (<path> when system) would
// be found, or is one BTF or the compiler stands in for.
func includeExists(path string, system bool, srcName string, includeDirs []string) bool {
	if compilerHeaders[path] {
		return true
	}
	if first, _, ok := strings.Cut(path, "/"); ok && kernelHeaderDirs[first] {
		return true
	}
	var dirs []string
	if filepath.IsAbs(path) {
		dirs = []string{""}
	} else {
		if !system {
			dir := "."
			if srcName != "" && srcName != "stdin" && !strings.HasPrefix(srcName, "cell[") {
				dir = filepath.Dir(srcName)
			}
			dirs = append(dirs, dir)
		}
		dirs = append(dirs, includeDirs...)
		dirs = append(dirs, systemIncludeDirs...)
	}
	for _, d := range dirs {
		if fi, err := os.Stat(filepath.Join(d, path)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}
