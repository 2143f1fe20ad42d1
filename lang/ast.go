package lang

// The abstract syntax tree of a bpftrace program.
//
// The parser builds it; the checker annotates it: every Expr gets its *Type
// (Expr.Type), every Call its resolved *Func, every AttachPoint its expanded
// matches. Code generation reads only the annotated tree and the checker's
// Info, never the source.
//
// Positions: every node records where it starts and ends (End exclusive),
// so diagnostics can underline the whole construct as bpftrace does.

// Node is any syntax tree node.
type Node interface {
	Span() (start, end Pos)
}

// span is embedded in every node.
type span struct {
	Start, Stop Pos
}

func (s *span) Span() (Pos, Pos) { return s.Start, s.Stop }

// SetSpan is used by the parser (and by tests that build trees by hand).
func (s *span) SetSpan(start, end Pos) { s.Start, s.Stop = start, end }

// Program is one source text: a file given to the CLI, or one notebook cell.
type Program struct {
	span
	File string // name used in diagnostics: "stdin", "tool.bt", "cell[3]"
	Src  []byte // the source as given, for diagnostics' excerpts

	// C definitions before the first probe, after preprocessing.
	Includes []*Include    // #include <...> / "..." lines that were active
	Defines  []*Define     // #define NAME VALUE (object-like macros only)
	Structs  []*StructDecl // struct/union/enum definitions written in the program
	// Typedefs are the typedefs of the headers the program includes; C
	// definitions (and casts) may name them. A program's own preamble
	// cannot hold one: bpftrace 0.17's grammar has no typedef.
	Typedefs []*Typedef
	// Headers are the files #include (and ParseOptions.IncludeFiles) read
	// through ParseOptions.ReadInclude, in the order they were read.
	Headers []*Header

	Probes []*Probe

	// Stmts are statements outside any probe. Only a notebook cell may have
	// them (ParseOptions.Cell); they run once, at once, like a BEGIN block,
	// and a trailing bare map expression is the cell's result.
	Stmts []Stmt
}

// Include is one active #include line.
type Include struct {
	span
	Path   string // "linux/sched.h"
	System bool   // <...> rather than "..."
	// In is the header the line is in, nil for the program itself; the
	// span is in In's text then.
	In *Header
	// Header is the file the line read, nil when ReadInclude did not read
	// it (a kernel or system header, or one found nowhere), which the
	// runtime then only checks for.
	Header *Header
}

// Header is a file read through #include. Errors inside it name it and
// carry its text (Error.Src), so their excerpts quote its lines.
type Header struct {
	Name string // the path it was found at, as diagnostics name it
	Src  []byte
}

// Define is one active object-like #define.
type Define struct {
	span
	Name  string
	Value string  // the replacement text, trimmed
	In    *Header // the header it is in, nil for the program itself
}

// Typedef is one typedef name of an included header:
// "typedef struct foo foo_t;" has Name "foo_t" and Type "struct foo".
type Typedef struct {
	span
	Name string
	Type *TypeExpr
	In   *Header
}

// StructDecl is a C struct, union or enum definition written in the program.
type StructDecl struct {
	span
	Kind   string // "struct", "union" or "enum"
	Name   string // without the keyword; "" for an anonymous one
	Fields []*FieldDecl
	// Enumerators of an enum, in order, with their values.
	Enumerators []*Enumerator
	// In is the header the definition is in, nil for the program itself:
	// errors in its layout name that file.
	In *Header
}

// FieldDecl is one member of a C struct or union definition.
type FieldDecl struct {
	span
	Name string
	Type *TypeExpr
	Bits int // bitfield width, 0 if none
}

// Enumerator is one enum constant.
type Enumerator struct {
	span
	Name  string
	Value int64
}

// TypeExpr is a type as written in source: in a cast "(struct task_struct *)",
// in sizeof, offsetof, or in a C definition.
type TypeExpr struct {
	span
	// Name is the base type as written, keyword included where there is one:
	// "int8", "uint64", "struct task_struct", "union u", "enum e", "char",
	// "unsigned long", "u32", "size_t".
	Name string
	// Anon is set for an anonymous struct/union/enum defined in place (only
	// inside C definitions).
	Anon *StructDecl
	Ptr  int   // number of '*'
	Dims []int // array dimensions, outermost first: "char comm[16]" → [16]
}

// Probe is one probe block: attach points, optional predicate, body.
type Probe struct {
	span
	Attach []*AttachPoint
	Pred   Expr // nil when there is no /predicate/
	Body   *Block
	Index  int // position among Program.Probes, from 0
}

