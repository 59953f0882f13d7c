package eval

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/load"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Env is the run-time environment of expressions: a map with the keys in Roots.
type Env map[string]any

// Programs compiles expressions for run time and caches them by source.
// It is safe for concurrent use.
type Programs struct {
	isID  func(string) bool
	mu    sync.Mutex
	cache map[string]*vm.Program
}

// NewPrograms returns a cache; isID says which names are step ids (for Rewrite).
func NewPrograms(isID func(string) bool) *Programs {
	return &Programs{isID: isID, cache: map[string]*vm.Program{}}
}

var runtimeEnv = func() map[string]any {
	m := map[string]any{}
	for _, r := range Roots {
		m[r] = map[string]any{}
	}
	return m
}()

// Compile returns the program for src.
func (p *Programs) Compile(src string) (*vm.Program, error) {
	p.mu.Lock()
	prog, ok := p.cache[src]
	p.mu.Unlock()
	if ok {
		return prog, nil
	}
	opts := append([]expr.Option{expr.Env(runtimeEnv)}, functions()...)
	prog, err := expr.Compile(Rewrite(src, p.isID), opts...)
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", src, err)
	}
	p.mu.Lock()
	p.cache[src] = prog
	p.mu.Unlock()
	return prog, nil
}

// Value evaluates src in env.
func (p *Programs) Value(src string, env Env) (any, error) {
	prog, err := p.Compile(src)
	if err != nil {
		return nil, err
	}
	out, err := expr.Run(prog, map[string]any(env))
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %s", src, firstLine(err.Error()))
	}
	return out, nil
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
