package codegen

import "github.com/tracebook/tracebook/lang"

type langTypeSource = lang.TypeSource

// Test helpers for the external test package (codegen_kernel_test.go),
// which may import the runtime.
var (
	CompileSource = func(name string, src []byte, types TypeSourceForTest) (*Object, error) {
		return compileSource(name, src, types, readOptions(src))
	}
	GoldenFiles = goldenFiles
	RequireRoot = requireRoot
)

// TypeSourceForTest is lang.TypeSource, named here so the external
// package need not import lang for it.
type TypeSourceForTest = langTypeSource
