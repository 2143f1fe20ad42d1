package lang

// A compact S-expression form of the syntax tree, for tests (the parser's
// golden cases, the checker's and codegen's fixtures) and for debugging,
// after starlark-go's syntax tests. It is meant to be read and diffed,
// not parsed back:
//
//	(probe (kprobe:f) (pred (== pid 1)) (block (call printf "x")))
//	(= (map @m pid) (call count))          @m[pid] = count()
//	(+= $x 1)  (if c (block) (block))  (unroll 5 (block))
//	(cast <struct task_struct *> curtask)  (-> $t pid)  (. $s a)  (elem $t 0)
//	(neg $x) (not $x) (bnot $x) (deref $p) (pre++ $x) (post-- @y)
//	(? c a b)  (tuple 1 2)  (index $a 0)  (sizeof <uint64>)  (offsetof <struct S> a.b)
//
// Literals print as their value: integers in decimal (negative ones with a
// sign), strings Go-quoted. Types print between angle brackets, as C
// writes them.

import (
	"fmt"
	"strconv"
	"strings"
)

// SExpr returns the S-expression form of n.
func SExpr(n Node) string {
	var b strings.Builder
	writeSExpr(&b, n)
	return b.String()
}

var unaryNames = map[Op]string{
	Not: "not", BitNot: "bnot", Neg: "neg", Deref: "deref",
	PreInc: "pre++", PreDec: "pre--", PostInc: "post++", PostDec: "post--",
}

