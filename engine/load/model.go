package load

import (
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"gopkg.in/yaml.v3"
)

// Runbook is one runbook file, decoded with the position of everything in it.
// Fields whose YAML had the wrong shape are left unset: the schema pass reports those.
type Runbook struct {
	File   string
	Source []byte
	// Doc is the document's root mapping, for passes that need raw YAML.
	Doc *yaml.Node
	// Document is the YAML document node holding Doc, with the comments
	// above and below the whole runbook (suppression comments read them).
	Document *yaml.Node

	APIVersion  String
	Kind        String
	Metadata    Metadata
	Objectives  Objectives
	Params      []*Param
	Secrets     []String
	Plugins     []*PluginBlock
	Concurrency Int
	Timeout     Duration
	Steps       []*Step
	OnFailure   []*Step
	Finally     []*Step
}

// Metadata names and describes a runbook.
type Metadata struct {
	Pos         diag.Pos
	Name        String
	Title       String
	Section     String
	Description String
	Owner       String
	Tags        []String
}

// Objectives are the plan's recovery objectives the run reports against.
type Objectives struct {
	Pos diag.Pos
	RTO Duration
	RPO Duration
}

// Param is one declared input of the runbook.
type Param struct {
	Pos         diag.Pos
	Name        string
	Type        String
	Required    bool
	Default     *Value
	Enum        []*Value
	Description string
}

// PluginBlock is the configuration of one plugin under `plugins:`.
type PluginBlock struct {
	Name   String
	Config []KeyValue
}

// Phase says which list of the runbook a step belongs to.
type Phase int

// The step lists, in the order a run walks them.
const (
	Main Phase = iota
	OnFailure
	Finally
)

// String returns the YAML key of the phase.
func (p Phase) String() string {
	switch p {
	case OnFailure:
		return "on_failure"
	case Finally:
		return "finally"
	}
	return "steps"
}

// Step is one step of a runbook, or the body of an undo.
type Step struct {
	Pos   diag.Pos
	Phase Phase
	// Index is the step's place in its list, from 0.
	Index int

	ID              String
	Name            *Value
	Uses            String
	With            []KeyValue
	WithPos         diag.Pos
	Needs           []String
	NeedsSet        bool
	When            *Expr
	Confirm         *Value
	Timeout         Duration
	Retry           *Retry
	Check           *Expr
	ContinueOnError bool
	Undo            *Step
}

// Input returns the `with` value for key, or nil.
func (s *Step) Input(key string) *Value {
	for _, kv := range s.With {
		if kv.Key.Value == key {
			return kv.Value
		}
	}
	return nil
}

// Retry is a step's retry policy.
type Retry struct {
	Pos      diag.Pos
	Attempts Int
	Delay    Duration
	Backoff  String
	MaxDelay Duration
	Jitter   *bool
	Until    *Expr
}

// String is a scalar string with its position; Set is false when absent.
type String struct {
	Value string
	Pos   diag.Pos
	Set   bool
}

// Int is a scalar integer with its position; Set is false when absent.
type Int struct {
	Value int
	Pos   diag.Pos
	Set   bool
}

// Duration is a duration written as text ("30m"); Err says why it did not parse.
type Duration struct {
	String
	D   time.Duration
	Err error
}

// Expr is an expression's source and where it starts in the file.
type Expr struct {
	Source string
	Pos    diag.Pos
}

// KeyValue is one entry of a mapping, in file order.
type KeyValue struct {
	Key   String
	Value *Value
}

// ValueKind says what shape a Value has.
type ValueKind int

// The shapes of a Value.
const (
	Scalar ValueKind = iota
	List
	Map
)

// Value is any YAML value with positions, as found in `with`, plugin
// configuration and param defaults.
type Value struct {
	Pos  diag.Pos
	Kind ValueKind
	// Scalar holds a scalar's value: string, int, float64, bool or nil.
	Scalar any
	// Template is set when Scalar is a string holding ${{ }}.
	Template *Template
	Items    []*Value
	Fields   []KeyValue
}

// Type returns the value's type when it holds no template.
func (v *Value) Type() catalog.Type {
	switch v.Kind {
	case List:
		return catalog.List
	case Map:
		return catalog.Map
	}
	switch v.Scalar.(type) {
	case string:
		return catalog.String
	case int:
		return catalog.Int
	case float64:
		return catalog.Number
	case bool:
		return catalog.Bool
	}
	return catalog.Any
}

// Plain converts the value to plain Go data (templates left as their text).
func (v *Value) Plain() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case List:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Plain()
		}
		return out
	case Map:
		out := make(map[string]any, len(v.Fields))
		for _, kv := range v.Fields {
			out[kv.Key.Value] = kv.Value.Plain()
		}
		return out
	}
	return v.Scalar
}

// Walk calls fn for v and every value inside it, depth first.
func (v *Value) Walk(fn func(*Value)) {
	if v == nil {
		return
	}
	fn(v)
	for _, it := range v.Items {
		it.Walk(fn)
	}
	for _, kv := range v.Fields {
		kv.Value.Walk(fn)
	}
}

// AllSteps returns the main steps, then on_failure, then finally.
func (r *Runbook) AllSteps() []*Step {
	out := make([]*Step, 0, len(r.Steps)+len(r.OnFailure)+len(r.Finally))
	out = append(out, r.Steps...)
	out = append(out, r.OnFailure...)
	return append(out, r.Finally...)
}

// Param returns the declared param called name, or nil.
func (r *Runbook) Param(name string) *Param {
	for _, p := range r.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// HasSecret reports whether the runbook declares the secret called name.
func (r *Runbook) HasSecret(name string) bool {
	for _, s := range r.Secrets {
		if s.Value == name {
			return true
		}
	}
	return false
}

// PluginBlock returns the configuration block of the plugin called name, or nil.
func (r *Runbook) PluginBlock(name string) *PluginBlock {
	for _, p := range r.Plugins {
		if p.Name.Value == name {
			return p
		}
	}
	return nil
}
