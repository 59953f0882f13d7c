package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// edit is a set_default step: the variable's block in its file and the
// new value.
type edit struct {
	variable string
	rel      string // the file, relative to dir
	path     string
	src      []byte
	block    *hclsyntax.Block
	value    cty.Value // the new default, converted to the variable's type
	valueSrc []byte    // as it will be written
	cur      current
}

// current is the default a file has now.
type current struct {
	present bool
	expr    string // as written
	value   any    // decoded; the text when it is not a constant
	json    string // for comparing with the new value; "" when not a constant
}

func (s *session) readEdit(in map[string]any) (*edit, error) {
	e := &edit{variable: strings.TrimSpace(str(in["variable"]))}
	if !hclsyntax.ValidIdentifier(e.variable) {
		return nil, sdk.BadInput("terraform: %q is not a variable name", in["variable"])
	}
	if err := s.findBlock(e, str(in["file"])); err != nil {
		return nil, err
	}
	e.cur = defaultOf(e.src, e.block)
	return e, e.setValue(in["value"])
}

// findBlock finds the file declaring the variable, in the named file or
// among dir's .tf files.
func (s *session) findBlock(e *edit, file string) error {
	var files []string
	if file != "" {
		files = []string{file}
	} else {
		matches, _ := filepath.Glob(filepath.Join(s.dir, "*.tf"))
		sort.Strings(matches)
		for _, m := range matches {
			files = append(files, filepath.Base(m))
		}
	}
	var found []string
	for _, rel := range files {
		path := rel
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.dir, rel)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return sdk.NotFound("terraform: %v", err)
		}
		f, diags := hclsyntax.ParseConfig(src, rel, hcl.InitialPos)
		if diags.HasErrors() {
			return sdk.BadInput("terraform: %s does not parse: %s", rel, diagText(diags))
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type == "variable" && len(b.Labels) == 1 && b.Labels[0] == e.variable {
				found = append(found, rel)
				e.rel, e.path, e.src, e.block = rel, path, src, b
			}
		}
	}
	switch {
	case len(found) == 0 && file != "":
		return sdk.NotFound("terraform: %s declares no variable %q", file, e.variable)
	case len(found) == 0:
		return sdk.NotFound("terraform: no .tf file in %s declares variable %q", s.dirName, e.variable)
	case len(found) > 1:
		return sdk.BadInput("terraform: variable %q is declared more than once (%s)", e.variable, strings.Join(found, ", "))
	}
	return nil
}

// defaultOf reads the block's default attribute.
func defaultOf(src []byte, b *hclsyntax.Block) current {
	attr, ok := b.Body.Attributes["default"]
	if !ok {
		return current{}
	}
	r := attr.Expr.Range()
	c := current{present: true, expr: string(src[r.Start.Byte:r.End.Byte])}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		c.value = c.expr
		return c
	}
	c.json, c.value = toJSON(v)
	return c
}

// setValue converts the input to the variable's type and renders it.
func (e *edit) setValue(raw any) error {
	if raw == nil {
		return sdk.BadInput("terraform: value is required (the new default)")
	}
	b, err := json.Marshal(catalog.DurationsAsText(raw))
	if err != nil {
		return sdk.BadInput("terraform: value cannot be written as HCL: %v", err)
	}
	ty, err := ctyjson.ImpliedType(b)
	if err == nil {
		e.value, err = ctyjson.Unmarshal(b, ty)
	}
	if err != nil {
		return sdk.BadInput("terraform: value cannot be written as HCL: %v", err)
	}
	if attr, ok := e.block.Body.Attributes["type"]; ok {
		want, diags := typeexpr.TypeConstraint(attr.Expr)
		if !diags.HasErrors() {
			converted, err := convert.Convert(e.value, want)
			if err != nil {
				return sdk.BadInput("terraform: variable %q is a %s: %v does not fit (%v)", e.variable, typeexpr.TypeString(want), raw, err)
			}
			e.value = converted
		}
	}
	e.valueSrc = bytes.TrimSpace(hclwrite.TokensForValue(e.value).Bytes())
	return nil
}

// unchanged reports whether the file already has the new default.
func (e *edit) unchanged() bool {
	j, _ := toJSON(e.value)
	return e.cur.present && e.cur.json == j
}

// newValue is the new default, decoded as previous is.
func (e *edit) newValue() any {
	_, v := toJSON(e.value)
	return v
}

// apply returns the file with the new default: the old expression's bytes
// replaced, or a new attribute before the block's closing brace.
func (e *edit) apply() ([]byte, error) {
	src := e.src
	var out []byte
	if attr, ok := e.block.Body.Attributes["default"]; ok {
		r := attr.Expr.Range()
		out = splice(src, r.Start.Byte, r.End.Byte, e.valueSrc)
	} else {
		out = e.insert()
	}
	if _, diags := hclsyntax.ParseConfig(out, e.rel, hcl.InitialPos); diags.HasErrors() {
		return nil, sdk.Permanent(fmt.Errorf("terraform: setting the default would break %s (%s); edit it by hand", e.rel, diagText(diags)))
	}
	return out, nil
}

