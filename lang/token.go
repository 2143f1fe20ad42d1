package lang

// Token is a lexical token kind.
type Token uint8

const (
	ILLEGAL Token = iota
	EOF

	// literals and names
	INT        // 123, 0x10, 1_000, 1e3, 5UL
	STRING     // "..."
	IDENT      // pid, printf, tracepoint, sys_enter_read
	VAR        // $x
	MAP        // @x or @
	POSITIONAL // $1
	PARAMCOUNT // $#
	ATTACH     // one attach point's raw text, scanned in attach-point mode
	CDEFS      // raw text of a C definition the preprocessor passed through

	// punctuation
	LBRACE   // {
	RBRACE   // }
	LPAREN   // (
	RPAREN   // )
	LBRACK   // [
	RBRACK   // ]
	SEMI     // ;
	COMMA    // ,
	COLON    // :
	QUESTION // ?
	DOT      // .
	ARROW    // ->
	SLASH    // / (also predicate delimiters; the parser decides)

	// operators
	PLUS    // +
	MINUS   // -
	STAR    // *
	PERCENT // %
	AMP     // &
	PIPE    // |
	CARET   // ^
	SHL     // <<
	SHR     // >>
	LAND    // &&
	LOR     // ||
	NOT     // !
	TILDE   // ~
	EQ      // ==
	NE      // !=
	LT      // <
	LE      // <=
	GT      // >
	GE      // >=
	ASSIGN  // =
	INC     // ++
	DEC     // --

	ADD_ASSIGN // +=
	SUB_ASSIGN // -=
	MUL_ASSIGN // *=
	DIV_ASSIGN // /=
	MOD_ASSIGN // %=
	AND_ASSIGN // &=
	OR_ASSIGN  // |=
	XOR_ASSIGN // ^=
	SHL_ASSIGN // <<=
	SHR_ASSIGN // >>=

	// keywords
	IF
	ELSE
	UNROLL
	WHILE
	FOR
	BREAK
	CONTINUE
	RETURN
	SIZEOF
	OFFSETOF
	STRUCT
	UNION
	ENUM

	// DIRECTIVE is one preprocessor line ("#include <x.h>", "#ifdef X"),
	// its text as written. The parser hands those before or between probes
	// to the preprocessor (cpp.go); anywhere else one is a syntax error, as
	// in bpftrace.
	DIRECTIVE

	numTokens
)

var tokenNames = [...]string{
	ILLEGAL: "illegal", EOF: "end of file",
	INT: "integer", STRING: "string", IDENT: "identifier", VAR: "variable",
	MAP: "map", POSITIONAL: "positional parameter", PARAMCOUNT: "$#",
	ATTACH: "attach point", CDEFS: "C definition",
	LBRACE: "{", RBRACE: "}", LPAREN: "(", RPAREN: ")", LBRACK: "[", RBRACK: "]",
	SEMI: ";", COMMA: ",", COLON: ":", QUESTION: "?", DOT: ".", ARROW: "->", SLASH: "/",
	PLUS: "+", MINUS: "-", STAR: "*", PERCENT: "%", AMP: "&", PIPE: "|", CARET: "^",
	SHL: "<<", SHR: ">>", LAND: "&&", LOR: "||", NOT: "!", TILDE: "~",
	EQ: "==", NE: "!=", LT: "<", LE: "<=", GT: ">", GE: ">=", ASSIGN: "=",
	INC: "++", DEC: "--",
	ADD_ASSIGN: "+=", SUB_ASSIGN: "-=", MUL_ASSIGN: "*=", DIV_ASSIGN: "/=", MOD_ASSIGN: "%=",
	AND_ASSIGN: "&=", OR_ASSIGN: "|=", XOR_ASSIGN: "^=", SHL_ASSIGN: "<<=", SHR_ASSIGN: ">>=",
	IF: "if", ELSE: "else", UNROLL: "unroll", WHILE: "while", FOR: "for",
	BREAK: "break", CONTINUE: "continue", RETURN: "return",
	SIZEOF: "sizeof", OFFSETOF: "offsetof", STRUCT: "struct", UNION: "union", ENUM: "enum",
	DIRECTIVE: "preprocessor directive",
}

// String returns the token as bpftrace's parser names it in
// "syntax error, unexpected X" messages where it is punctuation, or a word
// for the token class.
func (t Token) String() string {
	if int(t) < len(tokenNames) && tokenNames[t] != "" {
		return tokenNames[t]
	}
	return "token"
}

// keywords maps reserved words to their tokens.
var keywords = map[string]Token{
	"if": IF, "else": ELSE, "unroll": UNROLL, "while": WHILE, "for": FOR,
	"break": BREAK, "continue": CONTINUE, "return": RETURN,
	"sizeof": SIZEOF, "offsetof": OFFSETOF,
	"struct": STRUCT, "union": UNION, "enum": ENUM,
}

// LookupKeyword returns the keyword token for word, or IDENT.
func LookupKeyword(word string) Token {
	if t, ok := keywords[word]; ok {
		return t
	}
	return IDENT
}
