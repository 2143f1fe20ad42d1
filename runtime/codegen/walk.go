package codegen

import "github.com/tracebook/tracebook/lang"

// inspect calls f for n and every node below it, depth first, until f
// returns false for a node (whose children are then skipped).
func inspect(n lang.Node, f func(lang.Node) bool) {
	if n == nil || !f(n) {
		return
	}
	each := func(xs ...lang.Node) {
		for _, x := range xs {
			if x != nil {
				inspect(x, f)
			}
		}
	}
	exprs := func(xs []lang.Expr) {
		for _, x := range xs {
			if x != nil {
				inspect(x, f)
			}
		}
	}
	switch n := n.(type) {
	case *lang.Probe:
		if n.Pred != nil {
			each(n.Pred)
		}
		if n.Body != nil {
			each(n.Body)
		}
	case *lang.Block:
		for _, s := range n.Stmts {
			each(s)
		}
	case *lang.ExprStmt:
		each(n.X)
	case *lang.AssignStmt:
		each(n.Target, n.Value)
	case *lang.IfStmt:
		each(n.Cond, n.Then)
		if n.Else != nil {
			each(n.Else)
		}
	case *lang.UnrollStmt:
		each(n.Count, n.Body)
	case *lang.WhileStmt:
		each(n.Cond, n.Body)
	case *lang.ForStmt:
		each(n.Var, n.Map, n.Body)
	case *lang.MapExpr:
		exprs(n.Keys)
	case *lang.CallExpr:
		exprs(n.Args)
	case *lang.BinaryExpr:
		each(n.X, n.Y)
	case *lang.UnaryExpr:
		each(n.X)
	case *lang.PostfixExpr:
		each(n.X)
	case *lang.TernaryExpr:
		each(n.Cond, n.Then, n.Else)
	case *lang.FieldExpr:
		each(n.X)
	case *lang.TupleIndexExpr:
		each(n.X)
	case *lang.IndexExpr:
		each(n.X, n.Index)
	case *lang.CastExpr:
		each(n.X)
	case *lang.TupleExpr:
		exprs(n.Elems)
	case *lang.SizeofExpr:
		if n.X != nil {
			each(n.X)
		}
	}
}

// usesBuiltin reports whether any of nodes uses the builtin variable name.
func usesBuiltin(name string, nodes ...lang.Node) bool {
	found := false
	for _, n := range nodes {
		inspect(n, func(n lang.Node) bool {
			if id, ok := n.(*lang.IdentExpr); ok && id.Name == name && id.Kind != lang.IdentConst {
				found = true
			}
			return !found
		})
	}
	return found
}

// argsRecord returns the record the checker gave `args` in nodes, nil if
// they do not use it.
func argsRecord(nodes ...lang.Node) *lang.Type {
	var rec *lang.Type
	for _, n := range nodes {
		inspect(n, func(n lang.Node) bool {
			if id, ok := n.(*lang.IdentExpr); ok && id.Name == "args" && rec == nil {
				if t := id.Type(); t != nil {
					if t.Kind == lang.KindPointer && t.Elem != nil {
						rec = t.Elem
					} else if t.Kind == lang.KindRecord {
						rec = t
					}
				}
			}
			return rec == nil
		})
	}
	return rec
}
