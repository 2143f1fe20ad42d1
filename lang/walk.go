package lang

// Walking the syntax tree, in the manner of go/ast: Walk with a Visitor,
// or Inspect with a function. The checker and code generation use these
// to find every node of a kind (every CallExpr, every MapExpr) without
// each writing its own recursion; a node type added to ast.go must be
// added here too (walk_test.go checks that every node type is reached).

import "fmt"

// A Visitor's Visit is called for each node Walk reaches. If it returns a
// non-nil Visitor w, Walk visits the node's children with w and then calls
// w.Visit(nil).
type Visitor interface {
	Visit(n Node) (w Visitor)
}

// Walk traverses the tree rooted at n depth-first, children in source
// order: for a Program its includes, defines, C definitions, typedefs, probes and
// then its top-level statements.
func Walk(v Visitor, n Node) {
	if v = v.Visit(n); v == nil {
		return
	}
	switch n := n.(type) {
	case *Program:
		for _, x := range n.Includes {
			Walk(v, x)
		}
		for _, x := range n.Defines {
			Walk(v, x)
		}
		for _, x := range n.Structs {
			Walk(v, x)
		}
		for _, x := range n.Typedefs {
			Walk(v, x)
		}
		for _, x := range n.Probes {
			Walk(v, x)
		}
		for _, x := range n.Stmts {
			Walk(v, x)
		}
	case *Include, *Define, *Enumerator, *AttachPoint:
		// leaves
	case *StructDecl:
		for _, f := range n.Fields {
			Walk(v, f)
		}
		for _, e := range n.Enumerators {
			Walk(v, e)
		}
	case *FieldDecl:
		if n.Type != nil {
			Walk(v, n.Type)
		}
	case *Typedef:
		if n.Type != nil {
			Walk(v, n.Type)
		}
	case *TypeExpr:
		if n.Anon != nil {
			Walk(v, n.Anon)
		}
	case *Probe:
		for _, a := range n.Attach {
			Walk(v, a)
		}
		if n.Pred != nil {
			Walk(v, n.Pred)
		}
		if n.Body != nil {
			Walk(v, n.Body)
		}
	case *Block:
		for _, s := range n.Stmts {
			Walk(v, s)
		}
	case *ExprStmt:
		Walk(v, n.X)
	case *AssignStmt:
		Walk(v, n.Target)
		Walk(v, n.Value)
	case *IfStmt:
		Walk(v, n.Cond)
		Walk(v, n.Then)
		if n.Else != nil {
			Walk(v, n.Else)
		}
	case *UnrollStmt:
		Walk(v, n.Count)
		Walk(v, n.Body)
	case *WhileStmt:
		Walk(v, n.Cond)
		Walk(v, n.Body)
	case *ForStmt:
		Walk(v, n.Var)
		Walk(v, n.Map)
		Walk(v, n.Body)
	case *JumpStmt:
		// leaf
	case *IntLit, *StrLit, *PositionalExpr, *ParamCountExpr, *IdentExpr, *VarExpr:
		// leaves
	case *MapExpr:
		for _, k := range n.Keys {
			Walk(v, k)
		}
	case *CallExpr:
		for _, a := range n.Args {
			Walk(v, a)
		}
	case *BinaryExpr:
		Walk(v, n.X)
		Walk(v, n.Y)
	case *UnaryExpr:
		Walk(v, n.X)
	case *PostfixExpr:
		Walk(v, n.X)
	case *TernaryExpr:
		Walk(v, n.Cond)
		Walk(v, n.Then)
		Walk(v, n.Else)
	case *FieldExpr:
		Walk(v, n.X)
	case *TupleIndexExpr:
		Walk(v, n.X)
	case *IndexExpr:
		Walk(v, n.X)
		Walk(v, n.Index)
	case *CastExpr:
		if n.To != nil {
			Walk(v, n.To)
		}
		Walk(v, n.X)
	case *TupleExpr:
		for _, e := range n.Elems {
			Walk(v, e)
		}
	case *SizeofExpr:
		if n.TypeArg != nil {
			Walk(v, n.TypeArg)
		}
		if n.X != nil {
			Walk(v, n.X)
		}
	case *OffsetofExpr:
		if n.TypeArg != nil {
			Walk(v, n.TypeArg)
		}
	default:
		panic(fmt.Sprintf("lang.Walk: unexpected node type %T", n))
	}
	v.Visit(nil)
}

type inspector func(Node) bool

func (f inspector) Visit(n Node) Visitor {
	if f(n) {
		return f
	}
	return nil
}

// Inspect traverses the tree rooted at n depth-first, calling f(n) for
// each node; if f returns true, Inspect visits n's children and then calls
// f(nil).
func Inspect(n Node, f func(Node) bool) {
	Walk(inspector(f), n)
}
