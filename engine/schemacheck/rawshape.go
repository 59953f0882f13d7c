package schemacheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/schema"
)

// The fast path's shapes are read from the schema's JSON directly. Compiling
// the schema with the library takes several milliseconds, which a process
// validating one small file would spend on every run; the library is
// compiled only when quick cannot decide. rawShape accepts the keywords
// newShape reduces, treats annotations as such and any other keyword as
// "quick cannot check this" (never), so it is never more permissive than
// newShape; TestRawShapeMatches compares the two on the embedded schema.

var (
	shapeOnce sync.Once
	fast      *shape // the schema reduced for quick
	step      *shape // the schema of one step, or nil
)

// shapes returns the fast path's shapes, building them on first use.
func shapes() (*shape, *shape) {
	shapeOnce.Do(func() {
		var err error
		fast, err = rawShape(schema.JSON)
		if err != nil {
			// The schema is embedded at build time: a failure is a bug in
			// runbook.schema.json, caught by TestRawShapeMatches.
			panic(fmt.Sprintf("schemacheck: read embedded schema: %v", err))
		}
		step = stepShape(fast)
	})
	return fast, step
}

// annotations are keywords that assert nothing.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$defs": true, "$comment": true, "title": true, "description": true,
	"examples": true, "default": true, "deprecated": true, "readOnly": true, "writeOnly": true,
}

// reduced are the keywords a shape checks.
var reduced = map[string]bool{
	"$ref": true, "type": true, "enum": true, "const": true, "pattern": true, "minimum": true, "required": true,
	"properties": true, "patternProperties": true, "additionalProperties": true, "propertyNames": true,
	"items": true, "minItems": true, "uniqueItems": true,
}

// rawShape reduces the schema document src as newShape reduces its compiled form.
func rawShape(src []byte) (*shape, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	r := &rawReader{doc: doc, memo: map[string]*shape{}}
	sh := r.shape(doc, "#")
	return sh, r.err
}

type rawReader struct {
	doc  any
	memo map[string]*shape // by JSON pointer, as the library compiles each location once
	err  error
}

func (r *rawReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// shape reduces the schema v found at loc.
func (r *rawReader) shape(v any, loc string) *shape {
	if sh, ok := r.memo[loc]; ok {
		return sh
	}
	sh := &shape{}
	r.memo[loc] = sh
	if b, ok := v.(bool); ok {
		sh.never = !b
		return sh
	}
	m, ok := v.(map[string]any)
	if !ok {
		r.fail("%s: a schema must be an object or a boolean", loc)
		return sh
	}
	for k := range m {
		if !annotations[k] && !reduced[k] {
			sh.never = true // a keyword quick does not check
		}
	}
	if ref, ok := m["$ref"].(string); ok {
		sh.ref = r.resolve(ref)
	}
	switch t := m["type"].(type) {
	case string:
		sh.types = typeBits([]string{t})
	case []any:
		names := make([]string, 0, len(t))
		for _, n := range t {
			s, _ := n.(string)
			names = append(names, s)
		}
		sh.types = typeBits(names)
	}
	if e, ok := m["enum"].([]any); ok {
		sh.hasEnum = true
		sh.enum, sh.never = strs(e, sh.never)
	}
	if c, ok := m["const"]; ok {
		sh.hasEnum = true
		sh.enum, sh.never = strs([]any{c}, sh.never)
	}
	if p, ok := m["pattern"].(string); ok {
		sh.pattern = r.regexp(p, loc)
	}
	if n, ok := m["minimum"].(json.Number); ok {
		if i, err := n.Int64(); err == nil && !strings.ContainsAny(n.String(), ".eE") {
			sh.minimum, sh.hasMinimum = i, true
		} else {
			sh.never = true
		}
	}
	if req, ok := m["required"].([]any); ok {
		for _, k := range req {
			s, _ := k.(string)
			sh.required = append(sh.required, s)
		}
	}
	if props, ok := m["properties"].(map[string]any); ok && len(props) > 0 {
		sh.props = make(map[string]*shape, len(props))
		for k, p := range props {
			sh.props[k] = r.shape(p, loc+"/properties/"+escapePointer(k))
		}
	}
	if pats, ok := m["patternProperties"].(map[string]any); ok {
		for re, p := range pats {
			sh.patterns = append(sh.patterns, patternShape{r.regexp(re, loc), r.shape(p, loc+"/patternProperties/"+escapePointer(re))})
		}
	}
	switch a := m["additionalProperties"].(type) {
	case bool:
		sh.closed = !a
	case map[string]any:
		sh.additional = r.shape(a, loc+"/additionalProperties")
	}
	if pn, ok := m["propertyNames"]; ok {
		sh.propNames = r.shape(pn, loc+"/propertyNames")
	}
	if it, ok := m["items"]; ok {
		sh.items = r.shape(it, loc+"/items")
	}
	if n, ok := m["minItems"].(json.Number); ok {
		i, err := n.Int64()
		if err != nil {
			r.fail("%s: minItems %s", loc, n)
		}
		sh.minItems = int(i)
	}
	if u, ok := m["uniqueItems"].(bool); ok {
		sh.unique = u
	}
	return sh
}

// resolve follows a $ref within the document.
func (r *rawReader) resolve(ref string) *shape {
	if !strings.HasPrefix(ref, "#") {
		r.fail("$ref %q leaves the document", ref)
		return &shape{never: true}
	}
	var v any = r.doc
	if ptr := strings.TrimPrefix(ref, "#"); ptr != "" {
		for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			m, ok := v.(map[string]any)
			if !ok {
				r.fail("$ref %q does not resolve", ref)
				return &shape{never: true}
			}
			v = m[part]
		}
	}
	if v == nil {
		r.fail("$ref %q does not resolve", ref)
		return &shape{never: true}
	}
	return r.shape(v, ref)
}

func (r *rawReader) regexp(p, loc string) *regexp.Regexp {
	re, err := regexp.Compile(p)
	if err != nil {
		r.fail("%s: pattern %q: %v", loc, p, err)
		return regexp.MustCompile(`$.^`)
	}
	return re
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