// insert adds `default = VALUE` as the block's last line, indented like
// its other lines; a one-line block is opened up first.
func (e *edit) insert() []byte {
	src := e.src
	open, close := e.block.OpenBraceRange.End.Byte, e.block.CloseBraceRange.Start.Byte
	blockIndent := indentAt(src, e.block.TypeRange.Start.Byte)
	line := "default = " + string(e.valueSrc)
	if !onOwnLine(src, close) {
		inner := strings.TrimSpace(string(src[open:close]))
		body := blockIndent + "  " + line + "\n"
		if inner != "" {
			body = blockIndent + "  " + inner + "\n" + body
		}
		return splice(src, open, close, []byte("\n"+body+blockIndent))
	}
	indent, first := blockIndent+"  ", -1
	for _, a := range e.block.Body.Attributes {
		if at := a.SrcRange.Start.Byte; first < 0 || at < first {
			first = at
		}
	}
	if first >= 0 {
		indent = indentAt(src, first)
	}
	lineStart := bytes.LastIndexByte(src[:close], '\n') + 1
	return splice(src, lineStart, lineStart, []byte(indent+line+"\n"))
}

// indentAt returns the spaces and tabs that start the line holding offset.
func indentAt(src []byte, offset int) string {
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	end := start
	for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
		end++
	}
	return string(src[start:end])
}

// onOwnLine reports whether only spaces precede offset on its line.
func onOwnLine(src []byte, offset int) bool {
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	return len(bytes.TrimSpace(src[start:offset])) == 0
}

func splice(src []byte, from, to int, with []byte) []byte {
	out := make([]byte, 0, len(src)-(to-from)+len(with))
	out = append(out, src[:from]...)
	out = append(out, with...)
	return append(out, src[to:]...)
}

// toJSON encodes a constant as JSON and decodes it back to a Go value.
func toJSON(v cty.Value) (string, any) {
	if v.IsNull() {
		return "null", nil
	}
	b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
	if err != nil {
		return "", nil
	}
	out, _ := decodeJSON(b)
	return string(b), out
}

func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		s := d.Summary
		if d.Subject != nil {
			s += fmt.Sprintf(" (%s:%d)", d.Subject.Filename, d.Subject.Start.Line)
		}
		if d.Detail != "" {
			s += ": " + oneLine(d.Detail)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// setDefault writes the new default unless the file has it already.
func (s *session) setDefault(req sdk.Request) (map[string]any, error) {
	e, err := s.readEdit(req.Inputs)
	if err != nil {
		return nil, err
	}
	path := s.markerPath("set_default", req.IdempotencyKey)
	var m defaultMarker
	found, err := readMarker(path, &m)
	if err != nil {
		return nil, err
	}
	if e.unchanged() {
		if found && m.Variable == e.variable && m.File == e.rel {
			s.log.Printf("%s: variable %q already defaults to %s (set by an earlier attempt)", e.rel, e.variable, e.valueSrc)
			return e.outputs(m.Previous, m.PreviousExpr, true), nil
		}
		s.log.Printf("%s: variable %q already defaults to %s: nothing to change", e.rel, e.variable, e.valueSrc)
		return e.outputs(e.cur.value, e.cur.expr, false), nil
	}
	out, err := e.apply()
	if err != nil {
		return nil, err
	}
	m = defaultMarker{File: e.rel, Variable: e.variable, Value: e.newValue(), Previous: e.cur.value, PreviousExpr: e.cur.expr}
	if err := writeMarker(path, m); err != nil {
		return nil, err
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(e.path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := writeFileAtomic(e.path, out, mode); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("terraform: write %s: %v", e.rel, err))
	}
	s.log.Printf("%s: variable %q default %s -> %s", e.rel, e.variable, e.previousText(), e.valueSrc)
	return e.outputs(e.cur.value, e.cur.expr, true), nil
}

func (e *edit) outputs(previous any, previousExpr string, changed bool) map[string]any {
	return map[string]any{"previous": previous, "previous_expr": previousExpr, "changed": changed, "file": e.rel}
}

func (e *edit) previousText() string {
	if !e.cur.present {
		return "(none)"
	}
	return e.cur.expr
}

// planSetDefault says what a set_default step would change.
func (s *session) planSetDefault(in map[string]any) (sdk.Plan, error) {
	e, err := s.readEdit(in)
	if err != nil {
		return sdk.Plan{}, err
	}
	if e.unchanged() {
		return sdk.Plan{Summary: fmt.Sprintf("variable %q in %s already defaults to %s: nothing to change", e.variable, e.rel, e.valueSrc),
			Outputs: e.outputs(e.cur.value, e.cur.expr, false)}, nil
	}
	return sdk.Plan{Summary: fmt.Sprintf("would set variable %q default in %s from %s to %s", e.variable, e.rel, e.previousText(), e.valueSrc),
		Outputs: e.outputs(e.cur.value, e.cur.expr, true)}, nil
}

// reconcileSetDefault answers from the step's marker and the file.
func (s *session) reconcileSetDefault(req sdk.Request) (sdk.Reconciliation, error) {
	var m defaultMarker
	found, err := readMarker(s.markerPath("set_default", req.IdempotencyKey), &m)
	if err != nil || !found {
		return sdk.Reconciliation{State: sdk.NotApplied}, err
	}
	e := &edit{variable: m.Variable}
	if err := s.findBlock(e, m.File); err != nil {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	e.cur = defaultOf(e.src, e.block)
	want, _ := json.Marshal(m.Value)
	if !e.cur.present || !jsonEqual(e.cur.json, string(want)) {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil // the file was never written
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: e.outputs(m.Previous, m.PreviousExpr, true)}, nil
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(a, b string) bool {
	va, err1 := decodeJSON([]byte(a))
	vb, err2 := decodeJSON([]byte(b))
	if err1 != nil || err2 != nil {
		return false
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
