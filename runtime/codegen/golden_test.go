package codegen

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the compiler's output")

// fileOptions are the per-file options a testdata program states in its
// leading comment: "// options: unsafe cell params=a,b strlen=32 k=2".
type fileOptions struct {
	unsafe, cell bool
	params       []string
	strlen       int
	helperChecks int // -k (1), -kk (2)
	// commHelper compiles as for a kernel without
	// bpf_get_current_task_btf: comm through bpf_get_current_comm.
	commHelper bool
	// commOffset is task_struct.comm's offset; 0 takes the fixture's.
	commOffset int
}

func readOptions(src []byte) fileOptions {
	var o fileOptions
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "// options:")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "unsafe":
				o.unsafe = true
			case "cell":
				o.cell = true
			case "params":
				o.params = strings.Split(v, ",")
			case "strlen":
				o.strlen, _ = strconv.Atoi(v)
			case "k":
				o.helperChecks, _ = strconv.Atoi(v)
			case "comm-helper":
				o.commHelper = true
			}
		}
	}
	return o
}

// testResolvers answer kaddr, uaddr, cgroupid and usdt argument specs
// with fixed values: the listings must not depend on the machine.
func testOptions(types lang.TypeSource, fo fileOptions) *Options {
	return &Options{
		Params:       fo.params,
		HelperChecks: fo.helperChecks,
		Types:        types,
		// Every kernel of the matrix (6.1 and later) has the helper.
		TaskCommOffset: func() (int, bool) {
			if fo.commHelper {
				return 0, false
			}
			if fo.commOffset != 0 {
				return fo.commOffset, true
			}
			return fixtureCommOffset(), true
		},
		StrLen:   fo.strlen,
		Kaddr:    func(string) (uint64, error) { return 0xffffffff81234560, nil },
		Uaddr:    func(string, string) (uint64, error) { return 0x4a5b60, nil },
		CgroupID: func(string) (uint64, error) { return 1, nil },
		USDTArgs: func(ap *lang.AttachPoint) ([][]USDTArg, error) {
			var args []USDTArg
			for _, s := range []string{"-4@%edi", "8@-16(%rbp)", "4@$5"} {
				a, err := ParseUSDTArg(s)
				if err != nil {
					return nil, err
				}
				args = append(args, a)
			}
			return [][]USDTArg{args, args}, nil
		},
	}
}

// compileSource parses, checks and compiles one program.
func compileSource(name string, src []byte, types lang.TypeSource, fo fileOptions) (*Object, error) {
	prog, errs := lang.Parse(name, src, &lang.ParseOptions{Cell: fo.cell, Params: fo.params})
	if errs.HasErrors() {
		return nil, fmt.Errorf("parse: %v", errs)
	}
	info, errs := lang.Check(prog, &lang.Config{Types: types, Unsafe: fo.unsafe, Params: fo.params,
		StrLen: fo.strlen, Cell: name})
	if errs.HasErrors() {
		return nil, fmt.Errorf("check: %v", errs)
	}
	return Compile(prog, info, testOptions(types, fo))
}

// goldenFiles lists testdata/*.bt.
func goldenFiles(tb testing.TB) []string {
	files, err := filepath.Glob("testdata/*.bt")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no testdata programs: %v", err)
	}
	return files
}

// TestGolden compiles every testdata/*.bt against the fixture types and
// compares its listing with testdata/*.golden (-update rewrites them).
func TestGolden(t *testing.T) {
	for _, file := range goldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".bt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := compileSource(filepath.Base(file), src, fixtureTypes{}, readOptions(src))
			if err != nil {
				t.Fatal(err)
			}
			got := Listing(obj)
			golden := strings.TrimSuffix(file, ".bt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("listing differs from %s; run go test ./runtime/codegen -run TestGolden -update and see git diff %s",
					golden, golden)
			}
		})
	}
}

// TestDeterministic compiles each program twice: the specs must be the
// same, byte for byte.
func TestDeterministic(t *testing.T) {
	for _, file := range goldenFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fo := readOptions(src)
		a, err := compileSource(file, src, fixtureTypes{}, fo)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		b, err := compileSource(file, src, fixtureTypes{}, fo)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if Listing(a) != Listing(b) {
			t.Errorf("%s: two compilations list differently", file)
		}
		for i := range a.Programs {
			pa, pb := a.Programs[i].Spec, b.Programs[i].Spec
			if !bytes.Equal(rawInsns(t, pa.Instructions), rawInsns(t, pb.Instructions)) {
				t.Errorf("%s: program %s differs between compilations", file, pa.Name)
			}
		}
		for name, m := range a.Maps {
			if fmt.Sprint(m.Spec) != fmt.Sprint(b.Maps[name].Spec) {
				t.Errorf("%s: map %s differs between compilations", file, name)
			}
		}
	}
}

// rawInsns encodes every field of every instruction that reaches the
// kernel or the linker (opcode, registers, offset, constant, symbol,
// reference), so two compilations can be compared exactly.
func rawInsns(tb testing.TB, insns asm.Instructions) []byte {
	var b bytes.Buffer
	for _, ins := range insns {
		fmt.Fprintf(&b, "%d %d %d %d %d %q %q\n", ins.OpCode, ins.Dst, ins.Src, ins.Offset, ins.Constant,
			ins.Symbol(), ins.Reference())
	}
	return b.Bytes()
}
