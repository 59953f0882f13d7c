package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	t.Parallel()
	const long = "hunter2-Secret/x"
	r := New(long, "2026", "true", `p"w<d&q`)
	for _, tc := range []struct{ in, want string }{
		{"key=" + long + "!", "key=***!"},
		{"upper " + strings.ToUpper(long), "upper ***"},
		{"lower " + strings.ToLower(long), "lower ***"},
		{"b64 " + base64.StdEncoding.EncodeToString([]byte(long)), "b64 ***"},
		{"b64url " + base64.RawURLEncoding.EncodeToString([]byte(long)), "b64url ***"},
		{"hex " + hex.EncodeToString([]byte(long)), "hex ***"},
		{"HEX " + strings.ToUpper(hex.EncodeToString([]byte(long))), "HEX ***"},
		{"url hunter2-Secret%2Fx", "url ***"},
		{`{"v":"p\"w\u003cd\u0026q"}`, `{"v":"***"}`},
		// Short secrets: masked as whole values, never inside text.
		{"2026", "***"},
		{"true", "***"},
		{"MjAyNg==", "***"}, // base64 of 2026, a whole value
		{"2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z"},
		{"it is true", "it is true"},
		{"nothing here", "nothing here"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var nilR *Redactor
	if nilR.String("s") != "s" {
		t.Error("nil redactor must pass text through")
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	r := New("hunter2-secret", "007", "seq")
	v := r.Value(map[string]any{"a": []any{"x hunter2-secret", "007"}, "seq": "seq", "n": 7, "b": true}).(map[string]any)
	if got := v["a"].([]any); got[0] != "x ***" || got[1] != "***" {
		t.Errorf("list: %v", got)
	}
	if v["seq"] != "***" {
		t.Errorf("a value equal to a short secret is masked whole, got %v", v["seq"])
	}
	if v["n"] != 7 || v["b"] != true {
		t.Errorf("numbers and booleans are structure: %v", v)
	}
}

// TestLineWriter writes secrets split across writes at every offset and
// checks none reaches the output in clear.
func TestLineWriter(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-token-value"
	for _, tc := range []struct {
		name, text string
	}{
		{"plain", "log: " + secret + " done\n"},
		{"base64", "b64: " + base64.StdEncoding.EncodeToString([]byte(secret)) + "\n"},
		{"no newline", "tail " + secret},
		{"long line", strings.Repeat("x", MaxLine-3) + secret + strings.Repeat("y", 10) + secret + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(secret)
			for cut := 0; cut <= len(tc.text); cut += max(1, len(tc.text)/200) {
				var out bytes.Buffer
				w := r.LineWriter(&out)
				w.Write([]byte(tc.text[:cut]))
				w.Write([]byte(tc.text[cut:]))
				w.Flush()
				got := out.String()
				if strings.Contains(got, secret) || strings.Contains(got, base64.StdEncoding.EncodeToString([]byte(secret))) {
					t.Fatalf("cut at %d: secret in clear", cut)
				}
				if !strings.Contains(got, Mask) {
					t.Fatalf("cut at %d: nothing masked", cut)
				}
			}
		})
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	r := New("hunter2-secret", "ab")
	r.Add("later-value")
	var b bytes.Buffer
	r.Writer(&b).Write([]byte("a later-value and hunter2-secret, ab\n"))
	if got, want := b.String(), "a *** and ***, ab\n"; got != want {
		t.Errorf("writer: %q, want %q", got, want)
	}
}
