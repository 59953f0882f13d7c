// Package redact replaces secret values with *** wherever they could be
// printed or stored: output lines, journal records, errors and reports.
//
// Masking works on values, never on encoded documents: a journal record
// is masked field by field before it is encoded, so no secret, however
// short (`2026`, `true`, `seq`), can change a record's structure.
//
// Two rules decide what is masked:
//
//   - A value (a string inside inputs, outputs or params) that equals a
//     secret, or one of its encoded forms, is masked whole, whatever the
//     secret's length.
//   - Inside longer text (messages, log lines, strings that merely contain
//     a secret), a secret is masked only when it is at least MinText bytes
//     long, in each of its forms: as is, upper and lower case, JSON- and
//     URL-escaped, base64 (standard and URL alphabets, padded or not) and
//     hex (lower and upper case). A shorter secret would mask innocent text
//     (every `2026` in a date) and its few bytes tell little on their own.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Mask is what a secret value is replaced with.
const Mask = "***"

// MinText is the length from which a secret is masked inside longer text.
const MinText = 6

// Redactor knows the secret values of one run. It is safe for concurrent use
// and learns new values as steps produce secret outputs.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]bool // as given
	whole    map[string]bool // every form of every secret, masked as whole values
	text     []string        // forms masked inside text, longest first
	replacer *strings.Replacer
	longest  int
}

// New returns a Redactor for the given secret values.
func New(values ...string) *Redactor {
	r := &Redactor{}
	r.Add(values...)
	return r
}

// Add teaches the redactor more secret values. Empty values are ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets, r.whole = map[string]bool{}, map[string]bool{}
	}
	changed := false
	for _, v := range values {
		if v == "" || r.secrets[v] {
			continue
		}
		r.secrets[v] = true
		for _, f := range Forms(v) {
			if f == "" || r.whole[f] {
				continue
			}
			r.whole[f] = true
			if len(v) >= MinText && len(f) >= MinText {
				r.text = append(r.text, f)
				changed = true
			}
		}
	}
	if !changed {
		return
	}
	// Longest first, so a secret containing another is masked whole.
	sort.SliceStable(r.text, func(i, j int) bool { return len(r.text[i]) > len(r.text[j]) })
	pairs := make([]string, 0, 2*len(r.text))
	for _, v := range r.text {
		pairs = append(pairs, v, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
	r.longest = len(r.text[0])
}

// Forms returns the secret and the encoded forms it may leak in.
func Forms(v string) []string {
	b := []byte(v)
	forms := []string{
		v, strings.ToUpper(v), strings.ToLower(v),
		jsonEscape(v), url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
	}
	out := forms[:0]
	seen := map[string]bool{}
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// String returns text s with every secret masked: a string that is a
// secret (or one of its forms) whole, and inside s every form of the
// secrets of MinText bytes or more.
func (r *Redactor) String(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	whole, rep := r.whole[s], r.replacer
	r.mu.RUnlock()
	if whole {
		return Mask
	}
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Value returns a copy of v (strings, lists and maps) with secrets masked
// in its string values. Map keys, numbers and booleans are kept: they are
// the structure the value is read by.
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
	case []string:
		out := make([]string, len(x))
		for i := range x {
			out[i] = r.String(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.Value(e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = r.String(e)
		}
		return out
	}
	return v
}

// Writer wraps w so everything written through it is masked. Each Write is
// masked on its own, so callers should write whole lines (see LineWriter
// for a stream that may split them).
func (r *Redactor) Writer(w io.Writer) io.Writer { return &writer{r: r, w: w} }

type writer struct {
	r *Redactor
	w io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.freeText(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// freeText masks free text: like String, but a whole chunk that happens to
// equal a short secret is masked too only when it is a line of its own.
func (r *Redactor) freeText(s string) string {
	if r == nil {
		return s
	}
	body := strings.TrimRight(s, "\r\n")
	if body != "" && len(body) < MinText {
		r.mu.RLock()
		whole := r.whole[body]
		r.mu.RUnlock()
		if whole {
			return Mask + s[len(body):]
		}
	}
	return r.String(s)
}

// MaxLine is how much of a line a LineWriter holds back waiting for its end.
const MaxLine = 64 << 10

// LineWriter masks a stream whose writes may split lines, and secrets,
// anywhere: it passes on whole lines only, masked, and holds back the rest
// until its end arrives or Flush is called. A line longer than MaxLine is
// passed on in pieces, each keeping back enough bytes that a secret
// crossing the cut is still seen whole.
type LineWriter struct {
	r   *Redactor
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

// LineWriter returns a LineWriter that writes masked lines to w.
func (r *Redactor) LineWriter(w io.Writer) *LineWriter { return &LineWriter{r: r, w: w} }

// Write buffers p and passes on every line it completes.
func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		lines := l.buf[:i+1]
		if err := l.emit(lines); err != nil {
			return 0, err
		}
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	if len(l.buf) > MaxLine {
		cut := l.cut()
		if err := l.emit(l.buf[:cut]); err != nil {
			return 0, err
		}
		l.buf = append(l.buf[:0], l.buf[cut:]...)
	}
	return len(p), nil
}

// cut returns where to split an over-long buffer so that no secret form
// crosses the cut: the text before it can be masked on its own.
func (l *LineWriter) cut() int {
	if l.r == nil {
		return len(l.buf)
	}
	l.r.mu.RLock()
	defer l.r.mu.RUnlock()
	n := l.r.longest
	cut := len(l.buf) - max(n-1, 0)
	for start := max(cut-n+1, 0); start < cut; start++ {
		for _, f := range l.r.text {
			if start+len(f) > cut && bytes.HasPrefix(l.buf[start:], []byte(f)) {
				return start
			}
		}
	}
	return cut
}

func (l *LineWriter) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := io.WriteString(l.w, l.r.freeText(string(b)))
	return err
}

// Flush passes on what is held back, masked, as it is.
func (l *LineWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.emit(l.buf)
	l.buf = l.buf[:0]
	return err
}

func jsonEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`).Replace(s)
}
