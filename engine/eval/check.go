package eval

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// Rule names of expression findings.
const (
	RuleSyntax           = "expression"
	RuleType             = "expression-type"
	RuleUndeclaredParam  = "undeclared-param"
	RuleUndeclaredSecret = "undeclared-secret"
	RuleUnknownStep      = "unknown-step"
	RuleUnknownOutput    = "unknown-output"
	RuleOutputsContext   = "outputs-context"
)

// Ref is a reference an expression makes to a param, secret or step.
type Ref struct {
	Root  string // "params", "secrets" or "steps"
	Name  string // param, secret or step id
	Field string // for steps: "outputs" or "status"
	Key   string // for steps.X.outputs.KEY
	// Offset is the byte offset of the reference in the (rewritten) source.
	Offset int
}

// Problem is one finding about an expression, relative to its start.
type Problem struct {
	Rule    string
	Message string
	// Offset is a byte offset into the expression, -1 when unknown.
	Offset int
}

// Checker type-checks the expressions of one runbook.
type Checker struct {
	scope   *Scope
	ids     map[string]*StepScope
	params  map[string]bool
	secrets map[string]bool
	parts   *envParts
	base    *conf.Config
	withOut map[string]*conf.Config
	// memo remembers results: runbooks repeat guards such as `outputs.ok`.
	memo map[string]Result
}

// NewChecker prepares a checker for the names in scope.
func NewChecker(scope *Scope) *Checker {
	c := &Checker{scope: scope, ids: map[string]*StepScope{}, params: map[string]bool{}, secrets: map[string]bool{}, withOut: map[string]*conf.Config{}, memo: map[string]Result{}}
	for i := range scope.Steps {
		c.ids[scope.Steps[i].ID] = &scope.Steps[i]
	}
	for _, p := range scope.Params {
		c.params[p.Name] = true
	}
	for _, s := range scope.Secrets {
		c.secrets[s] = true
	}
	return c
}

// IsStep reports whether id names a step of the runbook.
func (c *Checker) IsStep(id string) bool { _, ok := c.ids[id]; return ok }

// Result is what checking one expression found.
type Result struct {
	// Type is the expression's static type (nil when unknown or on error).
	Type     reflect.Type
	Refs     []Ref
	Problems []Problem
}

// Check parses and type-checks src. outputs, when not nil, is the current
// step's scope, visible as `outputs` (in check and retry.until).
func (c *Checker) Check(src string, outputs *StepScope) Result {
	key := src
	if outputs != nil {
		key = src + "\x00" + outputsKey(*outputs)
	}
	if res, ok := c.memo[key]; ok {
		return res
	}
	res := c.check(src, outputs)
	c.memo[key] = res
	return res
}

func (c *Checker) check(src string, outputs *StepScope) Result {
	rewritten := Rewrite(src, c.IsStep)
	return c.full(src, rewritten, outputs)
}

// full checks with expr-lang's parser and checker.
func (c *Checker) full(src, rewritten string, outputs *StepScope) Result {
	var res Result
	tree, err := parser.Parse(rewritten)
	if err != nil {
		res.Problems = append(res.Problems, problem(RuleSyntax, err, rewritten != src))
		return res
	}
	res.Refs = refs(&tree.Node)
	if !c.checkRefs(&res, outputs) {
		return res
	}
	cfg, err := c.config(outputs)
	if err != nil {
		res.Problems = append(res.Problems, Problem{Rule: RuleType, Message: err.Error(), Offset: -1})
		return res
	}
	t, err := checker.Check(tree, cfg)
	if err != nil {
		res.Problems = append(res.Problems, problem(RuleType, err, rewritten != src))
		return res
	}
	res.Type = t
	return res
}

func (c *Checker) checkRefs(res *Result, outputsScope *StepScope) bool {
	outputsVisible := outputsScope != nil
	ok := true
	bad := func(rule string, off int, format string, args ...any) {
		res.Problems = append(res.Problems, Problem{Rule: rule, Message: fmt.Sprintf(format, args...), Offset: off})
		ok = false
	}
	for _, r := range res.Refs {
		switch r.Root {
		case "params":
			if !c.params[r.Name] {
				bad(RuleUndeclaredParam, r.Offset, "param %q is not declared under params", r.Name)
			}
		case "secrets":
			if !c.secrets[r.Name] {
				bad(RuleUndeclaredSecret, r.Offset, "secret %q is not declared under secrets", r.Name)
			}
		case "outputs":
			if !outputsVisible {
				bad(RuleOutputsContext, r.Offset, "outputs is only available in check and retry.until; use steps.ID.outputs.%s", r.Name)
			} else if own := outputsScope; own != nil && !own.Open {
				if _, has := (&catalog.Action{Outputs: own.Outputs}).Output(r.Name); !has {
					bad(RuleUnknownOutput, r.Offset, "step %q has no output %q%s", own.ID, r.Name, declared(own.Outputs))
				}
			}
		case "steps":
			st, known := c.ids[r.Name]
			switch {
			case !known:
				bad(RuleUnknownStep, r.Offset, "unknown step %q%s", r.Name, diag.Suggest(r.Name, c.stepIDs()))
			case r.Field != "" && r.Field != "outputs" && r.Field != "status":
				bad(RuleUnknownOutput, r.Offset, "a step has outputs and status, not %q", r.Field)
			case r.Field == "outputs" && r.Key != "" && !st.Open:
				if _, has := (&catalog.Action{Outputs: st.Outputs}).Output(r.Key); !has {
					bad(RuleUnknownOutput, r.Offset, "step %q has no output %q%s", r.Name, r.Key, declared(st.Outputs))
				}
			}
		}
	}
	return ok
}

