package eval

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/load"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Env is the run-time environment of expressions: a map with the keys in Roots.
type Env map[string]any

// Programs compiles expressions for run time and caches them by source.
// It is safe for concurrent use once its fields are set.
type Programs struct {
	// Context, when set, stops every evaluation once it is done (the run
	// was cancelled).
	Context context.Context
	// TimeBudget and MemoryBudget bound each evaluation; 0 means
	// DefaultTimeBudget and DefaultMemoryBudget.
	TimeBudget   time.Duration
	MemoryBudget int
	// OnSecret, when set, receives the text of every value computed by an
	// expression that reads secrets (`upper(secrets.T)`), so it can be
	// masked like the secret itself.
	OnSecret func(values ...string)

	isID  func(string) bool
	mu    sync.Mutex
	cache map[string]*program
}

// program is a compiled expression and whether it reads secrets.
type program struct {
	vm      *vm.Program
	secrets bool
}

// NewPrograms returns a cache; isID says which names are step ids (for Rewrite).
func NewPrograms(isID func(string) bool) *Programs {
	return &Programs{isID: isID, cache: map[string]*program{}}
}

var runtimeEnv = func() map[string]any {
	m := map[string]any{}
	for _, r := range Roots {
		m[r] = map[string]any{}
	}
	m[budgetVar] = (*budget)(nil)
	return m
}()

// Compile returns the program for src.
func (p *Programs) Compile(src string) (*vm.Program, error) {
	prog, err := p.compile(src)
	if err != nil {
		return nil, err
	}
	return prog.vm, nil
}

func (p *Programs) compile(src string) (*program, error) {
	p.mu.Lock()
	prog, ok := p.cache[src]
	p.mu.Unlock()
	if ok {
		return prog, nil
	}
	opts := append([]expr.Option{expr.Env(runtimeEnv)}, functions()...)
	opts = append(opts, budgetFunctions()...)
	code, err := expr.Compile(Rewrite(src, p.isID), opts...)
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", src, err)
	}
	prog = &program{vm: code, secrets: readsSecrets(code.Node())}
	p.mu.Lock()
	p.cache[src] = prog
	p.mu.Unlock()
	return prog, nil
}

// Value evaluates src in env, within the budgets. The value of an
// expression that reads secrets is passed to OnSecret.
func (p *Programs) Value(src string, env Env) (any, error) {
	prog, err := p.compile(src)
	if err != nil {
		return nil, err
	}
	d, n := p.TimeBudget, p.MemoryBudget
	if d <= 0 {
		d = DefaultTimeBudget
	}
	if n <= 0 {
		n = DefaultMemoryBudget
	}
	run := make(map[string]any, len(env)+1)
	for k, v := range env {
		run[k] = v
	}
	run[budgetVar] = newBudget(p.Context, d, n)
	out, err := expr.Run(prog.vm, run)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %s", src, firstLine(err.Error()))
	}
	if prog.secrets && p.OnSecret != nil {
		p.OnSecret(Leaves(nil, out)...)
	}
	return out, nil
}

// readsSecrets reports whether an expression may read a secret: it names
// the secrets root, or the whole environment.
func readsSecrets(n ast.Node) bool {
	f := &secretFinder{}
	ast.Walk(&n, f)
	return f.found
}

type secretFinder struct{ found bool }

// Visit implements ast.Visitor.
func (f *secretFinder) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && (id.Value == "secrets" || id.Value == "$env") {
		f.found = true
	}
}

// Leaves returns every string inside v (maps and lists included),
// appended to out. Numbers and booleans are left out: masking every `true`
// or `12` because a guard or a length was computed from a secret would
// hide innocent values and protect nothing.
func Leaves(out []string, v any) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = Leaves(out, e)
		}
	case map[string]any:
		for _, e := range x {
			out = Leaves(out, e)
		}
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			for i := 0; i < rv.Len(); i++ {
				out = Leaves(out, rv.Index(i).Interface())
			}
		case reflect.Map:
			for _, k := range rv.MapKeys() {
				out = Leaves(out, rv.MapIndex(k).Interface())
			}
		case reflect.String:
			out = append(out, rv.String())
		}
	}
	return out
}

// Bool evaluates a guard: false, nil, "", 0 and empty lists or maps are false.
func (p *Programs) Bool(src string, env Env) (bool, error) {
	v, err := p.Value(src, env)
	if err != nil {
		return false, err
	}
	return Truthy(v), nil
}

// Truthy reports whether a guard's value lets a step run.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != "" && x != "false"
	case int:
		return x != 0
	case float64:
		return x != 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len() > 0
	}
	return true
}

// Render resolves a templated value. A value that is exactly one ${{ }}
// keeps the expression's type; otherwise the parts are joined as text.
func (p *Programs) Render(t *load.Template, env Env) (any, error) {
	if e := t.Single(); e != nil {
		return p.Value(e.Source, env)
	}
	var b strings.Builder
	for _, part := range t.Parts {
		if part.Expr == nil {
			b.WriteString(part.Text)
			continue
		}
		v, err := p.Value(part.Expr.Source, env)
		if err != nil {
			return nil, err
		}
		b.WriteString(Text(v))
	}
	return b.String(), nil
}

// Text formats a value for interpolation into a string.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return ShortDuration(x)
	}
	return fmt.Sprint(v)
}

// ShortDuration formats d without trailing zero units: 30m, 1h30m, 1.5s.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Resolve returns a plain Go value for v with every template rendered.
func (p *Programs) Resolve(v *load.Value, env Env) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.Kind {
	case load.List:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			x, err := p.Resolve(it, env)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case load.Map:
		out := make(map[string]any, len(v.Fields))
		for _, kv := range v.Fields {
			x, err := p.Resolve(kv.Value, env)
			if err != nil {
				return nil, err
			}
			out[kv.Key.Value] = x
		}
		return out, nil
	}
	if v.Template != nil {
		return p.Render(v.Template, env)
	}
	return v.Scalar, nil
}
