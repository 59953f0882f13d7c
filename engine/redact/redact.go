// Package redact replaces secret values with *** wherever they could be
// printed or stored: output lines, journal records, errors and reports.
package redact

import (
	"io"
	"sort"
	"strings"
	"sync"
)

// Mask is what a secret value is replaced with.
const Mask = "***"

// minLen is the shortest value treated as a secret; shorter ones (such as
// "1" or "no") would mask innocent text and reveal nothing useful anyway.
const minLen = 3

// Redactor knows the secret values of one run. It is safe for concurrent use
// and learns new values as steps produce secret outputs.
type Redactor struct {
	mu       sync.RWMutex
	values   []string
	replacer *strings.Replacer
}

// New returns a Redactor for the given secret values.
func New(values ...string) *Redactor {
	r := &Redactor{}
	r.Add(values...)
	return r
}

// Add teaches the redactor more secret values.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, v := range values {
		if len(v) < minLen || r.has(v) {
			continue
		}
		r.values = append(r.values, v)
		changed = true
		// A secret also leaks in its common encodings inside JSON and URLs.
		for _, enc := range []string{jsonEscape(v), urlEscape(v)} {
			if enc != v && !r.has(enc) {
				r.values = append(r.values, enc)
			}
		}
	}
	if !changed {
		return
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
	pairs := make([]string, 0, 2*len(r.values))
	for _, v := range r.values {
		pairs = append(pairs, v, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

func (r *Redactor) has(v string) bool {
	for _, x := range r.values {
		if x == v {
			return true
		}
	}
	return false
}

// String returns s with every secret value masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Value returns a copy of v (strings, lists and maps) with secrets masked.
func (r *Redactor) Value(v any) any {
	switch x := v.(type) {
	case string:
		return r.String(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = r.Value(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.Value(e)
		}
		return out
	}
	return v
}

// Writer wraps w so everything written through it is masked. Each Write is
// masked on its own, so callers should write whole lines.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &writer{r: r, w: w} }

type writer struct {
	r *Redactor
	w io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func jsonEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`).Replace(s)
}

func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}