// AttachPoint is one comma-separated element of a probe's header.
//
// The parser splits the text on ':' (respecting quotes) and fills Provider
// with the canonical long name ("t" → "tracepoint", "kfunc" stays "kfunc",
// "fentry" is canonicalised to "kfunc" and "fexit" to "kretfunc",
// "rawtracepoint"/"rt" to "rawtracepoint"). Which fields are set depends on
// the provider:
//
//	BEGIN, END                       -
//	kprobe:func[+off]                Func, Offset; Target = module (kprobe:mod:func)
//	kretprobe:func                   Func; Target = module
//	uprobe:path:func[+off]           Target = path, Func, Offset
//	uprobe:path:0xADDR               Target, Address
//	uprobe:func (with -p)            Func
//	usdt:path:[ns:]probe             Target, NS, Func
//	tracepoint:cat:name              Target = category, Func = name
//	rawtracepoint:[mod:]name         Func, Target = module
//	profile|interval:unit:N          Unit ("hz","s","ms","us","ns"), Freq = N
//	software|hardware:event[:count]  Func = event, Freq = count (0 = default)
//	watchpoint:0xADDR:len:mode       Address, Len, Mode ("r","w","x","rw",...)
//	watchpoint:func+argN:len:mode    Func, ArgN, Len, Mode
//	kfunc|kretfunc:[mod:]func        Target = module, Func
//	iter:name[:pin]                  Func = name, Target = pin path
type AttachPoint struct {
	span
	Raw      string // the text as written, after positional substitution
	Provider string // canonical long provider name
	Target   string
	NS       string
	Func     string
	Offset   uint64
	Address  uint64
	Unit     string
	Freq     uint64
	Len      uint64
	Mode     string
	ArgN     int
	Async    bool // asyncwatchpoint
	// Wildcard is set when Target or Func contains '*' or '?' (or '[' ... ']')
	// and must be expanded against the running system.
	Wildcard bool

	// Matches is filled by the checker from TypeSource.Expand: the concrete
	// attach points this one stands for (itself alone when it has no
	// wildcard). Each match has Wildcard false.
	Matches []*AttachPoint
}

// Name returns the canonical probe name as the `probe` builtin prints it,
// e.g. "tracepoint:syscalls:sys_enter_read", "uprobe:/bin/bash:readline",
// "interval:s:1", "BEGIN".
func (ap *AttachPoint) Name() string { return ap.name() }

// Block is a brace-enclosed statement list.
type Block struct {
	span
	Stmts []Stmt
}

// Stmt is a statement.
type Stmt interface {
	Node
	stmtNode()
}

// ExprStmt is an expression used as a statement: a call, x++, a bare map.
type ExprStmt struct {
	span
	X Expr
}

// AssignStmt assigns to a map element or a scratch variable: "@m[k] = v",
// "$x += 1". Op is Assign for "=", or the binary operator of a compound
// assignment (Add for "+=", Shl for "<<=", ...).
type AssignStmt struct {
	span
	Target Expr // *MapExpr or *VarExpr
	Op     Op
	Value  Expr
}

// IfStmt is "if (Cond) Then [else Else]". An "else if" is an Else block
// holding a single *IfStmt.
type IfStmt struct {
	span
	Cond Expr
	Then *Block
	Else *Block // nil when absent
}

// UnrollStmt is "unroll (Count) Body"; Count is an integer literal or a
// positional parameter, checked to lie in 1..100.
type UnrollStmt struct {
	span
	Count Expr
	Body  *Block
	N     int // the count, set by the checker
}

// WhileStmt is "while (Cond) Body".
type WhileStmt struct {
	span
	Cond Expr
	Body *Block
}

// ForStmt is "for ($kv : @map) Body" (bpftrace ≥ 0.21): $kv.0 is the key and
// $kv.1 the value of each entry.
type ForStmt struct {
	span
	Var  *VarExpr
	Map  *MapExpr
	Body *Block
}

// JumpStmt is break, continue or return.
type JumpStmt struct {
	span
	Kind Token // BREAK, CONTINUE or RETURN
}

func (*ExprStmt) stmtNode()   {}
func (*AssignStmt) stmtNode() {}
func (*IfStmt) stmtNode()     {}
func (*UnrollStmt) stmtNode() {}
func (*WhileStmt) stmtNode()  {}
func (*ForStmt) stmtNode()    {}
func (*JumpStmt) stmtNode()   {}
func (*Block) stmtNode()      {}

// Expr is an expression. The checker sets its type.
type Expr interface {
	Node
	Type() *Type
	SetType(*Type)
	exprNode()
}

// typed is embedded in every Expr.
type typed struct {
	span
	typ *Type
}

func (t *typed) Type() *Type     { return t.typ }
func (t *typed) SetType(x *Type) { t.typ = x }
func (*typed) exprNode()         {}

// IntLit is an integer literal: 1_000, 1e3, 0x10, 010, 5UL. Value holds its
// bits; Text what was written.
type IntLit struct {
	typed
	Value uint64
	Text  string
}

// StrLit is a string literal with its escapes decoded.
type StrLit struct {
	typed
	Value string
}

// PositionalExpr is $1..$N; N is its number. $# is ParamCount.
type PositionalExpr struct {
	typed
	N int
}

