// Package load reads runbook YAML into the Runbook model, keeping the line and
// column of every node so later passes can point at the exact place.
//
// The loader is tolerant: a field of the wrong shape is left unset (the schema
// pass reports it) and loading goes on, so one run of validate shows every
// problem. It reports only what no later pass can see: unreadable text, YAML
// syntax, several documents, duplicate keys, alias bombs, deep nesting and
// oversized files.
package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/alpha-orion/runbook/engine/diag"
	"gopkg.in/yaml.v3"
)

// Limits that keep hostile input from exhausting the machine.
const (
	// MaxFileSize is the largest runbook file accepted, in bytes.
	MaxFileSize = 1 << 20
	// MaxNodes bounds the values built from one file, aliases expanded.
	MaxNodes = 200_000
	// MaxDepth bounds how deeply values may nest.
	MaxDepth = 64
)

// Rule names of the loader's findings.
const (
	RuleYAML         = "yaml"
	RuleEncoding     = "encoding"
	RuleEmpty        = "empty"
	RuleDocuments    = "documents"
	RuleSize         = "size"
	RuleDuplicateKey = "duplicate-key"
	RuleAlias        = "alias"
	RuleNesting      = "nesting"
	RuleTemplate     = "template"
)

// ReadFile loads the runbook at path. The error is set only when the file
// cannot be read at all; problems with its content are findings.
func ReadFile(path string) (*Runbook, diag.List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	rb, diags := Bytes(path, src)
	return rb, diags, nil
}

// Bytes loads a runbook from src; file names it in findings.
func Bytes(file string, src []byte) (rb *Runbook, diags diag.List) {
	rb = &Runbook{File: file, Source: src}
	d := &decoder{file: file, src: src, budget: MaxNodes}
	defer func() {
		if r := recover(); r != nil { // yaml.v3 must never take the process down
			d.diags.Add(file, diag.Pos{Line: 1, Col: 1}, RuleYAML, "cannot parse YAML: %v", r)
			diags = d.diags
		}
	}()
	if !d.precheck() {
		return rb, d.diags
	}
	doc := d.parse()
	if doc == nil {
		return rb, d.diags
	}
	root := doc.Content[0]
	rb.Doc, rb.Document = root, doc
	d.runbook(rb, root)
	return rb, d.diags
}

type decoder struct {
	file   string
	src    []byte
	diags  diag.List
	budget int
	lines  [][]byte
}

func (d *decoder) precheck() bool {
	first := diag.Pos{Line: 1, Col: 1}
	switch {
	case len(d.src) > MaxFileSize:
		d.diags.Add(d.file, first, RuleSize, "file is larger than %d bytes; split the runbook", MaxFileSize)
	case bytes.IndexByte(d.src, 0) >= 0 || !utf8.Valid(d.src):
		d.diags.Add(d.file, first, RuleEncoding, "not a UTF-8 text file")
	case len(bytes.TrimSpace(d.src)) == 0:
		d.diags.Add(d.file, first, RuleEmpty, "file is empty; a runbook needs apiVersion, kind, metadata and steps")
	default:
		return true
	}
	return false
}

