package eval

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// Budgets of one evaluation. expr itself bounds the size of the syntax tree
// (conf.DefaultMaxNodes) and the items its ranges and lists allocate
// (conf.DefaultMemoryBudget); these bound what it does not count: the time
// its loops take and the bytes its strings grow to.
const (
	// DefaultTimeBudget is how long one expression may evaluate.
	DefaultTimeBudget = time.Second
	// DefaultMemoryBudget is how many bytes of strings one expression may
	// build (concatenation, repeat, and every string a loop body yields).
	DefaultMemoryBudget = 16 << 20
)

// ErrBudget is wrapped by the error of an evaluation that went over its
// time or memory budget.
var ErrBudget = errors.New("expression budget exceeded")

// budgetVar is the hidden variable that carries an evaluation's budget to
// the functions the budget patch calls. Runbooks cannot name it: the
// checker's environment has no such root.
const budgetVar = "__budget"

// budget is the running account of one evaluation.
type budget struct {
	ctx      context.Context
	deadline time.Time
	time     time.Duration
	left     int // bytes
	limit    int
	ticks    int
}

func newBudget(ctx context.Context, d time.Duration, bytes int) *budget {
	if ctx == nil {
		ctx = context.Background()
	}
	return &budget{ctx: ctx, deadline: time.Now().Add(d), time: d, left: bytes, limit: bytes}
}

// spend charges n bytes and checks the clock and the context. expr turns
// a panic inside a function into the evaluation's error, which is how a
// budget stops a running program.
func (b *budget) spend(n int) {
	b.left -= n
	if b.left < 0 {
		panic(fmt.Errorf("%w: it builds more than %d bytes of text", ErrBudget, b.limit))
	}
	b.ticks++
	if b.ticks%64 != 0 && n < 4096 {
		return
	}
	if err := b.ctx.Err(); err != nil {
		panic(fmt.Errorf("%w: the run was cancelled (%v)", ErrBudget, err))
	}
	if time.Now().After(b.deadline) {
		panic(fmt.Errorf("%w: it ran for more than %s", ErrBudget, b.time))
	}
}

// budgetFunctions are the functions the budget patch calls.
func budgetFunctions() []expr.Option {
	return []expr.Option{
		expr.Function("__concat", func(p ...any) (any, error) {
			a, c := p[1].(string), p[2].(string)
			p[0].(*budget).spend(len(a) + len(c))
			return a + c, nil
		}, new(func(*budget, string, string) string)),
		expr.Function("__add", func(p ...any) (any, error) {
			if a, ok := p[1].(string); ok {
				if c, ok := p[2].(string); ok {
					p[0].(*budget).spend(len(a) + len(c))
					return a + c, nil
				}
			}
			return runtime.Add(p[1], p[2]), nil
		}, new(func(*budget, any, any) any)),
		expr.Function("__repeat", func(p ...any) (any, error) {
			s, n := p[1].(string), p[2].(int)
			if n < 0 {
				return nil, fmt.Errorf("repeat: negative count %d", n)
			}
			if len(s) > 0 && n > (1<<40)/len(s) {
				return nil, fmt.Errorf("%w: repeat would build %d×%d bytes", ErrBudget, len(s), n)
			}
			p[0].(*budget).spend(len(s) * n)
			return strings.Repeat(s, n), nil
		}, new(func(*budget, string, int) string)),
		expr.Function("__tick", func(p ...any) (any, error) {
			n := 0
			if s, ok := p[1].(string); ok {
				n = len(s)
			}
			p[0].(*budget).spend(n)
			return p[1], nil
		}, new(func(*budget, any) any)),
		expr.Patch(budgetPatch{}),
	}
}

// budgetPatch routes the operations whose cost expr does not count through
// the budget: string `+`, repeat(), and the body of every loop (map,
// filter, reduce...), which is charged once per item.
type budgetPatch struct{}

var (
	typeString = reflect.TypeOf("")
	typeInt    = reflect.TypeOf(0)
)

// Visit implements ast.Visitor.
func (budgetPatch) Visit(node *ast.Node) {
	b := &ast.IdentifierNode{Value: budgetVar}
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return
		}
		lt, rt := n.Left.Type(), n.Right.Type()
		if lt == typeString && rt == typeString {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__concat"}, Arguments: []ast.Node{b, n.Left, n.Right}})
			return
		}
		if maybeString(lt) || maybeString(rt) {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__add"}, Arguments: []ast.Node{b, n.Left, n.Right}})
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "repeat" && len(n.Arguments) == 2 {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__repeat"}, Arguments: []ast.Node{b, n.Arguments[0], intArg(n.Arguments[1])}})
		}
	case *ast.BuiltinNode:
		if n.Name == "repeat" && len(n.Arguments) == 2 {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__repeat"}, Arguments: []ast.Node{b, n.Arguments[0], intArg(n.Arguments[1])}})
		}
	case *ast.PredicateNode:
		if c, ok := n.Node.(*ast.CallNode); ok {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == "__tick" {
				return
			}
		}
		n.Node = &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__tick"}, Arguments: []ast.Node{b, n.Node}}
	}
}

// intArg converts a count to int when the checker cannot tell it is one.
func intArg(n ast.Node) ast.Node {
	if n.Type() == typeInt {
		return n
	}
	return &ast.BuiltinNode{Name: "int", Arguments: []ast.Node{n}}
}

// maybeString reports whether a `+` operand may be a string at run time.
func maybeString(t reflect.Type) bool {
	return t == nil || t.Kind() == reflect.Interface || t.Kind() == reflect.String
}