// ParamCountExpr is $#.
type ParamCountExpr struct {
	typed
}

// IdentExpr is a bare identifier: a builtin variable (pid, comm, args,
// arg0, retval, kstack, ...), a #define'd or well-known constant (AF_INET),
// an enum constant, or a stack-mode word (perf, bpftrace, raw) inside
// kstack()/ustack(). The checker decides which and records it in Kind.
type IdentExpr struct {
	typed
	Name string
	Kind IdentKind // set by the checker
	// Const is the value when Kind is IdentConst.
	Const int64
}

// IdentKind classifies an identifier after checking.
type IdentKind uint8

const (
	IdentUnknown   IdentKind = iota
	IdentBuiltin             // pid, comm, args, nsecs, ...
	IdentConst               // a macro, enum or well-known constant
	IdentStackMode           // perf, bpftrace, raw
)

// VarExpr is a scratch variable, $name.
type VarExpr struct {
	typed
	Name string // without the '$'
}

// MapExpr is a map, @name or @, with optional keys: @m[k1, k2].
type MapExpr struct {
	typed
	Name string // "@name", or "@" for the unnamed map
	Keys []Expr // nil for a scalar map
	// KeyPos is where '[' is, for errors about the key.
	KeyPos Pos
}

// CallExpr is a function call: printf(...), count(), hist(x), kstack(perf, 3).
type CallExpr struct {
	typed
	Name string
	Args []Expr
	// NamePos/NameEnd cover the function name alone, which is what bpftrace
	// underlines for "Unknown function".
	NameEnd Pos
	Func    *Func // set by the checker; nil when unknown
}

// BinaryExpr is X Op Y for arithmetic, comparison, bitwise and logical ops.
type BinaryExpr struct {
	typed
	Op   Op
	X, Y Expr
	// OpPos is the operator's position.
	OpPos Pos
}

// UnaryExpr is Op X for !, ~, - and * (dereference), and prefix ++/--.
type UnaryExpr struct {
	typed
	Op Op // Not, BitNot, Neg, Deref, PreInc, PreDec
	X  Expr
}

// PostfixExpr is X++ or X--.
type PostfixExpr struct {
	typed
	Op Op // PostInc or PostDec
	X  Expr
}

// TernaryExpr is Cond ? Then : Else.
type TernaryExpr struct {
	typed
	Cond, Then, Else Expr
}

// FieldExpr is X.Field or X->Field.
type FieldExpr struct {
	typed
	X     Expr
	Field string
	Arrow bool
	// Resolved by the checker: the byte offset of Field within its record
	// and the record it was found in (after following Arrow's pointer).
	Offset int
}

// TupleIndexExpr is X.N for a tuple X.
type TupleIndexExpr struct {
	typed
	X     Expr
	Index int
}

// IndexExpr is X[I] for an array or pointer X.
type IndexExpr struct {
	typed
	X, Index Expr
}

// CastExpr is (Type) X.
type CastExpr struct {
	typed
	To *TypeExpr
	X  Expr
}

// TupleExpr is (a, b, ...), at least two elements.
type TupleExpr struct {
	typed
	Elems []Expr
}

// SizeofExpr is sizeof(type) or sizeof(expr); exactly one of TypeArg, X is set.
type SizeofExpr struct {
	typed
	TypeArg *TypeExpr
	X       Expr
	Size    int // set by the checker
}

// OffsetofExpr is offsetof(struct S, field[.sub...]).
type OffsetofExpr struct {
	typed
	TypeArg *TypeExpr
	Fields  []string
	Offset  int // set by the checker
}

// Op is an operator.
type Op uint8

const (
	OpInvalid Op = iota
	// binary
	Add
	Sub
	Mul
	Div
	Mod
	And    // &
	Or     // |
	Xor    // ^
	Shl    // <<
	Shr    // >>
	LAnd   // &&
	LOr    // ||
	Eq     // ==
	Ne     // !=
	Lt     // <
	Le     // <=
	Gt     // >
	Ge     // >=
	Assign // = (only in AssignStmt)
	// unary
	Not    // !
	BitNot // ~
	Neg    // -
	Deref  // *
	PreInc
	PreDec
	PostInc
	PostDec
)

var opNames = [...]string{
	OpInvalid: "?", Add: "+", Sub: "-", Mul: "*", Div: "/", Mod: "%",
	And: "&", Or: "|", Xor: "^", Shl: "<<", Shr: ">>", LAnd: "&&", LOr: "||",
	Eq: "==", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=", Assign: "=",
	Not: "!", BitNot: "~", Neg: "-", Deref: "*",
	PreInc: "++", PreDec: "--", PostInc: "++", PostDec: "--",
}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "?"
}

// IsComparison reports whether o yields a boolean-valued integer.
func (o Op) IsComparison() bool {
	switch o {
	case Eq, Ne, Lt, Le, Gt, Ge, LAnd, LOr:
		return true
	}
	return false
}
