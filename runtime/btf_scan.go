package runtime

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Reading one member's place from kernel BTF without loading it.
//
// Decoding vmlinux BTF (btf.go's cache, then a name index and the
// conversion of struct task_struct) takes about 20 ms, most of a command's
// start; comm needs only where task_struct.comm lies. scanMember walks the
// raw type section once instead: every record's length follows from its
// kind, so finding one struct and one member costs a mapping of the file
// and a pass over its headers (about 1.3 ms for vmlinux).

// BTF kinds whose records carry more than the common 12-byte header, and
// what each of their vlen entries (or single extra) takes.
const (
	btfKindInt      = 1
	btfKindArray    = 3
	btfKindStruct   = 4
	btfKindUnion    = 5
	btfKindEnum     = 6
	btfKindFuncProt = 13
	btfKindVar      = 14
	btfKindDatasec  = 15
	btfKindDeclTag  = 17
	btfKindEnum64   = 19
)

// btfRecordLen returns the length of a type record of kind with vlen
// entries, header included.
func btfRecordLen(kind, vlen int) (int, bool) {
	const hdr = 12
	switch kind {
	case btfKindInt, btfKindVar, btfKindDeclTag:
		return hdr + 4, true
	case btfKindArray:
		return hdr + 12, true
	case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
		return hdr + 12*vlen, true
	case btfKindEnum, btfKindFuncProt:
		return hdr + 8*vlen, true
	case 2, 7, 8, 9, 10, 11, 12, 16, 18: // ptr fwd typedef volatile const restrict func float type_tag
		return hdr, true
	}
	return 0, false
}

var errBTFScan = errors.New("BTF: malformed or unknown record")

// scanMember returns the byte offset of member in struct name, and the
// element count when the member is a byte-sized array (0 otherwise), from
// raw BTF (one object, not split BTF).
func scanMember(raw []byte, name, member string) (offset, arrayLen int, err error) {
	le := binary.LittleEndian
	if len(raw) < 24 || le.Uint16(raw) != 0xeb9f {
		return 0, 0, errBTFScan
	}
	hdrLen := int(le.Uint32(raw[4:]))
	typeOff, typeLen := int(le.Uint32(raw[8:])), int(le.Uint32(raw[12:]))
	strOff, strLen := int(le.Uint32(raw[16:])), int(le.Uint32(raw[20:]))
	if hdrLen+typeOff+typeLen > len(raw) || hdrLen+strOff+strLen > len(raw) {
		return 0, 0, errBTFScan
	}
	types := raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	strs := raw[hdrLen+strOff : hdrLen+strOff+strLen]
	// is reports whether the string at off is want, without copying it.
	is := func(off uint32, want string) bool {
		end := int(off) + len(want)
		return end < len(strs) && strs[end] == 0 && string(strs[off:end]) == want
	}
	// Record starts by type id (ids count from 1), to follow the member's
	// type afterwards.
	starts := make([]int, 0, len(types)/16)
	found, memberType := false, uint32(0)
	for pos := 0; pos+12 <= len(types); {
		info := le.Uint32(types[pos+4:])
		kind, vlen := int(info>>24&0x1f), int(info&0xffff)
		n, ok := btfRecordLen(kind, vlen)
		if !ok || pos+n > len(types) {
			return 0, 0, errBTFScan
		}
		starts = append(starts, pos)
		if !found && kind == btfKindStruct && is(le.Uint32(types[pos:]), name) {
			kindFlag := info>>31 == 1
			for i := 0; i < vlen; i++ {
				m := types[pos+12+12*i:]
				if !is(le.Uint32(m), member) {
					continue
				}
				bits := le.Uint32(m[8:])
				if kindFlag {
					bits &= 0xffffff // the high byte is a bitfield size
				}
				if bits%8 != 0 {
					return 0, 0, errBTFScan
				}
				found, offset, memberType = true, int(bits/8), le.Uint32(m[4:])
			}
			if !found {
				return 0, 0, errors.New("BTF: struct " + name + " has no member " + member)
			}
		}
		pos += n
	}
	if !found {
		return 0, 0, errors.New("BTF: no struct " + name)
	}
	if memberType >= 1 && int(memberType) <= len(starts) {
		t := types[starts[memberType-1]:]
		if int(le.Uint32(t[4:])>>24&0x1f) == btfKindArray {
			elem := le.Uint32(t[12:])
			if elem >= 1 && int(elem) <= len(starts) {
				e := types[starts[elem-1]:]
				if int(le.Uint32(e[4:])>>24&0x1f) == btfKindInt && le.Uint32(e[8:]) == 1 {
					arrayLen = int(le.Uint32(t[20:]))
				}
			}
		}
	}
	return offset, arrayLen, nil
}

var taskComm struct {
	once   sync.Once
	offset int
	ok     bool
}

// TaskCommOffset returns where comm lies in the running kernel's struct
// task_struct, when vmlinux BTF says it is a 16-byte char array at an
// 8-byte aligned offset (what codegen's two 8-byte loads need). It reads
// /sys/kernel/btf/vmlinux once per process.
func TaskCommOffset() (int, bool) {
	taskComm.once.Do(func() {
		raw, release, err := readVmlinuxBTF()
		if err != nil {
			return
		}
		defer release()
		off, n, err := scanMember(raw, "task_struct", "comm")
		taskComm.offset, taskComm.ok = off, err == nil && n == 16 && off%8 == 0
	})
	return taskComm.offset, taskComm.ok
}

// readVmlinuxBTF maps /sys/kernel/btf/vmlinux where the kernel allows it
// (6.16 and later), and reads it otherwise. Reading takes a system call
// per 4 KiB page of sysfs (about 6 ms for 6 MB); mapping takes none.
func readVmlinuxBTF() (raw []byte, release func(), err error) {
	f, err := os.Open("/sys/kernel/btf/vmlinux")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		if m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			return m, func() { unix.Munmap(m) }, nil
		}
	}
	raw, err = io.ReadAll(f)
	return raw, func() {}, err
}
