// Package eval compiles, type-checks and evaluates the expressions of a
// runbook: bare guards (`when`, `check`, `retry.until`) and `${{ }}` templates.
//
// Checking builds a typed environment from the runbook's params and secrets
// and from the outputs each step's action declares, so `params.restore_to > 5`
// is an error before anything runs. Evaluation uses plain maps at run time.
package eval

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/conf"
)

// Scope lists the names expressions of one runbook may use, with their types.
type Scope struct {
	Params  []catalog.Field
	Secrets []string
	Steps   []StepScope
}

// StepScope is what an expression can read of one step.
type StepScope struct {
	ID string
	// Outputs are the step action's declared outputs; nil with Open set
	// means the action is unknown and any output is accepted.
	Outputs []catalog.Field
	Open    bool
}

// Roots are the top-level names of the expression environment.
var Roots = []string{"params", "steps", "env", "secrets", "outputs", "run", "objectives"}

var (
	stringType   = reflect.TypeOf("")
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
	openMap      = reflect.TypeOf(map[string]any(nil))
)

func structOf(names []string, types []reflect.Type) reflect.Type {
	fields := make([]reflect.StructField, len(names))
	for i, n := range names {
		fields[i] = reflect.StructField{
			Name: "F" + strconv.Itoa(i),
			Type: types[i],
			Tag:  reflect.StructTag(`expr:"` + n + `"`),
		}
	}
	return reflect.StructOf(fields)
}

func fieldsType(fs []catalog.Field) reflect.Type {
	names := make([]string, len(fs))
	types := make([]reflect.Type, len(fs))
	for i, f := range fs {
		names[i], types[i] = f.Name, f.Type.GoType()
	}
	return structOf(names, types)
}

func outputsType(s StepScope) reflect.Type {
	if s.Open {
		return openMap
	}
	return fieldsType(s.Outputs)
}

// envParts are the struct fields of the environment common to every expression.
type envParts struct {
	names []string
	types []reflect.Type
}

func (s *Scope) parts() envParts {
	secrets := make([]reflect.Type, len(s.Secrets))
	for i := range secrets {
		secrets[i] = stringType
	}
	stepNames := make([]string, len(s.Steps))
	stepTypes := make([]reflect.Type, len(s.Steps))
	for i, st := range s.Steps {
		stepNames[i] = st.ID
		stepTypes[i] = structOf([]string{"outputs", "status"}, []reflect.Type{outputsType(st), stringType})
	}
	return envParts{
		names: []string{"params", "steps", "env", "secrets", "run", "objectives"},
		types: []reflect.Type{
			fieldsType(s.Params),
			structOf(stepNames, stepTypes),
			reflect.TypeOf(map[string]string(nil)),
			structOf(s.Secrets, secrets),
			structOf([]string{"id", "runbook", "started_at", "elapsed"}, []reflect.Type{stringType, stringType, timeType, durationType}),
			structOf([]string{"rto", "rpo"}, []reflect.Type{durationType, durationType}),
		},
	}
}

// envType builds the struct type of the environment; outputs may be nil.
func (p envParts) envType(outputs reflect.Type) reflect.Type {
	if outputs == nil {
		return structOf(p.names, p.types)
	}
	return structOf(append(p.names[:len(p.names):len(p.names)], "outputs"), append(p.types[:len(p.types):len(p.types)], outputs))
}

// outputsKey identifies a set of outputs, so steps using one action share a type.
func outputsKey(s StepScope) string {
	if s.Open {
		return "*"
	}
	var b strings.Builder
	for _, f := range s.Outputs {
		b.WriteString(f.Name)
		b.WriteByte(':')
		b.WriteString(string(f.Type))
		b.WriteByte(',')
	}
	return b.String()
}

// functions are the helpers every expression may call, beyond expr's built-ins
// (now(), duration(), date(), len(), ...).
func functions() []expr.Option {
	return []expr.Option{
		expr.Function("ago", func(params ...any) (any, error) {
			d, _ := params[0].(time.Duration)
			return time.Now().Add(-d), nil
		}, new(func(time.Duration) time.Time)),
	}
}

func newConfig(env any) *conf.Config {
	c := conf.CreateNew()
	expr.Env(env)(c)
	for _, f := range functions() {
		f(c)
	}
	c.Check()
	return c
}