func (c *Checker) stepIDs() []string {
	out := make([]string, len(c.scope.Steps))
	for i, s := range c.scope.Steps {
		out[i] = s.ID
	}
	return out
}

func declared(fs []catalog.Field) string {
	if len(fs) == 0 {
		return " (its action declares no outputs)"
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return " (declared: " + strings.Join(names, ", ") + ")"
}

func (c *Checker) config(outputs *StepScope) (cfg *conf.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot build the expression environment: %v", r)
		}
	}()
	if c.parts == nil {
		p := c.scope.parts()
		c.parts = &p
	}
	if outputs == nil {
		if c.base == nil {
			c.base = newConfig(reflect.New(c.parts.envType(nil)).Elem().Interface())
		}
		return c.base, nil
	}
	key := outputsKey(*outputs)
	if cfg, ok := c.withOut[key]; ok {
		return cfg, nil
	}
	cfg = newConfig(reflect.New(c.parts.envType(outputsType(*outputs))).Elem().Interface())
	c.withOut[key] = cfg
	return cfg, nil
}

func problem(rule string, err error, rewritten bool) Problem {
	var fe *file.Error
	if errors.As(err, &fe) {
		off := fe.From
		if rewritten || fe.Line > 1 {
			off = -1
		}
		return Problem{Rule: rule, Message: tidy(fe.Message), Offset: off}
	}
	return Problem{Rule: rule, Message: tidy(err.Error()), Offset: -1}
}

// structRe and anyRe find Go type names in the checker's messages; they are
// compiled on the first type error, not at process start.
var (
	structRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`struct \{[^{}]*\}`) })
	anyRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`interface \{\s*\}`) })
)

// tidy turns the checker's Go type names into the runbook's words.
func tidy(msg string) string {
	msg = firstLine(msg)
	msg = strings.ReplaceAll(msg, "time.Time", "timestamp")
	msg = strings.ReplaceAll(msg, "time.Duration", "duration")
	msg = strings.ReplaceAll(msg, "float64", "number")
	msg = anyRe().ReplaceAllString(msg, "any")
	for i := 0; i < 4 && strings.Contains(msg, "struct {"); i++ {
		msg = structRe().ReplaceAllString(msg, "object")
	}
	return strings.ReplaceAll(msg, "type object", "object")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// refs collects params.X, secrets.X, outputs.X and steps.ID[.field[.key]] references.
func refs(node *ast.Node) []Ref {
	v := &refVisitor{}
	ast.Walk(node, v)
	return v.refs
}

type refVisitor struct {
	refs []Ref
	seen map[ast.Node]bool
}

func (v *refVisitor) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || v.seen[m] {
		return
	}
	chain := []*ast.MemberNode{m}
	for {
		inner, ok := chain[len(chain)-1].Node.(*ast.MemberNode)
		if !ok {
			break
		}
		chain = append(chain, inner)
	}
	root, ok := chain[len(chain)-1].Node.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if v.seen == nil {
		v.seen = map[ast.Node]bool{}
	}
	for _, c := range chain {
		v.seen[c] = true
	}
	// props in source order: root.p0.p1.p2
	var props []string
	for i := len(chain) - 1; i >= 0; i-- {
		s, ok := chain[i].Property.(*ast.StringNode)
		if !ok {
			break
		}
		props = append(props, s.Value)
	}
	if len(props) == 0 {
		return
	}
	r := Ref{Root: root.Value, Name: props[0], Offset: root.Location().From}
	switch root.Value {
	case "params", "secrets", "outputs":
	case "steps":
		if len(props) > 1 {
			r.Field = props[1]
		}
		if len(props) > 2 {
			r.Key = props[2]
		}
	default:
		return
	}
	v.refs = append(v.refs, r)
}

// ExprPos maps a problem's offset to a file position, given where the
// expression starts; it falls back to the start.
func ExprPos(start diag.Pos, offset int) diag.Pos {
	if offset <= 0 {
		return start
	}
	return diag.Pos{Line: start.Line, Col: start.Col + offset}
}
