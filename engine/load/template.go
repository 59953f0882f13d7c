package load

import (
	"errors"
	"strings"

	"github.com/alpha-orion/runbook/engine/diag"
)

// Template is a string with ${{ expr }} parts.
type Template struct {
	Raw   string
	Parts []Part
}

// Part is either literal text or one expression of a template.
type Part struct {
	Text string
	Expr *Expr
}

// Single returns the expression when the template is exactly one ${{ }},
// in which case the value keeps the expression's type; otherwise nil.
func (t *Template) Single() *Expr {
	if len(t.Parts) == 1 && t.Parts[0].Expr != nil {
		return t.Parts[0].Expr
	}
	return nil
}

// Exprs returns the template's expressions in order.
func (t *Template) Exprs() []*Expr {
	var out []*Expr
	for _, p := range t.Parts {
		if p.Expr != nil {
			out = append(out, p.Expr)
		}
	}
	return out
}

// errUnterminated is returned for a ${{ without its }}.
var errUnterminated = errors.New("unterminated ${{: expected }}")

// HasTemplate reports whether s contains ${{.
func HasTemplate(s string) bool { return strings.Contains(s, "${{") }

// ParseTemplate splits s into text and expressions. at maps a byte offset in s
// to a position in the file.
func ParseTemplate(s string, at func(off int) diag.Pos) (*Template, error) {
	t := &Template{Raw: s}
	rest, base := s, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				t.Parts = append(t.Parts, Part{Text: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.Parts = append(t.Parts, Part{Text: rest[:i]})
		}
		body := rest[i+3:]
		end := closing(body)
		if end < 0 {
			return t, errUnterminated
		}
		src := body[:end]
		lead := len(src) - len(strings.TrimLeft(src, " \t\n"))
		off := base + i + 3 + lead
		t.Parts = append(t.Parts, Part{Expr: &Expr{Source: strings.TrimSpace(src), Pos: at(off)}})
		consumed := i + 3 + end + 2
		rest = rest[consumed:]
		base += consumed
	}
}

// closing finds the "}}" that ends an expression, skipping string literals.
func closing(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}
