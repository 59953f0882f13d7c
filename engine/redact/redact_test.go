package redact

import (
	"bytes"
	"testing"
)

func TestRedact(t *testing.T) {
	r := New("hunter2-secret", "ab", `p"w<d`)
	for _, tc := range []struct{ in, want string }{
		{"key=hunter2-secret!", "key=***!"},
		{"ab is too short to mask", "ab is too short to mask"},
		{`{"v":"p\"w\u003cd"}`, `{"v":"***"}`},
		{"url=p%22w%3Cd", "url=***"},
		{"nothing here", "nothing here"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	r.Add("later-value")
	var b bytes.Buffer
	r.Writer(&b).Write([]byte("a later-value and hunter2-secret\n"))
	if got, want := b.String(), "a *** and ***\n"; got != want {
		t.Errorf("writer: %q, want %q", got, want)
	}
	v := r.Value(map[string]any{"a": []any{"x hunter2-secret"}, "n": 3})
	if got := v.(map[string]any)["a"].([]any)[0]; got != "x ***" {
		t.Errorf("Value: %v", got)
	}
	var nilR *Redactor
	if nilR.String("s") != "s" {
		t.Error("nil redactor must pass text through")
	}
}
