package runtime

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Binary and library name resolution for uprobe and usdt targets, with
// bpftrace's rules:
//
//   - a target starting with "lib" and holding no wildcard names a shared
//     library: "libc" is the first libc.so* the dynamic loader's cache
//     (/etc/ld.so.cache) lists for this architecture, or with -p PID the
//     libc the process has mapped;
//   - a target without '/' is looked up in $PATH ("bash" → /usr/bin/bash);
//   - a target with a wildcard expands to the executables and libraries
//     the pattern matches;
//   - anything else is a path, taken as it is.

// ResolveTarget resolves the target of a uprobe or usdt attach point to the
// files it names (more than one only for a wildcard), each an ELF
// executable or shared library. pid is the -p process or 0.
func ResolveTarget(target string, pid int) ([]string, error) {
	if target == "" {
		if pid > 0 {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil {
				return nil, fmt.Errorf("reading the executable of pid %d: %w", pid, err)
			}
			return []string{pidPath(pid, exe)}, nil
		}
		return nil, fmt.Errorf("uprobe needs a binary path, or -p PID")
	}
	if hasWildcard(target) {
		var out []string
		cands := []string{target}
		if !strings.Contains(target, "/") {
			for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
				cands = append(cands, filepath.Join(dir, target))
			}
		}
		for _, c := range cands {
			m, _ := filepath.Glob(pidPath(pid, c))
			for _, p := range m {
				if !isELFExecOrLib(p) {
					continue
				}
				// Glob cleans "./prog*" to "prog": keep the path as
				// written, as bpftrace does in probe names.
				if strings.HasPrefix(c, "./") && !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "/") {
					p = "./" + p
				}
				out = append(out, p)
			}
		}
		out = sortedUnique(out)
		if len(out) == 0 {
			return nil, notFound("no binary matches %s", target)
		}
		return out, nil
	}
	if strings.HasPrefix(target, "lib") && !strings.Contains(target, "/") {
		if p := FindLibrary(strings.TrimPrefix(target, "lib"), pid); p != "" {
			return []string{p}, nil
		}
	}
	if !strings.Contains(target, "/") {
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			p := filepath.Join(dir, target)
			if isELFExecOrLib(p) {
				return []string{p}, nil
			}
		}
	}
	p := pidPath(pid, target)
	if _, err := os.Stat(p); err != nil {
		return nil, notFound("uprobe target file '%s' does not exist or is not executable", target)
	}
	if !isELFExecOrLib(p) {
		return nil, notFound("uprobe target file '%s' is not an ELF executable or library", target)
	}
	return []string{p}, nil
}

// pidPath makes an absolute path relative to the root of pid's mount
// namespace when the process lives in another one (a container), as
// bpftrace does; otherwise it returns path unchanged.
func pidPath(pid int, path string) string {
	if pid <= 0 || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/proc/") {
		return path
	}
	self, err1 := os.Readlink("/proc/self/ns/mnt")
	other, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err1 != nil || err2 != nil || self == other {
		return path
	}
	return fmt.Sprintf("/proc/%d/root%s", pid, path)
}

func isELFExecOrLib(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return false
	}
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN
}

// FindLibrary finds shared library "lib<name>.so*": with pid > 0 among the
// files the process has mapped, else through the loader's cache, else in
// the standard library directories. It returns "" when there is none.
func FindLibrary(name string, pid int) string {
	if pid > 0 {
		if p := findMappedLibrary(name, pid); p != "" {
			return p
		}
	}
	if p := findInLdCache(name); p != "" {
		return p
	}
	for _, dir := range standardLibDirs {
		m, _ := filepath.Glob(filepath.Join(dir, "lib"+name+".so*"))
		sort.Strings(m)
		for _, p := range m {
			if isELFExecOrLib(p) {
				return p
			}
		}
	}
	return ""
}

var standardLibDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib",
}

// libNameMatches reports whether a file's base name is library name's:
// "libc.so.6" and "libc-2.31.so" for "c", not "libcap.so.2".
func libNameMatches(base, name string) bool {
	return strings.HasPrefix(base, "lib"+name+".so") || strings.HasPrefix(base, "lib"+name+"-")
}

func findMappedLibrary(name string, pid int) string {
	maps, err := ReadProcMaps(pid)
	if err != nil {
		return ""
	}
	for _, m := range maps {
		if m.Path != "" && libNameMatches(filepath.Base(m.Path), name) {
			return pidPath(pid, m.Path)
		}
	}
	return ""
}

