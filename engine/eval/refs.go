package eval

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Refs returns the params, secrets and step statuses and outputs an
// expression reads, parsed by expr-lang after the step-id rewrite (see
// Rewrite); isID tells step ids.
func Refs(src string, isID func(string) bool) ([]Ref, error) {
	tree, err := parser.Parse(Rewrite(src, isID))
	if err != nil {
		return nil, err
	}
	return refs(&tree.Node), nil
}

// EnvRefs returns the environment variables an expression reads as
// env.NAME or env["NAME"], in order, each once.
func EnvRefs(src string) ([]string, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	v := &envVisitor{seen: map[string]bool{}}
	ast.Walk(&tree.Node, v)
	return v.names, nil
}

type envVisitor struct {
	names []string
	seen  map[string]bool
}

// Visit records env.NAME: a member of the identifier env by a constant name.
func (v *envVisitor) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	root, ok := m.Node.(*ast.IdentifierNode)
	if !ok || root.Value != "env" {
		return
	}
	name, ok := m.Property.(*ast.StringNode)
	if ok && !v.seen[name.Value] {
		v.seen[name.Value] = true
		v.names = append(v.names, name.Value)
	}
}
