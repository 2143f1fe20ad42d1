package main

import (
	"os/exec"
	"strings"
	"testing"
)

// allowedImports lists, for each package of ours, which packages of ours it
// may import. The table is the layering of DEVELOPING.md; this test keeps it
// honest, so that lang stays free of the kernel and render of the language.
var allowedImports = map[string][]string{
	"lang":            {},
	"runtime/value":   {},
	"runtime/codegen": {"lang", "runtime/value"},
	"runtime":         {"lang", "runtime/codegen", "runtime/value"},
	"render":          {"runtime/value"},
	"install":         {},
	"kernel":          {"lang", "runtime", "runtime/codegen", "runtime/value", "render", "install"},
}

// forbiddenExternal lists external modules a package must not import.
var forbiddenExternal = map[string][]string{
	"lang":          {"github.com/cilium/ebpf"},
	"runtime/value": {"github.com/cilium/ebpf"},
	"render":        {"github.com/cilium/ebpf"},
}

const module = "github.com/tracebook/tracebook"

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		top := layer(pkg)
		allowed, ok := allowedImports[top]
		if !ok {
			continue // main, tests helpers and tools may import anything
		}
		for _, imp := range fields[1:] {
			for _, bad := range forbiddenExternal[top] {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s, which it must not", pkg, imp)
				}
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			ours := layer(strings.TrimPrefix(imp, module+"/"))
			if ours == top || contains(allowed, ours) {
				continue
			}
			t.Errorf("%s imports %s; %s may import only %v", pkg, imp, top, allowed)
		}
	}
}

// layer maps a package path to the layer it belongs to: subpackages belong
// to their parent (lang/langtest to lang), except the runtime's own layers.
func layer(pkg string) string {
	for _, l := range []string{"runtime/value", "runtime/codegen"} {
		if pkg == l || strings.HasPrefix(pkg, l+"/") {
			return l
		}
	}
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		return pkg[:i]
	}
	return pkg
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