// lineRe finds the line in yaml.v3's messages; compiled on the first error,
// not at process start.
var lineRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+)`) })

// parse returns the document node, whose one child is the root mapping.
func (d *decoder) parse() *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(d.src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.diags.Add(d.file, diag.Pos{Line: 1, Col: 1}, RuleEmpty, "file holds no YAML document")
			return nil
		}
		d.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.diags.Add(d.file, pos(&extra), RuleDocuments, "several YAML documents in one file; put one runbook per file")
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(err)
	}
	if len(doc.Content) == 0 {
		d.diags.Add(d.file, diag.Pos{Line: 1, Col: 1}, RuleEmpty, "file holds no YAML document")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		d.diags.Add(d.file, pos(root), "type", "a runbook must be a mapping with apiVersion, kind, metadata and steps")
		return nil
	}
	return &doc
}

func (d *decoder) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := lineRe().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg, m[0]+": ")
	}
	p, hint := locateYAMLError(d.src, msg, line)
	d.diags.Add(d.file, p, RuleYAML, "%s%s", msg, hint)
}

func pos(n *yaml.Node) diag.Pos { return diag.Pos{Line: n.Line, Col: n.Column} }

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pairs walks a mapping's keys and values, reporting duplicate keys.
func (d *decoder) pairs(n *yaml.Node, fn func(key string, k, v *yaml.Node)) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || v == nil {
			continue
		}
		if seen[k.Value] {
			d.diags.Add(d.file, pos(k), RuleDuplicateKey, "key %q appears twice in this mapping", k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

func (d *decoder) str(n *yaml.Node) String {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return String{Pos: pos(n)}
	}
	return String{Value: n.Value, Pos: pos(n), Set: true}
}

func (d *decoder) integer(n *yaml.Node) Int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return Int{Pos: pos(n)}
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		return Int{Pos: pos(n)}
	}
	return Int{Value: int(v), Pos: pos(n), Set: true}
}

func (d *decoder) boolean(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	return b, err == nil
}

func (d *decoder) strings(n *yaml.Node) []String {
	if n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]String, 0, len(n.Content))
	for _, c := range n.Content {
		if s := d.str(resolve(c)); s.Set {
			out = append(out, s)
		}
	}
	return out
}

// expr reads a bare expression, accepting a whole-value ${{ }} wrapper.
func (d *decoder) expr(n *yaml.Node) *Expr {
	if n.Kind != yaml.ScalarNode {
		return nil
	}
	switch n.Tag {
	case "!!bool", "!!int", "!!float", "!!null":
		return &Expr{Source: strings.ToLower(n.Value), Pos: pos(n)}
	case "!!str":
	default:
		return nil
	}
	src := n.Value
	trimmed := strings.TrimSpace(src)
	if strings.HasPrefix(trimmed, "${{") && strings.HasSuffix(trimmed, "}}") && strings.Count(trimmed, "${{") == 1 {
		tpl, err := ParseTemplate(src, d.offsetter(n))
		if err == nil && tpl.Single() != nil {
			return tpl.Single()
		}
	}
	lead := len(src) - len(strings.TrimLeft(src, " \t\n"))
	return &Expr{Source: trimmed, Pos: d.offsetter(n)(lead)}
}

// offsetter maps a byte offset inside a scalar's value to a file position.
func (d *decoder) offsetter(n *yaml.Node) func(int) diag.Pos {
	return func(off int) diag.Pos {
		val := n.Value
		if off > len(val) {
			off = len(val)
		}
		switch n.Style {
		case yaml.LiteralStyle, yaml.FoldedStyle:
			before := val[:off]
			nl := strings.Count(before, "\n")
			inLine := off - (strings.LastIndexByte(before, '\n') + 1)
			line := n.Line + 1 + nl
			return diag.Pos{Line: line, Col: d.indent(line) + 1 + utf8.RuneCountInString(before[len(before)-inLine:])}
		case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
			return diag.Pos{Line: n.Line, Col: n.Column + 1 + utf8.RuneCountInString(val[:off])}
		}
		return diag.Pos{Line: n.Line, Col: n.Column + utf8.RuneCountInString(val[:off])}
	}
}

// indent returns the number of leading spaces of a 1-based source line.
func (d *decoder) indent(line int) int {
	if d.lines == nil {
		d.lines = bytes.Split(d.src, []byte("\n"))
	}
	if line < 1 || line > len(d.lines) {
		return 0
	}
	l := d.lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " "))
}

func (d *decoder) duration(n *yaml.Node) Duration {
	s := d.str(n)
	if !s.Set {
		return Duration{String: s}
	}
	out := Duration{String: s}
	out.D, out.Err = parseDuration(s.Value)
	return out
}
