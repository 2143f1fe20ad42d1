package runtime

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tracebook/tracebook/lang"
)

// #include lines. A user's own header is read (IncludeReader), as
// bpftrace 0.17's clang reads it: its macros and C types join the
// program. Three kinds are not read. Kernel headers: BTF stands in for
// them (0.17 fails where the kernel's headers are not installed, "'net/
// sock.h' file not found"; we do not). The compiler's own headers, and
// headers found only in the system include directories: libc's C is far
// beyond the subset lang parses, and a bpftrace program uses nothing in
// them that the checker's well-known constants do not give. Those are
// only checked to exist, as in 0.17, whose clang reports "'lol/no.h'
// file not found" for a file that exists nowhere.

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

// IncludeReader returns the lang.ParseOptions.ReadInclude that reads a
// user's headers: #include "x.h" in the including file's directory (for
// a -e program or a notebook cell, the working directory) and then in
// the -I dirs; <x.h> in the -I dirs. Kernel headers, the compiler's and
// the system's are left unread (see above), and so is a file found
// nowhere: missingIncludes reports it.
func IncludeReader(includeDirs []string) func(path string, system bool, from string) (string, []byte, bool) {
	return func(path string, system bool, from string) (string, []byte, bool) {
		if btfOrCompiler(path) {
			return "", nil, false
		}
		for _, d := range userIncludeDirs(path, system, from, includeDirs) {
			name := filepath.Join(d, path)
			fi, err := os.Stat(name)
			if err != nil || fi.IsDir() {
				continue
			}
			// Only a regular file of sensible size is read: a device or
			// a FIFO (#include "/dev/zero") would never end, and the
			// kernel process must survive any cell.
			if inSystemDir(name) || !fi.Mode().IsRegular() || fi.Size() > maxHeaderSize {
				return "", nil, false
			}
			src, err := readLimited(name, maxHeaderSize)
			if err != nil {
				return "", nil, false
			}
			return name, src, true
		}
		return "", nil, false
	}
}

// maxHeaderSize bounds one header that IncludeReader reads.
const maxHeaderSize = 16 << 20

// readLimited reads at most limit bytes of the file name (a file may grow
// between the stat and the read).
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// missingIncludes returns an error for each #include of prog that was not
// read and names a file found nowhere: for "..." the including file's
// directory (the working directory for -e), then the -I dirs, then the
// system's; kernel headers and the compiler's own never fail.
func missingIncludes(prog *lang.Program, srcName string, includeDirs []string) lang.ErrorList {
	var errs lang.ErrorList
	for _, inc := range prog.Includes {
		from := srcName
		if inc.In != nil {
			from = inc.In.Name
		}
		if inc.Header != nil || includeExists(inc.Path, inc.System, from, includeDirs) {
			continue
		}
		e := &lang.Error{File: from, Msg: "'" + inc.Path + "' file not found"}
		if inc.In != nil {
			e.Src = inc.In.Src
		}
		e.Pos, e.End = inc.Span()
		errs = append(errs, e)
	}
	return errs
}

// includeExists reports whether #include path (<path> when system) in the
// file from would be found, or is one BTF or the compiler stands in for.
func includeExists(path string, system bool, from string, includeDirs []string) bool {
	if btfOrCompiler(path) {
		return true
	}
	dirs := userIncludeDirs(path, system, from, includeDirs)
	if !filepath.IsAbs(path) {
		dirs = append(dirs, systemIncludeDirs...)
	}
	for _, d := range dirs {
		if fi, err := os.Stat(filepath.Join(d, path)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

// btfOrCompiler reports whether path is a kernel header (BTF's) or one
// the compiler provides.
func btfOrCompiler(path string) bool {
	if compilerHeaders[path] {
		return true
	}
	first, _, ok := strings.Cut(path, "/")
	return ok && kernelHeaderDirs[first]
}

// userIncludeDirs are where path is looked for before the system's
// directories: for "..." the directory of from (the working directory
// for a -e program, stdin or a notebook cell), then the -I dirs; only ""
// for an absolute path.
func userIncludeDirs(path string, system bool, from string, includeDirs []string) []string {
	if filepath.IsAbs(path) {
		return []string{""}
	}
	var dirs []string
	if !system {
		dir := "."
		if from != "" && from != "stdin" && !strings.HasPrefix(from, "cell[") {
			dir = filepath.Dir(from)
		}
		dirs = append(dirs, dir)
	}
	return append(dirs, includeDirs...)
}

// inSystemDir reports whether the file name lies in a system include
// directory, which -I naming one does not make a user's.
func inSystemDir(name string) bool {
	abs, err := filepath.Abs(name)
	if err != nil {
		return false
	}
	for _, d := range systemIncludeDirs {
		if rel, err := filepath.Rel(d, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}
