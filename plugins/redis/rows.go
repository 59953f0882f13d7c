package redis

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// writes is a set_from_rows step's inputs.
type writes struct {
	rows        []map[string]any
	template    []part // from key_template; nil when key_column is used
	keyColumn   string
	valueColumn string
	ttl         time.Duration
}

// part is a piece of a key template: literal text or a column.
type part struct {
	text   string
	column bool
}

// entry is one key to write.
type entry struct{ key, value string }

func readWrites(in map[string]any) (*writes, error) {
	w := &writes{}
	tmpl, _ := in["key_template"].(string)
	w.keyColumn, _ = in["key_column"].(string)
	w.valueColumn, _ = in["value_column"].(string)
	switch {
	case tmpl != "" && w.keyColumn != "":
		return nil, sdk.BadInput("redis: give key_template or key_column, not both")
	case tmpl == "" && w.keyColumn == "":
		return nil, sdk.BadInput("redis: set_from_rows needs key_template (e.g. user:{id}) or key_column")
	case tmpl != "":
		var err error
		if w.template, err = parseTemplate(tmpl); err != nil {
			return nil, sdk.BadInput("redis: key_template %q: %v", tmpl, err)
		}
	}
	if d, ok := in["ttl"].(time.Duration); ok {
		if d < 0 || (d > 0 && d < time.Millisecond) {
			return nil, sdk.BadInput("redis: ttl must be at least 1ms, got %s", d)
		}
		w.ttl = d
	}
	rows, err := readRows(in["rows"])
	if err != nil {
		return nil, err
	}
	w.rows = rows
	return w, nil
}

// readRows accepts rows as they arrive: a list of maps.
func readRows(v any) ([]map[string]any, error) {
	switch x := v.(type) {
	case []map[string]any:
		return x, nil
	case []any:
		out := make([]map[string]any, len(x))
		for i, r := range x {
			m, ok := r.(map[string]any)
			if !ok {
				return nil, sdk.BadInput("redis: rows[%d] is not a map of columns", i)
			}
			out[i] = m
		}
		return out, nil
	case nil:
		return nil, nil
	}
	return nil, sdk.BadInput("redis: rows must be a list of maps")
}

// parseTemplate splits "user:{id}" into literal text and columns; "{{" and
// "}}" stand for braces.
func parseTemplate(s string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	hasColumn := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at byte %d", i)
			}
			col := strings.TrimSpace(s[i+1 : i+end])
			if col == "" {
				return nil, fmt.Errorf("empty {} at byte %d", i)
			}
			if lit.Len() > 0 {
				parts = append(parts, part{text: lit.String()})
				lit.Reset()
			}
			parts = append(parts, part{text: col, column: true})
			hasColumn = true
			i += end
		case c == '}':
			return nil, fmt.Errorf("unopened } at byte %d (write }} for a brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, part{text: lit.String()})
	}
	if !hasColumn {
		return nil, fmt.Errorf("names no {column}: every row would write the same key")
	}
	return parts, nil
}

// entries computes every row's key and value.
func (w *writes) entries() ([]entry, error) {
	out := make([]entry, 0, len(w.rows))
	for i, row := range w.rows {
		key, err := w.key(row)
		if err != nil {
			return nil, sdk.BadInput("redis: rows[%d]: %v", i, err)
		}
		value, err := w.value(row)
		if err != nil {
			return nil, sdk.BadInput("redis: rows[%d] (key %s): %v", i, key, err)
		}
		out = append(out, entry{key, value})
	}
	return out, nil
}

func (w *writes) key(row map[string]any) (string, error) {
	if w.template == nil {
		return column(row, w.keyColumn, "key_column")
	}
	var b strings.Builder
	for _, p := range w.template {
		if !p.column {
			b.WriteString(p.text)
			continue
		}
		v, err := column(row, p.text, "key_template")
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func (w *writes) value(row map[string]any) (string, error) {
	if w.valueColumn == "" {
		b, err := json.Marshal(row)
		if err != nil {
			return "", fmt.Errorf("cannot write the row as JSON: %v", err)
		}
		return string(b), nil
	}
	v, ok := row[w.valueColumn]
	if !ok {
		return "", fmt.Errorf("no column %q (value_column); columns: %s", w.valueColumn, columns(row))
	}
	return text(v)
}

// column returns a row's value for a key: it must be there and not null.
func column(row map[string]any, name, input string) (string, error) {
	v, ok := row[name]
	switch {
	case !ok:
		return "", fmt.Errorf("no column %q (%s); columns: %s", name, input, columns(row))
	case v == nil:
		return "", fmt.Errorf("column %q is null, so the row has no key", name)
	}
	return text(v)
}

// text renders a value for Redis: strings as they are, numbers and
// booleans in their usual form, timestamps in RFC 3339, the rest as JSON.
func text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case time.Duration:
		return x.String(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot write %T: %v", v, err)
	}
	return string(b), nil
}

func columns(row map[string]any) string {
	names := make([]string, 0, len(row))
	for k := range row {
		names = append(names, k)
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (w *writes) ttlText() string {
	if w.ttl == 0 {
		return ""
	}
	return ", expiring after " + w.ttl.String()
}