func writeSExpr(b *strings.Builder, n Node) {
	list := func(head string, items ...Node) {
		b.WriteString("(")
		b.WriteString(head)
		for _, it := range items {
			b.WriteString(" ")
			writeSExpr(b, it)
		}
		b.WriteString(")")
	}
	switch n := n.(type) {
	case nil:
		b.WriteString("nil")
	case *Program:
		var items []Node
		for _, x := range n.Includes {
			items = append(items, x)
		}
		for _, x := range n.Defines {
			items = append(items, x)
		}
		for _, x := range n.Structs {
			items = append(items, x)
		}
		for _, x := range n.Typedefs {
			items = append(items, x)
		}
		for _, x := range n.Probes {
			items = append(items, x)
		}
		for _, x := range n.Stmts {
			items = append(items, x)
		}
		list("program", items...)
	case *Include:
		if n.System {
			fmt.Fprintf(b, "(include <%s>)", n.Path)
		} else {
			fmt.Fprintf(b, "(include %q)", n.Path)
		}
	case *Define:
		fmt.Fprintf(b, "(define %s %q)", n.Name, n.Value)
	case *Typedef:
		fmt.Fprintf(b, "(typedef %s %s)", n.Name, SExpr(n.Type))
	case *StructDecl:
		head := n.Kind
		if n.Name != "" {
			head += " " + n.Name
		}
		var items []Node
		for _, f := range n.Fields {
			items = append(items, f)
		}
		for _, e := range n.Enumerators {
			items = append(items, e)
		}
		list(head, items...)
	case *FieldDecl:
		b.WriteString("(field ")
		if n.Name != "" {
			b.WriteString(n.Name)
		} else {
			b.WriteString("_")
		}
		b.WriteString(" ")
		writeSExpr(b, n.Type)
		if n.Bits != 0 {
			fmt.Fprintf(b, " :%d", n.Bits)
		}
		b.WriteString(")")
	case *Enumerator:
		fmt.Fprintf(b, "(%s %d)", n.Name, n.Value)
	case *TypeExpr:
		if n == nil {
			b.WriteString("nil")
			return
		}
		b.WriteString("<")
		if n.Anon != nil {
			writeSExpr(b, n.Anon)
			c := *n
			c.Name, c.Anon = "", nil
			b.WriteString(c.String())
		} else {
			b.WriteString(n.String())
		}
		b.WriteString(">")
	case *Probe:
		b.WriteString("(probe (")
		for i, a := range n.Attach {
			if i > 0 {
				b.WriteString(" ")
			}
			writeSExpr(b, a)
		}
		b.WriteString(")")
		if n.Pred != nil {
			b.WriteString(" (pred ")
			writeSExpr(b, n.Pred)
			b.WriteString(")")
		}
		b.WriteString(" ")
		writeSExpr(b, n.Body)
		b.WriteString(")")
	case *AttachPoint:
		b.WriteString(n.Name())
	case *Block:
		if n == nil {
			b.WriteString("nil")
			return
		}
		var items []Node
		for _, s := range n.Stmts {
			items = append(items, s)
		}
		list("block", items...)
	case *ExprStmt:
		writeSExpr(b, n.X)
	case *AssignStmt:
		op := "="
		if n.Op != Assign {
			op = n.Op.String() + "="
		}
		list(op, n.Target, n.Value)
	case *IfStmt:
		if n.Else != nil {
			list("if", n.Cond, n.Then, n.Else)
		} else {
			list("if", n.Cond, n.Then)
		}
	case *UnrollStmt:
		list("unroll", n.Count, n.Body)
	case *WhileStmt:
		list("while", n.Cond, n.Body)
	case *ForStmt:
		list("for", n.Var, n.Map, n.Body)
	case *JumpStmt:
		fmt.Fprintf(b, "(%s)", n.Kind)
	case *IntLit:
		if strings.HasPrefix(n.Text, "-") {
			b.WriteString(strconv.FormatInt(int64(n.Value), 10))
		} else {
			b.WriteString(strconv.FormatUint(n.Value, 10))
		}
	case *StrLit:
		b.WriteString(strconv.Quote(n.Value))
	case *PositionalExpr:
		fmt.Fprintf(b, "$%d", n.N)
	case *ParamCountExpr:
		b.WriteString("$#")
	case *IdentExpr:
		b.WriteString(n.Name)
	case *VarExpr:
		b.WriteString("$" + n.Name)
	case *MapExpr:
		if n.Keys == nil {
			b.WriteString(n.Name)
			return
		}
		items := make([]Node, len(n.Keys))
		for i, k := range n.Keys {
			items[i] = k
		}
		list("map "+n.Name, items...)
	case *CallExpr:
		items := make([]Node, len(n.Args))
		for i, a := range n.Args {
			items[i] = a
		}
		list("call "+n.Name, items...)
	case *BinaryExpr:
		list(n.Op.String(), n.X, n.Y)
	case *UnaryExpr:
		list(unaryNames[n.Op], n.X)
	case *PostfixExpr:
		list(unaryNames[n.Op], n.X)
	case *TernaryExpr:
		list("?", n.Cond, n.Then, n.Else)
	case *FieldExpr:
		op := "."
		if n.Arrow {
			op = "->"
		}
		b.WriteString("(" + op + " ")
		writeSExpr(b, n.X)
		b.WriteString(" " + n.Field + ")")
	case *TupleIndexExpr:
		b.WriteString("(elem ")
		writeSExpr(b, n.X)
		fmt.Fprintf(b, " %d)", n.Index)
	case *IndexExpr:
		list("index", n.X, n.Index)
	case *CastExpr:
		list("cast", n.To, n.X)
	case *TupleExpr:
		items := make([]Node, len(n.Elems))
		for i, e := range n.Elems {
			items[i] = e
		}
		list("tuple", items...)
	case *SizeofExpr:
		if n.TypeArg != nil {
			list("sizeof", n.TypeArg)
		} else {
			list("sizeof", n.X)
		}
	case *OffsetofExpr:
		b.WriteString("(offsetof ")
		writeSExpr(b, n.TypeArg)
		b.WriteString(" " + strings.Join(n.Fields, ".") + ")")
	default:
		fmt.Fprintf(b, "(?%T)", n)
	}
}
