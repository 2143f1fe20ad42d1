// Package lang turns bpftrace source into a checked program, or into every
// error it contains, each with a position.
//
// The pipeline has three stages, each in its own files, in the manner of
// starlark-go's syntax/resolve split:
//
//	scan.go, cpp.go   source → tokens (with the C preprocessor subset bpftrace
//	                  tools use: #define, #include, #if/#ifdef/#else/#endif)
//	parse.go          tokens → *Program (ast.go); the parser stops at the
//	                  first syntax error, as bison does in bpftrace
//	check*.go         *Program → *Info; the checker reports every error,
//	                  go/types style, and annotates each Expr with its *Type
//
// lang imports nothing of this project and nothing of cilium/ebpf. What it
// must know of the running kernel (tracepoint formats, BTF structs, which
// functions a wildcard matches) reaches it through the TypeSource interface
// (typesource.go), which the runtime implements over tracefs and BTF and
// tests implement over small fixtures.
//
// A notebook cell is checked against the map types a session already holds
// (Config.Session), as starlark-go's REPL chunks are resolved against the
// globals of earlier chunks.
package lang