// ldCacheEntry is one library of /etc/ld.so.cache.
type ldCacheEntry struct {
	Name, Path string
	Flags      int32
}

// ld.so.cache flags: the ELF type in the low byte, the architecture in the
// next (x86-64 is 0x0300).
const (
	ldFlagTypeMask = 0x00ff
	ldFlagELFLibc6 = 0x0003
	ldFlagArchMask = 0xff00
	ldFlagX8664    = 0x0300
)

// ldCache is /etc/ld.so.cache parsed, kept while the file is unchanged:
// a tool with a dozen uprobes on libraries resolved it a dozen times per
// check, 5 ms each.
var ldCache struct {
	sync.Mutex
	size, mtime int64
	ino         uint64
	entries     []ldCacheEntry
	err         error
}

// systemLdCache returns /etc/ld.so.cache's entries, parsing the file again
// only when it has changed (ldconfig rewrites it).
func systemLdCache() ([]ldCacheEntry, error) {
	const path = "/etc/ld.so.cache"
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	ldCache.Lock()
	defer ldCache.Unlock()
	if ldCache.entries != nil || ldCache.err != nil {
		if ldCache.size == fi.Size() && ldCache.mtime == fi.ModTime().UnixNano() && ldCache.ino == ino {
			return ldCache.entries, ldCache.err
		}
	}
	ldCache.entries, ldCache.err = readLdCache(path)
	ldCache.size, ldCache.mtime, ldCache.ino = fi.Size(), fi.ModTime().UnixNano(), ino
	return ldCache.entries, ldCache.err
}

// readLdCache parses /etc/ld.so.cache in glibc's "glibc-ld.so.cache1.1"
// format, optionally preceded by the old "ld.so-1.7.0" table.
func readLdCache(path string) ([]ldCacheEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const oldMagic = "ld.so-1.7.0"
	const newMagic = "glibc-ld.so.cache1.1"
	base := 0
	if bytes.HasPrefix(data, []byte(oldMagic)) {
		if len(data) < 16 {
			return nil, fmt.Errorf("%s: truncated", path)
		}
		n := int(binary.LittleEndian.Uint32(data[12:]))
		base = 16 + 12*n
		base = (base + 7) &^ 7
		if i := bytes.Index(data[16+12*n:], []byte(newMagic)); i >= 0 {
			base = 16 + 12*n + i
		}
	}
	if base+48 > len(data) || !bytes.HasPrefix(data[base:], []byte(newMagic)) {
		return nil, fmt.Errorf("%s: not a glibc ld.so.cache", path)
	}
	n := int(binary.LittleEndian.Uint32(data[base+20:]))
	str := func(off uint32) string {
		o := base + int(off)
		if o < 0 || o >= len(data) {
			return ""
		}
		end := bytes.IndexByte(data[o:], 0)
		if end < 0 {
			return ""
		}
		return string(data[o : o+end])
	}
	var out []ldCacheEntry
	for i := 0; i < n; i++ {
		e := base + 48 + 24*i
		if e+24 > len(data) {
			break
		}
		flags := int32(binary.LittleEndian.Uint32(data[e:]))
		key := binary.LittleEndian.Uint32(data[e+4:])
		val := binary.LittleEndian.Uint32(data[e+8:])
		out = append(out, ldCacheEntry{Name: str(key), Path: str(val), Flags: flags})
	}
	return out, nil
}

func findInLdCache(name string) string {
	entries, err := systemLdCache()
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.Flags&ldFlagTypeMask != ldFlagELFLibc6 || e.Flags&ldFlagArchMask != ldFlagX8664 {
			continue
		}
		if strings.HasPrefix(e.Name, "lib"+name+".so") {
			return e.Path
		}
	}
	return ""
}

// ProcMap is one line of /proc/PID/maps.
type ProcMap struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64 // file offset of Start
	Inode      uint64
	Path       string // "" for anonymous mappings; "[stack]", "[vdso]", ...
}

// ReadProcMaps reads /proc/PID/maps.
func ReadProcMaps(pid int) ([]ProcMap, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ProcMap
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		var m ProcMap
		m.Start, _ = strconv.ParseUint(lo, 16, 64)
		m.End, _ = strconv.ParseUint(hi, 16, 64)
		m.Perms = fields[1]
		m.Offset, _ = strconv.ParseUint(fields[2], 16, 64)
		m.Inode, _ = strconv.ParseUint(fields[4], 10, 64)
		if len(fields) >= 6 {
			m.Path = strings.Join(fields[5:], " ")
			m.Path = strings.TrimSuffix(m.Path, " (deleted)")
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
